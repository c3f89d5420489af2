// service-external-ips in CEL: each spec.externalIPs address of a Service, whatever its type,
// must lie in the tenant's allowedExternalIPs (outside tenants, the policy's) and not in the
// policy's nodeCIDRs (src/engine/rules/service-external-ips.ts). The allowed and node CIDRs
// are compiled in, written canonically so cidr() always reads them.
import type { Block } from '../../../engine/net/cidr.js';
import { SERVICES } from '../../../k8s/resources.js';
import { list, listAt, str } from '../cel.js';
import { namespaceLabelsVariable, tenantVariable } from '../scope.js';
import { serviceVariables } from '../service.js';
import { cidrText } from './netpol-sensitive-exposure.js';
import { SERVICE_MEANING } from './nodeport-range.js';
import type { RuleCompiler } from './rule.js';

/** Beyond this a Service's addresses are left to the webhook: it bounds the cost (docs/vap.md, "Cost"). */
export const MAX_EXTERNAL_IPS = 256;

const ADDRESSES = (spec: string) => `${listAt(spec, 'externalIPs')}.filter(a, type(a) == string).map(a, a.trim())`;

const inAny = (blocks: readonly Block[]) =>
  blocks.length === 0 ? 'false' : `${list(blocks.map((b) => `cidr(${str(cidrText(b))})`))}.exists(c, c.containsIP(a))`;

export const serviceExternalIps: RuleCompiler = (policy) => {
  const record = (blocks: readonly Block[], whose: string) => {
    const outside = blocks.length === 0 ? `${whose} allow none` : `it lies outside ${whose}`;
    return (
      `[variables.externalIPs.filter(a, isIP(a) && (${inAny(policy.nodeCIDRs)} || !(${inAny(blocks)}))).map(a, {'count': 1, ` +
      `'carried': a in variables.oldExternalIPs, 'message': ${inAny(policy.nodeCIDRs)} ? ` +
      `'externalIP ' + a + ${str(" is a node address: kube-proxy would capture the node's own traffic on this Service's ports; remove it")} : ` +
      `'externalIP ' + a + ${str(` would take this address on every node (${outside}); remove it, or use a LoadBalancer Service`)}})]`
    );
  };
  let records = record(policy.allowedExternalIPs, "the policy's allowedExternalIPs");
  for (let i = policy.tenants.length - 1; i >= 0; i--) {
    const t = policy.tenants[i];
    records = `variables.tenant == ${i} ? ${record(t.allowedExternalIPs, `tenant ${t.name}'s allowedExternalIPs`)} : ${records}`;
  }
  return {
    rule: 'service-external-ips',
    resources: [SERVICES],
    variables: [
      namespaceLabelsVariable,
      tenantVariable(policy),
      ...serviceVariables(),
      { name: 'externalIPs', expression: ADDRESSES('variables.serviceSpec') },
      { name: 'oldExternalIPs', expression: ADDRESSES('variables.oldServiceSpec') },
    ],
    records,
    skip: `size(${listAt('variables.serviceSpec', 'externalIPs')}) > ${MAX_EXTERNAL_IPS} || size(${listAt('variables.oldServiceSpec', 'externalIPs')}) > ${MAX_EXTERNAL_IPS}`,
    limitations: [
      `Services with more than ${MAX_EXTERNAL_IPS} externalIPs, new or old, are not checked (cost budget)`,
      'node addresses are the policy nodeCIDRs only: a VAP cannot read Node objects',
      'an externalIPs entry that isIP refuses (a CIDR, leading zeros, IPv4-mapped IPv6) is not judged; the API server refuses most such entries itself',
    ],
    carriedMeaning: SERVICE_MEANING,
  };
};
