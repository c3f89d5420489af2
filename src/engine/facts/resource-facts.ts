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

export function resourceFacts(object: KubeObject, kind: CheckedKind): ResourceFacts {
  let podSpec: PodSpecFacts | null | undefined;
  let service: ServiceFacts | null | undefined;
  let rules: readonly NetRule[] | undefined;
  return {
    get podSpec() {
      return (podSpec ??= podSpecFacts(object, kind));
    },
    get service() {
      return (service ??= kind.type === 'service' ? serviceFacts(object) : null);
    },
    get networkRules() {
      return (rules ??= networkRules(object, kind));
    },
  };
}
