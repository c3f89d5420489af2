// `--format sarif`: SARIF 2.1.0 as GitHub code scanning ingests it (upload-sarif). GitHub
// shows rule.shortDescription as the alert title, help.markdown on the alert page, maps
// `level` to severity, and keeps one alert per partialFingerprints across runs.
import { createHash } from 'node:crypto';
import type { Action, Finding, RuleAction, RuleId } from '../../engine/types.js';
import { STDIN_NAME } from '../../engine/types.js';
import { findingMessage, resourceLabel } from './finding-text.js';
import type { InputError, ScanResult } from './scan-result.js';

/** What SARIF needs of a rule, from the registry (src/engine/rules/index.ts) by way of the door. */
export interface RuleInfo {
  readonly id: RuleId;
  readonly title: string;
  readonly defaultAction: RuleAction;
  readonly help: string;
  /** The rule's section of the docs: helpUri. */
  readonly docsUrl: string;
}

type Level = 'error' | 'warning' | 'note' | 'none';

const LEVEL: Record<RuleAction, Level> = { deny: 'error', warn: 'warning', audit: 'note', off: 'none' };

// GitHub ranks alerts of rules tagged "security" by this 0-10 score (>= 7 high, >= 4 medium).
const SECURITY_SEVERITY: Record<RuleAction, string> = { deny: '8.0', warn: '5.5', audit: '3.0', off: '0.0' };

const pascal = (id: string) => id.replace(/(^|-)([a-z])/g, (_m, _d, ch: string) => ch.toUpperCase());

const firstParagraph = (text: string) =>
  text
    .trim()
    .split(/\n\s*\n/)[0]
    .replace(/\s*\n\s*/g, ' ');

function rule(info: RuleInfo) {
  return {
    id: info.id,
    name: pascal(info.id),
    shortDescription: { text: info.title },
    fullDescription: { text: firstParagraph(info.help) },
    help: { text: info.help.trim(), markdown: info.help.trim() },
    helpUri: info.docsUrl,
    defaultConfiguration: { level: LEVEL[info.defaultAction], enabled: info.defaultAction !== 'off' },
    properties: {
      tags: ['security', 'kubernetes', 'ports'],
      precision: 'very-high',
      'security-severity': SECURITY_SEVERITY[info.defaultAction],
    },
  };
}

/** What the run says about portcullis itself: tool.driver.version, semanticVersion and informationUri. */
export interface ToolInfo {
  /** package.json's version: semver, so it is also the semanticVersion. */
  readonly version: string;
  /** The project's site, where the rule docs live too. */
  readonly informationUri: string;
}

// Stdin as a relative URI: the literal name <stdin> would be the URI %3Cstdin%3E. A scan of
// piped input that should point at its file names it with --stdin-filename instead.
const STDIN_URI = 'stdin';

/** Relative paths stay relative to the checkout (%SRCROOT%), as GitHub expects. */
function artifactLocation(file: string) {
  const f = file === STDIN_NAME ? STDIN_URI : file.replace(/\\/g, '/');
  if (f.startsWith('/')) return { uri: encodeURI(`file://${f}`) };
  return { uri: encodeURI(f.replace(/^(\.\/)+/, '')), uriBaseId: '%SRCROOT%' };
}

/**
 * Identity of an alert across runs: the finding's key does not depend on list indexes or
 * line numbers, so moving a container or adding a document above keeps the alert.
 */
function fingerprint(f: Finding): string {
  const r = f.resource;
  const id = [f.policy, f.rule, r.apiVersion, r.kind, r.namespace ?? '', r.name, f.key].join('\u0000');
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

const levelOf = (a: Action): Level => LEVEL[a];

function result(f: Finding, ruleIndex: Map<string, number>) {
  const r = f.resource;
  const where = resourceLabel(r);
  const logical = { fullyQualifiedName: `${where} ${f.path}`, kind: 'resource' };
  const index = ruleIndex.get(f.rule);
  return {
    ruleId: f.rule,
    ...(index === undefined ? {} : { ruleIndex: index }),
    level: levelOf(f.action),
    message: { text: `${where}: ${findingMessage(f)} (at ${f.path})` },
    locations: [
      f.source
        ? {
            physicalLocation: { artifactLocation: artifactLocation(f.source.file), region: { startLine: f.source.line } },
            logicalLocations: [logical],
          }
        : { logicalLocations: [logical] },
    ],
    partialFingerprints: { 'portcullisFinding/v1': fingerprint(f) },
    properties: {
      action: f.action,
      status: f.status,
      policy: f.policy,
      tenant: f.tenant,
      path: f.path,
      value: f.value,
    },
  };
}

function notification(e: InputError) {
  return {
    level: 'error',
    message: { text: e.message },
    ...(e.file === null
      ? {}
      : {
          locations: [
            {
              physicalLocation: {
                artifactLocation: artifactLocation(e.file),
                ...(e.line === null ? {} : { region: { startLine: e.line } }),
              },
            },
          ],
        }),
  };
}

export function writeSarif(scan: ScanResult, rules: readonly RuleInfo[], tool: ToolInfo): string {
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'portcullis',
            version: tool.version,
            semanticVersion: tool.version,
            informationUri: tool.informationUri,
            rules: rules.map(rule),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            endTimeUtc: scan.generatedAt.toISOString(),
            toolExecutionNotifications: scan.errors.map(notification),
          },
        ],
        results: scan.findings.map((f) => result(f, ruleIndex)),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
