import { describe, expect, test } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

// Renders deploy/*.yaml and validates every object against the Kubernetes API schemas (kubernetes-models),
// then checks what operators rely on: probes, the migration Job, the worker autoscaler, narrow RBAC.
const root = fileURLToPath(new URL('../../../', import.meta.url));
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, any>; rules?: any[] };

const docs: { file: string; obj: K8sObject }[] = readdirSync(`${root}deploy`)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) => yaml.loadAll(readFileSync(`${root}deploy/${file}`, 'utf8')).filter(Boolean).map((obj) => ({ file, obj: obj as K8sObject })));

async function modelFor(o: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [undefined, o.apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}/${o.kind}` : `kubernetes-models/${version}/${o.kind}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  return mod[o.kind]!;
}

const find = (kind: string, name: string) => docs.find((d) => d.obj.kind === kind && d.obj.metadata.name === name)?.obj;

describe('Kubernetes manifests', () => {
  test('every object is valid against the Kubernetes schemas', async () => {
    expect(docs.length).toBeGreaterThanOrEqual(12);
    for (const { file, obj } of docs) {
      const Model = await modelFor(obj);
      expect(() => new Model(obj).validate()).not.toThrow();
      expect(file).toBeTruthy();
    }
  });

  test('a broken manifest is caught (the check can fail)', async () => {
    const broken = structuredClone(find('Deployment', 'offerset-api')!);
    broken.spec!.template.spec.containers[0].ports[0].containerPort = 'eighty';
    const Model = await modelFor(broken);
    expect(() => new Model(broken).validate()).toThrow(/containerPort/);
  });

  test('each service has readiness and liveness probes on /readyz and /healthz, non-root', () => {
    for (const name of ['offerset-api', 'execution-api', 'platform-worker']) {
      const d = find('Deployment', name)!;
      const c = d.spec!.template.spec.containers[0];
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(d.spec!.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
    expect(find('Deployment', 'offerset-api')!.spec!.replicas).toBe(2);
  });

  test('migrations run as a Job, workers autoscale, and the worker may manage pods, jobs, services and PVCs in one namespace', () => {
    expect(find('Job', 'eb-migrate')!.spec!.template.spec.containers[0].command.join(' ')).toMatch(/migrate-cli/);
    expect(find('HorizontalPodAutoscaler', 'platform-worker')!.spec!.scaleTargetRef.name).toBe('platform-worker');
    const role = find('Role', 'eb-platform-worker')!;
    const granted = role.rules!.flatMap((r) => r.resources.map((res: string) => [res, r.verbs]));
    for (const res of ['pods', 'jobs', 'services', 'persistentvolumeclaims']) {
      const verbs = granted.find(([r]) => r === res)?.[1] as string[];
      expect(verbs).toEqual(expect.arrayContaining(['create', 'delete']));
    }
    expect(docs.some((d) => d.obj.kind === 'ClusterRole')).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  const compose = yaml.load(readFileSync(`${root}docker-compose.yml`, 'utf8')) as { services: Record<string, any> };
  const env = (service: string) => compose.services[service].environment as Record<string, string>;

  test('PostgreSQL, Redis, migrations, two offer-set replicas and the execution API behind HAProxy, two workers', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['execution-api', 'load-balancer', 'migrate', 'offerset-api-1', 'offerset-api-2',
      'platform-worker-1', 'platform-worker-2', 'postgres', 'redis']);
    expect(compose.services.redis.command.join(' ')).toMatch(/noeviction/);
    const lb = compose.services['load-balancer'];
    expect(lb.volumes).toContain('./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(lb.environment).toEqual(expect.objectContaining({ EB_OFFERSET_API_1: 'offerset-api-1:8081', EB_OFFERSET_API_2: 'offerset-api-2:8081', EB_EXECUTION_API_1: 'execution-api:8082' }));
    // Published on loopback only, unless the operator says otherwise.
    for (const s of Object.values(compose.services)) for (const port of s.ports ?? []) expect(port).toMatch(/^(\$\{EB_HTTP_BIND:-127\.0\.0\.1\}|127\.0\.0\.1):/);
  });

  test('the Docker platform by default, the simulated one only when asked', () => {
    for (const s of ['offerset-api-1', 'offerset-api-2', 'execution-api', 'platform-worker-1', 'platform-worker-2']) {
      expect(env(s).EB_PLATFORM).toBe('${EB_PLATFORM:-docker}');
    }
  });

  test('workers get the engine socket and its group, and the data directory at the same path as on the host', () => {
    for (const name of ['platform-worker-1', 'platform-worker-2']) {
      const w = compose.services[name];
      expect(w.network_mode).toBe('host');
      expect(w.group_add).toEqual(['${EB_DOCKER_GID:-0}']);
      expect(w.volumes).toContain('${EB_DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock');
      const data = (w.volumes as string[]).find((v) => v.startsWith('${EB_DOCKER_DATA_DIR'))!;
      const [host, inside] = data.split(/:(?=\$)/);
      expect(inside).toBe(host);
      expect(env(name).EB_DOCKER_DATA_DIR).toBe(host);
      // Executions' ports are published on loopback, which the workers reach on the host's network.
      expect(env(name).EB_DOCKER_BIND_IP).toBe('127.0.0.1');
    }
    expect(env('platform-worker-1').PORT).not.toBe(env('platform-worker-2').PORT);
  });
});

describe('Dockerfiles', () => {
  const services = ['offerset-api', 'execution-api', 'platform-worker'];
  const file = (s: string) => readFileSync(`${root}services/${s}/Dockerfile`, 'utf8');

  test('build offline with any builder: no syntax directive, base images as build arguments, non-root', () => {
    for (const s of services) {
      const f = file(s);
      expect(f).not.toMatch(/^#\s*syntax\s*=/im);
      expect(f).toMatch(/^ARG NODE_IMAGE=\S+\n\nFROM \$\{NODE_IMAGE\} AS build$/m);
      expect(f.match(/^FROM .*$/gm)).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}']);
      expect(f).toMatch(/^ARG EXTRA_CA_CERTS=""$/m);
      expect(f).toMatch(/^USER node$/m);
      // The final stage takes the build's output only: no sources, no package manager.
      const final = f.slice(f.lastIndexOf('FROM '));
      expect(final.match(/^COPY .*$/gm)).toEqual(['COPY --from=build /out /app']);
      expect(f).toContain(`tsc -b "services/\${SERVICE}/tsconfig.build.json"`);
    }
  });

  test('the three differ only in the service they build, so they share their install and build steps', () => {
    // The manifests' COPY lines name every service alike; other mentions of the service and its port are its own.
    const normal = (s: string, port: number) => file(s).split('\n')
      .map((line) => (/^COPY services\/.*package\.json/.test(line) ? line : line.replaceAll(s, 'SERVICE').replaceAll(String(port), 'PORT'))).join('\n');
    expect(normal('execution-api', 8082)).toBe(normal('offerset-api', 8081));
    expect(normal('platform-worker', 8083)).toBe(normal('offerset-api', 8081));
  });

  test('what they compile is the service sources only; local secrets and tests stay out of the context', () => {
    for (const s of services) {
      const cfg = JSON.parse(readFileSync(`${root}services/${s}/tsconfig.build.json`, 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { include: string[]; references: { path: string }[] };
      expect(cfg.include).toEqual(['src']);
      expect(cfg.references.map((r) => r.path).some((p) => p.includes('tests'))).toBe(false);
    }
    const ignored = readFileSync(`${root}.dockerignore`, 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.local', '.env', '**/test', '**/bench', 'tests/*', '!tests/package.json']));
  });
});

describe('load balancing conventions', () => {
  const haproxy = readFileSync(`${root}deploy/haproxy/haproxy.cfg`, 'utf8');
  const ingress = find('Ingress', 'execution-broker')!;

  test('the Ingress routes the paths HAProxy routes, to the same services, with timeouts past the 60 s long-polls', () => {
    const routes = ingress.spec!.rules[0].http.paths as { path: string; backend: { service: { name: string } } }[];
    const byService = (svc: string) => routes.filter((r) => r.backend.service.name === svc).map((r) => r.path).sort();
    const offersets = /use_backend offersets if \{ path ([^}]+) \} \|\| \{ path_reg \^\/\(([^)]+)\)/.exec(haproxy)!;
    expect(byService('offerset-api')).toEqual([...offersets[1]!.trim().split(' '), ...offersets[2]!.split('|').map((p) => `/${p}`)].sort());
    const executions = /use_backend executions if \{ path_reg \^\/\(([^)]+)\)/.exec(haproxy)!;
    expect(byService('execution-api')).toEqual(executions[1]!.split('|').map((p) => `/${p}`).sort());
    const annotations = (ingress as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThan(60);
    expect(parseInt(annotations['haproxy.org/timeout-server']!, 10)).toBeGreaterThan(60);
  });

  test('the manifests run the images scripts/build-images.sh and compose use', () => {
    const script = readFileSync(`${root}scripts/build-images.sh`, 'utf8');
    const composeFile = readFileSync(`${root}docker-compose.yml`, 'utf8');
    for (const name of ['offerset-api', 'execution-api', 'platform-worker']) {
      const image = find('Deployment', name)!.spec!.template.spec.containers[0].image as string;
      expect(image).toBe(`execution-broker/${name}:latest`);
      expect(composeFile).toContain(`:-${image}}`);
      expect(script).toContain('-t "execution-broker/$svc:latest"');
    }
    expect(find('Job', 'eb-migrate')!.spec!.template.spec.containers[0].image).toBe('execution-broker/offerset-api:latest');
  });
});
