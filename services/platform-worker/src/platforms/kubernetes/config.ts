import { stagingSettings, type StagingSettings } from '../../staging/settings.js';

export interface KubernetesSettings {
  namespace: string;
  /** Image of the staging Job that downloads data into its volume (needs sh and wget). */
  stagerImage: string;
  storageClass?: string;
  /** Consider storage available only once its claim is Bound (off for WaitForFirstConsumer classes). */
  waitForBound: boolean;
  /** How access URLs are made: {service}, {namespace}, {port} and {path} are filled in. */
  accessUrlTemplate: string;
  /** The egress policy each planned URL is checked under before a Job gets it, and the data sources. */
  staging: StagingSettings;
  /** The image JupyterNotebook executables run in; none, no notebooks. */
  notebookImage?: string;
}

export function kubernetesSettings(): KubernetesSettings {
  return {
    namespace: process.env.EB_K8S_NAMESPACE ?? 'default',
    stagerImage: process.env.EB_K8S_STAGER_IMAGE ?? 'busybox:1.36',
    ...(process.env.EB_K8S_STORAGE_CLASS ? { storageClass: process.env.EB_K8S_STORAGE_CLASS } : {}),
    waitForBound: process.env.EB_K8S_WAIT_FOR_BOUND === 'true',
    accessUrlTemplate: process.env.EB_K8S_ACCESS_URL ?? 'http://{service}.{namespace}.svc:{port}{path}',
    staging: stagingSettings(),
    ...(process.env.EB_NOTEBOOK_IMAGE ? { notebookImage: process.env.EB_NOTEBOOK_IMAGE } : {}),
  };
}
