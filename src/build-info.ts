// What this build is: the package version, and the git commit dist/ was built from when it was
// built in a git checkout (written next to this module by `npm run build`, see
// cmd/stamp-build.ts). Read once at import: `portcullis version`, the build_info metric and
// the SARIF tool version all say the same thing.
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  /** package.json's version. */
  version: string;
  /** The commit dist/ was built from; null when not built from a git checkout (or run from source). */
  commit: string | null;
  /** The checkout had uncommitted changes to tracked files when dist/ was built. */
  modified: boolean;
  /** process.version of the running Node. */
  node: string;
}

function readJson(url: URL): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function readBuildInfo(): BuildInfo {
  // src/build-info.ts and dist/build-info.js both sit one level below package.json.
  const pkg = readJson(new URL('../package.json', import.meta.url));
  const stamp = readJson(new URL('./build-stamp.json', import.meta.url));
  const commit = typeof stamp?.commit === 'string' && /^[0-9a-f]{40}$/.test(stamp.commit) ? stamp.commit : null;
  return {
    version: typeof pkg?.version === 'string' ? pkg.version : '0.0.0-unknown',
    commit,
    modified: commit !== null && stamp?.modified === true,
    node: process.version,
  };
}

export const BUILD_INFO: BuildInfo = readBuildInfo();
