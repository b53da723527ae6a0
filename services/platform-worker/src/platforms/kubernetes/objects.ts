import type { V1Container, V1EnvVar, V1Job, V1PersistentVolumeClaim, V1Pod, V1Secret, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { Kinds, type ContainerRole, type DockerContainer, type DockerNetworkPort } from '@eb/schema';
import type { ComponentRow, ExecutionRecord } from '@eb/db';
import { safeFileName } from '@eb/core';
import type { KubernetesSettings } from './config.js';
import { graphOf } from '../graph.js';
import { containerLabels } from '../container-labels.js';
import { checksumType, verifiable } from '../../staging/checksums.js';
import type { FetchPlan } from '../../staging/plan.js';
import { STAGING_SCRIPT } from './staging-script.js';
import { TOKEN_KEY, notebookPod } from './notebook.js';

// Every object carries these labels: release deletes by them, and so can an operator.
export const LABEL_EXECUTION = 'eb.ivoa.net/execution';
export const LABEL_COMPONENT = 'eb.ivoa.net/component';

export const objectName = (executionUuid: string, componentUuid: string) => `eb-${executionUuid.slice(0, 8)}-${componentUuid.slice(0, 8)}`;

export function labels(record: ExecutionRecord, c: ComponentRow): Record<string, string> {
  return { [LABEL_EXECUTION]: record.execution.uuid, [LABEL_COMPONENT]: c.uuid, 'app.kubernetes.io/managed-by': 'execution-broker' };
}

/** Labels of what runs a container: the client's and the service's (schema 1.0.8), then ours. */
const runLabels = (record: ExecutionRecord, c: ComponentRow, role: ContainerRole) => ({ ...containerLabels(record, c, role), ...labels(record, c) });

/** The claim a storage or data component's files live on (data without storage gets a claim of its own). */
export function claimFor(record: ExecutionRecord, c: ComponentRow): ComponentRow {
  return graphOf(record).holderOf(c);
}

export function pvc(record: ExecutionRecord, c: ComponentRow, sizeGib: number, s: KubernetesSettings): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name: objectName(record.execution.uuid, c.uuid), labels: labels(record, c) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: `${sizeGib}Gi` } },
      ...(s.storageClass ? { storageClassName: s.storageClass } : {}),
    },
  };
}

/** The Secret holding a staging Job's request headers (credentials never go into a Job's spec). */
export function stagingSecret(record: ExecutionRecord, data: ComponentRow, plan: FetchPlan): V1Secret | undefined {
  const headers = plan.items.map((item, i) => [i, Object.entries(item.headers ?? {})] as const).filter(([, h]) => h.length);
  if (!headers.length) return undefined;
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: objectName(record.execution.uuid, data.uuid), labels: labels(record, data) },
    // One header per file (wget takes one --header here): the authorization a data service asks for.
    stringData: Object.fromEntries(headers.map(([i, h]) => [`header-${i}`, `${h[0]![0]}: ${h[0]![1]}`])),
  };
}

/** The environment the staging script reads: one set of variables per planned file. */
function stagingEnv(plan: FetchPlan, secretName: string): V1EnvVar[] {
  const env: V1EnvVar[] = [{ name: 'EB_COUNT', value: String(plan.items.length) }];
  plan.items.forEach((item, i) => {
    env.push({ name: `EB_URL_${i}`, value: item.url }, { name: `EB_FILE_${i}`, value: item.file });
    if (item.size !== undefined) env.push({ name: `EB_SIZE_${i}`, value: String(item.size) });
    for (const c of verifiable(item.checksums)) {
      const t = checksumType(c.type)!;
      // Adler-32 has no tool in a busybox image: the size and any other checksum are checked.
      if (t !== 'adler32') env.push({ name: `EB_${t.toUpperCase()}_${i}`, value: c.value.toLowerCase() });
    }
    if (Object.keys(item.headers ?? {}).length) env.push({ name: `EB_HEADER_${i}`, valueFrom: { secretKeyRef: { name: secretName, key: `header-${i}` } } });
  });
  return env;
}

/** A Job that downloads a data resource's planned files into its claim, checking sizes and checksums. */
export function stagingJob(record: ExecutionRecord, data: ComponentRow, plan: FetchPlan, s: KubernetesSettings): V1Job {
  const name = objectName(record.execution.uuid, data.uuid);
  const claim = objectName(record.execution.uuid, claimFor(record, data).uuid);
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, labels: runLabels(record, data, 'data-download') },
    spec: {
      backoffLimit: 3,
      template: {
        metadata: { labels: runLabels(record, data, 'data-download') },
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: 'stage', image: s.stagerImage,
            command: ['sh', '-c', STAGING_SCRIPT],
            env: stagingEnv(plan, name),
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
        },
      },
    },
  };
}

function imageRef(exe: DockerContainer): string {
  const location = exe.image?.locations?.[0] ?? '';
  const digest = exe.image?.digest;
  return digest ? `${location.replace(/@.*$/, '').replace(/:[^/:]*$/, '')}@${digest}` : location;
}

function container(record: ExecutionRecord, exe: ComponentRow, s: KubernetesSettings): { container: V1Container; volumes: V1Volume[]; initContainers?: V1Container[] } {
  const base = dockerContainer(record, exe);
  return exe.kind === Kinds.jupyterNotebook ? notebookPod(record, exe, s, base, objectName(record.execution.uuid, exe.uuid)) : base;
}

function dockerContainer(record: ExecutionRecord, exe: ComponentRow): { container: V1Container; volumes: V1Volume[] } {
  const spec = exe.spec as DockerContainer;
  const e = record.execution;
  const mounts: V1VolumeMount[] = [];
  const volumes: V1Volume[] = [];
  graphOf(record).mounts().forEach((m, i) => {
    volumes.push({ name: `v${i}`, persistentVolumeClaim: { claimName: objectName(e.uuid, m.holder.uuid), readOnly: m.readOnly } });
    mounts.push({ name: `v${i}`, mountPath: m.path, readOnly: m.readOnly });
  });
  const resources = { cpu: String(e.cores), memory: `${e.memory_gib}Gi` };
  return {
    volumes,
    container: {
      name: 'executable', image: imageRef(spec),
      ...(spec.entrypoint ? { command: [spec.entrypoint] } : {}),
      ...(spec.command?.length ? { args: spec.command } : {}),
      env: Object.entries(spec.environment ?? {}).map(([name, value]) => ({ name, value })),
      ports: (spec.network?.ports ?? []).filter((p) => p.internal?.port).map((p) => ({ containerPort: p.internal!.port! })),
      resources: { requests: resources, limits: resources },
      volumeMounts: mounts,
    },
  };
}

/** A batch executable runs as a Job (no retries: the exit code is the outcome). */
export function executableJob(record: ExecutionRecord, exe: ComponentRow, s: KubernetesSettings): V1Job {
  const { container: c, volumes, initContainers } = container(record, exe, s);
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: objectName(record.execution.uuid, exe.uuid), labels: runLabels(record, exe, 'execution') },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.ceil(record.execution.available_ms / 1000),
      template: { metadata: { labels: runLabels(record, exe, 'execution') }, spec: { restartPolicy: 'Never', ...(initContainers ? { initContainers } : {}), containers: [c], volumes } },
    },
  };
}

/** An interactive executable runs as a Pod with a Service for its published ports. */
export function executablePod(record: ExecutionRecord, exe: ComponentRow, s: KubernetesSettings): V1Pod {
  const { container: c, volumes, initContainers } = container(record, exe, s);
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: objectName(record.execution.uuid, exe.uuid), labels: runLabels(record, exe, 'execution') },
    spec: { restartPolicy: 'Never', ...(initContainers ? { initContainers } : {}), containers: [c], volumes },
  };
}

/** The token Secret of an interactive notebook's Jupyter. */
export function notebookSecret(record: ExecutionRecord, exe: ComponentRow, token: string): V1Secret {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: objectName(record.execution.uuid, exe.uuid), labels: labels(record, exe) },
    stringData: { [TOKEN_KEY]: token },
  };
}

export function executableService(record: ExecutionRecord, exe: ComponentRow, ports: DockerNetworkPort[]): V1Service | undefined {
  ports = ports.filter((p) => p.internal?.port);
  if (ports.length === 0) return undefined;
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: objectName(record.execution.uuid, exe.uuid), labels: labels(record, exe) },
    spec: {
      selector: { [LABEL_COMPONENT]: exe.uuid },
      ports: ports.map((p) => ({ name: `p${p.internal!.port}`, port: p.internal!.port!, targetPort: p.internal!.port! })),
    },
  };
}
