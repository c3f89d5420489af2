// PortPolicy files and directories → compiled policies, with every problem named by
// file, line and field. Policy files are small, so the position-keeping `yaml` parser is used.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { loadPolicy } from '../engine/policy/load.js';
import type { CompiledPolicy, PolicyProblem, PortPolicySpec } from '../engine/policy/model.js';

export interface PolicyFileError {
  file: string;
  line: number | null;
  /** The field, when the problem is in one. */
  field: string | null;
  message: string;
}

export interface LoadedPolicies {
  policies: CompiledPolicy[];
  errors: PolicyFileError[];
  warnings: PolicyFileError[];
}

/** `file:line: field: message`, the one line a user sees. */
export function formatPolicyError(e: PolicyFileError): string {
  return `${e.file}${e.line !== null ? `:${e.line}` : ''}: ${e.field ? `${e.field}: ` : ''}${e.message}`;
}

/** policies/default.yaml, shipped beside dist/ and src/. */
export const DEFAULT_POLICY_FILE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../policies/default.yaml');

const POLICY_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

async function policyFilesUnder(p: string): Promise<string[]> {
  const s = await stat(p);
  if (!s.isDirectory()) return [p];
  const out: string[] = [];
  // Kubernetes ConfigMap mounts hold ..data and ..<timestamp> entries: skip dot-entries.
  for (const entry of (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(p, entry.name);
    if (entry.isDirectory()) out.push(...(await policyFilesUnder(full)));
    else if (POLICY_EXTENSIONS.has(path.extname(entry.name))) out.push(full);
  }
  return out;
}

/** The line of the node at a dotted field path, or of the nearest ancestor that exists. */
function lineOf(doc: Document, field: string, lines: LineCounter): number | null {
  const segments = field.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '');
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: [number] } | null)?.range?.[0] ?? null;
  for (const seg of segments) {
    let next: unknown = undefined;
    if (isMap(node)) next = node.get(seg, true);
    else if (isSeq(node)) next = node.get(Number(seg), true);
    if (next === undefined || next === null) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
        const keyRange = (pair?.key as { range?: [number] } | undefined)?.range;
        if (keyRange) offset = keyRange[0];
      }
      break;
    }
    node = next;
    offset = (next as { range?: [number] }).range?.[0] ?? offset;
  }
  return offset === null ? null : lines.linePos(offset).line;
}

async function loadDocuments(file: string): Promise<{ docs: Document[]; lines: LineCounter } | PolicyFileError> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { file, line: null, field: null, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) return { docs: [], lines };
  for (const doc of docs) {
    const e = doc.errors[0];
    if (e) return { file, line: lines.linePos(e.pos[0]).line, field: null, message: `invalid YAML: ${e.message.split('\n')[0]}` };
  }
  return { docs: docs.filter((d) => d.contents !== null), lines };
}

/** The shipped default policy's spec: what other policies' omitted fields default to. */
export async function loadDefaultSpec(file = DEFAULT_POLICY_FILE): Promise<PortPolicySpec> {
  const loaded = await loadDocuments(file);
  if (!('docs' in loaded) || loaded.docs.length === 0) {
    throw new Error(`the shipped default policy ${file} is missing or unreadable`);
  }
  return (loaded.docs[0].toJS() as { spec: PortPolicySpec }).spec;
}

/**
 * Loads every PortPolicy document in the given files and directories (recursively).
 * An empty `paths` loads the shipped default. Problems are collected, never thrown.
 */
export async function loadPolicyPaths(paths: readonly string[], defaults?: PortPolicySpec): Promise<LoadedPolicies> {
  const defaultSpec = defaults ?? (await loadDefaultSpec());
  const result: LoadedPolicies = { policies: [], errors: [], warnings: [] };
  const files: string[] = [];
  for (const p of paths.length ? paths : [DEFAULT_POLICY_FILE]) {
    try {
      files.push(...(await policyFilesUnder(p)));
    } catch (err) {
      result.errors.push({ file: p, line: null, field: null, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  const names = new Map<string, string>();
  for (const file of files) {
    const loaded = await loadDocuments(file);
    if (!('docs' in loaded)) {
      result.errors.push(loaded);
      continue;
    }
    for (const doc of loaded.docs) {
      const at = (p: PolicyProblem): PolicyFileError => ({ file, line: lineOf(doc, p.path, loaded.lines), field: p.path || null, message: p.message });
      const r = loadPolicy(doc.toJS(), defaultSpec);
      if (!r.ok) {
        result.errors.push(...r.problems.map(at));
        continue;
      }
      const seen = names.get(r.policy.name);
      if (seen) {
        result.errors.push(at({ path: 'metadata.name', message: `policy "${r.policy.name}" is also defined in ${seen}` }));
        continue;
      }
      names.set(r.policy.name, file);
      result.warnings.push(...r.warnings.map(at));
      result.policies.push(r.policy);
    }
  }
  if (files.length > 0 && result.policies.length === 0 && result.errors.length === 0) {
    result.errors.push({ file: paths.join(', '), line: null, field: null, message: 'no PortPolicy documents found' });
  }
  return result;
}
