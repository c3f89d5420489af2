// Noticing that files changed. Kubernetes updates a mounted Secret or ConfigMap by swapping
// the `..data` symlink in its directory, so the directory is watched, never the file (a
// watch on the file keeps following the old inode). fs.watch can miss events on some
// filesystems, so a slow poll backs it up; callers compare contents, so extra calls are cheap.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export interface Watcher {
  close(): void;
}

export interface WatchOptions {
  debounceMs: number;
  pollMs: number;
  onError: (err: Error, dir: string) => void;
}

/** Calls `onChange` (debounced) when anything changes in the directories holding `paths`. */
export async function watchPaths(paths: readonly string[], onChange: () => void, opts: WatchOptions): Promise<Watcher> {
  const dirs = new Map<string, boolean>(); // dir → recursive
  for (const p of paths) {
    const isDir = await stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const dir = isDir ? path.resolve(p) : path.dirname(path.resolve(p));
    dirs.set(dir, (dirs.get(dir) ?? false) || isDir);
  }
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, opts.debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, recursive] of dirs) {
    try {
      const w = watch(dir, { recursive, persistent: false }, fire);
      w.on('error', (err) => opts.onError(err, dir));
      watchers.push(w);
    } catch (err) {
      opts.onError(err as Error, dir);
    }
  }
  const poll = setInterval(onChange, opts.pollMs);
  poll.unref();
  return {
    close() {
      clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}
