import type { Finding } from '../../src/engine/types.js';
import { RULES } from '../../src/engine/rules/index.js';
import { FORMATS } from '../../src/sinks/reports/index.js';
import { writeSarif } from '../../src/sinks/reports/sarif.js';
import { BUILD_INFO } from '../../src/build-info.js';
import { RULE_DOCS_URL } from '../../src/engine/rules/index.js';
import { STDIN_NAME } from '../../src/sources/manifests.js';
import { FINDINGS, FIXTURE_RULES, FIXTURE_TOOL, fixtureScan, WRITER_OPTIONS } from './fixture.js';
import { readGolden } from './golden.js';
import { checkSarif } from './schemas.js';

const sarif = (findings: Finding[] = FINDINGS) => JSON.parse(writeSarif({ ...fixtureScan(), findings }, FIXTURE_RULES, FIXTURE_TOOL));

describe('sarif writer', () => {
  it('the golden file is valid SARIF 2.1.0', () => {
    expect(checkSarif(JSON.parse(readGolden('scan.sarif')))).toEqual([true, []]);
  });

  it('the registry writer, with the real rule registry, is valid SARIF 2.1.0 and lists every rule with help', () => {
    const log = JSON.parse(FORMATS.sarif.write(fixtureScan(), WRITER_OPTIONS));
    expect(checkSarif(log)).toEqual([true, []]);
    const rules = log.runs[0].tool.driver.rules;
    expect(rules.map((r: { id: string }) => r.id)).toEqual(RULES.map((r) => r.id));
    for (const r of rules) {
      expect(r.shortDescription.text.length).toBeGreaterThan(0);
      expect(r.help.text.length).toBeGreaterThan(0);
    }
  });

  it('the driver names its version, semantic version and site; the registry writer uses the package version', () => {
    const { rules: _fixture, ...driver } = sarif().runs[0].tool.driver;
    const { rules: _real, ...shipped } = JSON.parse(FORMATS.sarif.write(fixtureScan(), WRITER_OPTIONS)).runs[0].tool.driver;
    expect({ driver, shipped }).toEqual({
      driver: { name: 'portcullis', version: '1.2.3', semanticVersion: '1.2.3', informationUri: new URL('/', RULE_DOCS_URL).href },
      shipped: { name: 'portcullis', version: BUILD_INFO.version, semanticVersion: BUILD_INFO.version, informationUri: new URL('/', RULE_DOCS_URL).href },
    });
  });

  it('validation can fail: a result without a message is rejected', () => {
    const log = sarif();
    delete log.runs[0].results[0].message;
    expect(checkSarif(log)[0]).toBe(false);
  });

  it.each([
    { name: 'deny is error', action: 'deny', level: 'error' },
    { name: 'warn is warning', action: 'warn', level: 'warning' },
    { name: 'audit is note', action: 'audit', level: 'note' },
  ] as const)('$name', ({ action, level }) => {
    const f = { ...FINDINGS[0], action };
    expect(sarif([f]).runs[0].results[0].level).toBe(level);
  });

  it.each([
    { name: 'deny rule defaults to error', id: 'nodeport-range', level: 'error' },
    { name: 'warn rule defaults to warning', id: 'netpol-sensitive-exposure', level: 'warning' },
  ])('$name', ({ id, level }) => {
    const rules = sarif().runs[0].tool.driver.rules;
    expect(rules.find((r: { id: string }) => r.id === id).defaultConfiguration.level).toBe(level);
  });

  it('a result names its rule by id and index, its file relative to the checkout and its line', () => {
    const withSource = FINDINGS.find((f) => f.source !== null && f.rule === 'hostport-reserved')!;
    const result = sarif([withSource]).runs[0].results[0];
    expect(result).toMatchObject({
      ruleId: 'hostport-reserved',
      ruleIndex: 2,
      locations: [{ physicalLocation: { artifactLocation: { uri: 'examples/team-a/web.yaml', uriBaseId: '%SRCROOT%' }, region: { startLine: 20 } } }],
    });
  });

  it.each([
    { name: 'leading ./ is dropped', file: './manifests/a b.yaml', location: { uri: 'manifests/a%20b.yaml', uriBaseId: '%SRCROOT%' } },
    { name: 'Windows separators become slashes', file: 'manifests\\svc.yaml', location: { uri: 'manifests/svc.yaml', uriBaseId: '%SRCROOT%' } },
    { name: 'absolute paths become file URIs', file: '/srv/repo/svc.yaml', location: { uri: 'file:///srv/repo/svc.yaml' } },
    { name: 'stdin is the relative URI stdin, not %3Cstdin%3E', file: STDIN_NAME, location: { uri: 'stdin', uriBaseId: '%SRCROOT%' } },
  ])('$name', ({ file, location }) => {
    const f = { ...FINDINGS[0], source: { file, line: 4 } };
    const log = sarif([f]);
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation).toEqual(location);
    expect(checkSarif(log)).toEqual([true, []]);
  });

  it('a finding without a source has only a logical location', () => {
    const noSource = FINDINGS.find((f) => f.source === null)!;
    const result = sarif([noSource]).runs[0].results[0];
    expect(result.locations).toEqual([
      { logicalLocations: [{ fullyQualifiedName: 'Pod default/debug spec.containers[0].ports[0].hostPort', kind: 'resource' }] },
    ]);
  });

  describe('partialFingerprints', () => {
    const f = FINDINGS.find((x) => x.rule === 'nodeport-range')!;
    const print = (x: Finding) => sarif([x]).runs[0].results[0].partialFingerprints['portcullisFinding/v1'];
    it.each<{ name: string; other: Finding; same: boolean }>([
      { name: 'same finding on another line keeps its fingerprint', other: { ...f, source: { file: f.source!.file, line: 99 } }, same: true },
      { name: 'same key at another list index keeps its fingerprint', other: { ...f, path: 'spec.ports[3].nodePort' }, same: true },
      { name: 'a new message keeps its fingerprint', other: { ...f, message: 'reworded' }, same: true },
      { name: 'another key changes it', other: { ...f, key: `${f.key}-other` }, same: false },
      { name: 'another policy changes it', other: { ...f, policy: 'strict' }, same: false },
      { name: 'another object changes it', other: { ...f, resource: { ...f.resource, name: 'web2' } }, same: false },
    ])('$name', ({ other, same }) => {
      expect(print(other) === print(f)).toBe(same);
    });
  });

  it('input errors are tool execution notifications with their location', () => {
    const inv = sarif().runs[0].invocations[0];
    expect(inv.toolExecutionNotifications[0]).toEqual({
      level: 'error',
      message: { text: 'invalid YAML: unexpected "<" & missing ":" after key' },
      locations: [{ physicalLocation: { artifactLocation: { uri: 'examples/broken.yaml', uriBaseId: '%SRCROOT%' }, region: { startLine: 7 } } }],
    });
  });
});
