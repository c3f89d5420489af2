// Loading a PortPolicy: schema check, defaulting from the shipped default, semantic checks,
// compilation. Every problem is returned with its field path; nothing throws for bad input.
import { Ajv, type ErrorObject } from 'ajv';
import { compileGlobs, compileSelector } from '../match.js';
import { compileImagePattern } from './images.js';
import { compileOwner } from './owners.js';
import { BASE_PROFILE, PROFILES } from './profiles.js';
import { parseBlock, type Block } from '../net/cidr.js';
import { formatRange, parsePortRange, rangeContains, rangesOverlap, type PortRange } from '../ports.js';
import { RULE_IDS, RULES } from '../rules/index.js';
import type { RuleAction, RuleId } from '../types.js';
import type { CompiledPolicy, Exemption, ExemptionSpec, Requester, PolicyProblem, PortEntry, PortEntrySpec, PortPolicySpec, Tenant } from './model.js';
import { PORT_POLICY_SCHEMA } from './schema.js';

// Compiled at start-up by every CLI run and server: checking the schema against the
// meta-schema and optimising the generated code took half of the 50 ms it costs, for a schema
// that is ours and does not change (a test checks it against the meta-schema instead).
const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, code: { optimize: false } });
const validateDocument = ajv.compile(PORT_POLICY_SCHEMA);

export type LoadResult = { ok: true; policy: CompiledPolicy; warnings: PolicyProblem[] } | { ok: false; problems: PolicyProblem[] };

/** `/spec/tenants/0/name` → `spec.tenants[0].name` */
export function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function schemaProblem(e: ErrorObject): PolicyProblem {
  const base = pointerToPath(e.instancePath);
  const join = (child: string) => (base ? `${base}.${child}` : child);
  if (e.keyword === 'additionalProperties') {
    const extra = String(e.params.additionalProperty);
    return { path: join(extra), message: `unknown field "${extra}"` };
  }
  if (e.keyword === 'required') {
    const missing = String(e.params.missingProperty);
    return { path: join(missing), message: 'is required' };
  }
  if (e.keyword === 'enum') {
    return { path: base, message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
  }
  if (e.keyword === 'const') return { path: base, message: `must be ${JSON.stringify(e.params.allowedValue)}` };
  if (e.keyword === 'pattern') return { path: base, message: 'must be a port "n" or a range "lo-hi"' };
  return { path: base, message: e.message ?? 'is invalid' };
}

/**
 * Fields a policy omits take the shipped default's values. The reserved catalog is one choice:
 * a policy that writes `profiles` or `reservedPorts` makes its own (reservedPorts alone is the
 * whole catalog, as before profiles existed), one that writes neither takes the default's.
 */
function effectiveSpec(spec: PortPolicySpec, defaults: PortPolicySpec): PortPolicySpec {
  const ownCatalog = spec.profiles !== undefined || spec.reservedPorts !== undefined;
  const profiles = ownCatalog ? spec.profiles : defaults.profiles;
  return {
    ...(profiles !== undefined ? { profiles: [...new Set([BASE_PROFILE, ...profiles])] } : {}),
    nodePortRange: spec.nodePortRange ?? defaults.nodePortRange ?? '30000-32767',
    reservedPorts: (ownCatalog ? spec.reservedPorts : defaults.reservedPorts) ?? [],
    sensitivePorts: spec.sensitivePorts ?? defaults.sensitivePorts ?? [],
    nodeCIDRs: spec.nodeCIDRs ?? [],
    allowedExternalIPs: spec.allowedExternalIPs ?? [],
    rules: { ...defaults.rules, ...spec.rules },
    remediation: spec.remediation ?? {},
    // Tenants and exemptions are never inherited: they belong to the policy that names them.
    tenants: spec.tenants ?? [],
    exemptions: spec.exemptions ?? [],
  };
}

function blocks(cidrs: readonly string[], path: string, problems: PolicyProblem[]): Block[] {
  const out: Block[] = [];
  cidrs.forEach((c, i) => {
    const b = parseBlock(c);
    if (typeof b === 'string') problems.push({ path: `${path}[${i}]`, message: b });
    else out.push(b);
  });
  return out;
}

function range(text: string, path: string, problems: PolicyProblem[]): PortRange | null {
  const r = parsePortRange(text);
  if (typeof r === 'string') {
    problems.push({ path, message: r });
    return null;
  }
  return r;
}

function entries(specs: PortEntrySpec[], path: string, problems: PolicyProblem[]): PortEntry[] {
  const out: PortEntry[] = [];
  specs.forEach((e, i) => {
    const entry = compileEntry(e, `${path}[${i}]`, problems);
    if (entry) out.push(entry);
  });
  return out;
}

function compileEntry(e: PortEntrySpec, at: string, problems: PolicyProblem[]): PortEntry | null {
  if (e.ports === undefined) {
    problems.push({ path: `${at}.ports`, message: 'is required' });
    return null;
  }
  const r = range(e.ports, `${at}.ports`, problems);
  if (!r) return null;
  return {
    name: e.name,
    range: r,
    protocol: e.protocol ?? 'TCP',
    component: e.component ?? e.name,
    source: e.source,
    owners: (e.owners ?? []).map(compileOwner),
  };
}

/**
 * The reserved catalog. Without profiles, reservedPorts is the whole catalog. With them, the
 * profiles' entries in catalog order, then reservedPorts by name: an entry of a known name
 * overrides the fields it writes, `disabled: true` drops it, any other name adds an entry.
 */
function catalog(spec: PortPolicySpec, problems: PolicyProblem[]): PortEntry[] {
  const written = spec.reservedPorts ?? [];
  if (spec.profiles === undefined) {
    written.forEach((e, i) => {
      if (e.disabled) {
        problems.push({
          path: `spec.reservedPorts[${i}].disabled`,
          message:
            'switches off an entry of the profiles, and this policy lists no profiles (its reservedPorts are the whole catalog): remove the entry instead',
        });
      } else if (e.component === undefined) problems.push({ path: `spec.reservedPorts[${i}].component`, message: 'is required' });
    });
    return entries(
      written.filter((e) => !e.disabled),
      'spec.reservedPorts',
      problems,
    );
  }
  const chosen = new Map<string, { spec: PortEntrySpec; at: string }>();
  for (const profile of PROFILES) {
    if (!spec.profiles.includes(profile.name)) continue;
    for (const e of profile.entries) chosen.set(e.name, { spec: e, at: `profile ${profile.name}, entry ${e.name}` });
  }
  written.forEach((e, i) => {
    const at = `spec.reservedPorts[${i}]`;
    const base = chosen.get(e.name);
    if (e.disabled) {
      if (base) chosen.delete(e.name);
      else problems.push({ path: `${at}.name`, message: `no entry "${e.name}" in the profiles ${spec.profiles!.join(', ')} to switch off` });
      return;
    }
    if (!base && e.component === undefined) problems.push({ path: `${at}.component`, message: 'is required for an entry that overrides no catalog entry' });
    chosen.set(e.name, { spec: base ? { ...base.spec, ...e } : e, at });
  });
  const out: PortEntry[] = [];
  for (const { spec: e, at } of chosen.values()) {
    const entry = compileEntry(e, at, problems);
    if (entry) out.push(entry);
  }
  return out;
}

// KEP-3668 (GA in Kubernetes 1.29): the API server allocates NodePorts from the upper
// "dynamic" band first; the static band is min(max(16, size/32), 128) ports at the bottom.
export function dynamicBand(r: PortRange): PortRange {
  const size = r.hi - r.lo + 1;
  const staticSize = Math.min(Math.max(16, Math.floor(size / 32)), 128);
  return { lo: Math.min(r.lo + staticSize, r.hi), hi: r.hi };
}

function compileTenants(spec: PortPolicySpec, nodePortRange: PortRange, problems: PolicyProblem[], warnings: PolicyProblem[]): Tenant[] {
  const tenants: Tenant[] = [];
  const slices: { range: PortRange; index: number }[] = [];
  const namespaceOwner = new Map<string, number>();
  const names = new Map<string, number>();
  (spec.tenants ?? []).forEach((t, i) => {
    const at = `spec.tenants[${i}]`;
    if (names.has(t.name)) problems.push({ path: `${at}.name`, message: `tenant "${t.name}" is also defined at spec.tenants[${names.get(t.name)}]` });
    names.set(t.name, i);
    if (!t.namespaces?.length && !t.namespaceSelector) {
      problems.push({ path: at, message: 'a tenant needs namespaces, a namespaceSelector, or both' });
    }
    (t.namespaces ?? []).forEach((ns, j) => {
      if (/[*?]/.test(ns)) return;
      const owner = namespaceOwner.get(ns);
      if (owner !== undefined && owner !== i) {
        problems.push({ path: `${at}.namespaces[${j}]`, message: `namespace "${ns}" is already listed by tenant "${spec.tenants![owner].name}"` });
      }
      namespaceOwner.set(ns, i);
    });
    let slice: PortRange | null = null;
    if (t.nodePortRange !== undefined) {
      slice = range(t.nodePortRange, `${at}.nodePortRange`, problems);
      if (slice && !rangeContains(nodePortRange, slice)) {
        problems.push({
          path: `${at}.nodePortRange`,
          message: `slice ${formatRange(slice)} lies outside the policy's nodePortRange ${formatRange(nodePortRange)}`,
        });
      } else if (slice) {
        // One problem per slice, however many slices it overlaps: a problem per pair made
        // 500,000 problems for 1,000 tenants on one range (1.8 s and tens of MB for one
        // admission of the policy).
        const overlapped = slices.filter((other) => rangesOverlap(other.range, slice!));
        if (overlapped.length > 0) {
          const first = overlapped[0];
          const more = overlapped.length > 1 ? ` and ${overlapped.length - 1} more tenant${overlapped.length > 2 ? 's' : ''}` : '';
          problems.push({
            path: `${at}.nodePortRange`,
            message: `slice ${formatRange(slice)} overlaps tenant "${spec.tenants![first.index].name}" (${formatRange(first.range)})${more}`,
          });
        }
        slices.push({ range: slice, index: i });
        const band = dynamicBand(nodePortRange);
        if (spec.remediation?.nodePortAllocation && rangesOverlap(slice, band)) {
          warnings.push({
            path: `${at}.nodePortRange`,
            message: `slice ${formatRange(slice)} lies in the API server's dynamic NodePort band ${formatRange(band)}, where its own allocations can take ports of the slice (KEP-3668)`,
          });
        }
      }
    }
    const allowed = t.allowedHostPorts?.map((p, j) => range(p, `${at}.allowedHostPorts[${j}]`, problems)).filter((r): r is PortRange => r !== null);
    tenants.push({
      name: t.name,
      namespaces: t.namespaces ?? [],
      matchesName: compileGlobs(t.namespaces ?? []),
      matchesLabels: t.namespaceSelector ? compileSelector(t.namespaceSelector) : undefined,
      nodePortRange: slice,
      allowNodePorts: t.allowNodePorts ?? true,
      allowLoadBalancers: t.allowLoadBalancers ?? true,
      allowedHostPorts: allowed ?? null,
      allowHostNetwork: t.allowHostNetwork,
      allowedExternalIPs: blocks(t.allowedExternalIPs ?? [], `${at}.allowedExternalIPs`, problems),
    });
  });
  return tenants;
}

function compileExemptions(spec: PortPolicySpec, problems: PolicyProblem[], warnings: PolicyProblem[]): Exemption[] {
  return (spec.exemptions ?? []).map((e, i) => {
    if (spec.profiles !== undefined && isBlanketKubeSystem(e)) {
      warnings.push({
        path: `spec.exemptions[${i}]`,
        message:
          'exempts all of kube-system from hostport-reserved, which the catalog no longer needs: each reserved port names its owners ' +
          '(kube-proxy, the CNI DaemonSets, the control-plane static pods) and they pass without it; this exemption also lets any other ' +
          "kube-system pod take a reserved port, the kubelet's 10250 included. Remove it unless that is meant",
      });
    }
    (e.rules ?? []).forEach((r, j) => {
      if (r !== '*' && !RULE_IDS.includes(r as RuleId)) {
        problems.push({ path: `spec.exemptions[${i}].rules[${j}]`, message: `unknown rule "${r}"; rules are ${RULE_IDS.join(', ')}` });
      }
    });
    const ns = compileGlobs(e.namespaces ?? ['*']);
    const kinds = compileGlobs(e.kinds ?? ['*']);
    const names = compileGlobs(e.names ?? ['*']);
    const rules = compileGlobs(e.rules ?? ['*']);
    return {
      reason: e.reason,
      matches: (namespace, kind, name, rule) => ns(namespace ?? '') && kinds(kind) && names(name) && rules(rule),
      matchesImages: e.images ? imagesMatcher(e.images, `spec.exemptions[${i}].images`, problems) : null,
      matchesRequester: e.users || e.groups || e.serviceAccounts ? requesterMatcher(e) : null,
    };
  });
}

/** Every container's image must match one of the patterns; an object without a pod spec matches none. */
function imagesMatcher(patterns: readonly string[], path: string, problems: PolicyProblem[]): (images: readonly string[] | null) => boolean {
  const matchers: ((image: string) => boolean)[] = [];
  patterns.forEach((p, j) => {
    const m = compileImagePattern(p);
    if (typeof m === 'string') problems.push({ path: `${path}[${j}]`, message: m });
    else matchers.push(m);
  });
  return (images) => images !== null && images.length > 0 && images.every((image) => matchers.some((m) => m(image)));
}

// A ServiceAccount's user name, as the API server authenticates its tokens.
const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** Any of users, groups, serviceAccounts matches (each list is one way to name the requester). */
function requesterMatcher(e: ExemptionSpec): (r: Requester) => boolean {
  const users = e.users ? compileGlobs(e.users) : null;
  const groups = e.groups ? compileGlobs(e.groups) : null;
  const accounts = e.serviceAccounts ? compileGlobs(e.serviceAccounts) : null;
  return (r) => {
    if (users && users(r.username)) return true;
    if (groups && r.groups.some(groups)) return true;
    const sa = accounts ? SERVICE_ACCOUNT_USER.exec(r.username) : null;
    return sa !== null && accounts!(`${sa[1]}/${sa[2]}`);
  };
}

/** An exemption of every kube-system object from hostport-reserved, as shipped before owners. */
function isBlanketKubeSystem(e: ExemptionSpec): boolean {
  const all = (globs: string[] | undefined) => compileGlobs(globs ?? ['*'])('\u0000any');
  if (e.images || e.users || e.groups || e.serviceAccounts) return false;
  return compileGlobs(e.namespaces ?? ['*'])('kube-system') && all(e.kinds) && all(e.names) && compileGlobs(e.rules ?? ['*'])('hostport-reserved');
}

/**
 * Validates and compiles one PortPolicy document. `defaults` is the shipped default
 * policy's spec: fields this policy omits among nodePortRange, reservedPorts,
 * sensitivePorts and rules take its values.
 */
export function loadPolicy(doc: unknown, defaults: PortPolicySpec = {}): LoadResult {
  if (!validateDocument(doc)) {
    return { ok: false, problems: (validateDocument.errors ?? []).map(schemaProblem) };
  }
  const { metadata, spec: written } = doc;
  const spec = effectiveSpec(written, defaults);
  const problems: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];
  const nodePortRange = range(spec.nodePortRange!, 'spec.nodePortRange', problems) ?? { lo: 30000, hi: 32767 };
  const reserved = catalog(spec, problems);
  // The catalog's NodePort entry follows the effective range, for every protocol: a host
  // port there collides with kube-proxy's NodePort rules on every node.
  reserved.push({
    name: 'nodeport-range',
    range: nodePortRange,
    protocol: 'ANY',
    component: 'NodePort Services',
    source: 'Kubernetes "Ports and Protocols"',
    owners: [],
  });
  const sensitive = entries(spec.sensitivePorts!, 'spec.sensitivePorts', problems);
  const nodeCIDRs = blocks(spec.nodeCIDRs!, 'spec.nodeCIDRs', problems);
  const allowedExternalIPs = blocks(spec.allowedExternalIPs!, 'spec.allowedExternalIPs', problems);
  const tenants = compileTenants(spec, nodePortRange, problems, warnings);
  const exemptions = compileExemptions(spec, problems, warnings);
  if (problems.length > 0) return { ok: false, problems };
  const rules = Object.fromEntries(RULES.map((r) => [r.id, spec.rules?.[r.id] ?? r.defaultAction])) as Record<RuleId, RuleAction>;
  const policy: CompiledPolicy = {
    name: metadata.name,
    nodePortRange,
    reservedPorts: reserved,
    sensitivePorts: sensitive,
    nodeCIDRs,
    allowedExternalIPs,
    rules,
    remediation: {
      netpolCarveOut: spec.remediation?.netpolCarveOut ?? false,
      dropOutOfRangeNodePort: spec.remediation?.dropOutOfRangeNodePort ?? false,
      nodePortAllocation: spec.remediation?.nodePortAllocation ?? false,
    },
    tenants,
    hasLabelTenants: tenants.some((t) => t.matchesLabels !== undefined),
    exemptions,
    spec,
  };
  return { ok: true, policy: deepFreeze(policy), warnings };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
