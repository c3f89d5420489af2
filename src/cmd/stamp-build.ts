// Run by `npm run build` after tsc: writes dist/build-stamp.json with the commit the build
// came from, for `portcullis version` and the build_info metric (src/build-info.ts). Outside a
// git checkout (an image build that copies only src/) it writes commit null.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const commit = git(['rev-parse', '--verify', 'HEAD']);
const modified = commit !== null && (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
writeFileSync(new URL('../build-stamp.json', import.meta.url), `${JSON.stringify({ commit, modified })}\n`);
