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
  test('starts PostgreSQL, Redis, migrations, two offer-set replicas behind the gateway, and workers', () => {
    const compose = yaml.load(readFileSync(`${root}docker-compose.yml`, 'utf8')) as { services: Record<string, any> };
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'migrate', 'offerset-api', 'execution-api', 'platform-worker', 'gateway']));
    expect(compose.services['offerset-api'].deploy.replicas).toBe(2);
    expect(compose.services.redis.command.join(' ')).toMatch(/noeviction/);
    for (const s of ['offerset-api', 'execution-api', 'platform-worker', 'gateway']) {
      const file = readFileSync(`${root}${compose.services[s].build.dockerfile}`, 'utf8');
      expect(file).toMatch(/^FROM .* AS build$/m);
      expect(file).toMatch(/^USER node$/m);
    }
  });
});
