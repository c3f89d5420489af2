// Bad input never crashes the server and never gets an allow: every case is answered with
// an AdmissionReview (uid echoed when there is one) and the exact status and body below.
import { connect } from 'node:tls';
import type { ClusterView } from '../../src/cluster/view.js';
import { GENEROUS_MS } from '../support/wait.js';
import { eventually, startHarness, type Harness } from './harness.js';
import { admissionReview } from './reviews.js';
import { webPod, webService } from './objects.js';

const V1 = 'admission.k8s.io/v1';
const refused = (code: number, message: string, uid = '', apiVersion = V1) => ({
  apiVersion,
  kind: 'AdmissionReview',
  response: { uid, allowed: false, status: { code, message } },
});

const validReview = () => admissionReview({ object: webPod(), uid: 'uid-1' });
const withRequest = (patch: Record<string, unknown>) => {
  const r = validReview();
  return { ...r, request: { ...r.request, ...patch } };
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { bodyLimitBytes: 64 * 1024 } });
});
afterAll(() => h.close());

describe('bodies that are not a usable AdmissionReview', () => {
  it.each([
    {
      name: 'malformed JSON',
      body: '{"apiVersion": "admission.k8s.io/v1", "kind": ',
      status: 400,
      reply: refused(400, 'the body is not valid JSON: Unexpected end of JSON input'),
    },
    { name: 'empty body', body: '', status: 400, reply: refused(400, 'the body is not valid JSON: Unexpected end of JSON input') },
    { name: 'a JSON array', body: '[]', status: 400, reply: refused(400, 'the body is not a JSON object; expected an admission.k8s.io/v1 AdmissionReview') },
    { name: 'JSON null', body: 'null', status: 400, reply: refused(400, 'the body is not a JSON object; expected an admission.k8s.io/v1 AdmissionReview') },
    {
      name: 'another kind of object',
      body: JSON.stringify(webPod()),
      status: 400,
      reply: refused(400, 'kind is "Pod"; expected AdmissionReview'),
    },
    {
      name: 'admission.k8s.io/v1beta1 (apiVersion and uid echoed)',
      body: JSON.stringify({ ...validReview(), apiVersion: 'admission.k8s.io/v1beta1' }),
      status: 400,
      reply: refused(
        400,
        'apiVersion "admission.k8s.io/v1beta1" is not supported; portcullis speaks admission.k8s.io/v1 (set admissionReviewVersions: [v1])',
        'uid-1',
        'admission.k8s.io/v1beta1',
      ),
    },
    {
      name: 'no request',
      body: JSON.stringify({ apiVersion: V1, kind: 'AdmissionReview' }),
      status: 400,
      reply: refused(400, 'request is missing; expected an AdmissionReview with a request'),
    },
    { name: 'no request.uid', body: JSON.stringify(withRequest({ uid: undefined })), status: 400, reply: refused(400, 'request.uid is missing') },
    { name: 'an empty request.uid', body: JSON.stringify(withRequest({ uid: '' })), status: 400, reply: refused(400, 'request.uid is missing') },
    {
      name: 'an unknown operation',
      body: JSON.stringify(withRequest({ operation: 'PATCH' })),
      status: 400,
      reply: refused(400, 'request.operation is "PATCH"; expected CREATE, UPDATE, DELETE or CONNECT', 'uid-1'),
    },
    {
      name: 'no request.kind',
      body: JSON.stringify(withRequest({ kind: undefined })),
      status: 400,
      reply: refused(400, 'request.kind is missing or has no kind and version', 'uid-1'),
    },
    {
      name: 'malformed JSON around a secret (V8 quotes the text near the error; the answer does not)',
      body: '{"apiVersion": "admission.k8s.io/v1", "env": [{"name": "API_TOKEN", "value": s3cr3t-api-token-do-not-log}]}',
      status: 400,
      reply: refused(400, "the body is not valid JSON: Unexpected token 's'"),
    },
    { name: 'a bare secret', body: 's3cr3t-api-token-do-not-log', status: 400, reply: refused(400, "the body is not valid JSON: Unexpected token 's'") },
    {
      name: 'an object where kind belongs (shown by its type only)',
      body: JSON.stringify({ apiVersion: V1, kind: { env: [{ value: 's3cr3t-api-token-do-not-log' }] }, request: { uid: 'uid-k' } }),
      status: 400,
      reply: refused(400, 'kind is a object; expected AdmissionReview', 'uid-k'),
    },
    {
      name: 'no kind',
      body: JSON.stringify({ apiVersion: V1, request: { uid: 'uid-k' } }),
      status: 400,
      reply: refused(400, 'kind is missing; expected AdmissionReview', 'uid-k'),
    },
    {
      name: 'no apiVersion',
      body: JSON.stringify({ kind: 'AdmissionReview', request: { uid: 'uid-k' } }),
      status: 400,
      reply: refused(400, 'apiVersion is missing; portcullis speaks admission.k8s.io/v1 (set admissionReviewVersions: [v1])', 'uid-k'),
    },
    {
      name: 'CREATE without an object',
      body: JSON.stringify(withRequest({ object: null })),
      status: 400,
      reply: refused(400, 'request.object is missing; a CREATE carries the object', 'uid-1'),
    },
    {
      // The API server sends the object as the kind request.kind names; a review where they
      // differ is not one it sent, and judging either kind could be the wrong answer.
      name: 'a Pod object under request.kind ConfigMap',
      body: JSON.stringify(withRequest({ kind: { group: '', version: 'v1', kind: 'ConfigMap' } })),
      status: 400,
      reply: refused(400, 'request.object is kind "Pod" in group ""; request.kind says "ConfigMap" in group ""', 'uid-1'),
    },
    {
      name: 'a ConfigMap object under request.kind Pod',
      body: JSON.stringify(withRequest({ object: { ...webPod(), apiVersion: 'v1', kind: 'ConfigMap' } })),
      status: 400,
      reply: refused(400, 'request.object is kind "ConfigMap" in group ""; request.kind says "Pod" in group ""', 'uid-1'),
    },
    {
      name: 'a Pod object under another group',
      body: JSON.stringify(withRequest({ object: { ...webPod(), apiVersion: 'example.com/v1' } })),
      status: 400,
      reply: refused(400, 'request.object is kind "Pod" in group "example.com"; request.kind says "Pod" in group ""', 'uid-1'),
    },
    {
      name: 'an UPDATE whose oldObject is another kind',
      body: JSON.stringify(withRequest({ operation: 'UPDATE', oldObject: { ...webPod(), kind: 'ConfigMap' } })),
      status: 400,
      reply: refused(400, 'request.oldObject is kind "ConfigMap" in group ""; request.kind says "Pod" in group ""', 'uid-1'),
    },
    {
      // Go's JSON decoder (the API server's) stops at 10,000 levels, so no review it sends is
      // this deep; V8's JSON.parse took 4.8 s over 3,000,000 levels, stalling every request.
      name: 'JSON nested deeper than 10,100 levels (refused before it is parsed)',
      body: `{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "uid-deep", "x": ${'['.repeat(10_101)}${']'.repeat(10_101)}}}`,
      status: 400,
      reply: refused(400, 'the body is nested deeper than 10,100 levels; the API server sends no JSON deeper than 10,000'),
    },
  ])('$name → $status', async ({ body, status, reply }) => {
    for (const endpoint of ['/validate', '/mutate']) {
      const res = await h.post(endpoint, body, { raw: true });
      expect({ status: res.status, json: res.json }).toEqual({ status, json: reply });
      expect(res.headers.get('content-type')).toBe('application/json');
    }
  });
});

describe('transport problems', () => {
  // The API server always sends application/json; `curl --data` sends a form type unless told
  // otherwise. The body decides: JSON is judged, anything else is refused by the JSON parser.
  it.each([
    { name: 'application/json with a charset', type: 'application/json; charset=utf-8' },
    { name: 'curl --data without -H', type: 'application/x-www-form-urlencoded' },
    { name: 'text/plain', type: 'text/plain' },
    { name: 'no content type', type: '' },
  ])('content type $name: the JSON body is judged', async ({ type }) => {
    const res = await h.post('/validate', validReview(), { headers: { 'content-type': type } });
    expect({ status: res.status, json: res.json }).toEqual({
      status: 200,
      json: { apiVersion: V1, kind: 'AdmissionReview', response: { uid: 'uid-1', allowed: true } },
    });
  });

  it.each([
    {
      name: 'a request line that is not HTTP',
      raw: 'HELLO\r\n\r\n',
      status: 400,
      head: 'HTTP/1.1 400 Bad Request',
      message: /^the request is not valid HTTP\/1\.1 \(HPE_/,
    },
    {
      name: 'headers over 16 KiB',
      raw: `POST /validate HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'x'.repeat(20 * 1024)}\r\n\r\n`,
      status: 431,
      head: 'HTTP/1.1 431 Request Header Fields Too Large',
      message: /^the request headers are too large$/,
    },
  ])('$name, refused by Node before the app → $status with a JSON body', async ({ raw, status, head, message }) => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: h.server.webhookPort, ca: h.ca.cert, servername: 'localhost' }, () => socket.write(raw));
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    const [top, body] = reply.split('\r\n\r\n');
    expect(top.split('\r\n')[0]).toBe(head);
    expect(top.toLowerCase()).toContain('content-type: application/json');
    const json = JSON.parse(body);
    expect(json).toEqual(refused(status, expect.stringMatching(message) as unknown as string));
    // The server goes on answering.
    expect((await h.post('/validate', validReview())).json.response).toEqual({ uid: 'uid-1', allowed: true });
  });

  it.each([
    { name: "the API server's default", query: 'timeout=10s' },
    { name: 'a short one', query: 'timeout=500ms' },
    { name: 'one past what setTimeout can hold (capped at 30 s)', query: 'timeout=1000h' },
    { name: 'an unreadable one (the 10 s default)', query: 'timeout=soon' },
  ])('a timeout parameter: $name → judged', async ({ query }) => {
    const res = await h.post('/validate', validReview(), { query });
    expect({ status: res.status, json: res.json }).toEqual({
      status: 200,
      json: { apiVersion: V1, kind: 'AdmissionReview', response: { uid: 'uid-1', allowed: true } },
    });
  });

  const tooLarge = refused(413, 'the body is larger than the 65536-byte limit (two 3 MiB objects and the review around them)');
  const big = () => {
    const pod = webPod();
    pod.metadata.annotations.padding = 'x'.repeat(70 * 1024);
    return JSON.stringify(admissionReview({ object: pod, uid: 'uid-big' }));
  };

  it('a body over the limit with a Content-Length → 413', async () => {
    const res = await h.post('/validate', big(), { raw: true });
    expect({ status: res.status, json: res.json }).toEqual({ status: 413, json: tooLarge });
  });

  it('a chunked body that grows over the limit → 413, and the server keeps answering', async () => {
    const text = big();
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < text.length; i += 8192) controller.enqueue(new TextEncoder().encode(text.slice(i, i + 8192)));
        controller.close();
      },
    });
    const { fetch } = await import('undici');
    const res = await fetch(h.url('/validate'), {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { 'content-type': 'application/json' },
      dispatcher: h.dispatcher,
    });
    expect({ status: res.status, json: await res.json() }).toEqual({ status: 413, json: tooLarge });
    const after = await h.post('/validate', validReview());
    expect(after.json.response).toEqual({ uid: 'uid-1', allowed: true });
  });

  it('bodies being read at once past their byte budget → 503 for the one that goes over; the bytes are given back when the others go', async () => {
    // 40 connections each holding most of a 7 MiB body took the process from 120 to 349 MiB
    // of RSS; without a budget, more pass any container memory limit.
    const s = await startHarness({ config: { bodyLimitBytes: 64 * 1024, bodyBytesInFlight: 100 * 1024 } });
    const held: ReturnType<typeof connect>[] = [];
    try {
      const hold = () =>
        new Promise<ReturnType<typeof connect>>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port: s.server.webhookPort, ca: s.ca.cert, servername: 'localhost' }, () => {
            socket.write('POST /validate?timeout=30s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 65000\r\n\r\n');
            socket.write(' '.repeat(45 * 1024), () => resolve(socket));
          });
          socket.on('error', reject);
          held.push(socket);
        });
      await hold();
      await hold();
      // 90 KiB of the 100 are held; this body's first chunks take it over.
      const pod = webPod();
      pod.metadata.annotations.padding = 'x'.repeat(20 * 1024);
      const res = await s.post('/validate', admissionReview({ object: pod, uid: 'uid-medium' }));
      expect({ status: res.status, json: res.json }).toEqual({
        status: 503,
        json: refused(503, 'the webhook holds 102400 bytes of request bodies it has not answered yet, its limit; retry'),
      });
      for (const socket of held) socket.destroy();
      await eventually(async () => (await s.post('/validate', validReview())).json.response?.allowed === true);
    } finally {
      for (const socket of held) socket.destroy();
      await s.close();
    }
  });

  it('a client that stalls in its headers is answered 408 with a JSON body, by the headers timeout', async () => {
    // 'the request did not arrive in time' is also what the 30 s whole-request backstop says;
    // waiting at most GENEROUS_MS (15 s) tells the two apart, and it is past the API server's
    // 10 s only on a failing run. How quickly the 408 comes is timed by test:hostile
    // (test/hostile/timeouts.hostile.ts).
    const s = await startHarness({ config: { headersTimeoutMs: 500 } });
    try {
      const raw = await answerTo(s, 'POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl');
      const [head, body] = raw.split('\r\n\r\n');
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(JSON.parse(body)).toEqual(refused(408, 'the request did not arrive in time'));
    } finally {
      await s.close();
    }
  });

  it('a client that stalls mid-body is answered 408 by the deadline of its timeout parameter, never before', async () => {
    // The message names the deadline: 80 % (timeoutBudgetShare) of the 1 s the request gives,
    // set by the body reader's own timer (the 30 s backstop would answer another message).
    // A timer never fires early, so the lower bound holds on any machine; that the answer
    // beats the API server's 1 s is timed by test:hostile (test/hostile/timeouts.hostile.ts).
    const started = performance.now();
    const raw = await answerTo(
      h,
      'POST /validate?timeout=1s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"apiVersion":"admission.k8s.io/v1",',
    );
    const elapsed = performance.now() - started;
    const [head, body] = raw.split('\r\n\r\n');
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(body)).toEqual(refused(408, 'the body did not arrive within 800 ms'));
    expect(elapsed).toBeGreaterThanOrEqual(790);
  });
});

/**
 * Writes `request` on a new TLS connection and resolves with everything the server sends
 * until it closes the connection; rejects (and closes it) if that takes over GENEROUS_MS, so
 * a server that never answers fails the test instead of hanging it.
 */
function answerTo(s: Harness, request: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: s.server.webhookPort, ca: s.ca.cert, servername: 'localhost' }, () => socket.write(request));
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${GENEROUS_MS} ms`));
    }, GENEROUS_MS);
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('end', () => {
      clearTimeout(deadline);
      resolve(data);
    });
    socket.on('error', (err: Error) => {
      clearTimeout(deadline);
      reject(err);
    });
  });
}

describe('objects nested deeper than a remediation copies', () => {
  // Within what the API server decodes (10,000 levels), but deeper than structuredClone and
  // the JSON Patch diff can recurse on the Deployment's stack (about 1,600 levels).
  const shallowService = () => webService({ nodePorts: [40000, 30011, 30012] });
  const deepService = () => {
    const svc = shallowService();
    let nested: unknown = 1;
    for (let i = 0; i < 2_000; i++) nested = [nested];
    (svc.spec as Record<string, unknown>).deep = nested;
    return admissionReview({ object: svc, uid: 'uid-deep-svc' });
  };

  it('/mutate leaves it as it is and says why; /validate still judges it', async () => {
    const mutated = await h.post('/mutate', deepService());
    expect({ status: mutated.status, response: mutated.json.response }).toEqual({
      status: 200,
      response: {
        uid: 'uid-deep-svc',
        allowed: true,
        warnings: [expect.stringMatching(/^portcullis left as is: the object goes over the engine's limit of 1,000 levels of nesting/) as unknown as string],
      },
    });
    const validated = await h.post('/validate', deepService());
    const shallow = await h.post('/validate', admissionReview({ object: shallowService(), uid: 'uid-deep-svc' }));
    expect({ status: validated.status, response: validated.json.response }).toEqual({ status: 200, response: shallow.json.response });
  });
});

describe('requests that are not judged', () => {
  it.each([
    {
      name: 'a ConfigMap (a kind portcullis does not check)',
      review: admissionReview({
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'team-a' }, data: { hostPort: '10250' } },
        uid: 'cm',
      }),
    },
    {
      name: 'a Cilium policy of an unserved version',
      review: admissionReview({
        object: { apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumNetworkPolicy', metadata: { name: 'p', namespace: 'team-a' }, spec: {} },
        uid: 'cm',
      }),
    },
  ])('$name → allowed, no-op', async ({ review }) => {
    for (const endpoint of ['/validate', '/mutate']) {
      const res = await h.post(endpoint, review);
      expect({ status: res.status, json: res.json }).toEqual({
        status: 200,
        json: { apiVersion: V1, kind: 'AdmissionReview', response: { uid: 'cm', allowed: true } },
      });
    }
  });
});

describe('HTTP routing', () => {
  it.each([
    { name: 'GET /validate', method: 'GET', path: '/validate', status: 405, body: { error: 'method GET is not allowed; POST an AdmissionReview' } },
    { name: 'PUT /mutate', method: 'PUT', path: '/mutate', status: 405, body: { error: 'method PUT is not allowed; POST an AdmissionReview' } },
    { name: 'POST /', method: 'POST', path: '/', status: 404, body: { error: 'no such endpoint: POST /; use POST /validate or POST /mutate' } },
  ])('$name → $status', async ({ method, path, status, body }) => {
    const { fetch } = await import('undici');
    const res = await fetch(h.url(path), {
      method,
      dispatcher: h.dispatcher,
      body: method === 'GET' ? undefined : '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect({ status: res.status, body: await res.json() }).toEqual({ status, body });
  });
});

describe('internal errors', () => {
  it('answer 500 with the uid so failurePolicy decides, and are logged with the uid', async () => {
    const broken: ClusterView = {
      synced: () => true,
      policies: () => null,
      namespaceLabels: async () => undefined,
      nodeAddresses: () => {
        throw new TypeError('cache corrupted');
      },
      nodePortsInUse: () => new Set(),
      stop: async () => {},
    };
    const b = await startHarness({ view: broken });
    try {
      const res = await b.post('/validate', admissionReview({ object: webPod(), uid: 'uid-500' }));
      expect({ status: res.status, json: res.json }).toEqual({
        status: 500,
        json: refused(500, 'portcullis failed on this request (uid uid-500); its log has the details', 'uid-500'),
      });
      const line = b.logs.find((l) => l.msg === 'internal error while answering an admission request');
      expect(line).toMatchObject({ level: 'error', uid: 'uid-500', endpoint: 'validate', err: { type: 'TypeError', message: 'cache corrupted' } });
      // The pod's env holds a token: not in the error line, nor anywhere else in the log.
      expect(JSON.stringify(b.logs)).not.toContain('s3cr3t-api-token-do-not-log');
      const metrics = await b.ops('/metrics');
      expect(metrics.text).toContain('portcullis_admission_requests_total{endpoint="validate",kind="Pod",operation="CREATE",verdict="error"} 1');
    } finally {
      await b.close();
    }
  });
});

describe('the log of all the requests above', () => {
  it('never holds the env value some of their bodies carried', () => {
    expect(h.logs.length).toBeGreaterThan(20);
    expect(h.logs.filter((l) => l.msg === 'admission request refused').length).toBeGreaterThan(10);
    expect(JSON.stringify(h.logs)).not.toContain('s3cr3t');
  });
});
