// The files under a path, the same way for every reader of directories: the scan's manifests,
// the policy loader, and the webhook's digest that tells a policy reload from a no-op.
//
// Order: a directory's entries in UTF-16 code-unit order of their names (what `<` compares),
// each subdirectory's files in place of its name. Code-unit order is the same on every machine;
// `localeCompare` follows the ICU data and locale Node runs with (it puts `a` before `B`, and
// `_` before `-`), so a policy set could merge in one order on a laptop and in another in the
// cluster.
//
// Dot entries are never walked: a repository's .git, and a ConfigMap volume's `..data` link
// and `..<timestamp>` directory (the kubelet's atomic writer), whose files the volume shows again
// as one link per key at its top; walking both would read every key twice.
//
// Symbolic links are what they point at. Each real directory is walked once per `visited` set,
// which cuts a loop (a link to an ancestor) and a directory reached by two links.
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export interface WalkOptions {
  /** Descend into subdirectories; false lists one directory, its subdirectories as passed entries. */
  recursive: boolean;
  /** The file extensions to yield as files, with the dot ('.yaml'); every file when absent. */
  extensions?: ReadonlySet<string>;
  /** Match extensions whatever their case (`.YAML` as `.yaml`); `extensions` must then be lower case. */
  ignoreExtensionCase?: boolean;
  /** Directory names never descended into (a scan's node_modules). */
  skipDirectories?: ReadonlySet<string>;
  /**
   * 'follow' (the default): a link to a directory is a directory. 'files': a link to a
   * directory is passed over; links to files are still files.
   */
  links?: 'follow' | 'files';
  /**
   * Real paths of the directories already walked. One set given to several walks walks a
   * directory reached from two of their roots once; a walk without one has its own.
   */
  visited?: Set<string>;
}

/** Why an entry was not yielded as a file. */
export type PassedReason =
  | 'extension' // a file with another extension
  | 'directory' // a subdirectory of a walk that is not recursive
  | 'skipped-directory' // a name in skipDirectories
  | 'linked-directory' // a link to a directory, with links: 'files'
  | 'broken-link' // a link to nothing (or to itself): it cannot be stat'ed
  | 'not-a-file'; // a socket, a pipe, a device

export type WalkEntry =
  | { type: 'file'; path: string }
  | { type: 'passed'; path: string; reason: PassedReason }
  /** A path that could not be read: the root, or a directory (the walk goes on past it). */
  | { type: 'error'; path: string; error: NodeJS.ErrnoException };

/**
 * The files under a root. A root that is not a directory is yielded as a file whatever its
 * extension and kind (a named file, /dev/stdin, a shell's `<(…)` pipe): the user named it.
 */
export async function* walk(root: string, options: WalkOptions): AsyncGenerator<WalkEntry> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (error) {
    yield { type: 'error', path: root, error: error as NodeJS.ErrnoException };
    return;
  }
  if (isDirectory) yield* walkDirectory(root, options);
  else yield { type: 'file', path: root };
}

/** The files under a directory the caller knows to be one; a directory already in `visited` yields nothing. */
export function walkDirectory(dir: string, options: WalkOptions): AsyncGenerator<WalkEntry> {
  return directory(dir, options, options.visited ?? new Set());
}

type Kind = 'directory' | 'file' | 'linked-directory' | 'broken-link' | 'not-a-file';

const byName = (a: Dirent, b: Dirent): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function* directory(dir: string, options: WalkOptions, visited: Set<string>): AsyncGenerator<WalkEntry> {
  let entries: Dirent[];
  try {
    const real = await realpath(dir);
    if (visited.has(real)) return;
    visited.add(real);
    entries = (await readdir(dir, { withFileTypes: true })).sort(byName);
  } catch (error) {
    yield { type: 'error', path: dir, error: error as NodeJS.ErrnoException };
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    const kind = await kindOf(entry, full, options.links ?? 'follow');
    if (kind === 'directory' && options.recursive && !options.skipDirectories?.has(entry.name)) yield* directory(full, options, visited);
    else yield notDescended(kind, full, options);
  }
}

function notDescended(kind: Kind, full: string, options: WalkOptions): WalkEntry {
  if (kind === 'directory') return { type: 'passed', path: full, reason: options.recursive ? 'skipped-directory' : 'directory' };
  if (kind !== 'file') return { type: 'passed', path: full, reason: kind };
  return wanted(path.basename(full), options) ? { type: 'file', path: full } : { type: 'passed', path: full, reason: 'extension' };
}

async function kindOf(entry: Dirent, full: string, links: 'follow' | 'files'): Promise<Kind> {
  if (!entry.isSymbolicLink()) return entry.isDirectory() ? 'directory' : entry.isFile() ? 'file' : 'not-a-file';
  try {
    const target = await stat(full);
    if (target.isDirectory()) return links === 'follow' ? 'directory' : 'linked-directory';
    return target.isFile() ? 'file' : 'not-a-file';
  } catch {
    return 'broken-link';
  }
}

function wanted(name: string, options: WalkOptions): boolean {
  if (!options.extensions) return true;
  const ext = path.extname(name);
  return options.extensions.has(options.ignoreExtensionCase ? ext.toLowerCase() : ext);
}
