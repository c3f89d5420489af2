// The engine's complexity limits: what one object may hold before the engine stops reading it
// and reports so instead. Every step of the engine is linear or O(n log n) in the object, so
// these bound the work a caller can cause on one core; each limit sits above anything an
// object the API server stores can hold, so only a caller that reaches the webhook directly
// (or a file given to `scan`) meets one, and a large legitimate object is never refused for
// its size. The sizes they are derived from:
// - etcd refuses a write over 1.5 MiB (--max-request-bytes default 1,572,864), and a stored
//   object is smaller than the write that holds it;
// - built-in kinds are stored as protobuf, where a list item costs at least its field tag and
//   its length (two bytes); custom resources are stored as JSON, at least two bytes an item too.
// docs/limits.md (## Engine) lists them with these reasons and what each costs at its value.

export interface Limit {
  /** Name used in messages and the docs. */
  readonly name: string;
  readonly value: number;
  /** What is counted, as a message says it: "list items in one network policy". */
  readonly counts: string;
}

/**
 * List items the engine reads from one network policy of any kind: rules, peers, ports, CIDRs,
 * selector values (each list is read once). 786,432 is the most a stored object can hold at
 * two bytes an item, in protobuf or in JSON.
 */
export const NETWORK_POLICY_LIST_ITEMS: Limit = { name: 'networkPolicyListItems', value: 800_000, counts: 'list items read from one network policy' };

/**
 * CIDRs the engine reads from one network policy: cidr and except entries, toCIDR/fromCIDR,
 * networks, and a Calico rule's notNets once for each of its nets they are taken from. Each
 * CIDR is parsed, sorted and merged, the engine's most costly item. The shortest is "::" (a
 * bare address, which Calico's CRDs do not reject), five bytes as a JSON list item: a stored
 * custom resource holds at most 314,572; a stored NetworkPolicy at most 262,144 ("::/1" with
 * its protobuf tag and length, six bytes). Calico's notNets are the one product: 320 nets
 * each with 1,000 notNets reach it, a shape no written policy has (Calico's own examples use
 * a handful of each).
 */
export const NETWORK_POLICY_CIDRS: Limit = { name: 'networkPolicyCidrs', value: 320_000, counts: 'CIDRs read from one network policy' };

/**
 * Port entries in one pod spec, across containers, initContainers and ephemeralContainers.
 * Each can be a host-port finding for every reserved entry it hits, so this also bounds the
 * findings of one pod. Stored, an entry is at least nine bytes (its tag and length, the
 * containerPort field, and the protocol "TCP" the API server defaults in): at most 174,762.
 */
export const POD_SPEC_PORTS: Limit = { name: 'podSpecPorts', value: 200_000, counts: 'port entries in one pod spec' };

/**
 * Interval steps one rule check may take to work out what the deny and pass rules of an
 * ordered policy (Calico, admin network policies) leave open: each allow rule's addresses
 * minus everything blocked before it. That is a product of blocked addresses and later allow
 * rules, which no size limit bounds: a Calico policy of 1.5 MiB can block 25,000 addresses
 * and then allow 25,000 peers that each contain them. Like the API server's cost budget for
 * CEL admission policies, the check stops when the budget is spent. 5,000,000 steps take
 * about a second on one core; a policy with a hundred deny rules and a hundred allow rules
 * of a hundred CIDRs each takes 1,000,000 at the very most.
 */
export const ORDERED_RULE_STEPS: Limit = {
  name: 'orderedRuleSteps',
  value: 5_000_000,
  counts: 'interval steps to weigh deny and pass rules against later allow rules',
};

/**
 * Levels of nesting in an object a remediation edits. Remediations edit a structuredClone of
 * the object and the webhook diffs it into a JSON Patch; both recurse, and structuredClone
 * overflows the stack at about 1,600 levels (measured on Node 24 with its default stack). The
 * kinds remediated (Service, NetworkPolicy) are typed, so the API server drops any field
 * their schema lacks: the deepest it can send is a few dozen levels (managedFields included).
 * Deeper objects come from direct callers; they are left as they are, and said so.
 */
export const REMEDIATION_NESTING: Limit = { name: 'remediationNesting', value: 1_000, counts: 'levels of nesting a remediation copies' };

export const ENGINE_LIMITS: readonly Limit[] = [NETWORK_POLICY_LIST_ITEMS, NETWORK_POLICY_CIDRS, POD_SPEC_PORTS, ORDERED_RULE_STEPS, REMEDIATION_NESTING];

/** Whether arrays and objects in `value` nest deeper than `max` levels; iterative, so any depth is measured. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** An object over a limit: the rule reports it as an error finding at its action, never a pass. */
export class LimitExceeded extends Error {
  constructor(
    readonly limit: Limit,
    /** Where the count went over (a field path), or '' for the whole object. */
    readonly path: string,
  ) {
    super(
      `${path === '' ? 'the object' : path} goes over the engine's limit of ${limit.value.toLocaleString('en-US')} ${limit.counts} (${limit.name}; see docs/limits.md)`,
    );
    this.name = 'LimitExceeded';
  }
}

/** A count that throws LimitExceeded once it goes past its limit. */
export class Budget {
  #left: number;

  constructor(readonly limit: Limit) {
    this.#left = limit.value;
  }

  spend(n: number, path = ''): void {
    this.#left -= n;
    if (this.#left < 0) throw new LimitExceeded(this.limit, path);
  }
}

// The budgets of the object being read. The facts of several kinds, in several files, read
// lists and CIDRs; scoping the budgets around the read (the engine is synchronous, so one
// read runs at a time) charges them all without threading counters through every reader.
let active: readonly Budget[] = [];

/** Runs `read` with charge() counting against `budgets`; LimitExceeded once one is spent. */
export function charged<T>(budgets: readonly Budget[], read: () => T): T {
  const outer = active;
  active = budgets;
  try {
    return read();
  } finally {
    active = outer;
  }
}

/** Charges n to the active budget for `limit`, if a read is charging one. */
export function charge(limit: Limit, n: number): void {
  for (const b of active) if (b.limit === limit) b.spend(n);
}
