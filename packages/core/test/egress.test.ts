import { describe, expect, test } from '@jest/globals';
import { EgressRefused, checkUrlStatically, egressPolicy, resolveForFetch } from '../src/egress/policy.js';
import { mountPathProblem, resolveInside, safeFileName } from '../src/paths/confine.js';

const closed = egressPolicy('', '');

describe('egress policy', () => {
  test.each([
    'file:///etc/passwd', 'data:text/plain,hi', 'ftp://example.org/x', 'gopher://example.org/',
    'http://127.0.0.1:5432/', 'http://0x7f.1/', 'http://2130706433/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/',
    'http://10.1.2.3/', 'http://172.20.0.1/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/', 'http://[fe80::1]/', 'http://[fd00::1]/', 'http://0.0.0.0/', 'http://localhost/', 'http://redis:6379/',
    'http://user:pw@example.org/', 'http://api.localhost/',
  ])('refuses %s before any connection', (url) => {
    expect(() => checkUrlStatically(closed, url)).toThrow(EgressRefused);
  });

  test('public names and addresses pass the static check', () => {
    expect(checkUrlStatically(closed, 'https://data.example.org/x.fits').hostname).toBe('data.example.org');
    expect(checkUrlStatically(closed, 'http://93.184.216.34/x').hostname).toBe('93.184.216.34');
  });

  test('a name that resolves to a refused address is refused after DNS', async () => {
    await expect(resolveForFetch(closed, new URL('http://localhost/'))).rejects.toThrow(/resolves to 127\.0\.0\.1/);
  });

  test('operators allow networks, hosts and host:port; nothing else opens', async () => {
    const p = egressPolicy('127.0.0.1:8443, 10.0.0.0/8, *.internal.example', '');
    expect(() => checkUrlStatically(p, 'http://127.0.0.1:8443/x')).not.toThrow();
    expect(() => checkUrlStatically(p, 'http://127.0.0.1:8444/x')).toThrow(EgressRefused);
    expect(() => checkUrlStatically(p, 'http://10.9.9.9/x')).not.toThrow();
    expect(() => checkUrlStatically(p, 'http://192.168.0.1/x')).toThrow(EgressRefused);
    expect(() => checkUrlStatically(p, 'http://store.internal.example/x')).not.toThrow();
    expect(() => checkUrlStatically(p, 'file:///etc/passwd')).toThrow(EgressRefused);
    expect(() => checkUrlStatically(egressPolicy('', '93.184.0.0/16'), 'http://93.184.216.34/')).toThrow(EgressRefused);
  });
});

describe('path confinement', () => {
  test.each([
    ['../../../etc/passwd', 'etc_passwd'], ['..', 'data'], ['.bashrc', 'bashrc'], ['a/b\\c', 'a_b_c'], ['', 'data'],
    ['ok-name_1.fits', 'ok-name_1.fits'], ['x'.repeat(300), 'x'.repeat(100)], ['\u0000', 'data'], ['😀.txt', 'txt'],
  ])('safeFileName(%j) = %j', (given, want) => {
    expect(safeFileName(given)).toBe(want);
  });

  test('resolveInside refuses what would leave the directory', () => {
    expect(resolveInside('/srv/eb/x', 'file')).toBe('/srv/eb/x/file');
    expect(() => resolveInside('/srv/eb/x', '../y')).toThrow();
    expect(() => resolveInside('/srv/eb/x', '/etc/passwd')).toThrow();
    expect(() => resolveInside('/srv/eb/x', '.')).toThrow();
  });

  test.each([
    ['/data', undefined], ['/home/user/work', undefined], ['/output/run-1', undefined],
    ['data', /absolute/], ['/', /reserved/], ['/proc', /reserved/], ['/proc/self', /under \/proc/], ['/etc/cron.d', /under \/etc/],
    ['/sys/fs', /under \/sys/], ['/dev/shm', /under \/dev/], ['/usr', /reserved/], ['/data/../etc', /normalised/],
    ['/data/', /normalised/], ['//data', /normalised/], ['/data:/etc', /":"/], ['/a,b', /":"/], ['/a\nb', /control/],
  ])('mountPathProblem(%j)', (path, want) => {
    const problem = mountPathProblem(path);
    if (want === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(want);
  });
});
