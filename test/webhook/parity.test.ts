// The webhook and `portcullis scan` must not drift apart: every object of examples/manifests
// goes through the scan (manifest source, JSON report) and through /validate (admission
// source, AdmissionReview answer), and both must report the same findings for it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ClusterView } from '../../src/cluster/view.js';
import { runScan } from '../../src/cmd/scan.js';
import type { Labels } from '../../src/engine/types.js';
import { startHarness } from './harness.js';
import { admissionReview, type Obj } from './reviews.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MANIFESTS = path.join(ROOT, 'examples/manifests');
const POLICIES = path.join(ROOT, 'examples/policies');
const CLUSTER_SCOPED = new Set(['Namespace', 'CiliumClusterwideNetworkPolicy', 'Node']);

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await yamlFiles(full)));
    else if (/\.(ya?ml|json)$/.test(e.name)) out.push(full);
  }
  return out;
}

const id = (kind: string, namespace: string | null, name: string) => `${kind} ${namespace ?? '-'}/${name}`;

/** What a finding is, in the detail both doors give: warnings may drop the path to stay short. */
const keyOf = (f: { action: string; rule: string; path: string; value: number | null }) =>
  f.action === 'warn' ? `warn ${f.rule}` : `${f.action} ${f.rule} ${f.path} ${f.value}`;

/** The findings an AdmissionReview answer states: denial lines, warnings, audit annotations. */
function answered(response: Obj): string[] {
  const keys: string[] = [];
  for (const line of response.status?.message?.split('\n').slice(1) ?? []) {
    const m = /^- (\S+) \(policy \S+\) at (\S+?)(?: = (\d+))?: /.exec(line);
    if (!m) throw new Error(`unreadable denial line: ${line}`);
    keys.push(keyOf({ action: 'deny', rule: m[1], path: m[2], value: m[3] === undefined ? null : Number(m[3]) }));
  }
  for (const w of response.warnings ?? []) keys.push(`warn ${/^[a-z-]+/.exec(w)![0]}`);
  for (const [rule, value] of Object.entries(response.auditAnnotations ?? {})) {
    for (const f of JSON.parse(value as string)) keys.push(keyOf({ action: 'audit', rule, path: f.path, value: f.value }));
  }
  return keys.sort();
}

it('reports the same findings for examples/manifests as portcullis scan', async () => {
  const objects: Obj[] = [];
  for (const file of await yamlFiles(MANIFESTS)) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      const o = doc.toJS() as Obj | null;
      // A kustomization.yaml has apiVersion and kind but is no object the API server stores.
      if (o && typeof o.apiVersion === 'string' && typeof o.kind === 'string' && o.metadata) objects.push(o);
    }
  }
  const labels = new Map<string, Labels>(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels ?? {}]));

  let report = '';
  const status = await runScan(
    [MANIFESTS],
    { policy: [POLICIES], format: 'json', failOn: 'never' },
    {
      stdout: { write: (s: string) => (report += s) },
      stderr: { write: () => true },
      stdoutColor: false,
      now: () => new Date('2026-11-25T00:00:00Z'),
    },
  );
  expect(status).toBe(0);
  const scanned = new Map<string, string[]>();
  const plannedOnly: string[] = [];
  for (const f of JSON.parse(report).findings) {
    const k = id(f.resource.kind, f.resource.namespace, f.resource.name);
    // The scan judges a manifest's omitted node port as the API server will allocate it;
    // /validate judges what it receives (the allocation happens after admission).
    if (f.rule === 'nodeport-range' && f.value === null) {
      plannedOnly.push(`${k} ${f.path}`);
      continue;
    }
    scanned.set(k, [...(scanned.get(k) ?? []), keyOf(f)].sort());
  }

  // The cluster the manifests describe: its Namespace objects give the labels.
  const view: ClusterView = {
    synced: () => true,
    policies: () => null,
    namespaceLabels: async (ns) => labels.get(ns),
    nodeAddresses: () => [],
    nodePortsInUse: () => new Set(),
    stop: async () => {},
  };
  const h = await startHarness({ view, config: { policyPaths: [POLICIES] } });
  try {
    const webhook = new Map<string, string[]>();
    for (const o of objects) {
      const object = structuredClone(o);
      const namespaced = !CLUSTER_SCOPED.has(object.kind);
      if (namespaced) object.metadata.namespace ??= 'default';
      const res = await h.post('/validate', admissionReview({ object }));
      expect(res.status).toBe(200);
      const keys = answered(res.json.response);
      if (keys.length) webhook.set(id(object.kind, namespaced ? object.metadata.namespace : null, object.metadata.name), keys);
    }
    expect(webhook.size).toBeGreaterThan(3);
    expect(plannedOnly).toEqual(['Service games/game-lb spec.ports[0].nodePort']);
    expect(Object.fromEntries(webhook)).toEqual(Object.fromEntries(scanned));
  } finally {
    await h.close();
  }
});
