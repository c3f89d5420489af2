// The sample AdmissionReviews in examples/admission, which the README's curl commands and
// the benchmark use: built here from the test objects (UPDATE_EXAMPLES=1 rewrites them),
// and answered as the README says when the server runs with examples/policies (npm start).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { patchOf, startHarness, type Harness } from './harness.js';
import { DNS_EGRESS, egressPolicy, logAgent, webPod, webService } from './objects.js';
import { admissionReview } from './reviews.js';
import { readmeSection } from '../support/readme.js';

const DIR = path.resolve(import.meta.dirname, '../../examples/admission');

const EXAMPLES = [
  {
    name: 'pod-3-containers',
    review: () => admissionReview({ object: webPod(), uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000001' }),
    allowed: true,
    rules: [] as string[],
  },
  {
    name: 'pod-hostport-kubelet',
    review: () => admissionReview({ object: webPod({ hostPorts: { metrics: 10250, http: 8080 } }), uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000002' }),
    allowed: false,
    rules: ['hostport-not-allowed', 'hostport-reserved'],
  },
  { name: 'service-multiport', review: () => admissionReview({ object: webService(), uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000003' }), allowed: true, rules: [] },
  {
    name: 'service-nodeport-out-of-range',
    review: () => admissionReview({ object: webService({ nodePorts: [30010, 40000, 30012] }), uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000004' }),
    allowed: false,
    rules: ['nodeport-range'],
  },
  {
    name: 'networkpolicy-dns',
    review: () => admissionReview({ object: egressPolicy({ name: 'allow-dns', egress: DNS_EGRESS }), uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000005' }),
    allowed: true,
    rules: [],
  },
  {
    name: 'networkpolicy-kubelet-egress',
    review: () => admissionReview({ object: egressPolicy(), uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000006' }),
    allowed: false,
    rules: ['netpol-sensitive-exposure'],
  },
  {
    name: 'daemonset-update-carried-over',
    review: () =>
      admissionReview({
        operation: 'UPDATE',
        object: logAgent({ image: 'fluent/fluent-bit:4.1' }),
        oldObject: logAgent(),
        uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000007',
      }),
    allowed: true,
    rules: ['hostport-not-allowed', 'hostport-reserved'],
  },
  {
    name: 'daemonset-delete',
    review: () => admissionReview({ operation: 'DELETE', object: logAgent(), uid: 'e0b1f1a2-1c3d-4e5f-8a9b-000000000008' }),
    allowed: true,
    rules: [],
  },
];

const text = (review: unknown) => `${JSON.stringify(review, null, 2)}\n`;

describe('examples/admission', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { policyPaths: [path.resolve(DIR, '../policies')] } });
  });
  afterAll(() => h.close());

  it.each(EXAMPLES)('$name.json is up to date and answered allowed=$allowed', async ({ name, review, allowed, rules }) => {
    const file = path.join(DIR, `${name}.json`);
    if (process.env.UPDATE_EXAMPLES === '1') await writeFile(file, text(review()));
    const written = await readFile(file, 'utf8');
    expect(written).toBe(text(review()));
    const res = await h.post('/validate', written, { raw: true });
    expect(res.status).toBe(200);
    expect(res.json.response.uid).toBe(review().request.uid);
    expect(res.json.response.allowed).toBe(allowed);
    const line = h.logs.filter((l) => l.uid === review().request.uid).at(-1)!;
    expect(line.rules).toEqual(rules);
  });

  it("the webhook README's curl of pod-hostport-kubelet.json shows the real answer", async () => {
    const readme = readmeSection('The admission webhook: `portcullis serve`');
    const curl =
      /curl --cacert \S+ -H 'Content-Type: application\/json' \\\n\s+--data @(examples\/admission\/\S+\.json) https:\/\/localhost:8443\/validate\n```\n\n```json\n([\s\S]*?)\n```/.exec(
        readme,
      );
    expect(curl).not.toBeNull();
    const res = await h.post('/validate', await readFile(path.resolve(DIR, '../..', curl![1]), 'utf8'), { raw: true });
    expect(JSON.parse(curl![2])).toEqual(res.json);
  });

  it('service-nodeport-out-of-range.json is fixed by /mutate with examples/admission/policies', async () => {
    const m = await startHarness({ config: { policyPaths: [path.join(DIR, 'policies')] } });
    try {
      const res = await m.post('/mutate', await readFile(path.join(DIR, 'service-nodeport-out-of-range.json'), 'utf8'), { raw: true });
      expect(patchOf(res.json.response)).toEqual([{ op: 'remove', path: '/spec/ports/1/nodePort' }]);
    } finally {
      await m.close();
    }
  });
});
