// Through the real webhook: service-external-ips judges only addresses an UPDATE adds (as
// DenyServiceExternalIPs does), and exemptions by requester read the AdmissionReview's userInfo.
import { startHarness, type Harness } from './harness.js';
import { logAgent } from './objects.js';
import { admissionReview, type Obj } from './reviews.js';

const POLICY = `
apiVersion: portcullis.dev/v1alpha1
kind: PortPolicy
metadata: {name: field}
spec:
  tenants:
    - name: team-a
      namespaces: ["team-a"]
      allowedExternalIPs: ["198.51.100.0/24"]
  exemptions:
    - namespaces: ["platform"]
      rules: ["hostport-reserved"]
      users: ["alice@example.com"]
      reason: "alice runs the node agents"
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: POLICY });
});
afterAll(() => h.close());

const service = (externalIPs: string[]) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'team-a' },
  spec: { type: 'ClusterIP', ports: [{ name: 'https', port: 443 }], externalIPs },
});
const deniedPaths = (r: Obj): string[] => (r.status?.message?.split('\n').slice(1) ?? []).map((l: string) => /at (\S+)/.exec(l)![1].replace(/:$/, ''));

describe('service-external-ips at the webhook', () => {
  it.each([
    {
      name: 'CREATE with an address outside the list',
      operation: 'CREATE' as const,
      object: service(['203.0.113.10']),
      oldObject: null,
      allowed: false,
      denied: ['spec.externalIPs[0]'],
    },
    { name: 'CREATE with an allowed address', operation: 'CREATE' as const, object: service(['198.51.100.7']), oldObject: null, allowed: true, denied: [] },
    {
      name: 'UPDATE keeping an address the Service had',
      operation: 'UPDATE' as const,
      object: service(['203.0.113.10']),
      oldObject: service(['203.0.113.10']),
      allowed: true,
      denied: [],
    },
    {
      name: 'UPDATE adding one: only the new address is judged, wherever it sits',
      operation: 'UPDATE' as const,
      object: service(['203.0.113.11', '203.0.113.10']),
      oldObject: service(['203.0.113.10']),
      allowed: false,
      denied: ['spec.externalIPs[0]'],
    },
  ])('$name', async ({ operation, object, oldObject, allowed, denied }) => {
    const r = (await h.post('/validate', admissionReview({ operation, object, oldObject }))).json.response;
    expect({ allowed: r.allowed, denied: deniedPaths(r) }).toEqual({ allowed, denied });
  });
});

describe('exemptions by requester at the webhook', () => {
  const agent = () => {
    const d = logAgent();
    d.metadata.namespace = 'platform';
    return d;
  };
  it.each([
    { name: 'the exempted user', username: 'alice@example.com', allowed: true },
    { name: 'another user', username: 'bob@example.com', allowed: false },
    // Pods a controller creates come from the controller's ServiceAccount, not from the user.
    { name: "the DaemonSet controller creating the user's pods", username: 'system:serviceaccount:kube-system:daemon-set-controller', allowed: false },
  ])('$name', async ({ username, allowed }) => {
    const review = admissionReview({ object: agent() });
    review.request.userInfo = { username, groups: ['system:authenticated'] };
    const r = (await h.post('/validate', review)).json.response;
    expect(r.allowed).toBe(allowed);
  });
});
