// Which catalog profiles match what a cluster runs: the CNI DaemonSets a scan or the controller
// sees. A hint for the admin, never a switch: the policy's profiles stay what it says.
import { compileGlobs } from '../match.js';
import type { CompiledPolicy } from './model.js';
import { PROFILES } from './profiles.js';

const DETECTORS = PROFILES.flatMap((p) => p.detect.map((d) => ({ profile: p.name, namespaces: compileGlobs(d.namespaces), name: d.name })));

/** The profiles a DaemonSet of this namespace and name belongs to. */
export function profilesOfDaemonSet(namespace: string, name: string): string[] {
  return DETECTORS.filter((d) => d.name === name && d.namespaces(namespace)).map((d) => d.profile);
}

/**
 * One line per profile the cluster's DaemonSets match and a policy using profiles leaves out.
 * `seen` maps a profile to the first DaemonSet (namespace/name) that matched it.
 */
export function profileHints(policies: readonly CompiledPolicy[], seen: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [profile, daemonSet] of [...seen].sort(([a], [b]) => a.localeCompare(b))) {
    const missing = policies.filter((p) => p.spec.profiles !== undefined && !p.spec.profiles.includes(profile)).map((p) => p.name);
    if (missing.length === 0) continue;
    out.push(
      `the cluster runs DaemonSet ${daemonSet}, which profile ${profile} describes; policy ${missing.join(', ')} does not use it (add it to spec.profiles to reserve its ports)`,
    );
  }
  return out;
}
