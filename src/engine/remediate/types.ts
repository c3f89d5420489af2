// What one remediation sees and returns. remediate() works out the facts a remediation
// needs (findings, tenants) once, with the engine's own functions, and passes them in, so
// each remediation file is a pure edit of the copy it is handed.
import type { CompiledPolicy, Tenant } from '../policy/model.js';
import type { Finding, KubeObject } from '../types.js';

export interface NodePortAllocator {
  /**
   * Picks `count` free ports of `slice`, or null when the slice is full. `exclude` holds the
   * node ports the request itself already names: they are not in the in-use cache yet, and
   * returning one would give a Service the same node port twice.
   */
  allocate(slice: { lo: number; hi: number }, count: number, exclude?: ReadonlySet<number>): number[] | null;
}

export interface RemediationContext {
  /** The policies that switched this remediation on, in the order given. */
  policies: readonly CompiledPolicy[];
  namespace: string | null;
  /** The object before any remediation; the copy being edited is passed separately. */
  original: KubeObject;
  oldObject: KubeObject | null;
  allocator: NodePortAllocator | null;
  /** The engine's findings for the original object, across all active policies. */
  findings: () => readonly Finding[];
  /** The engine's findings for an object as a remediation has edited it, to see what its edit left. */
  evaluate: (object: KubeObject) => readonly Finding[];
  /** The tenant a policy puts the object's namespace in. */
  tenant: (policy: CompiledPolicy) => Tenant | null;
}

export interface RemediationOutcome {
  /** One line per change, for warnings and logs. */
  changes: string[];
  /** Things the remediation could have fixed but deliberately did not (Cilium policies). */
  skipped: string[];
  denial: string | null;
}

/** A remediation edits `copy` in place; it never touches ctx.original or ctx.oldObject. */
export type ApplyRemediation = (copy: KubeObject, ctx: RemediationContext) => RemediationOutcome;

export const nothing = (): RemediationOutcome => ({ changes: [], skipped: [], denial: null });
