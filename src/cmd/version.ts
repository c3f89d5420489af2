// `portcullis version` and `portcullis --version`: what this build is, for bug reports.
import type { BuildInfo } from '../build-info.js';

/** The one line `--version` prints: portcullis 0.1.0 (commit 0e1d68c, node v24.21.0). */
export function versionLine(b: BuildInfo): string {
  const commit = b.commit === null ? 'commit unknown' : `commit ${b.commit.slice(0, 12)}${b.modified ? ', modified' : ''}`;
  return `portcullis ${b.version} (${commit}, node ${b.node})`;
}

/** `portcullis version`: text, or JSON (`-o json`) for scripts. */
export function versionText(b: BuildInfo, output: 'text' | 'json'): string {
  if (output === 'json') return `${JSON.stringify({ version: b.version, commit: b.commit, modified: b.modified, node: b.node }, null, 2)}\n`;
  const commit = b.commit === null ? 'unknown (not built from a git checkout)' : `${b.commit}${b.modified ? ' (with uncommitted changes)' : ''}`;
  return [`portcullis ${b.version}`, `commit: ${commit}`, `node:   ${b.node}`, ''].join('\n');
}
