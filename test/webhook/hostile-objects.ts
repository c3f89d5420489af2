// Objects a hostile or careless tenant can send, all within what the API server accepts
// (3 MiB request bodies, 1.5 MiB in etcd) unless a test says otherwise. Each says what it models.
import type { Obj } from './reviews.js';

/**
 * A Pod with `count` containers, each on the same host port: the same finding repeated on
 * every container. 100,000 containers make a 5.8 MB body: past the API server's 3 MiB, so only
 * a direct caller (anyone who can reach port 8443) sends it, and leaves out what the API server
 * would require (an image) to fit more containers under the webhook's 7 MiB body limit.
 */
export function manyContainerPod(count: number, opts: { hostPort?: number; namespace?: string; name?: string } = {}): Obj {
  const containers = new Array(count);
  for (let i = 0; i < count; i++) containers[i] = { name: `c${i}`, ports: [{ containerPort: 1, hostPort: opts.hostPort ?? 10250 }] };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: opts.name ?? 'many', namespace: opts.namespace ?? 'team-a' },
    spec: { containers },
  };
}

/** A small deterministic generator (mulberry32), so a failing case can be rebuilt from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ipv4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/**
 * A NetworkPolicy letting every pod of the namespace reach the kubelet port on 0.0.0.0/0 with
 * `excepts` scattered /32 holes (none covering a node): denied by netpol-sensitive-exposure.
 * Scattered addresses are the costly case for interval arithmetic (nothing merges); 32,000
 * of them are about 550 KB of JSON, well inside the API server's limits.
 */
export function scatteredExceptPolicy(excepts: number, opts: { seed?: number; name?: string; namespace?: string } = {}): Obj {
  const random = seeded(opts.seed ?? 1);
  const except = new Array<string>(excepts);
  // 11.0.0.0 upwards: away from the 10/8, 172.16/12 and 192.168/16 node ranges.
  for (let i = 0; i < excepts; i++) except[i] = `${ipv4(0x0b000000 + Math.floor(random() * 0xb0000000))}/32`;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: opts.name ?? 'scattered-excepts', namespace: opts.namespace ?? 'team-a' },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except } }], ports: [{ protocol: 'TCP', port: 10250 }] }],
    },
  };
}

/**
 * `rules` egress rules, each opening the kubelet port to 0.0.0.0/0 with the same short
 * except list: the same finding repeated on every rule.
 */
export function repeatedRulePolicy(rules: number, opts: { name?: string; namespace?: string } = {}): Obj {
  const egress = new Array(rules);
  for (let i = 0; i < rules; i++)
    egress[i] = { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }], ports: [{ protocol: 'TCP', port: 10250 }] };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: opts.name ?? 'repeated-rules', namespace: opts.namespace ?? 'team-a' },
    spec: { podSelector: {}, policyTypes: ['Egress'], egress },
  };
}
