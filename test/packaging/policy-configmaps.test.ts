// The policy each mode installs (the portcullis-policy ConfigMap) loads as the webhook and
// controller will load it, and says what the mode promises: audit never denies, enforce
// keeps the default actions. Both differ only in their actions.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { RULE_IDS } from '../../src/engine/rules/index.js';
import { formatPolicyError, loadPolicyPaths, type LoadedPolicies } from '../../src/sources/policy-files.js';
import { kustomize, one } from './kustomize.js';

type Obj = Record<string, any>;

/** Writes the ConfigMap's files to a directory, as the kubelet mounts it, and loads that. */
async function loadConfigMap(dir: string): Promise<{ loaded: LoadedPolicies; docs: Obj[] }> {
  const cm = one(await kustomize(dir), 'ConfigMap', 'portcullis-policy');
  const data = cm.data as Record<string, string>;
  const mount = await mkdtemp(path.join(tmpdir(), 'policy-mount-'));
  try {
    for (const [file, text] of Object.entries(data)) await writeFile(path.join(mount, file), text);
    return { loaded: await loadPolicyPaths([mount]), docs: Object.values(data).map((t) => parse(t) as Obj) };
  } finally {
    await rm(mount, { recursive: true });
  }
}

const MODES = ['audit', 'enforce', 'remediate'] as const;
const results = new Map<string, { loaded: LoadedPolicies; docs: Obj[] }>();
let shippedDefault: LoadedPolicies;
beforeAll(async () => {
  for (const mode of ['audit', 'enforce']) results.set(mode, await loadConfigMap(`manifests/overlays/${mode}/workload`));
  results.set('remediate', await loadConfigMap('manifests/overlays/remediate'));
  results.set('base', await loadConfigMap('manifests/base/workload'));
  shippedDefault = await loadPolicyPaths([]);
});

describe('policy ConfigMaps', () => {
  it.each(MODES)('%s: loads with no error or warning', (mode) => {
    const { loaded } = results.get(mode)!;
    expect([...loaded.errors, ...loaded.warnings].map(formatPolicyError)).toEqual([]);
    expect(loaded.policies.length).toBeGreaterThan(0);
  });

  it('audit: every rule at warn or audit, none at deny', () => {
    for (const policy of results.get('audit')!.loaded.policies) {
      for (const id of RULE_IDS) expect({ rule: id, action: ['warn', 'audit'].includes(policy.rules[id]) }).toEqual({ rule: id, action: true });
    }
  });

  it('enforce: the default actions of the shipped default policy', () => {
    expect(shippedDefault.policies).toHaveLength(1);
    for (const policy of results.get('enforce')!.loaded.policies) expect(policy.rules).toEqual(shippedDefault.policies[0].rules);
    expect(Object.values(shippedDefault.policies[0].rules)).toContain('deny');
  });

  it('audit and enforce differ only in their rule actions', () => {
    const withoutRules = (docs: Obj[]) => docs.map((d) => ({ ...d, spec: { ...d.spec, rules: undefined } }));
    expect(withoutRules(results.get('audit')!.docs)).toEqual(withoutRules(results.get('enforce')!.docs));
  });

  it('remediate: the enforce policy with remediations switched on, and nothing else changed', () => {
    const withoutRemediation = (docs: Obj[]) => docs.map((d) => ({ ...d, spec: { ...d.spec, remediation: undefined } }));
    expect(withoutRemediation(results.get('remediate')!.docs)).toEqual(withoutRemediation(results.get('enforce')!.docs));
    const [policy] = results.get('remediate')!.loaded.policies;
    expect(Object.values(policy.remediation)).toContain(true);
    for (const p of results.get('enforce')!.loaded.policies) expect(Object.values(p.remediation)).not.toContain(true);
  });

  it('the base (everything at once, for upgrades and GitOps) installs the enforce policy', () => {
    expect(results.get('base')!.docs).toEqual(results.get('enforce')!.docs);
  });

  it('both keep the shipped catalog, whose owners replace the kube-system exemption: none is restated, none is warned about', () => {
    for (const mode of MODES) {
      const { loaded } = results.get(mode)!;
      const catalog = (p: LoadedPolicies['policies'][number]) => ({
        profiles: p.spec.profiles,
        entries: p.reservedPorts.map(({ owners, ...e }) => ({ ...e, owners: owners.length })),
      });
      expect(loaded.policies.map(catalog)).toEqual([catalog(shippedDefault.policies[0])]);
      expect({ exemptions: loaded.policies.map((p) => p.exemptions.length), warnings: loaded.warnings }).toEqual({ exemptions: [0], warnings: [] });
    }
  });
});
