// PortPolicy objects as the active policy set. Each object is compiled once per version with
// the same loader as policy files; an invalid one is ignored and, by the one process that
// writes status (the controller), its problems are written to its status, so
// `kubectl get portpolicy NAME -o yaml` tells the admin what is wrong. While no
// valid object exists, policies() is null and the caller's --policy files apply.
import type { CompiledPolicy, PolicyProblem, PortPolicySpec } from '../engine/policy/model.js';
import { ApiError, type KubeClient } from '../k8s/client.js';
import { activePortPolicies, compilePortPolicy } from '../k8s/port-policy.js';
import { objectPath, PORT_POLICIES } from '../k8s/resources.js';
import { Informer, type InformerOptions } from './informer.js';
import { silentLog, type Log } from './log.js';
import { strip, type Cached } from './strip.js';

/** What portcullis writes to a PortPolicy's status. */
export interface PortPolicyStatus {
  valid: boolean;
  observedGeneration?: number;
  problems: PolicyProblem[];
  warnings: PolicyProblem[];
}

interface Compiled {
  resourceVersion: string | undefined;
  policy: CompiledPolicy | null;
  status: PortPolicyStatus;
}

export type InformerTuning = Pick<
  InformerOptions<Cached>,
  'pageSize' | 'watchTimeoutSeconds' | 'retryDelayMs' | 'maxRetryDelayMs' | 'missingRetryMs' | 'clock'
>;

export interface PolicySetOptions {
  client: KubeClient;
  /** The shipped default's spec: what omitted fields default to, as for files. */
  defaults: PortPolicySpec;
  /** Write problems to the objects' status (needs update on portpolicies/status); off unless asked. */
  writeStatus?: boolean;
  log?: Log;
  tuning?: InformerTuning;
  /** After the active set changed. */
  onChange?: () => void;
}

const sameStatus = (a: unknown, b: PortPolicyStatus) => {
  const s = (a ?? {}) as Partial<PortPolicyStatus>;
  return (
    s.valid === b.valid &&
    s.observedGeneration === b.observedGeneration &&
    JSON.stringify(s.problems ?? []) === JSON.stringify(b.problems) &&
    JSON.stringify(s.warnings ?? []) === JSON.stringify(b.warnings)
  );
};

export class PolicySet {
  readonly informer: Informer<Cached>;
  private readonly compiled = new Map<string, Compiled>();
  private active: readonly CompiledPolicy[] | null = null;
  private readonly log: Log;

  constructor(private readonly opts: PolicySetOptions) {
    this.log = opts.log ?? silentLog;
    this.informer = new Informer<Cached>({
      ...opts.tuning,
      client: opts.client,
      type: PORT_POLICIES,
      strip: (raw) => strip(PORT_POLICIES, raw),
      onChange: (type, object) => this.changed(type, object),
      log: this.log,
    });
  }

  start(): this {
    this.informer.start();
    return this;
  }

  /** The valid PortPolicy objects sorted by name, or null while there is none. */
  policies(): readonly CompiledPolicy[] | null {
    return this.active;
  }

  /** The problems of an object by name, as last compiled. */
  statusOf(name: string): PortPolicyStatus | undefined {
    return this.compiled.get(name)?.status;
  }

  private changed(type: 'add' | 'update' | 'delete', object: Cached): void {
    const name = object.metadata.name;
    if (type === 'delete') {
      this.compiled.delete(name);
    } else {
      const prev = this.compiled.get(name);
      // A status write bumps the version but not the generation: no need to compile again.
      const generation = (object.metadata as { generation?: number }).generation;
      if (!prev || prev.status.observedGeneration !== generation || generation === undefined) {
        const r = compilePortPolicy(object, this.opts.defaults);
        const status: PortPolicyStatus = r.ok
          ? { valid: true, observedGeneration: generation, problems: [], warnings: r.warnings }
          : { valid: false, observedGeneration: generation, problems: r.problems, warnings: [] };
        if (!r.ok) this.log.warn({ policy: name, problems: r.problems }, 'PortPolicy is invalid and ignored');
        this.compiled.set(name, { resourceVersion: object.metadata.resourceVersion, policy: r.ok ? r.policy : null, status });
      }
      const status = this.compiled.get(name)!.status;
      if (this.opts.writeStatus === true && !sameStatus(object.status, status)) void this.writeStatus(object, status);
    }
    const next = activePortPolicies([...this.compiled.values()].map((c) => c.policy));
    const same =
      next === this.active || (next !== null && this.active !== null && next.length === this.active.length && next.every((p, i) => p === this.active![i]));
    if (!same) {
      this.active = next;
      this.opts.onChange?.();
    }
  }

  private async writeStatus(object: Cached, status: PortPolicyStatus): Promise<void> {
    const body = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: { name: object.metadata.name, resourceVersion: object.metadata.resourceVersion },
      spec: object.spec,
      status,
    };
    try {
      await this.opts.client.request('PUT', `${objectPath(PORT_POLICIES, null, object.metadata.name)}/status`, body);
    } catch (err) {
      // 409: another replica wrote it first, or the object changed; the next event decides again.
      if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) {
        this.log.warn({ policy: object.metadata.name, err: (err as Error).message }, 'cannot write PortPolicy status');
      }
    }
  }
}
