import type { V1Container, V1Volume } from '@kubernetes/client-node';
import type { DockerNetworkPort } from '@eb/schema';
import type { ComponentRow, ExecutionRecord } from '@eb/db';
import { NOTEBOOK_RUNNER, notebookEnv } from '../../notebooks/runner.js';
import type { KubernetesSettings } from './config.js';

const NOTEBOOK_DIR = '/notebook';
const JUPYTER_PORT = 8888;
export const TOKEN_KEY = 'jupyter-token';

/** The init container's program: fixed text; the notebook's URL comes in EB_NOTEBOOK_URL (checked by the worker first). */
const FETCH_NOTEBOOK = 'set -eu; wget -q -O /notebook/input.ipynb "$EB_NOTEBOOK_URL"; chmod 0777 /notebook; chmod 0666 /notebook/input.ipynb';

/** Where Jupyter serves an interactive notebook, with its token (the access URL's path). */
export const notebookPorts = (token: string): DockerNetworkPort[] => [
  { access: true, internal: { port: JUPYTER_PORT }, protocol: 'HTTP', path: `notebooks/input.ipynb?token=${token}` },
];

/**
 * A JupyterNotebook's pod: an init container (the stager image) fetches the notebook into an emptyDir,
 * then the notebook image runs it: headless with nbclient for batch runs, which print the executed
 * notebook framed in their log (the worker reads pods' logs, not their files); Jupyter Notebook on
 * port 8888 for interactive ones, its token from a Secret. The root filesystem is read-only, /tmp an
 * emptyDir.
 */
export function notebookPod(record: ExecutionRecord, exe: ComponentRow, s: KubernetesSettings, base: { container: V1Container; volumes: V1Volume[] }, secretName: string):
  { initContainers: V1Container[]; container: V1Container; volumes: V1Volume[] } {
  const e = record.execution;
  const env = notebookEnv({ input: `${NOTEBOOK_DIR}/input.ipynb`, output: `${NOTEBOOK_DIR}/output.ipynb`, cwd: NOTEBOOK_DIR }, e.available_ms / 1000, !e.interactive);
  const notebookMount = { name: 'notebook', mountPath: NOTEBOOK_DIR };
  const { args: _args, ...rest } = base.container;
  return {
    volumes: [...base.volumes, { name: 'notebook', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
    initContainers: [{
      name: 'fetch-notebook', image: s.stagerImage, command: ['sh', '-c', FETCH_NOTEBOOK],
      env: [{ name: 'EB_NOTEBOOK_URL', value: String((exe.spec as { location?: unknown }).location ?? '') }],
      volumeMounts: [notebookMount],
    }],
    container: {
      ...rest,
      image: s.notebookImage!,
      command: e.interactive
        ? ['jupyter', 'notebook', '--no-browser', '--allow-root', '--ip=0.0.0.0', `--port=${JUPYTER_PORT}`, `--notebook-dir=${NOTEBOOK_DIR}`]
        : ['python3', '-c', NOTEBOOK_RUNNER],
      env: [
        ...Object.entries(env).map(([name, value]) => ({ name, value })),
        ...(e.interactive ? [{ name: 'JUPYTER_TOKEN', valueFrom: { secretKeyRef: { name: secretName, key: TOKEN_KEY } } }] : []),
      ],
      ports: e.interactive ? [{ containerPort: JUPYTER_PORT }] : [],
      volumeMounts: [...(base.container.volumeMounts ?? []), notebookMount, { name: 'tmp', mountPath: '/tmp' }],
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    },
  };
}
