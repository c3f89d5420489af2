// The JSON Schema of `portcullis scan --format json` (schemaVersion 1). It is the contract:
// docs/scan-output-v1.schema.json is this object as written by `npm run generate:schema`, and
// tests check that the file agrees and that the writer's output validates. Adding an optional field is compatible; renaming, removing or changing a
// type needs schemaVersion 2.

import { CHECKED_KIND_NAMES } from '../../engine/facts/kinds.js';
import type { RuleCatalog } from '../../engine/rules/rule.js';

const nullableString = { type: ['string', 'null'] } as const;
const count = { type: 'integer', minimum: 0 } as const;

/** The schema for the rules a door passes in (the registry): `rule` is one of their ids. */
export const scanOutputSchema = (rules: RuleCatalog) =>
  ({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://portcullis.dev/schemas/scan-output-v1.json',
    title: 'portcullis scan --format json',
    type: 'object',
    additionalProperties: false,
    required: ['schemaVersion', 'summary', 'findings', 'errors'],
    properties: {
      schemaVersion: { const: 1 },
      summary: {
        type: 'object',
        additionalProperties: false,
        required: ['resources', 'skipped', 'errors', 'findings'],
        properties: {
          resources: { ...count, description: 'Kubernetes objects checked, List items included' },
          skipped: { ...count, description: 'documents of kinds not checked, and non-Kubernetes documents' },
          skippedKinds: {
            description:
              'the skipped documents by apiVersion/kind, sorted by key; "(not a Kubernetes object)" counts documents without apiVersion or kind, ' +
              '"(other kinds)" kinds past the first 200 distinct ones; the counts sum to skipped',
            type: 'object',
            additionalProperties: { type: 'integer', minimum: 1 },
          },
          errors: { ...count, description: 'input errors (the length of errors)' },
          findings: {
            type: 'object',
            additionalProperties: false,
            required: ['deny', 'warn', 'audit'],
            properties: { deny: count, warn: count, audit: count },
          },
        },
      },
      findings: {
        description: 'sorted by source file, line and path',
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['rule', 'action', 'policy', 'tenant', 'resource', 'path', 'value', 'message', 'source'],
          properties: {
            rule: { type: 'string', enum: rules.rules.map((r) => r.id) },
            action: { type: 'string', enum: ['deny', 'warn', 'audit'] },
            policy: { type: 'string', description: 'PortPolicy name' },
            tenant: { ...nullableString, description: 'null when the namespace belongs to no tenant' },
            resource: {
              type: 'object',
              additionalProperties: false,
              required: ['apiVersion', 'kind', 'namespace', 'name'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string', enum: [...CHECKED_KIND_NAMES], description: 'a kind the engine checks' },
                namespace: { ...nullableString, description: 'null for cluster-scoped objects' },
                name: { type: 'string', description: 'metadata.name, or generateName when the object has none' },
              },
            },
            path: { type: 'string', description: 'dotted field path from the object root, [i] for list items' },
            value: {
              type: ['integer', 'null'],
              minimum: 0,
              maximum: 65535,
              description: 'the offending port; for netpol-sensitive-exposure the sensitive port opened; null for rule errors without one',
            },
            message: { type: 'string', description: 'what is wrong and what to do; rule errors start with "rule error: "' },
            source: {
              description: 'null for cluster scans',
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['file', 'line'],
                  properties: { file: { type: 'string' }, line: { type: 'integer', minimum: 1 } },
                },
              ],
            },
          },
        },
      },
      errors: {
        description: 'input problems: unreadable files, invalid YAML/JSON, objects without a name',
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['file', 'line', 'message'],
          properties: {
            file: nullableString,
            line: { type: ['integer', 'null'], minimum: 1 },
            message: { type: 'string' },
          },
        },
      },
    },
  }) as const;

/** The schema as the published file holds it: two-space JSON and a final newline. */
export function scanOutputSchemaJson(rules: RuleCatalog): string {
  return `${JSON.stringify(scanOutputSchema(rules), null, 2)}\n`;
}
