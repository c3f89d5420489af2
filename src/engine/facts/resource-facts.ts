// The facts of one resource, extracted on first use and shared by every policy and rule.
import type { KubeObject } from '../types.js';
import { podSpecFacts, type PodSpecFacts } from './host-ports.js';
import type { CheckedKind } from './kinds.js';
import { networkRules, type NetRule } from './network-rules.js';
import { serviceFacts, type ServiceFacts } from './node-ports.js';

export interface ResourceFacts {
  readonly podSpec: PodSpecFacts | null;
  readonly service: ServiceFacts | null;
  /** Throws on an ipBlock the API server would reject; the rule reports it as an error. */
  readonly networkRules: readonly NetRule[];
}

// A class rather than an object literal with getters: V8 builds such literals slowly (about a
// tenth of the engine's time on a 100,000-object scan), a class instance like any other object.
class LazyFacts implements ResourceFacts {
  #podSpec: PodSpecFacts | null | undefined;
  #service: ServiceFacts | null | undefined;
  #rules: readonly NetRule[] | undefined;
  readonly #object: KubeObject;
  readonly #kind: CheckedKind;

  constructor(object: KubeObject, kind: CheckedKind) {
    this.#object = object;
    this.#kind = kind;
  }

  get podSpec(): PodSpecFacts | null {
    return (this.#podSpec ??= podSpecFacts(this.#object, this.#kind));
  }

  get service(): ServiceFacts | null {
    return (this.#service ??= this.#kind.type === 'service' ? serviceFacts(this.#object) : null);
  }

  get networkRules(): readonly NetRule[] {
    return (this.#rules ??= networkRules(this.#object, this.#kind));
  }
}

export function resourceFacts(object: KubeObject, kind: CheckedKind): ResourceFacts {
  return new LazyFacts(object, kind);
}
