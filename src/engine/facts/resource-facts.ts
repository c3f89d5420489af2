// The facts of one resource, extracted on first use and shared by every policy and rule.
import { Budget, charged, NETWORK_POLICY_CIDRS, NETWORK_POLICY_LIST_ITEMS } from '../limits.js';
import type { KubeObject } from '../types.js';
import { podSpecFacts, type PodSpecFacts } from './host-ports.js';
import type { CheckedKind } from './kinds.js';
import { networkRules, type NetRule } from './network-rules.js';
import { serviceFacts, type ServiceFacts } from './node-ports.js';
import { podImages } from './images.js';
import { ownerFacts } from './owners.js';
import type { OwnerFacts } from '../policy/model.js';

export interface ResourceFacts {
  /** Throws LimitExceeded on a pod spec over POD_SPEC_PORTS; the rule reports it as an error. */
  readonly podSpec: PodSpecFacts | null;
  readonly service: ServiceFacts | null;
  /**
   * Throws on an ipBlock the API server would reject, and LimitExceeded on a policy over
   * NETWORK_POLICY_LIST_ITEMS or NETWORK_POLICY_CIDRS; the rule reports either as an error.
   */
  readonly networkRules: readonly NetRule[];
  /** Who the object is, for reserved-port owners. */
  readonly owners: OwnerFacts;
  /** The images of the pod spec's containers; null without a pod spec. */
  readonly images: readonly string[] | null;
}

function readNetworkRules(object: KubeObject, kind: CheckedKind): NetRule[] {
  if (kind.type === 'workload' || kind.type === 'service') return [];
  return charged([new Budget(NETWORK_POLICY_LIST_ITEMS), new Budget(NETWORK_POLICY_CIDRS)], () => networkRules(object, kind));
}

/** A fact read once: its value, or what it threw, for every later reader. */
type Read<T> = { value: T } | { error: unknown };

function read<T>(compute: () => T): Read<T> {
  try {
    return { value: compute() };
  } catch (error) {
    return { error };
  }
}

function valueOf<T>(r: Read<T>): T {
  if ('error' in r) throw r.error;
  return r.value;
}

// A class rather than an object literal with getters: V8 builds such literals slowly (about a
// tenth of the engine's time on a 100,000-object scan), a class instance like any other object.
class LazyFacts implements ResourceFacts {
  #podSpec: Read<PodSpecFacts | null> | undefined;
  #service: ServiceFacts | null | undefined;
  #rules: Read<readonly NetRule[]> | undefined;
  #owners: OwnerFacts | undefined;
  #images: readonly string[] | null | undefined;
  readonly #object: KubeObject;
  readonly #kind: CheckedKind;

  constructor(object: KubeObject, kind: CheckedKind) {
    this.#object = object;
    this.#kind = kind;
  }

  get podSpec(): PodSpecFacts | null {
    return valueOf((this.#podSpec ??= read(() => podSpecFacts(this.#object, this.#kind))));
  }

  get service(): ServiceFacts | null {
    return (this.#service ??= this.#kind.type === 'service' ? serviceFacts(this.#object) : null);
  }

  get networkRules(): readonly NetRule[] {
    return valueOf((this.#rules ??= read(() => readNetworkRules(this.#object, this.#kind))));
  }

  get owners(): OwnerFacts {
    return (this.#owners ??= ownerFacts(this.#object));
  }

  get images(): readonly string[] | null {
    if (this.#images === undefined) this.#images = podImages(this.#object, this.#kind);
    return this.#images;
  }
}

export function resourceFacts(object: KubeObject, kind: CheckedKind): ResourceFacts {
  return new LazyFacts(object, kind);
}
