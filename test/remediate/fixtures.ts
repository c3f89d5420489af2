// Shared by the remediation tests: policies compiled by the real loader, objects as the API
// server sends them, and a NodePort allocator test double.
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { loadPolicy } from '../../src/engine/policy/load.js';
import type { CompiledPolicy, PortPolicySpec } from '../../src/engine/policy/model.js';
import type { NodePortAllocator } from '../../src/engine/remediate.js';
import type { KubeObject } from '../../src/engine/types.js';

const defaults = (load(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8')) as { spec: PortPolicySpec }).spec;

export function policy(spec: PortPolicySpec, name = 'p'): CompiledPolicy {
  const r = loadPolicy({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortPolicy', metadata: { name }, spec }, defaults);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

export function networkPolicy(spec: Record<string, unknown>, name = 'np', namespace = 'team-a'): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec: { podSelector: {}, ...spec } };
}

export function service(spec: Record<string, unknown>, name = 'web', namespace = 'team-a'): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { app: name }, ...spec } };
}

/** Hands out the lowest free ports and reserves them, like the real allocator minus the randomness. */
export class LowestFreeAllocator implements NodePortAllocator {
  readonly calls: { slice: { lo: number; hi: number }; count: number; exclude: number[] }[] = [];
  constructor(readonly inUse: Set<number> = new Set()) {}
  allocate(slice: { lo: number; hi: number }, count: number, exclude: ReadonlySet<number> = new Set()): number[] | null {
    this.calls.push({ slice, count, exclude: [...exclude].sort((a, b) => a - b) });
    const free: number[] = [];
    for (let p = slice.lo; p <= slice.hi && free.length < count; p++) if (!this.inUse.has(p) && !exclude.has(p)) free.push(p);
    if (free.length < count) return null;
    free.forEach((p) => this.inUse.add(p));
    return free;
  }
}
