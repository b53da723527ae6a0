import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

type Container = { name: string; image: string; command?: string[]; args?: string[]; env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] };
type PodSpec = { initContainers?: Container[]; containers: Container[]; volumes?: { name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean }; emptyDir?: object }[] };
type Pod = { metadata: { name: string; namespace: string; uid: string }; spec: PodSpec; status?: Record<string, unknown> };

const LABEL = 'eb-test-kubelet';

/**
 * A kubelet for the stand-in Kubernetes API: it really runs pods, as Docker containers on this
 * machine's engine, init containers first and then the main container, each claim a host directory,
 * each emptyDir a directory of the pod's, secrets' keys resolved into the environment. Containers use
 * the host's network (the tests' servers listen on loopback). The pod's status and logs follow the
 * containers, as the real kubelet reports them.
 */
export class DockerKubelet {
  private readonly docker = new Docker();
  private readonly root = mkdtempSync(join(tmpdir(), 'eb-kubelet-'));
  private readonly logs = new Map<string, string>();
  private readonly running = new Map<string, string>();

  constructor(private readonly secret: (ns: string, name: string, key: string) => string | undefined) {}

  /** The host directory behind a claim. */
  claimDir(ns: string, claim: string): string {
    const dir = join(this.root, 'claims', ns, claim);
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    return dir;
  }

  private binds(pod: Pod, c: Container): string[] {
    return (c.volumeMounts ?? []).flatMap((m) => {
      const v = pod.spec.volumes?.find((x) => x.name === m.name);
      if (!v) return [];
      const host = v.persistentVolumeClaim
        ? this.claimDir(pod.metadata.namespace, v.persistentVolumeClaim.claimName)
        : join(this.root, 'pods', pod.metadata.uid, v.name);
      mkdirSync(host, { recursive: true, mode: 0o777 });
      return [`${host}:${m.mountPath}:${m.readOnly || v.persistentVolumeClaim?.readOnly ? 'ro' : 'rw'}`];
    });
  }

  private env(pod: Pod, c: Container): string[] {
    return (c.env ?? []).map((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      return `${e.name}=${ref ? this.secret(pod.metadata.namespace, ref.name, ref.key) ?? '' : e.value ?? ''}`;
    });
  }

  /** Runs one container to its end; its log is kept under pod/container. */
  private async runContainer(pod: Pod, c: Container): Promise<number> {
    const container = await this.docker.createContainer({
      name: `eb-kubelet-${pod.metadata.uid.slice(0, 8)}-${c.name}`,
      Image: c.image,
      ...(c.command ? { Entrypoint: c.command } : {}),
      ...(c.args ? { Cmd: c.args } : {}),
      Env: this.env(pod, c),
      Labels: { [LABEL]: pod.metadata.uid },
      // A read-only root as a cluster's restricted policy has it; /tmp a tmpfs unless the pod mounts a volume there.
      HostConfig: {
        Binds: this.binds(pod, c), NetworkMode: 'host', ReadonlyRootfs: true,
        ...((c.volumeMounts ?? []).some((m) => m.mountPath === '/tmp') ? {} : { Tmpfs: { '/tmp': 'rw,size=256m' } }),
      },
    });
    this.running.set(`${pod.metadata.uid}/${c.name}`, container.id);
    await container.start();
    const { StatusCode } = await container.wait();
    const raw = await container.logs({ stdout: true, stderr: true, follow: false }).catch(() => Buffer.alloc(0)) as unknown as Buffer;
    this.logs.set(`${pod.metadata.uid}/${c.name}`, demux(raw));
    await container.remove({ force: true }).catch(() => undefined);
    this.running.delete(`${pod.metadata.uid}/${c.name}`);
    return StatusCode;
  }

  /** Starts the pod; its status moves from Pending to Running to Succeeded or Failed. */
  start(pod: Pod): void {
    const main = pod.spec.containers[0]!;
    pod.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] };
    void (async () => {
      try {
        for (const init of pod.spec.initContainers ?? []) {
          const code = await this.runContainer(pod, init);
          if (code !== 0) {
            pod.status = { phase: 'Failed', initContainerStatuses: [{ name: init.name, state: { terminated: { exitCode: code, reason: 'Error' } } }] };
            return;
          }
        }
        pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: main.name, image: main.image, imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }] };
        const exitCode = await this.runContainer(pod, main);
        pod.status = { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name: main.name, image: main.image, imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } } }] };
      } catch (err) {
        pod.status = { phase: 'Pending', containerStatuses: [{ name: main.name, image: main.image, ready: false, restartCount: 0, imageID: '', state: { waiting: { reason: 'CreateContainerError', message: (err as Error).message } } }] };
      }
    })();
  }

  /** A container's log: as far as it has got while it runs, all of it once it has ended. */
  async log(pod: Pod, container: string): Promise<string | undefined> {
    const key = `${pod.metadata.uid}/${container}`;
    const id = this.running.get(key);
    if (id) {
      // A container that has just ended may already be on its way out: its kept log is read then.
      const live = await this.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false }).then((b) => demux(b as unknown as Buffer), () => undefined);
      if (live !== undefined) return live;
    }
    return this.logs.get(key);
  }

  async stop(pod: Pod): Promise<void> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABEL}=${pod.metadata.uid}`] } });
    await Promise.all(list.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }

  async close(): Promise<void> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [LABEL] } });
    await Promise.all(list.filter((c) => this.ownsAny(c.Labels[LABEL])).map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    rmSync(this.root, { recursive: true, force: true });
  }

  private readonly uids = new Set<string>();
  track(pod: Pod): void { this.uids.add(pod.metadata.uid); }
  private ownsAny(uid: string | undefined): boolean { return uid !== undefined && this.uids.has(uid); }
}

/** Docker's multiplexed log frames (8-byte headers) to text, stdout and stderr in order. */
function demux(raw: Buffer): string {
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= raw.length;) {
    const size = raw.readUInt32BE(i + 4);
    out.push(raw.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(out).toString('utf8');
}
