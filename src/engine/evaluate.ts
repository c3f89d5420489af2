// The engine's one entry point: a resource and the active policies in, an Evaluation out.
// Implemented in the engine issue; the signature is what every door codes against.
import type { CompiledPolicy } from './policy/model.js';
import type { ClusterFacts, Evaluation, Resource } from './types.js';

export declare function evaluate(resource: Resource, policies: readonly CompiledPolicy[], cluster: ClusterFacts): Evaluation;
