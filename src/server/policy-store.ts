// The policy files in force: loaded at start (a bad set stops the server, exit 2), then
// re-read when they change. A bad new set is refused, and the last good one stays.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CompiledPolicy } from '../engine/policy/model.js';
import { walk } from '../sources/directory-walk.js';
import { DEFAULT_POLICY_FILE, formatPolicyError, loadPolicyPaths } from '../sources/policy-files.js';

export type PolicyReload =
  { changed: false } | { changed: true; ok: true; policies: readonly CompiledPolicy[]; warnings: string[] } | { changed: true; ok: false; errors: string[] };

/**
 * A digest of every file under the paths, so a poll or a burst of watch events that
 * changed nothing does not count as a reload. It walks as the loader does (dot-entries
 * skipped: a ConfigMap mount's ..data and ..<timestamp> directories), but over files of any
 * extension and into linked directories, so whatever could change the loader's answer changes it.
 */
async function digestOf(paths: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const p of paths) {
    for await (const entry of walk(p, { recursive: true })) {
      if (entry.type === 'file') {
        hash
          .update(`${entry.path}\0`)
          .update(await readFile(entry.path).catch(() => Buffer.from('unreadable')))
          .update('\0');
      } else if (entry.type === 'error') {
        hash.update(`unreadable:${entry.path}:${entry.error.code ?? ''}\0`);
      } else if (entry.reason === 'broken-link') {
        hash.update(`missing:${entry.path}\0`);
      }
    }
  }
  return hash.digest('hex');
}

export interface PolicyStore {
  readonly paths: readonly string[];
  current(): readonly CompiledPolicy[];
  /** Re-reads the files; applies them only when they changed and all of them load. */
  reload(): Promise<PolicyReload>;
}

/** Loads the initial set; returns its errors (file:line: field: message) instead of a store when it does not load. */
export async function openPolicyStore(policyPaths: readonly string[]): Promise<{ store: PolicyStore; warnings: string[] } | { errors: string[] }> {
  const paths = policyPaths.length ? [...policyPaths] : [DEFAULT_POLICY_FILE];
  let digest = await digestOf(paths);
  const first = await loadPolicyPaths(policyPaths);
  if (first.errors.length > 0) return { errors: first.errors.map(formatPolicyError) };
  let policies: readonly CompiledPolicy[] = first.policies;
  let refused: string | null = null;
  let busy: Promise<PolicyReload> | null = null;

  const reloadOnce = async (): Promise<PolicyReload> => {
    const next = await digestOf(paths);
    if (next === digest || next === refused) return { changed: false };
    const loaded = await loadPolicyPaths(policyPaths);
    if (loaded.errors.length > 0) {
      refused = next;
      return { changed: true, ok: false, errors: loaded.errors.map(formatPolicyError) };
    }
    policies = loaded.policies;
    digest = next;
    refused = null;
    return { changed: true, ok: true, policies, warnings: loaded.warnings.map(formatPolicyError) };
  };

  const store: PolicyStore = {
    paths,
    current: () => policies,
    // One reload at a time: a watch event during a reload waits for it, then checks again.
    reload: async () => {
      while (busy) await busy;
      busy = reloadOnce();
      try {
        return await busy;
      } finally {
        busy = null;
      }
    },
  };
  return { store, warnings: first.warnings.map(formatPolicyError) };
}
