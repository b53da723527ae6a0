import type { V1Container, V1Job, V1PersistentVolumeClaim, V1Pod, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ContainerRole, DataResource, DockerContainer, SimpleVolumeMount } from '@eb/schema';
import type { ComponentRow, ExecutionRecord } from '@eb/db';
import { safeFileName } from '@eb/core';
import type { KubernetesSettings } from './config.js';
import { findReferenced } from '../references.js';
import { containerLabels } from '../container-labels.js';

// Every object carries these labels: release deletes by them, and so can an operator.
export const LABEL_EXECUTION = 'eb.ivoa.net/execution';
export const LABEL_COMPONENT = 'eb.ivoa.net/component';

export const objectName = (executionUuid: string, componentUuid: string) => `eb-${executionUuid.slice(0, 8)}-${componentUuid.slice(0, 8)}`;

export function labels(record: ExecutionRecord, c: ComponentRow): Record<string, string> {
  return { [LABEL_EXECUTION]: record.execution.uuid, [LABEL_COMPONENT]: c.uuid, 'app.kubernetes.io/managed-by': 'execution-broker' };
}

/** Labels of what runs a container: the client's and the service's (schema 1.0.8), then ours. */
const runLabels = (record: ExecutionRecord, c: ComponentRow, role: ContainerRole) => ({ ...containerLabels(record, c, role), ...labels(record, c) });

const storageNamed = (record: ExecutionRecord, ref: unknown) => findReferenced(record, ref, ['storage']);

/** The claim a storage or data component's files live on (data without storage gets a claim of its own). */
export function claimFor(record: ExecutionRecord, c: ComponentRow): ComponentRow {
  if (c.role === 'data') return storageNamed(record, (c.spec as DataResource).storage) ?? c;
  return c;
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

/** The file a URL is saved as, reduced to a safe name (see safeFileName): never a path, never shell text. */
export function fileNameOf(url: string, fallback: string): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
  } catch {
    // A malformed escape: use the fallback.
  }
  return safeFileName(last, safeFileName(fallback));
}

const SUMS: Record<string, string> = { md5: 'md5sum', sha1: 'sha1sum', sha256: 'sha256sum', sha512: 'sha512sum' };

// Fixed text: everything from the request reaches the shell as environment variables, never as code.
const STAGE_SCRIPT = 'wget -q -O "/data/$EB_FILE.part" "$EB_URL"'
  + ' && { [ -z "$EB_SUM" ] || echo "$EB_CHECKSUM  /data/$EB_FILE.part" | "$EB_SUM" -c -; }'
  + ' && mv "/data/$EB_FILE.part" "/data/$EB_FILE"';

/** A Job that downloads one data resource into its claim, checking its checksum when one is given. */
export function stagingJob(record: ExecutionRecord, data: ComponentRow, s: KubernetesSettings): V1Job {
  const spec = data.spec as DataResource & { checksum?: { type: string; value: string } };
  const file = fileNameOf(spec.location!, data.name ?? 'data');
  const sum = spec.checksum ? SUMS[spec.checksum.type.toLowerCase()] : undefined;
  const claim = objectName(record.execution.uuid, claimFor(record, data).uuid);
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: objectName(record.execution.uuid, data.uuid), labels: runLabels(record, data, 'data-download') },
    spec: {
      backoffLimit: 3,
      template: {
        metadata: { labels: runLabels(record, data, 'data-download') },
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: 'stage', image: s.stagerImage,
            command: ['sh', '-c', STAGE_SCRIPT],
            env: [
              { name: 'EB_URL', value: spec.location! }, { name: 'EB_FILE', value: file },
              ...(sum && spec.checksum ? [{ name: 'EB_SUM', value: sum }, { name: 'EB_CHECKSUM', value: spec.checksum.value }] : []),
            ],
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

function container(record: ExecutionRecord, exe: ComponentRow): { container: V1Container; volumes: V1Volume[] } {
  const spec = exe.spec as DockerContainer;
  const e = record.execution;
  const mounts: V1VolumeMount[] = [];
  const volumes: V1Volume[] = [];
  record.components.filter((c) => c.role === 'volume').forEach((v, i) => {
    const m = v.spec as SimpleVolumeMount;
    const target = findReferenced(record, m.resource)!;
    volumes.push({ name: `v${i}`, persistentVolumeClaim: { claimName: objectName(e.uuid, claimFor(record, target).uuid), readOnly: m.mode !== 'READWRITE' } });
    mounts.push({ name: `v${i}`, mountPath: m.path!, readOnly: m.mode !== 'READWRITE' });
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
export function executableJob(record: ExecutionRecord, exe: ComponentRow): V1Job {
  const { container: c, volumes } = container(record, exe);
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name: objectName(record.execution.uuid, exe.uuid), labels: runLabels(record, exe, 'execution') },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.ceil(record.execution.available_ms / 1000),
      template: { metadata: { labels: runLabels(record, exe, 'execution') }, spec: { restartPolicy: 'Never', containers: [c], volumes } },
    },
  };
}

/** An interactive executable runs as a Pod with a Service for its published ports. */
export function executablePod(record: ExecutionRecord, exe: ComponentRow): V1Pod {
  const { container: c, volumes } = container(record, exe);
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: objectName(record.execution.uuid, exe.uuid), labels: runLabels(record, exe, 'execution') },
    spec: { restartPolicy: 'Never', containers: [c], volumes },
  };
}

export function executableService(record: ExecutionRecord, exe: ComponentRow): V1Service | undefined {
  const ports = ((exe.spec as DockerContainer).network?.ports ?? []).filter((p) => p.internal?.port);
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
