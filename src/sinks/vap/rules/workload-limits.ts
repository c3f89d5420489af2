// What the workload rules' VAPs leave to the webhook, said the same way in every one.
import { MAX_CONTAINERS, MAX_PORT_ENTRIES } from '../workload.js';

export const POD_LIMITATIONS = [
  `pod specs with more than ${MAX_CONTAINERS} containers (all lists) or ${MAX_PORT_ENTRIES} port entries, new or old, are not checked (cost budget); the webhook checks them`,
];

/** decide.ts: "new Pods from this template will be denied", or for a Pod "new Pods like this". */
export const TEMPLATE_MEANING = "object.kind == 'Pod' ? 'new Pods like this will be denied' : 'new Pods from this template will be denied'";
