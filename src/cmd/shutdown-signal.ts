// What a long-running command (serve, controller) shuts down on: the first SIGTERM or SIGINT,
// and with `watchParent` the parent's exit. `npx portcullis …` runs the process under
// `sh -c`, which does not pass a SIGTERM on: the shell exits and this process is re-parented,
// which counts as a SIGTERM. In a pod the parent (the runtime, or none for PID 1) never changes.

/** Resolves to 'SIGTERM', 'SIGINT' or 'parent-exited', whichever comes first. */
export function shutdownSignal(watchParent: boolean): Promise<string> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    let orphaned: NodeJS.Timeout | undefined;
    const on = (signal: string): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      clearInterval(orphaned);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
    if (watchParent) {
      orphaned = setInterval(() => {
        if (process.ppid !== parent) on('parent-exited');
      }, 100);
      orphaned.unref();
    }
  });
}
