// `portcullis serve` as the kubelet runs it: a child process given a real SIGTERM while a
// request is half-sent. The CLI runs from src/ through a resolve hook, so the test needs no
// build and cannot run against a stale dist/.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { waitFor } from '../support/wait.js';
import { freePort } from './harness.js';
import { SERVE_COMMAND, spawnServe } from './serve-process.js';
import { webPod } from './objects.js';
import { admissionReview } from './reviews.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const readyz = (port: number) =>
  fetch(`http://127.0.0.1:${port}/readyz`).then(
    (r) => r.status,
    () => 0,
  );

it('finishes a request in flight after SIGTERM, turns unready, and exits 0', async () => {
  const serve = await spawnServe({ args: ['--policy', 'examples/policies', '--drain-delay', '0.3', '--grace-period', '5'] });
  const { ca, port, metricsPort } = serve;
  let socket: TLSSocket | undefined;
  try {
    // Every wait on the child goes through it: a child that crashes fails the test at once, saying how.
    await serve.waitFor('serve ready', async () => (await readyz(metricsPort)) === 200);

    const body = JSON.stringify(admissionReview({ object: webPod({ hostPorts: { metrics: 10250 } }), uid: 'sigterm' }));
    const half = Math.floor(body.length / 2);
    const s = connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' });
    socket = s;
    await serve.alive(new Promise((r) => s.once('secureConnect', r)), 'accepting a TLS connection');
    let raw = '';
    s.on('data', (d) => (raw += d));
    const ended = new Promise((r) => s.on('close', r));
    // Expect: 100-continue makes the server say when it has read the headers (Node answers
    // 100 Continue itself): from then on the request is in flight, whatever the machine's speed.
    s.write(
      `POST /validate?timeout=5s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
    );
    await serve.waitFor('request in flight', () => raw.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));

    serve.child.kill('SIGTERM');
    await serve.waitFor('not ready', async () => (await readyz(metricsPort)) === 503);
    s.write(body.slice(half));
    await serve.alive(ended, 'answering the request in flight');

    const [head, json] = raw.slice('HTTP/1.1 100 Continue\r\n\r\n'.length).split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(json).response).toMatchObject({ uid: 'sigterm', allowed: false, status: { code: 403 } });
    // Bounded, unlike awaiting `serve.exited`: a child that never exits fails here and is killed below.
    expect(await waitFor('serve exited', () => serve.exit())).toEqual({ code: 0, signal: null });
    const lines = serve
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual([
      'policy loaded',
      'serving',
      'shutting down',
      'draining: readiness is false',
      'admission decision',
      'drained: webhook server closed',
    ]);
    expect(lines[4]).toMatchObject({ uid: 'sigterm', verdict: 'denied' });
    expect(serve.stderr()).toBe('');
  } finally {
    socket?.destroy();
    // A failed assertion must not leave the server running.
    await serve.stop('SIGKILL');
  }
}, 20000);

it('under npm (npx, npm start), exits when the shell npm ran it in is killed without passing SIGTERM on', async () => {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const args = [
    process.execPath,
    ...SERVE_COMMAND,
    ...['--port', String(port), '--metrics-port', String(metricsPort), '--policy', 'examples/policies', '--drain-delay', '0.2'],
  ];
  // As npm runs it: `sh -c '<command>'`; `; true` keeps the shell from exec'ing node, so it stays the parent.
  const shell = spawn('sh', ['-c', `${args.map((a) => `'${a}'`).join(' ')}; true`], {
    cwd: ROOT,
    env: { ...process.env, npm_command: 'exec' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  shell.stdout.on('data', (d) => (stdout += d));
  // The shell's output closes when node, which shares it, has exited.
  const outputClosed = new Promise((r) => shell.stdout.on('close', r));
  try {
    await waitFor('serve ready', async () => (await readyz(metricsPort)) === 200);
    shell.kill('SIGTERM');
    // Gone: the ops server no longer answers (readyz gives 0 when the connection is refused).
    await waitFor('serve gone', async () => (await readyz(metricsPort)) === 0);
    await outputClosed;
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({ signal: 'parent-exited' });
    expect(lines.at(-1)).toMatchObject({ msg: 'drained: webhook server closed', forced: false });
  } finally {
    shell.kill('SIGKILL');
  }
}, 20000);
