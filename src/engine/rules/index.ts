// The rule registry, listed by hand: the order here is the order of outcomes and of SARIF rules.
// It is the one source of what a rule is: the RuleId type, the policy schema's `rules`, the
// scan output schema's rule enum, default actions, report categories, port-map lanes and docs
// links are all read from here. A new rule is one file and one line in RULES.
import { hostportNotAllowed } from './hostport-not-allowed.js';
import { hostportReserved } from './hostport-reserved.js';
import { netpolSensitiveExposure } from './netpol-sensitive-exposure.js';
import { nodeportNotAllowed } from './nodeport-not-allowed.js';
import { nodeportRange } from './nodeport-range.js';
import { serviceExternalIps } from './service-external-ips.js';
import type { Rule, RuleCatalog, RuleMetadata } from './rule.js';
import type { RuleId } from '../types.js';

export type { Rule, RuleCatalog, RuleContext, RuleFinding, RuleMetadata } from './rule.js';

export const RULES = [nodeportRange, nodeportNotAllowed, hostportReserved, hostportNotAllowed, netpolSensitiveExposure, serviceExternalIps] as const;

export const RULE_IDS: readonly RuleId[] = RULES.map((r) => r.id);

const BY_ID: ReadonlyMap<RuleId, Rule> = new Map(RULES.map((r) => [r.id, r]));

export function ruleById(id: RuleId): Rule {
  return BY_ID.get(id)!;
}

/** Each rule has a section of docs/rules.md headed by its id; GitHub makes the id its anchor. */
export const RULE_DOCS_URL = 'https://portcullis.dev/docs/rules.md';

export const ruleDocsUrl = (id: RuleId): string => `${RULE_DOCS_URL}#${id}`;

const metadata = ({ id, title, defaultAction, category, lane, help }: Rule): RuleMetadata => ({
  id,
  title,
  defaultAction,
  category,
  lane,
  help,
  docsUrl: ruleDocsUrl(id),
});

const CATALOG_BY_ID: ReadonlyMap<RuleId, RuleMetadata> = new Map(RULES.map((r) => [r.id, metadata(r)]));

/** The registry as the doors pass it to the report formats and metrics (sinks/). */
export const RULE_CATALOG: RuleCatalog = { rules: [...CATALOG_BY_ID.values()], byId: (id) => CATALOG_BY_ID.get(id)!, docsUrl: RULE_DOCS_URL };
