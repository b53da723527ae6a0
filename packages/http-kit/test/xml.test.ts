import { describe, expect, test } from '@jest/globals';
import { Kinds } from '@eb/schema';
import { readXml, writeXml } from '../src/xml/index.js';

const request = {
  executable: {
    kind: Kinds.dockerContainer,
    meta: { name: 'sum & check' },
    image: { locations: ['ghcr.io/a/b:1', 'docker.io/a/b:1'], digest: 'sha256:00', platform: { architecture: 'amd64', os: 'linux' } },
    privileged: false,
    command: ['sh', '-c', 'echo "<hello>" && exit 0'],
    environment: { GREETING: 'hi', 'odd name': 'x' },
    labels: { 'org.example/team': 'radio' },
    network: { ports: [{ access: true, internal: { port: 8888 }, protocol: 'HTTP', path: '/lab' }] },
  },
  compute: {
    kind: Kinds.simpleCompute, cores: { min: 1, max: 4 }, memory: { min: 2 },
    volumes: [{ kind: Kinds.simpleVolumeMount, path: '/in', mode: 'READONLY', resource: 'input' }],
  },
  storage: [{ kind: Kinds.simpleStorage, meta: { name: 'work' }, size: { min: 10 }, data: ['input'] }],
  data: [{ kind: Kinds.simpleData, meta: { name: 'input' }, location: 'https://example.org/a?x=1&y=2', storage: 'work' }],
  schedule: { requested: { duration: 'PT1H', start: '2030-01-01T00:00:00Z/PT2H' } },
  costs: [{ kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/costs/simple-minmax-float-cost.yaml', type: 'urn:ivoa:calycopis:cost:monetary', max: 1.5 }],
};

describe('XML per the spec\'s xml names', () => {
  test('an ExecutionRequest written and read back is the same request, typed by the schema', () => {
    const xml = writeXml(request, 'ExecutionRequest');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<offers-request>/);
    expect(xml).toContain(`<executable kind="${Kinds.dockerContainer}">`);
    expect(xml).toContain('<command>sh</command><command>-c</command>');
    expect(xml).toContain('<cost kind=');
    expect(xml).toContain('<entry key="odd name">x</entry>');
    expect(xml).toContain('&lt;hello&gt;');
    expect(readXml(xml, 'ExecutionRequest')).toEqual(request);
  });

  test('a hand-written document: attributes or elements for kind, CDATA, character references, namespaces, whitespace', () => {
    const xml = `<?xml version="1.0"?>
<offers-request xmlns="urn:example">
  <executable kind="https://www.purl.org/ivoa.net/EB/schema/v1.0/types/executable/docker-container-1.0">
    <image><locations>img</locations><digest>sha256:1</digest></image>
    <command><![CDATA[a <b> & c]]></command>
    <privileged>true</privileged>
  </executable>
  <compute><kind>${Kinds.simpleCompute}</kind><cores><min>2</min></cores></compute>
  <data kind="${Kinds.simpleData}"><location>https://x.org/&#x3B1;&amp;</location></data>
</offers-request>`;
    expect(readXml(xml, 'ExecutionRequest')).toEqual({
      executable: { kind: 'https://www.purl.org/ivoa.net/EB/schema/v1.0/types/executable/docker-container-1.0', image: { locations: ['img'], digest: 'sha256:1' }, command: ['a <b> & c'], privileged: true },
      compute: { kind: Kinds.simpleCompute, cores: { min: 2 } },
      data: [{ kind: Kinds.simpleData, location: 'https://x.org/α&' }],
    });
  });

  test('text that is not what the schema types is left for the schema check to name', () => {
    expect(readXml('<r><compute kind="' + Kinds.simpleCompute + '"><cores><min>many</min></cores></compute></r>', 'ExecutionRequest'))
      .toEqual({ compute: { kind: Kinds.simpleCompute, cores: { min: 'many' } } });
  });

  test('an offer set: wrapped offers, messages, connectors', () => {
    const set = {
      kind: Kinds.offerSet, meta: { uuid: 'u', messages: [{ kind: 'urn:x', level: 'WARN', values: { a: '1' }, message: 'm' }] }, result: 'YES',
      offers: [{ kind: Kinds.scheduledSession, phase: 'OFFERED', meta: { uuid: 'o1' }, executable: { kind: Kinds.dockerContainer, command: ['true'] },
        connectors: [{ kind: 'k', status: 'PREPARING', protocol: 'HTTP' }], schedule: { preparing: { start: '2030-01-01T00:00:00Z', duration: 'PT30S' } },
        costs: [{ kind: 'https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/costs/simple-minmax-float-cost.yaml', type: 't', min: 0.5, max: 1, units: 'EUR' }] }],
    };
    const xml = writeXml(set, 'OfferSetResponse');
    expect(xml).toContain(`<offers-response kind="${Kinds.offerSet}">`);
    expect(xml).toContain(`<offers><execution kind="${Kinds.scheduledSession}">`);
    expect(xml).toContain('<message><kind>urn:x</kind>');
    expect(readXml(xml, 'OfferSetResponse')).toEqual(set);
  });

  test('refused: DOCTYPE (no XXE, no billion laughs), undefined entities, deep nesting, malformed documents', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>';
    expect(() => readXml(xxe, 'ExecutionRequest')).toThrow(/DOCTYPE/);
    expect(() => readXml('<r><executable kind="a">&x;</executable></r>', 'ExecutionRequest')).toThrow(/not defined/);
    expect(() => readXml(`<r>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</r>`, 'ExecutionRequest')).toThrow(/nested/i);
    expect(() => readXml('<r><a></r>', 'ExecutionRequest')).toThrow(/closing tag/);
    expect(() => readXml('<r/><s/>', 'ExecutionRequest')).toThrow();
  });
});
