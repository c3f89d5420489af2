// The rule registry, listed by hand: the order here is the order of outcomes and of SARIF rules.
import { hostportNotAllowed } from './hostport-not-allowed.js';
import { hostportReserved } from './hostport-reserved.js';
import { netpolSensitiveExposure } from './netpol-sensitive-exposure.js';
import { nodeportNotAllowed } from './nodeport-not-allowed.js';
import { nodeportRange } from './nodeport-range.js';
import type { Rule } from './rule.js';

export type { Rule, RuleContext, RuleFinding } from './rule.js';

export const RULES: readonly Rule[] = [nodeportRange, nodeportNotAllowed, hostportReserved, hostportNotAllowed, netpolSensitiveExposure];
