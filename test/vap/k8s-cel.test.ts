// The test evaluator (test/support/k8s-cel) against the examples Kubernetes documents for
// its CEL libraries: the doc comments and tests of k8s.io/apiserver/pkg/cel/library
// (ip.go, cidr.go, cidr_test.go, lists.go) and the admission semantics of
// ValidatingAdmissionPolicy (https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/).
import { admit, evaluate, type AdmissionAttributes } from '../support/k8s-cel/index.js';

// Each row: an expression and what it returns, or `error` when it must fail at run time.
const LIBRARY: { name: string; expression: string; result?: unknown; error?: true }[] = [
  // ip.go
  { name: 'ip() of IPv4', expression: "ip('127.0.0.1').family()", result: 4n },
  { name: 'ip() of IPv6', expression: "ip('::1').family()", result: 6n },
  { name: 'ip() refuses an octet past 255', expression: "ip('127.0.0.256')", error: true },
  { name: 'ip() refuses :::1', expression: "ip(':::1')", error: true },
  { name: 'isIP IPv4', expression: "isIP('127.0.0.1')", result: true },
  { name: 'isIP IPv6', expression: "isIP('::1')", result: true },
  { name: 'isIP octet past 255', expression: "isIP('127.0.0.256')", result: false },
  { name: 'isIP :::1', expression: "isIP(':::1')", result: false },
  { name: 'isIP refuses leading zeros', expression: "isIP('010.0.0.1')", result: false },
  { name: 'isIP refuses a zone', expression: "isIP('fe80::1%eth0')", result: false },
  { name: 'isIP refuses IPv4-mapped IPv6', expression: "isIP('::ffff:1.2.3.4')", result: false },
  { name: 'isIP refuses three octets', expression: "isIP('10.0.1')", result: false },
  { name: 'ip.isCanonical IPv4', expression: "ip.isCanonical('127.0.0.1')", result: true },
  { name: 'ip.isCanonical lower-case IPv6', expression: "ip.isCanonical('2001:db8::abcd')", result: true },
  { name: 'ip.isCanonical upper-case IPv6', expression: "ip.isCanonical('2001:DB8::ABCD')", result: false },
  { name: 'ip.isCanonical uncompressed zeros', expression: "ip.isCanonical('2001:db8::0:0:0:abcd')", result: false },
  { name: 'family() == 4', expression: "ip('127.0.0.1').family() == 4", result: true },
  { name: 'family() == 6', expression: "ip('::1').family() == 6", result: true },
  { name: 'isUnspecified 0.0.0.0', expression: "ip('0.0.0.0').isUnspecified()", result: true },
  { name: 'isUnspecified 127.0.0.1', expression: "ip('127.0.0.1').isUnspecified()", result: false },
  { name: 'isUnspecified ::', expression: "ip('::').isUnspecified()", result: true },
  { name: 'isUnspecified ::1', expression: "ip('::1').isUnspecified()", result: false },
  { name: 'isLoopback 127.0.0.1', expression: "ip('127.0.0.1').isLoopback()", result: true },
  { name: 'isLoopback 192.168.0.1', expression: "ip('192.168.0.1').isLoopback()", result: false },
  { name: 'isLoopback ::1', expression: "ip('::1').isLoopback()", result: true },
  { name: 'isLoopback 2001:db8::abcd', expression: "ip('2001:db8::abcd').isLoopback()", result: false },
  { name: 'isLinkLocalMulticast 224.0.0.1', expression: "ip('224.0.0.1').isLinkLocalMulticast()", result: true },
  { name: 'isLinkLocalMulticast 224.0.1.1', expression: "ip('224.0.1.1').isLinkLocalMulticast()", result: false },
  { name: 'isLinkLocalMulticast ff02::1', expression: "ip('ff02::1').isLinkLocalMulticast()", result: true },
  { name: 'isLinkLocalMulticast fd00::1', expression: "ip('fd00::1').isLinkLocalMulticast()", result: false },
  { name: 'isLinkLocalUnicast 169.254.169.254', expression: "ip('169.254.169.254').isLinkLocalUnicast()", result: true },
  { name: 'isLinkLocalUnicast 192.168.0.1', expression: "ip('192.168.0.1').isLinkLocalUnicast()", result: false },
  { name: 'isLinkLocalUnicast fe80::1', expression: "ip('fe80::1').isLinkLocalUnicast()", result: true },
  { name: 'isLinkLocalUnicast fd80::1', expression: "ip('fd80::1').isLinkLocalUnicast()", result: false },
  { name: 'isGlobalUnicast 192.168.0.1', expression: "ip('192.168.0.1').isGlobalUnicast()", result: true },
  { name: 'isGlobalUnicast 255.255.255.255', expression: "ip('255.255.255.255').isGlobalUnicast()", result: false },
  { name: 'isGlobalUnicast 2001:db8::abcd', expression: "ip('2001:db8::abcd').isGlobalUnicast()", result: true },
  { name: 'isGlobalUnicast ff00::1', expression: "ip('ff00::1').isGlobalUnicast()", result: false },
  { name: 'equal addresses written differently', expression: "ip('2001:db8::0:0:0:abcd') == ip('2001:db8::abcd')", result: true },
  { name: 'string(ip) is canonical', expression: "string(ip('2001:DB8:0:0:0::1'))", result: '2001:db8::1' },
  // cidr.go and cidr_test.go
  { name: 'cidr() IPv4 with host bits', expression: "cidr('192.168.0.1/24').ip() == ip('192.168.0.1')", result: true },
  { name: 'cidr() refuses /33', expression: "cidr('192.168.0.0/33')", error: true },
  { name: 'cidr() refuses ::1/129', expression: "cidr('::1/129')", error: true },
  { name: 'cidr() refuses an empty prefix length', expression: "cidr('192.168.0.0/')", error: true },
  { name: 'cidr() refuses an empty IPv6 prefix length', expression: "cidr('2001:db8::/')", error: true },
  { name: 'isCIDR IPv4', expression: "isCIDR('192.168.0.0/16')", result: true },
  { name: 'isCIDR IPv6', expression: "isCIDR('::1/128')", result: true },
  { name: 'isCIDR /33', expression: "isCIDR('192.168.0.0/33')", result: false },
  { name: 'isCIDR /129', expression: "isCIDR('::1/129')", result: false },
  { name: 'isCIDR without a prefix length', expression: "isCIDR('10.0.0.0')", result: false },
  { name: 'isCIDR IPv4-mapped', expression: "isCIDR('::ffff:1.2.3.4/120')", result: false },
  { name: 'containsIP (IP) inside', expression: "cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", result: true },
  { name: 'containsIP (IP) outside', expression: "cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))", result: false },
  { name: 'containsIP (string) inside', expression: "cidr('192.168.0.0/24').containsIP('192.168.0.1')", result: true },
  { name: 'containsIP (string) outside', expression: "cidr('192.168.0.0/24').containsIP('192.168.1.1')", result: false },
  { name: 'containsIP IPv6 inside', expression: "cidr('2001:db8::/32').containsIP(ip('2001:db8::1'))", result: true },
  { name: 'containsIP IPv6 outside', expression: "cidr('2001:db8::/32').containsIP('2001:dc8::1')", result: false },
  { name: 'containsIP across families', expression: "cidr('0.0.0.0/0').containsIP('::1')", result: false },
  { name: 'containsIP /0 contains everything of its family', expression: "cidr('::/0').containsIP('2001:db8::1')", result: true },
  { name: 'containsCIDR (CIDR) inside', expression: "cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))", result: true },
  { name: 'containsCIDR (CIDR) wider', expression: "cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))", result: false },
  { name: 'containsCIDR (string)', expression: "cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')", result: true },
  { name: 'containsCIDR (string) disjoint', expression: "cidr('192.168.1.0/24').containsCIDR('192.168.2.0/24')", result: false },
  { name: 'containsCIDR IPv6', expression: "cidr('2001:db8::/32').containsCIDR('2001:db8::/33')", result: true },
  { name: 'ip() of a CIDR', expression: "cidr('192.168.0.0/24').ip() == ip('192.168.0.0')", result: true },
  { name: 'ip().family() of an IPv6 CIDR', expression: "cidr('::1/128').ip().family()", result: 6n },
  { name: 'masked keeps a masked CIDR', expression: "cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()", result: true },
  { name: 'masked changes an unmasked CIDR', expression: "cidr('192.168.0.1/24') == cidr('192.168.0.1/24').masked()", result: false },
  { name: 'masked clears host bits', expression: "cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')", result: true },
  { name: 'masked IPv6', expression: "cidr('2001:db8:1::/32').masked() == cidr('2001:db8::/32')", result: true },
  { name: 'prefixLength IPv4', expression: "cidr('192.168.0.0/16').prefixLength()", result: 16n },
  { name: 'prefixLength IPv6', expression: "cidr('::1/128').prefixLength()", result: 128n },
  { name: 'string(cidr)', expression: "string(cidr('192.168.0.0/24'))", result: '192.168.0.0/24' },
  // lists.go
  { name: 'isSorted ints', expression: '[1, 2, 3].isSorted()', result: true },
  { name: 'isSorted strings with repeats', expression: "['a', 'b', 'b', 'c'].isSorted()", result: true },
  { name: 'isSorted doubles descending', expression: '[2.0, 1.0].isSorted()', result: false },
  { name: 'isSorted one', expression: '[1].isSorted()', result: true },
  { name: 'isSorted empty', expression: '[].isSorted()', result: true },
  { name: 'sum ints', expression: '[1, 3].sum()', result: 4n },
  { name: 'sum doubles', expression: '[1.0, 3.0].sum()', result: 4 },
  { name: 'sum empty', expression: '[].sum()', result: 0n },
  { name: 'min', expression: '[1, 3].min()', result: 1n },
  { name: 'max', expression: '[1, 3].max()', result: 3n },
  { name: 'min of empty errors', expression: '[].min()', error: true },
  { name: 'min of one', expression: '[1].min()', result: 1n },
  { name: 'indexOf', expression: '[1, 2, 2, 3].indexOf(2)', result: 1n },
  { name: 'lastIndexOf', expression: "['a', 'b', 'b', 'c'].lastIndexOf('b')", result: 2n },
  { name: 'indexOf missing', expression: "[].indexOf('string')", result: -1n },
  // cel-go strings extension and the standard library, as the API server enables them
  { name: 'lowerAscii', expression: "'TCP'.lowerAscii()", result: 'tcp' },
  { name: 'upperAscii', expression: "'udp'.upperAscii()", result: 'UDP' },
  { name: 'join', expression: "['a', 'b'].join(', ')", result: 'a, b' },
  { name: 'matches', expression: "'kube-system'.matches('^kube-.*$')", result: true },
  { name: 'string(int)', expression: "'port ' + string(10250)", result: 'port 10250' },
  { name: 'all over a list', expression: '[1, 2].all(x, x > 0)', result: true },
  { name: 'exists over a map', expression: "{'a': 1}.exists(k, k == 'a')", result: true },
  { name: 'filter and size', expression: 'size([1, 2, 3].filter(x, x > 1))', result: 2n },
  { name: 'has() on a missing field', expression: "has({'a': 1}.b)", result: false },
];

describe("Kubernetes' CEL libraries in the test evaluator", () => {
  it.each(LIBRARY)('$name: $expression', ({ expression, result, error }) => {
    if (error) expect(() => evaluate(expression)).toThrow();
    else expect(evaluate(expression)).toEqual(result);
  });
});

// --- admission semantics ---------------------------------------------------------------

const podAttrs = (object: object, extra: Partial<AdmissionAttributes> = {}): AdmissionAttributes => ({
  operation: 'CREATE',
  resource: { group: '', version: 'v1', resource: 'pods' },
  kind: { group: '', version: 'v1', kind: 'Pod' },
  namespace: 'team-a',
  object: object,
  oldObject: null,
  namespaceObject: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a', tier: 'tenant' } } },
  ...extra,
});

const policy = (spec: object) => ({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'p' }, spec });
const binding = (validationActions: string[], matchResources?: object) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name: 'b' },
  spec: { policyName: 'p', validationActions, ...(matchResources ? { matchResources } : {}) },
});

const PODS = { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE', 'UPDATE'] }] };
const pod = (labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels }, spec: { hostNetwork: true } });

const ADMISSION: { name: string; policy: object; binding: object; attrs: AdmissionAttributes; expected: { actions: string[]; messages: string[] } | null }[] = [
  {
    name: 'a failed validation denies with its message',
    policy: policy({ matchConstraints: PODS, validations: [{ expression: '!object.spec.hostNetwork', message: 'no host network' }] }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: { actions: ['Deny'], messages: ['no host network'] },
  },
  {
    name: 'messageExpression replaces the message',
    policy: policy({ matchConstraints: PODS, validations: [{ expression: 'false', message: 'static', messageExpression: "'pod ' + object.metadata.name" }] }),
    binding: binding(['Warn']),
    attrs: podAttrs(pod()),
    expected: { actions: ['Warn'], messages: ['pod p'] },
  },
  {
    name: 'a messageExpression that errors falls back to the message',
    policy: policy({ matchConstraints: PODS, validations: [{ expression: 'false', message: 'static', messageExpression: 'object.missing' }] }),
    binding: binding(['Audit']),
    attrs: podAttrs(pod()),
    expected: { actions: ['Audit'], messages: ['static'] },
  },
  {
    name: 'a passing validation does nothing',
    policy: policy({ matchConstraints: PODS, validations: [{ expression: 'true' }] }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: { actions: [], messages: [] },
  },
  {
    name: 'a matchCondition that is false skips the policy',
    policy: policy({ matchConstraints: PODS, matchConditions: [{ name: 'never', expression: 'false' }], validations: [{ expression: 'false' }] }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: null,
  },
  {
    name: 'an erroring validation fails closed under failurePolicy Fail',
    policy: policy({ failurePolicy: 'Fail', matchConstraints: PODS, validations: [{ expression: 'object.spec.nothing == 1' }] }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: { actions: ['Deny'], messages: [expect.stringContaining('errored')] as unknown as string[] },
  },
  {
    name: 'an erroring validation is ignored under failurePolicy Ignore',
    policy: policy({ failurePolicy: 'Ignore', matchConstraints: PODS, validations: [{ expression: 'object.spec.nothing == 1' }] }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: { actions: [], messages: [] },
  },
  {
    name: 'another resource does not match',
    policy: policy({ matchConstraints: PODS, validations: [{ expression: 'false' }] }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod(), { resource: { group: '', version: 'v1', resource: 'services' } }),
    expected: null,
  },
  {
    name: 'namespaceSelector reads the namespace labels',
    policy: policy({
      matchConstraints: { ...PODS, namespaceSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['tenant'] }] } },
      validations: [{ expression: 'false' }],
    }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: null,
  },
  {
    name: 'objectSelector skips a labelled object',
    policy: policy({
      matchConstraints: { ...PODS, objectSelector: { matchExpressions: [{ key: 'portcullis.dev/ignore', operator: 'DoesNotExist' }] } },
      validations: [{ expression: 'false' }],
    }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod({ 'portcullis.dev/ignore': 'true' })),
    expected: null,
  },
  {
    name: "the binding's matchResources narrows further",
    policy: policy({ matchConstraints: PODS, validations: [{ expression: 'false' }] }),
    binding: binding(['Deny'], { namespaceSelector: { matchLabels: { tier: 'platform' } } }),
    attrs: podAttrs(pod()),
    expected: null,
  },
  {
    name: 'variables are evaluated lazily: an unused erroring variable is harmless',
    policy: policy({
      matchConstraints: PODS,
      variables: [
        { name: 'broken', expression: 'object.spec.nothing' },
        { name: 'host', expression: 'object.spec.hostNetwork' },
      ],
      validations: [{ expression: '!variables.host', messageExpression: "'host ' + string(variables.host)" }],
    }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: { actions: ['Deny'], messages: ['host true'] },
  },
  {
    name: 'namespaceObject and request are bound',
    policy: policy({
      matchConstraints: PODS,
      validations: [{ expression: "namespaceObject.metadata.name != request.namespace || request.operation != 'CREATE'", message: 'bound' }],
    }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod()),
    expected: { actions: ['Deny'], messages: ['bound'] },
  },
  {
    name: 'oldObject on UPDATE',
    policy: policy({ matchConstraints: PODS, validations: [{ expression: 'oldObject == null || oldObject.spec.hostNetwork', message: 'was not host' }] }),
    binding: binding(['Deny']),
    attrs: podAttrs(pod(), { operation: 'UPDATE', oldObject: { ...pod(), spec: { hostNetwork: false } } }),
    expected: { actions: ['Deny'], messages: ['was not host'] },
  },
];

describe('ValidatingAdmissionPolicy semantics in the test evaluator', () => {
  it.each(ADMISSION)('$name', ({ policy, binding, attrs, expected }) => {
    const out = admit(policy, binding, attrs);
    if (expected === null) expect(out).toBeNull();
    else expect(out).toEqual(expect.objectContaining(expected));
  });
});
