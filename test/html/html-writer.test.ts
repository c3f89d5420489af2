// The html writer as a pure function: what the page holds for a known ScanResult, that user
// input is escaped everywhere, that nothing points off the page, and that it stays compact.
import { readFileSync, writeFileSync } from 'node:fs';
import { panels, xMid } from '../../src/sinks/reports/html/axis.js';
import { ruleExcerpts, valueAt } from '../../src/sinks/reports/html/exposures.js';
import { marks } from '../../src/sinks/reports/html/model.js';
import { writeHtml } from '../../src/sinks/reports/html.js';
import { RULE_CATALOG } from '../../src/engine/rules/index.js';
import type { Finding, KubeObject, PortUse } from '../../src/engine/types.js';
import type { ScanResult } from '../../src/sinks/reports/scan-result.js';
import { fixture, fixturePolicy, INJECTION } from './fixture.js';

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
/** The opening tags of elements with class `cls` (as one class among others). */
const tags = (html: string, el: string, cls: string) => html.match(new RegExp(`<${el} class="(?:[^"]* )?${cls}(?: [^"]*)?"[^>]*>`, 'g')) ?? [];
const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
/** The markup of one section, from its id to the next section. */
const section = (html: string, id: string) => {
  const at = html.indexOf(`<section id="${id}"`);
  if (at < 0) throw new Error(`no section ${id}`);
  return html.slice(at, html.indexOf('</section>', at));
};

describe('broken axis', () => {
  it.each([
    { name: 'default NodePort range', range: { lo: 30000, hi: 32767 } },
    { name: 'range below the kubelet block', range: { lo: 20000, hi: 22767 } },
    { name: 'range over the kubelet block', range: { lo: 10000, hi: 12767 } },
    { name: 'range at the top', range: { lo: 60000, hi: 65535 } },
  ])('$name: panels cover 0-65535 in order and ports map monotonically', ({ range }) => {
    const ps = panels(range, 92, 1096, 10);
    expect(ps[0].lo).toBe(0);
    expect(ps[ps.length - 1].hi).toBe(65535);
    ps.slice(1).forEach((p, i) => expect(p.lo).toBe(ps[i].hi + 1));
    expect(ps[ps.length - 1].x + ps[ps.length - 1].w).toBeCloseTo(92 + 1096, 6);
    const samples = [0, 22, 80, 443, 1023, 1024, 2379, 6443, 9000, 10248, 10250, 10255, 10259, 20000, 30000, 31000, 32767, 32768, 51871, 65535];
    const xs = samples.map((p) => xMid(ps, p));
    xs.slice(1).forEach((x, i) => expect(x).toBeGreaterThan(xs[i]));
    // The NodePort range is readable: a quarter or more of the width.
    const np = ps.filter((p) => p.lo >= range.lo && p.hi <= range.hi).reduce((w, p) => w + p.w, 0);
    expect(np).toBeGreaterThan(1096 * 0.25);
  });

  it('gives the kubelet ports (10248, 10250, 10255) pixels of their own', () => {
    const ps = panels({ lo: 30000, hi: 32767 }, 92, 1096, 10);
    expect(xMid(ps, 10250) - xMid(ps, 10248)).toBeGreaterThan(6);
    expect(xMid(ps, 10255) - xMid(ps, 10250)).toBeGreaterThan(15);
  });
});

describe('markers', () => {
  const result = fixture();
  const ms = marks(result, 'shared-cluster', RULE_CATALOG);
  const at = (lane: string, port: number) => ms.find((m) => m.lane === lane && m.port === port);

  it('has one marker per lane and port in use, sorted by port', () => {
    const distinct = new Set(result.portUses!.map((u) => `${u.type}:${u.port}`));
    expect(ms).toHaveLength(distinct.size);
    expect(ms.map((m) => m.port)).toEqual([...ms.map((m) => m.port)].sort((a, b) => a - b));
  });

  it.each([
    { name: 'two findings at the same path', lane: 'hostPort', port: 10250, worst: 'deny', findings: 2 },
    { name: 'a warn and a deny', lane: 'hostPort', port: 9962, worst: 'deny', findings: 2 },
    { name: "a finding at spec.type goes to the object's nodePorts", lane: 'nodePort', port: 30500, worst: 'audit', findings: 1 },
    { name: 'a hostPort in the NodePort range', lane: 'hostPort', port: 31500, worst: 'deny', findings: 1 },
    { name: 'an exempt kube-system port', lane: 'hostPort', port: 10249, worst: null, findings: 0 },
    { name: 'a port in use without finding', lane: 'nodePort', port: 31001, worst: null, findings: 0 },
  ])('$name', ({ lane, port, worst, findings }) => {
    const m = at(lane, port);
    expect(m).toBeDefined();
    expect(m!.worst).toBe(worst);
    expect(m!.uses.reduce((n, u) => n + u.findings.length, 0)).toBe(findings);
  });

  it('keeps only the findings of the policy drawn', () => {
    expect(marks(result, 'another-policy', RULE_CATALOG).every((m) => m.worst === null)).toBe(true);
  });

  it('draws violations even when the scan kept no portUses', () => {
    const bare = marks({ ...result, portUses: undefined }, 'shared-cluster', RULE_CATALOG);
    const ports = result.findings.filter((f) => f.rule.startsWith('hostport') || f.rule.startsWith('nodeport')).filter((f) => f.value !== null);
    expect(new Set(bare.map((m) => `${m.lane}:${m.port}`))).toEqual(
      new Set(ports.map((f) => `${f.rule.startsWith('host') ? 'hostPort' : 'nodePort'}:${f.value}`)),
    );
    expect(bare.every((m) => m.worst !== null && m.uses.every((u) => u.protocol === null))).toBe(true);
  });
});

describe('writeHtml on a shared-cluster fixture', () => {
  const result = fixture();
  const html = writeHtml(result, { rules: RULE_CATALOG });
  const policy = result.policies[0];

  it('is one self-contained document: inline style and script, nothing fetched', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(count(html, /<script\b/g)).toBe(1);
    expect(count(html, /<style\b/g)).toBe(1);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/\s(src|href|xlink:href)="(?!#)/);
    expect(html).not.toMatch(/url\((?!#)/);
    expect(html).not.toMatch(/@import|@font-face/);
    expect(html).toContain(`content="default-src 'none';`);
  });

  it('summarises resources, findings by action and rule, and tenants', () => {
    const s = section(html, 'summary');
    expect(s).toMatch(/data-k="resources"><span class="n">17</);
    expect(s).toMatch(/data-k="deny"><span class="n">8</);
    expect(s).toMatch(/data-k="warn"><span class="n">2</);
    expect(s).toMatch(/data-k="audit"><span class="n">1</);
    expect(s).toContain(
      '<th scope="row"><code>hostport-reserved</code></th><td class="num">3</td><td class="num">0</td><td class="num">0</td><td class="num">3</td>',
    );
    expect(s).toContain('<th scope="row">team-a</th><td>31000-31099</td><td><code>team-a</code>, <code>team-a-batch</code></td><td class="num">7</td>');
  });

  it('draws every catalog entry and tenant slice as a band', () => {
    const overview = html.slice(html.indexOf('id="p0-overview"'), html.indexOf('id="p0-nodeports"'));
    const reserved = tags(overview, 'g', 'b-res').map((t) => attr(t, 'data-name'));
    expect(new Set(reserved)).toEqual(new Set(policy.reservedPorts.filter((e) => e.name !== 'nodeport-range').map((e) => e.name)));
    expect(tags(overview, 'g', 'b-np')).toHaveLength(1);
    expect(tags(overview, 'g', 'b-ten').map((t) => attr(t, 'data-tenant'))).toEqual(['team-a', 'team-b']);
  });

  it('marks every port in use, violations with their action (shape and colour)', () => {
    const overview = tags(html, 'g', 'mk').filter((t) => attr(t, 'data-view') === 'overview');
    expect(overview).toHaveLength(marks(result, policy.name, RULE_CATALOG).length);
    const violating = overview.filter((t) => attr(t, 'data-act') !== 'ok').map((t) => `${attr(t, 'data-lane')}:${attr(t, 'data-port')}:${attr(t, 'data-act')}`);
    expect(violating.sort()).toEqual(
      ['hostPort:10250:deny', 'hostPort:31500:deny', 'hostPort:9962:deny', 'nodePort:30500:audit', 'nodePort:31150:deny', 'nodePort:8443:deny'].sort(),
    );
    expect(overview.every((t) => attr(t, 'tabindex') === '0' && attr(t, 'role') === 'img')).toBe(true);
    // The shape differs by action: a violation is never told by colour alone.
    expect(html).toMatch(/data-port="31150" data-uses="1" data-act="deny" transform="[^"]*"><title>[^<]*<\/title><path d="M0,-7L6.5,5H-6.5Z"\/>/);
    expect(html).toMatch(/data-port="30500" data-uses="1" data-act="audit" transform="[^"]*"><title>[^<]*<\/title><path d="M-5.5/);
    expect(html).toMatch(/data-port="31001" data-uses="1" data-act="ok" transform="[^"]*"><title>[^<]*<\/title><circle/);
  });

  it("names the objects, fields and findings in each marker's title", () => {
    const title = /data-port="31150"[^>]*><title>([^<]*)<\/title>/.exec(html)![1];
    expect(title).toBe(
      'nodePort 31150/TCP: 1 object, 1 finding (worst: deny)\n' +
        '• Service team-a/stray, field spec.ports[0].nodePort: DENY nodeport-range: nodePort 31150 lies outside tenant team-a&#39;s slice 31000-31099; pick a port in 31000-31099 or leave nodePort unset',
    );
  });

  it('zooms into the NodePort range, and into the slices when they are a small part of it', () => {
    expect(html).toContain('id="p0-nodeports"');
    // team-a and team-b span 31000-31199: 200 of 2768 ports.
    expect(html).toContain('id="p0-slices"');
    const slices = html.slice(html.indexOf('id="p0-slices"'));
    expect(slices).toContain('<text class="slice"');
    expect(slices).toContain('>team-a 31000-31099</text>');
  });

  it("marks the API server's static band (KEP-3668) where slices avoid its allocations", () => {
    const lane = html.slice(html.indexOf('id="p0-nodeports"'), html.indexOf('</svg>', html.indexOf('id="p0-nodeports"')));
    const m = /<g class="static"><title>API server's static band 30000-30085: [^<]*<\/title><path d="M([\d.]+),\d+V\d+H([\d.]+)V/.exec(lane);
    expect(m).not.toBeNull();
    // 86 of 2768 ports over the 1096-pixel plot, from its left edge at 92.
    expect(Number(m![1])).toBeCloseTo(92, 0);
    expect(Number(m![2]) - Number(m![1])).toBeCloseTo((86 / 2768) * 1096, 0);
    expect(html).toContain("the API server's static band 30000-30085, which it allocates from last");
  });

  it('shows slice usage per tenant with the objects holding the ports', () => {
    const s = section(html, 'tenants');
    const row = (tenant: string) => s.slice(s.indexOf(`<tr data-tenant="${tenant}"`), s.indexOf('</tr>', s.indexOf(`<tr data-tenant="${tenant}"`)));
    expect(row('team-a')).toContain('data-used="2" data-free="98"');
    expect(row('team-a')).toMatch(/31150<\/span> Service team-a\/stray .*\(outside the slice\)/);
    expect(row('team-b')).toContain('data-used="3" data-free="97"');
    expect(row('team-b')).toMatch(/31150<\/span> Service team-a\/stray .*\(held by tenant team-a\).*deny nodeport-range/);
    expect(row('team-c')).toContain('NodePorts not allowed; hostPorts: none allowed');
    expect(row('(none)')).toContain('data-used="7" data-free="2761"');
  });

  it('shows each exposing network-policy rule with its peers and ports as written', () => {
    const s = section(html, 'exposures');
    expect(count(s, /<article class="exp"/g)).toBe(2);
    expect(s).toContain('<pre class="mono">to:\n  - ipBlock:\n      cidr: 10.0.0.0/8\n      except:\n        - 10.96.0.0/12</pre>');
    expect(s).toContain('<pre class="mono">ports:\n  - protocol: TCP\n    port: 10250</pre>');
    expect(s).toContain('<pre class="mono">toEntities:\n  - host</pre>');
    expect(count(s, /port <strong>1025[05]<\/strong>/g)).toBe(3);
  });

  it('says where to look when the scan kept no rule text', () => {
    const s = section(writeHtml({ ...result, exposures: undefined }, { rules: RULE_CATALOG }), 'exposures');
    expect(s).toContain("did not keep this rule's text; see <code>spec.egress[0]</code> in the object at examples/team-b.yaml:");
  });

  it('lists every finding in the table, in the scan order, with filter keys', () => {
    const s = section(html, 'findings');
    const rows = s.match(/<tr data-rule="[^"]*" data-action="[^"]*" data-ns="[^"]*" data-tenant="[^"]*">/g)!;
    expect(rows).toHaveLength(result.findings.length);
    expect(rows.map((r) => attr(r, 'data-rule'))).toEqual(result.findings.map((f) => f.rule));
    expect(rows.map((r) => attr(r, 'data-tenant'))).toEqual(result.findings.map((f) => f.tenant ?? '(none)'));
    const options = (key: string) =>
      [...new RegExp(`<select data-filter="${key}"[^>]*>(.*?)</select>`).exec(s)![1].matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
    expect(options('rule')).toEqual(['', ...new Set([...result.findings.map((f) => f.rule)].sort())]);
    expect(options('tenant')).toEqual(['', '(none)', 'team-a', 'team-b', 'team-c']);
    expect(s).toContain('Showing 11 of 11 findings');
  });

  it('lists input errors with file and line', () => {
    expect(section(html, 'errors')).toContain('examples/broken.yaml:3</span> invalid YAML: bad indentation');
  });
});

describe('several policies', () => {
  const a = fixturePolicy('shared-cluster');
  const b = fixturePolicy('strict');
  const base = fixture(a);
  // The strict policy finds one more thing: the exempt kube-proxy port.
  const extra: Finding = {
    ...base.findings[0],
    policy: 'strict',
    rule: 'hostport-reserved',
    action: 'deny',
    tenant: null,
    resource: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' },
    path: 'spec.template.spec.containers[0].ports[0].containerPort',
    value: 10249,
    message: 'hostPort 10249/TCP clashes with kube-proxy-metrics',
  };
  const html = writeHtml({ ...base, policies: [a, b], findings: [...base.findings, extra] }, { rules: RULE_CATALOG });

  it('draws one map per policy, each with its own findings', () => {
    expect(count(html, /<div class="policy-map"/g)).toBe(2);
    const map = (id: string) => html.slice(html.indexOf(`id="${id}-overview"`), html.indexOf('</svg>', html.indexOf(`id="${id}-overview"`)));
    expect(map('p0')).toMatch(/id="p0-hostPort-10249"[^>]*data-act="ok"/);
    expect(map('p1')).toMatch(/id="p1-hostPort-10249"[^>]*data-act="deny"/);
    expect(map('p1')).toMatch(/id="p1-hostPort-10250"[^>]*data-act="ok"/);
  });

  it('names the policy in the table and keeps ids unique', () => {
    expect(section(html, 'findings')).toContain('<th scope="col">Policy</th>');
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(50);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('an empty scan', () => {
  it('still renders every section, saying there is nothing to show', () => {
    const policy = fixturePolicy();
    const html = writeHtml(
      {
        policies: [policy],
        findings: [],
        errors: [],
        portUses: [],
        namespaces: [],
        exposures: [],
        summary: { resources: 0, skipped: 0, skippedKinds: {}, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } },
        generatedAt: new Date(0),
      },
      { rules: RULE_CATALOG },
    );
    expect(section(html, 'map')).toContain('0 ports in use on the nodes (0 hostPort, 0 nodePort), 0 with findings');
    expect(tags(html, 'g', 'mk')).toHaveLength(0);
    expect(tags(html, 'g', 'b-res').length).toBeGreaterThan(0);
    expect(section(html, 'tenants')).toContain('data-used="0" data-free="100"');
    expect(section(html, 'exposures')).toContain('No network policy opens a sensitive node port.');
    expect(section(html, 'findings')).toContain('No findings: every object checked keeps to the policy.');
    expect(html).not.toContain('id="errors"');
  });
});

describe('golden', () => {
  // The page for the fixture, byte for byte: `UPDATE_GOLDEN=1` rewrites it; review the diff
  // (test-artifacts/report-fixture.html from the browser test shows the same page).
  const golden = new URL('./golden/fixture.html', import.meta.url).pathname;
  it('renders the fixture exactly as the golden file', () => {
    const html = writeHtml(fixture(), { rules: RULE_CATALOG });
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, html);
    expect(html).toBe(readFileSync(golden, 'utf8'));
  });

  it('does not change its input', () => {
    const result = fixture();
    const before = JSON.stringify(result);
    writeHtml(result, { rules: RULE_CATALOG });
    expect(JSON.stringify(result)).toBe(before);
  });
});

describe('escaping', () => {
  const evil = (n: number) => `<b data-x="${n}">'&amp;`;
  it.each([
    { name: 'object name', edit: (r: ScanResult) => ({ ...r, findings: r.findings.map((f) => ({ ...f, resource: { ...f.resource, name: evil(1) } })) }) },
    {
      name: 'namespace and tenant',
      edit: (r: ScanResult) => ({ ...r, findings: r.findings.map((f) => ({ ...f, tenant: evil(2), resource: { ...f.resource, namespace: evil(3) } })) }),
    },
    {
      name: 'path, message and source file',
      edit: (r: ScanResult) => ({ ...r, findings: r.findings.map((f) => ({ ...f, path: evil(4), message: evil(5), source: { file: evil(6), line: 1 } })) }),
    },
    {
      name: 'port use object',
      edit: (r: ScanResult) => ({ ...r, portUses: r.portUses!.map((u) => ({ ...u, path: evil(7), resource: { ...u.resource, name: evil(8) } })) }),
    },
    { name: 'policy name', edit: () => fixture(fixturePolicy(evil(9))) },
    {
      name: 'rule excerpt',
      edit: (r: ScanResult) => ({ ...r, exposures: r.exposures!.map((e) => ({ ...e, rule: { to: [{ ipBlock: { cidr: evil(10) } }] } })) }),
    },
    { name: 'input error', edit: (r: ScanResult) => ({ ...r, errors: [{ file: evil(11), line: 2, message: evil(12) }] }) },
  ])('$name is text, never markup', ({ edit }) => {
    const html = writeHtml(edit(fixture()), { rules: RULE_CATALOG });
    expect(html).not.toContain('<b data-x');
    expect(html).toMatch(/&lt;b data-x=&quot;\d+&quot;&gt;&#39;&amp;amp;/);
  });

  it('the fixture object named like a script tag stays text', () => {
    const html = writeHtml(fixture(), { rules: RULE_CATALOG });
    expect(INJECTION).toContain('<script>');
    expect(html).not.toContain(INJECTION);
    expect(count(html, /<script\b/g)).toBe(1);
    expect(html).toContain('x&quot;&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;');
  });
});

describe('size', () => {
  it('stays compact for thousands of objects', () => {
    const base = fixture();
    const uses: PortUse[] = [];
    const findings: Finding[] = [];
    for (let i = 0; i < 5000; i++) {
      const resource = { apiVersion: 'v1', kind: 'Service', namespace: `ns-${i % 50}`, name: `svc-${i}` };
      uses.push({
        type: 'nodePort',
        port: 30000 + (i % 2768),
        protocol: 'TCP',
        resource,
        path: 'spec.ports[0].nodePort',
        source: { file: `m/${i}.yaml`, line: 1 },
      });
      if (i % 5 === 0) {
        findings.push({
          ...base.findings[0],
          rule: 'nodeport-range',
          resource,
          path: 'spec.ports[0].nodePort',
          value: 30000 + (i % 2768),
          source: { file: `m/${i}.yaml`, line: 1 },
        });
      }
    }
    const html = writeHtml({ ...base, portUses: uses, findings }, { rules: RULE_CATALOG });
    // Measured 3.1 MB (2,768 ports in use: 1.9 MB of map; 1,000 finding rows: 0.57 MB). Its
    // speed is a benchmark's business, not a timed assertion on a shared machine.
    expect(html.length).toBeLessThan(5_000_000);
  });
});

describe('rule excerpts for the exposures section', () => {
  const object: KubeObject = {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'p', namespace: 'n' },
    specs: [{ egress: [{ toEntities: ['world'] }, { toEntities: ['host'], toPorts: [{ ports: [{ port: '10250' }] }] }] }],
  };
  it.each([
    { name: 'list item in a list', path: 'specs[0].egress[1]', want: { toEntities: ['host'], toPorts: [{ ports: [{ port: '10250' }] }] } },
    { name: 'plain field', path: 'metadata.name', want: 'p' },
    { name: 'missing index', path: 'specs[0].egress[5]', want: undefined },
    { name: 'index on an object', path: 'metadata[0]', want: undefined },
    { name: 'inherited property', path: 'metadata.constructor', want: undefined },
  ])('valueAt: $name', ({ path, want }) => {
    expect(valueAt(object, path)).toEqual(want);
  });

  it('keeps one excerpt per rule path, a copy of the rule as written', () => {
    const f = fixture().findings.find((x) => x.rule === 'netpol-sensitive-exposure')!;
    const findings = [10250, 10255].map((value) => ({ ...f, path: 'specs[0].egress[1]', value }));
    const out = ruleExcerpts(object, [...findings, { ...f, rule: 'hostport-reserved' as const, path: 'specs[0].egress[0]' }]);
    expect(out).toEqual([{ resource: f.resource, path: 'specs[0].egress[1]', rule: { toEntities: ['host'], toPorts: [{ ports: [{ port: '10250' }] }] } }]);
    expect(out[0].rule).not.toBe((object.specs as { egress: unknown[] }[])[0].egress[1]);
  });
});
