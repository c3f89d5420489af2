// Connections and TLS on the real HTTPS server: the protocol profile (a real OpenSSL client
// offering one suite at a time), the handshake and header timeouts, half-closed sockets
// reaped, and the connection cap closing unused and idle connections before refusing any.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { eventually, servingCert, startHarness, writeAtomic, type Harness } from './harness.js';
import { within } from '../support/wait.js';
import { webPod } from './objects.js';
import { admissionReview } from './reviews.js';

/** Resolves with the negotiated protocol and suite, or the handshake's error code. */
function handshake(
  port: number,
  ca: string,
  opts: ConnectionOptions,
): Promise<{ ok: true; protocol: string | null; cipher: string } | { ok: false; code: string }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...opts }, () => {
      const result = { ok: true as const, protocol: socket.getProtocol(), cipher: socket.getCipher().standardName };
      socket.destroy();
      resolve(result);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ok: false, code: err.code ?? err.message });
    });
  });
}

const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

/** A TLS connection that has done its handshake and nothing else. */
function openTls(h: Harness, opts: { allowHalfOpen?: boolean } = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen is a net.Socket option tls.connect passes on; its types leave it out.
    const socket = tlsConnect(
      { host: '127.0.0.1', port: h.server.webhookPort, ca: h.ca.cert, servername: 'localhost', allowHalfOpen: opts.allowHalfOpen } as ConnectionOptions,
      () => resolve(socket),
    );
    socket.once('error', reject);
  });
}

const reviewBody = JSON.stringify(admissionReview({ object: webPod() }));
const requestHead = `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(reviewBody)}\r\n\r\n`;

/** Sends one whole request on a keep-alive connection and waits for the whole answer. */
function roundTrip(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const head = text.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1]);
      if (head >= 0 && Buffer.byteLength(text) >= head + 4 + length) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(requestHead + reviewBody);
  });
}

const metricValue = async (h: Harness, sample: string): Promise<number> => {
  const line = (await h.ops('/metrics')).text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? NaN : Number(line.slice(sample.length + 1));
};

describe('TLS: Mozilla intermediate', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  // The serving certificate is ECDSA, so the TLS 1.2 suites offered are the ECDSA ones.
  const rows = [
    { name: 'TLS 1.3', opts: {}, ok: true, protocol: 'TLSv1.3' },
    { name: 'TLS 1.2 with ECDHE AES-128-GCM', opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, ok: true, protocol: 'TLSv1.2' },
    { name: 'TLS 1.2 with ECDHE AES-256-GCM', opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }, ok: true, protocol: 'TLSv1.2' },
    { name: 'TLS 1.2 with ECDHE ChaCha20-Poly1305', opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }, ok: true, protocol: 'TLSv1.2' },
    {
      name: 'TLS 1.2 offering only CBC with SHA-1',
      opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA' },
      ok: false,
      protocol: null,
    },
    {
      name: 'TLS 1.2 offering only CBC with SHA-256',
      opts: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384' },
      ok: false,
      protocol: null,
    },
    // OpenSSL 3 offers TLS 1.1 only at security level 0.
    { name: 'TLS 1.1', opts: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, ok: false, protocol: null },
  ] as const;

  it.each(rows)('$name: accepted $ok', async ({ opts, ok, protocol }) => {
    const result = await handshake(h.server.webhookPort, h.ca.cert, opts);
    expect(result.ok).toBe(ok);
    if (result.ok) expect(result.protocol).toBe(protocol);
  });

  it('keeps the profile on a reloaded certificate', async () => {
    const renewed = await servingCert(h.ca);
    await writeAtomic(h.tlsDir, { 'tls.crt': renewed.cert, 'tls.key': renewed.key, 'ca.crt': h.ca.cert }, 1);
    const reload = await h.server.reloadCertificate();
    expect(reload).toMatchObject({ changed: true, ok: true });
    for (const row of rows) expect((await handshake(h.server.webhookPort, h.ca.cert, row.opts as ConnectionOptions)).ok).toBe(row.ok);
    expect(await metricValue(h, 'portcullis_connections_closed_total{event="handshake-failed"}')).toBeGreaterThanOrEqual(6);
  });
});

describe('the TLS handshake timeout', () => {
  let h: Harness;
  // The other timeouts far away: only the handshake timeout closes these within the deadline.
  beforeAll(async () => {
    h = await startHarness({ config: { tlsHandshakeTimeoutMs: 300, headersTimeoutMs: 25_000, halfClosedTimeoutMs: 60_000 } });
  });
  afterAll(async () => h.close());

  it('closes TCP connections that never send a ClientHello at the handshake timeout', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = netConnect(h.server.webhookPort, '127.0.0.1', () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    try {
      await within('the server to close all 50 connections', Promise.all(sockets.map(closed)));
      await eventually(async () => (await metricValue(h, 'portcullis_connections_closed_total{event="handshake-timeout"}')) >= 50, 5000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});

describe('timeouts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { tlsHandshakeTimeoutMs: 300, headersTimeoutMs: 500, halfClosedTimeoutMs: 300 } });
  });
  afterAll(async () => h.close());

  it('answers 408 to a connection that sends no request, then reaps it though the client never closes its side', async () => {
    const socket = await openTls(h, { allowHalfOpen: true });
    try {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
      const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
      await ended;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).response.status).toEqual({ code: 408, message: 'the request did not arrive in time' });
      // Our side stays open (allowHalfOpen); the server destroys its socket anyway.
      expect(socket.writable).toBe(true);
      await eventually(async () => (await new Promise<number>((r) => h.server.webhook.getConnections((_, n) => r(n)))) === 0, 10_000);
    } finally {
      socket.destroy();
    }
  });

  it('reaps a half-closed socket after a 408 to headers that stopped halfway', async () => {
    const socket = await openTls(h, { allowHalfOpen: true });
    try {
      socket.write('POST /validate HTTP/1.1\r\nHost: localhost\r\n');
      socket.resume();
      await new Promise<void>((resolve) => socket.once('end', () => resolve()));
      await eventually(async () => (await new Promise<number>((r) => h.server.webhook.getConnections((_, n) => r(n)))) === 0, 10_000);
    } finally {
      socket.destroy();
    }
  });
});

describe('the connection cap', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ config: { maxConnections: 5 } });
  });
  afterEach(async () => h.close());

  const event = (name: string) => metricValue(h, `portcullis_connections_closed_total{event="${name}"}`);

  it('makes room by closing the oldest unused connection, then the oldest idle one, never one the client is using', async () => {
    const used = [await openTls(h), await openTls(h), await openTls(h)];
    const sockets = [...used];
    try {
      for (const s of used) expect(await roundTrip(s)).toMatch(/^HTTP\/1\.1 200 /);
      const unused = [await openTls(h), await openTls(h)];
      sockets.push(...unused);
      // Five open: each new connection closes one.
      sockets.push(await openTls(h));
      await closed(unused[0]);
      sockets.push(await openTls(h));
      await closed(unused[1]);
      expect(await event('closed-unused-at-cap')).toBe(2);
      // Still an unused connection (the newest) among the used ones: it goes before any idle one.
      sockets.push(await openTls(h));
      await eventually(async () => (await event('closed-unused-at-cap')) === 3);
      expect(await event('closed-idle-at-cap')).toBe(0);
      // The keep-alive connections still answer.
      for (const s of used) expect(await roundTrip(s)).toMatch(/^HTTP\/1\.1 200 /);
      expect(await event('refused-at-cap')).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });

  it('closes the longest idle keep-alive connection when none is unused', async () => {
    const used: TLSSocket[] = [];
    try {
      for (let i = 0; i < 5; i++) used.push(await openTls(h));
      for (const s of used) expect(await roundTrip(s)).toMatch(/^HTTP\/1\.1 200 /);
      // used[0] answered first, then used[1]...: used[0] has been idle longest. Use it again: used[1] is now.
      expect(await roundTrip(used[0])).toMatch(/^HTTP\/1\.1 200 /);
      const newcomer = await openTls(h);
      used.push(newcomer);
      await closed(used[1]);
      expect(await event('closed-idle-at-cap')).toBe(1);
      expect(await roundTrip(newcomer)).toMatch(/^HTTP\/1\.1 200 /);
      expect(await roundTrip(used[0])).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const s of used) s.destroy();
    }
  });

  it('refuses a connection only while every one is busy, and takes it again once one is idle', async () => {
    const busy: TLSSocket[] = [];
    let started = 0;
    h.server.webhook.on('request', () => started++);
    try {
      for (let i = 0; i < 5; i++) busy.push(await openTls(h));
      // Headers sent, body held back: five requests in progress.
      const answers = busy.map((s) => {
        const answered = new Promise<string>((resolve) => {
          let text = '';
          s.on('data', (c: Buffer) => {
            text += c.toString('utf8');
            if (text.includes('\r\n\r\n{')) resolve(text);
          });
        });
        s.write(requestHead);
        return answered;
      });
      // Once the server has seen all five requests start, a sixth connection finds no room.
      await eventually(() => started === 5, 10_000);
      expect(await handshake(h.server.webhookPort, h.ca.cert, {})).toEqual({ ok: false, code: expect.any(String) });
      expect(await event('refused-at-cap')).toBe(1);
      for (const s of busy) s.write(reviewBody);
      for (const a of await Promise.all(answers)) expect(a).toMatch(/^HTTP\/1\.1 200 /);
      // Idle now: a new connection closes one of them and gets in.
      expect((await handshake(h.server.webhookPort, h.ca.cert, {})).ok).toBe(true);
    } finally {
      for (const s of busy) s.destroy();
    }
  });

  it('exports the number of open connections', async () => {
    const sockets = [await openTls(h), await openTls(h)];
    try {
      await eventually(async () => (await metricValue(h, 'portcullis_connections_open')) === 2);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await eventually(async () => (await metricValue(h, 'portcullis_connections_open')) === 0);
  });
});
