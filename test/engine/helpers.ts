// Test helpers: the shipped default policy, policies built on it, resources from plain objects.
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { evaluate } from '../../src/engine/evaluate.js';
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { CompiledPolicy, PortPolicySpec } from '../../src/engine/policy/model.js';
import type { ClusterFacts, KubeObject, Labels, Resource } from '../../src/engine/types.js';

export const defaultSpec = (load(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8')) as { spec: PortPolicySpec }).spec;

export function policy(spec: PortPolicySpec = {}, name = 'p'): CompiledPolicy {
  const r = loadPolicy({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name }, spec }, defaultSpec);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

export const defaultPolicy = (): CompiledPolicy => policy(defaultSpec, 'default');

export function resource(object: Record<string, unknown>, namespace: string | null = 'default'): Resource {
  const o = object as unknown as KubeObject;
  return { object: { ...o, metadata: { name: 'x', ...(o.metadata ?? {}) } }, namespace, source: { file: 'm.yaml', line: 1 } };
}

export function cluster(labels: Record<string, Labels> = {}, nodeAddresses: string[] = []): ClusterFacts {
  return { namespaceLabels: (ns) => labels[ns], nodeAddresses };
}

export const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec,
  ...extra,
});

export const container = (name: string, ports: Record<string, unknown>[]) => ({ name, image: 'img', ports });

/** The findings of one rule as [path, value] pairs, in the engine's order. */
export function hits(
  rule: string,
  object: Record<string, unknown>,
  opts: { policy?: CompiledPolicy; namespace?: string | null; cluster?: ClusterFacts } = {},
): [string, number | null][] {
  const e = evaluate(resource(object, opts.namespace === undefined ? 'default' : opts.namespace), [opts.policy ?? defaultPolicy()], opts.cluster ?? cluster());
  return e.findings.filter((f) => f.rule === rule).map((f) => [f.path, f.value]);
}
