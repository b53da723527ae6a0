import { afterAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { ExecutionNetworks } from '../src/platforms/docker/network-pool.js';
import { networkName } from '../src/platforms/docker/network.js';
import { LABEL_MANAGED, LABEL_SPARE } from '../src/platforms/docker/labels.js';

// Against the real Docker engine: networks made ahead of executions and removed behind them.
const docker = new Docker({ socketPath: process.env.EB_DOCKER_SOCKET ?? '/var/run/docker.sock' });
const made = new Set<string>();
const exists = (name: string) => docker.getNetwork(name).inspect().then(() => true, () => false);
const take = async (pool: ExecutionNetworks, uuid = randomUUID()) => {
  const name = await pool.take(uuid);
  made.add(name);
  return name;
};

afterAll(async () => {
  for (const name of made) await docker.getNetwork(name).remove().catch(() => undefined);
});

describe('execution networks made ahead', () => {
  test('a spare goes to one execution only, is made again once a network is removed, and close removes the rest', async () => {
    const pool = new ExecutionNetworks(docker, 'public', 1);
    const a = randomUUID();
    // None made yet: the first is made when needed, named after its execution.
    const first = await take(pool, a);
    expect(first).toBe(networkName(a));
    expect(pool.spares()).toEqual([]);
    pool.retire(first);
    await pool.idle();
    expect(await exists(first)).toBe(false);
    const [spare] = pool.spares();
    expect(spare).toMatch(/^eb-net-[0-9a-f]{12}$/);
    made.add(spare!);
    const info = await docker.getNetwork(spare!).inspect();
    expect(info.Labels).toMatchObject({ [LABEL_MANAGED]: 'true', [LABEL_SPARE]: 'true' });
    expect(info.Internal).toBe(false);
    // Its bridge is one the firewall's `eb-+` rules cover.
    expect(info.Options?.['com.docker.network.bridge.name']).toMatch(/^eb-[0-9a-f]{12}$/);
    expect(Object.keys(info.Containers ?? {})).toEqual([]);

    const second = await take(pool);
    expect(second).toBe(spare);
    const third = await take(pool);
    expect(third).not.toBe(spare);
    expect(pool.spares()).toEqual([]);

    pool.retire(second);
    pool.retire(third);
    pool.retire('bridge'); // not ours: left alone
    await pool.idle();
    expect(await exists(second)).toBe(false);
    expect(await exists(third)).toBe(false);
    expect(await exists('bridge')).toBe(true);
    // Never more spares than asked for, however many networks were removed.
    expect(pool.spares()).toHaveLength(1);
    const left = pool.spares()[0]!;
    made.add(left);
    await pool.close();
    expect(await exists(left)).toBe(false);
    expect(pool.spares()).toEqual([]);
  }, 60_000);

  test('a spare that is gone (another worker swept it) is not handed out: a network is made instead', async () => {
    const pool = new ExecutionNetworks(docker, 'none', 1);
    pool.retire(await take(pool));
    await pool.idle();
    const [spare] = pool.spares();
    made.add(spare!);
    expect((await docker.getNetwork(spare!).inspect()).Internal).toBe(true); // egress `none`: no route out
    await docker.getNetwork(spare!).remove();
    const uuid = randomUUID();
    expect(await take(pool, uuid)).toBe(networkName(uuid));
    pool.retire(networkName(uuid));
    await pool.close();
    expect(await exists(networkName(uuid))).toBe(false);
  }, 60_000);

  test('with no spares asked for, none is made', async () => {
    const pool = new ExecutionNetworks(docker, 'public', 0);
    pool.retire(await take(pool));
    await pool.idle();
    expect(pool.spares()).toEqual([]);
  }, 30_000);
});
