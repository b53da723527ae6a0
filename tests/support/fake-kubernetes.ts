import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DockerKubelet } from './fake-kubelet.js';

type Obj = { apiVersion: string; kind: string; metadata: Record<string, any>; spec?: any; status?: any; stringData?: Record<string, string>; data?: Record<string, string> };

export interface FakeKubernetesOptions {
  token: string;
  /** Time a pod waits in Pending, then runs for runMs. */
  startMs?: number;
  runMs?: number;
  bindMs?: number;
  /** Run pods for real, as Docker containers (see DockerKubelet), instead of simulating them. */
  runPods?: boolean;
}

export interface FakeKubernetes {
  url: string;
  requests: { method: string; path: string; body?: any }[];
  objects(kind: string): Obj[];
  /** With runPods: the host directory behind a claim. */
  claimDir?(ns: string, claim: string): string;
  /** The next `times` requests matching method and path answer with this status. */
  failNext(method: string, path: RegExp, status: number, times?: number): void;
  close(): Promise<void>;
}

const RESOURCES: Record<string, { kind: string; apiVersion: string }> = {
  pods: { kind: 'Pod', apiVersion: 'v1' },
  services: { kind: 'Service', apiVersion: 'v1' },
  persistentvolumeclaims: { kind: 'PersistentVolumeClaim', apiVersion: 'v1' },
  jobs: { kind: 'Job', apiVersion: 'batch/v1' },
  secrets: { kind: 'Secret', apiVersion: 'v1' },
};

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

function matches(o: Obj, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return o.metadata.labels?.[k!] === v;
  });
}

/**
 * A small stand-in for the Kubernetes API server, answering the paths, objects, Status errors and
 * phases that the real one does for PVCs, Jobs, Pods and Services, and moving them along in time
 * (Pending -> Running -> Succeeded/Failed; claims Pending -> Bound).
 */
export async function startFakeKubernetes(o: FakeKubernetesOptions): Promise<FakeKubernetes> {
  const startMs = o.startMs ?? 200;
  const runMs = o.runMs ?? 300;
  const bindMs = o.bindMs ?? 100;
  const store = new Map<string, Obj>(); // `${resource}/${ns}/${name}`
  const requests: FakeKubernetes['requests'] = [];
  const failures: { method: string; path: RegExp; status: number; times: number }[] = [];
  const kubelet = o.runPods ? new DockerKubelet((ns, name, key) => {
    const secret = store.get(`secrets/${ns}/${name}`);
    return secret?.stringData?.[key] ?? (secret?.data?.[key] ? Buffer.from(secret.data[key], 'base64').toString() : undefined);
  }) : undefined;

  const exitCodeOf = (c: any): number => {
    // What the container was asked to do: its args (the executable's command) and environment; a
    // program given as `command` (the staging script) is the broker's own and says nothing of the outcome.
    const text = [...(c.args ?? []), ...(c.env ?? []).map((e: any) => e.value)].join(' ');
    if (/missing/.test((c.env ?? []).map((e: any) => e.value).join(' '))) return 1;
    const m = /exit (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  };

  /** Moves an object's status on with its age, as the cluster's controllers would. */
  function evolve(resource: string, obj: Obj): Obj {
    const age = Date.now() - Date.parse(obj.metadata.creationTimestamp);
    if (resource === 'persistentvolumeclaims') obj.status = { phase: age >= bindMs ? 'Bound' : 'Pending' };
    // Pods a kubelet runs have the status it reports.
    if (resource === 'pods' && !kubelet) {
      const c = obj.spec.containers[0];
      if (/missing/.test(c.image)) {
        obj.status = { phase: 'Pending', containerStatuses: [{ name: c.name, image: c.image, ready: false, restartCount: 0, imageID: '', state: { waiting: { reason: 'ErrImagePull', message: `failed to pull image "${c.image}": not found` } } }] };
      } else if (age < startMs) {
        obj.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] };
      } else if (obj.metadata.labels?.['job-name'] === undefined || age < startMs + runMs) {
        obj.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: c.name, image: c.image, imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } }] };
      } else {
        const exitCode = exitCodeOf(c);
        obj.status = { phase: exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } } }] };
      }
    }
    if (resource === 'jobs') {
      const pods = [...store.entries()].filter(([k, p]) => k.startsWith(`pods/${obj.metadata.namespace}/`) && p.metadata.labels?.['job-name'] === obj.metadata.name).map(([, p]) => evolve('pods', p));
      const pod = pods[0];
      const phase = pod?.status?.phase;
      obj.status = phase === 'Succeeded' ? { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }
        : phase === 'Failed' ? { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] }
          : { active: 1 };
    }
    return obj;
  }

  function create(resource: string, ns: string, body: Obj): Obj {
    const obj: Obj = structuredClone(body);
    obj.metadata = { ...obj.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: new Date().toISOString(), resourceVersion: '1' };
    store.set(`${resource}/${ns}/${obj.metadata.name}`, obj);
    if (resource === 'pods' && kubelet) {
      kubelet.track(obj as never);
      kubelet.start(obj as never);
    }
    if (resource === 'jobs') {
      const tpl = obj.spec.template;
      const pod: Obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${obj.metadata.name}-${randomUUID().slice(0, 5)}`, labels: { ...tpl.metadata?.labels, 'job-name': obj.metadata.name } }, spec: tpl.spec };
      create('pods', ns, pod);
    }
    return obj;
  }

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : undefined;
    requests.push({ method: req.method!, path: url.pathname + url.search, body });
    const send = (code: number, data: unknown, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type });
      res.end(typeof data === 'string' ? data : JSON.stringify(data));
    };
    if (req.headers.authorization !== `Bearer ${o.token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    const failure = failures.find((f) => f.method === req.method && f.path.test(url.pathname) && f.times > 0);
    if (failure) {
      failure.times -= 1;
      return send(failure.status, status(failure.status, failure.status >= 500 ? 'InternalError' : 'Forbidden', `injected ${failure.status}`));
    }
    const m = /^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?(?:\/(log))?$/.exec(url.pathname);
    if (!m || !RESOURCES[m[2]!]) return send(404, status(404, 'NotFound', `the server could not find the requested resource`));
    const [, ns, resource, name, sub] = m as unknown as [string, string, string, string | undefined, string | undefined];
    const meta = RESOURCES[resource]!;
    const key = `${resource}/${ns}/${name}`;
    if (req.method === 'POST' && !name) {
      if (!body?.metadata?.name) return send(422, status(422, 'Invalid', `${meta.kind} "" is invalid: metadata.name: Required value`));
      if (store.has(`${resource}/${ns}/${body.metadata.name}`)) return send(409, status(409, 'AlreadyExists', `${resource} "${body.metadata.name}" already exists`));
      return send(201, create(resource, ns, body));
    }
    if (req.method === 'GET' && name && sub === 'log') {
      // GET .../pods/{name}/log, as the real API answers it: text/plain, `container` checked,
      // `tailLines` and `limitBytes` applied, 400 while the container has not started.
      const pod = store.get(key);
      if (!pod) return send(404, status(404, 'NotFound', `pods "${name}" not found`));
      const c = pod.spec.containers[0];
      const wanted = url.searchParams.get('container');
      if (wanted && !pod.spec.containers.some((x: any) => x.name === wanted)) {
        return send(400, status(400, 'BadRequest', `container ${wanted} is not valid for pod ${name}`));
      }
      const state = evolve('pods', pod).status?.containerStatuses?.[0]?.state;
      if (!state?.running && !state?.terminated) {
        return send(400, status(400, 'BadRequest', `container "${c.name}" in pod "${name}" is waiting to start: ContainerCreating`));
      }
      if (kubelet) {
        let logged = (await kubelet.log(pod as never, wanted ?? c.name)) ?? '';
        const tailLines = url.searchParams.get('tailLines');
        if (tailLines) logged = logged.split('\n').slice(-Number(tailLines) - 1).join('\n');
        return send(200, logged, 'text/plain');
      }
      const printed = (c.env ?? []).find((e: any) => e.name === 'FAKE_STDOUT')?.value as string | undefined;
      let lines = [`started ${c.image}`, `args: ${[...(c.command ?? []), ...(c.args ?? [])].join(' ')}`, ...(printed ? printed.split('\n') : [])];
      if (exitCodeOf(c) !== 0) lines.push(`failing with exit code ${exitCodeOf(c)}`);
      const tailLines = url.searchParams.get('tailLines');
      if (tailLines) lines = lines.slice(-Number(tailLines));
      let text = lines.join('\n') + '\n';
      const limitBytes = url.searchParams.get('limitBytes');
      if (limitBytes) text = Buffer.from(text).subarray(0, Number(limitBytes)).toString();
      return send(200, text, 'text/plain');
    }
    if (req.method === 'PATCH' && name) {
      // JSON Patch (application/json-patch+json), as the client sends it by default: replace and add.
      const obj = store.get(key);
      if (!obj) return send(404, status(404, 'NotFound', `${resource} "${name}" not found`));
      if (!/json-patch\+json/.test(req.headers['content-type'] ?? '')) return send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format`));
      for (const op of body as { op: string; path: string; value: unknown }[]) {
        if (op.op !== 'replace' && op.op !== 'add') return send(422, status(422, 'Invalid', `unsupported patch operation ${op.op}`));
        const keys = op.path.split('/').slice(1);
        let target = obj as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        for (const k of keys.slice(0, -1)) target = target[k] ??= {};
        target[keys.at(-1)!] = op.value;
      }
      obj.metadata.resourceVersion = String(Number(obj.metadata.resourceVersion ?? 1) + 1);
      return send(200, evolve(resource, obj));
    }
    if (req.method === 'GET' && name) {
      const obj = store.get(key);
      return obj ? send(200, evolve(resource, obj)) : send(404, status(404, 'NotFound', `${resource} "${name}" not found`));
    }
    const selected = [...store.entries()].filter(([k, v]) => k.startsWith(`${resource}/${ns}/`) && matches(v, url.searchParams.get('labelSelector')));
    if (req.method === 'GET') {
      return send(200, { apiVersion: meta.apiVersion, kind: `${meta.kind}List`, metadata: { resourceVersion: '1' }, items: selected.map(([, v]) => evolve(resource, v)) });
    }
    if (req.method === 'DELETE' && !name) {
      for (const [k, v] of selected) {
        store.delete(k);
        if (resource === 'pods' && kubelet) await kubelet.stop(v as never);
      }
      return send(200, { apiVersion: meta.apiVersion, kind: `${meta.kind}List`, metadata: {}, items: selected.map(([, v]) => v) });
    }
    send(405, status(405, 'MethodNotAllowed', 'method not allowed'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    objects: (kind) => [...store.values()].filter((v) => v.kind === kind),
    failNext: (method, path, code, times = 1) => { failures.push({ method, path, status: code, times }); },
    ...(kubelet ? { claimDir: (ns: string, claim: string) => kubelet.claimDir(ns, claim) } : {}),
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await kubelet?.close();
    },
  };
}
