// `portcullis serve` as a child process, as the kubelet or a user starts it: a serving
// certificate from a CA made at test time in a temporary directory, kernel-picked ports, the
// CLI run from src/ through a resolve hook (no build, never a stale dist/).
//
// A child that dies (a crash, V8's "heap out of memory" abort) fails the test that is waiting
// on it at once, saying how it ended and what it last wrote to stderr: every wait on the child
// goes through alive() or waitFor() below, never a bare promise that a dead child leaves
// pending until jest's timeout.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GENEROUS_MS, waitFor } from '../support/wait.js';
import { freePort, makeCa, servingCert, type Pem } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Node's arguments that run `portcullis serve` from src/, with the repository root as the working directory. */
export const SERVE_COMMAND: readonly string[] = [
  '--experimental-transform-types',
  '--disable-warning=ExperimentalWarning',
  '--import',
  path.join(ROOT, 'test/webhook/ts-loader.mjs'),
  'src/cmd/cli.ts',
  'serve',
];

/**
 * The stderr kept for the message: V8's out-of-memory report (its last GCs, the FATAL ERROR
 * line and a native stack) is about 3 KiB; a crash's stack trace is smaller.
 */
const STDERR_TAIL_BYTES = 16 * 1024;
/** Lines of that tail quoted in a failure. */
const STDERR_TAIL_LINES = 20;
/**
 * How long a failed wait gives the child's exit to become known before reporting the failure
 * as it is: a connection the dying child dropped fails first, and 'close' waits for the
 * child's output to end. Only a failure waits this long, never a pass.
 */
const EXIT_NOTICE_MS = 5_000;
/** How long stop() lets the child drain before SIGKILL: its own grace period is 30 s at most. */
const STOP_DEADLINE_MS = 40_000;

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the child could not be started at all. */
  spawnError?: string;
}

export interface ServeProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Holds tls.crt and tls.key; stop() removes it. */
  dir: string;
  ca: Pem;
  port: number;
  metricsPort: number;
  /** Everything written to stdout so far (the JSON log, one line per entry). */
  stdout(): string;
  /** The last STDERR_TAIL_BYTES written to stderr. */
  stderr(): string;
  /** Settles when the child has exited, however it ended. */
  exited: Promise<ServeExit>;
  /** How the child ended, or null while it runs. */
  exit(): ServeExit | null;
  /** Whether a failure has already said how the child died (a case's cleanup need not say it again). */
  exitReported(): boolean;
  /** Throws the death message when the child has exited: for checks that do not wait. */
  throwIfExited(doing: string): void;
  /** `work`, unless the child exits first: then a rejection with the death message. */
  alive<T>(work: Promise<T>, doing: string): Promise<T>;
  /** Polls `check` (test/support/wait.ts), failing at once when the child exits. */
  waitFor<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  /**
   * Ends the child (`signal`, then SIGKILL if it is still running after STOP_DEADLINE_MS),
   * waits for its exit and removes `dir`. Safe to call on a dead child and more than once.
   */
  stop(signal?: NodeJS.Signals): Promise<ServeExit>;
}

/** The child has exited while a test still needed it. */
export class ServeExitError extends Error {
  override name = 'ServeExitError';
}

/** "portcullis serve exited (signal SIGABRT) while …", with the last lines of its stderr. */
export function describeExit(exit: ServeExit, doing: string, stderr: string): string {
  const how =
    exit.spawnError !== undefined
      ? `could not start (${exit.spawnError})`
      : exit.signal !== null
        ? `exited (signal ${exit.signal})`
        : `exited (code ${exit.code})`;
  // V8's native stack after a FATAL ERROR is addresses only: counted, not quoted, so the lines
  // that say why (the FATAL ERROR, the last collections, a JavaScript stack) stay in view.
  const all = stderr.trimEnd().split('\n');
  const frames = all.filter((l) => NATIVE_FRAME.test(l)).length;
  const lines = all.filter((l) => !NATIVE_FRAME.test(l)).slice(-STDERR_TAIL_LINES);
  if (frames > 0) lines.push(`(${frames} native stack frames left out)`);
  const tail = stderr.trim() === '' ? ['(nothing)'] : lines;
  return `portcullis serve ${how} while ${doing}; the last lines of its stderr:\n${tail.map((l) => `  | ${l}`).join('\n')}`;
}

/** What alive()'s exit branch rejects with; never seen outside it. */
const EXITED = new Error('portcullis serve exited');

/** " 3: 0xc70d60  [/…/node]": a frame of the native stack V8 prints when it aborts. */
const NATIVE_FRAME = /^\s*\d+: 0x[0-9a-f]+ /;

export async function spawnServe(opts: { args: string[]; nodeFlags?: string[]; env?: NodeJS.ProcessEnv }): Promise<ServeProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-serve-'));
  try {
    const ca = await makeCa();
    const leaf = await servingCert(ca);
    await writeFile(path.join(dir, 'tls.crt'), leaf.cert);
    await writeFile(path.join(dir, 'tls.key'), leaf.key);
    const [port, metricsPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        ...(opts.nodeFlags ?? []),
        ...SERVE_COMMAND,
        ...['--port', String(port), '--metrics-port', String(metricsPort), '--tls-cert', path.join(dir, 'tls.crt'), '--tls-key', path.join(dir, 'tls.key')],
        ...opts.args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env },
    );
    return watch(child, { dir, ca, port, metricsPort });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function watch(child: ChildProcessByStdio<null, Readable, Readable>, started: Pick<ServeProcess, 'dir' | 'ca' | 'port' | 'metricsPort'>): ServeProcess {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 2 * STDERR_TAIL_BYTES) stderr = stderr.slice(-STDERR_TAIL_BYTES);
  });
  let ended: ServeExit | null = null;
  // 'close' (not 'exit'): it comes after the child's stdout and stderr have ended, so the
  // message holds everything the child wrote. 'error' alone: it could not be started.
  const exited = new Promise<ServeExit>((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve((ended ??= { code, signal })));
    child.on('error', (err) => {
      if (child.pid === undefined) resolve((ended ??= { code: null, signal: null, spawnError: err.message }));
    });
  });
  let reported = false;
  const message = (doing: string) => {
    reported = true;
    return describeExit(ended!, doing, stderr.slice(-STDERR_TAIL_BYTES));
  };
  const throwIfExited = (doing: string) => {
    if (ended) throw new ServeExitError(message(doing));
  };
  const alive = async <T>(work: Promise<T>, doing: string): Promise<T> => {
    try {
      // The exit branch rejects with a marker: the message (and `reported`) is made only for
      // a failure that surfaces, not when the child exits long after `work` won the race.
      return await Promise.race([
        work,
        exited.then(() => {
          throw EXITED;
        }),
      ]);
    } catch (err) {
      if (!ended) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, EXIT_NOTICE_MS)))]);
        clearTimeout(timer);
      }
      if (!ended) throw err;
      throw new ServeExitError(message(doing), err === EXITED ? undefined : { cause: err });
    }
  };
  let stopping: Promise<ServeExit> | null = null;
  return {
    child,
    ...started,
    stdout: () => stdout,
    stderr: () => stderr.slice(-STDERR_TAIL_BYTES),
    exited,
    exit: () => ended,
    exitReported: () => reported,
    throwIfExited,
    alive,
    waitFor: (what, check, timeoutMs = GENEROUS_MS) =>
      alive(
        waitFor(
          what,
          () => {
            // Ends the poll too, not only the wait on it: no loop outlives a failed test.
            throwIfExited(`waiting for ${what}`);
            return check();
          },
          timeoutMs,
        ),
        `waiting for ${what}`,
      ),
    stop: (signal = 'SIGINT') =>
      (stopping ??= (async () => {
        if (!ended) {
          child.kill(signal);
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_DEADLINE_MS)));
          await Promise.race([exited, deadline]);
          clearTimeout(timer);
          if (!ended) child.kill('SIGKILL');
        }
        const exit = await exited;
        await rm(started.dir, { recursive: true, force: true });
        return exit;
      })()),
  };
}
