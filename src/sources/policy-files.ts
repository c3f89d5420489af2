// PortPolicy files and directories → compiled policies, with every problem named by
// file, line and field. Policy files are small, so the position-keeping `yaml` parser is used.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { walk, walkDirectory } from './directory-walk.js';
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

/**
 * The policy files under a path, in the walker's order (directory-walk.ts), and the paths that
 * could not be read. A link to a directory is not followed: the policy set is what the directory
 * holds, not whatever tree a link reaches (a ConfigMap volume links only files, one per key).
 * A link named like a policy file is read even when it leads nowhere (a ConfigMap key removed
 * while its link stays, a link to a directory), so its read error says so instead of the policy
 * silently dropping out of the set.
 */
async function policyFilesUnder(p: string): Promise<{ files: string[]; errors: PolicyFileError[] }> {
  const files: string[] = [];
  const errors: PolicyFileError[] = [];
  for await (const entry of walk(p, { recursive: true, extensions: POLICY_EXTENSIONS, links: 'files' })) {
    if (entry.type === 'file') files.push(entry.path);
    else if (entry.type === 'error') errors.push(cannotRead(entry.path, entry.error));
    else if ((entry.reason === 'broken-link' || entry.reason === 'linked-directory') && POLICY_EXTENSIONS.has(path.extname(entry.path))) files.push(entry.path);
  }
  return { files, errors };
}

const cannotRead = (file: string, err: unknown): PolicyFileError => ({
  file,
  line: null,
  field: null,
  message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
});

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
    return cannotRead(file, err);
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) return { docs: [], lines };
  for (const doc of docs) {
    const e = doc.errors[0];
    if (e) return { file, line: lines.linePos(e.pos[0]).line, field: null, message: `invalid YAML: ${e.message.split('\n')[0]}` };
  }
  // A document with nothing in it (comments only, a bare `---`) is no document.
  return { docs: docs.filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null)), lines };
}

/** The shipped default policy's spec: what other policies' omitted fields default to. */
export async function loadDefaultSpec(file = DEFAULT_POLICY_FILE): Promise<PortPolicySpec> {
  const loaded = await loadDocuments(file);
  if (!('docs' in loaded) || loaded.docs.length === 0) {
    throw new Error(`the shipped default policy ${file} is missing or unreadable`);
  }
  return (loaded.docs[0].toJS() as { spec: PortPolicySpec }).spec;
}

/** The names in a directory that were skipped for their extension, for the error that says why. */
async function skippedNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of walkDirectory(dir, { recursive: false })) {
    const name = path.basename(entry.path);
    if (entry.type !== 'error' && !POLICY_EXTENSIONS.has(path.extname(name))) names.push(name);
  }
  return names;
}

/** At most this many skipped names are listed in the error; the rest are counted. */
const MAX_NAMED = 5;

/**
 * The error for a path that yields no PortPolicy. An empty set would allow everything, so it
 * is refused like any other bad policy. The usual cause is a ConfigMap created with
 * `--from-file=policy=FILE`: the key becomes the file name, and `policy` has no extension.
 */
async function emptyPathError(p: string, files: readonly string[]): Promise<PolicyFileError> {
  const isDir = await stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (files.length > 0) {
    const what = isDir ? `its ${files.length === 1 ? 'file holds' : `${files.length} files hold`}` : 'the file holds';
    return { file: p, line: null, field: null, message: `no PortPolicy here: ${what} no YAML document. Expected at least one document with kind: PortPolicy` };
  }
  const skipped = isDir ? await skippedNames(p) : [];
  const found =
    skipped.length === 0
      ? 'it is empty'
      : `it holds ${skipped.slice(0, MAX_NAMED).join(', ')}${skipped.length > MAX_NAMED ? ` and ${skipped.length - MAX_NAMED} more` : ''}, none of them *.yaml, *.yml or *.json`;
  return {
    file: p,
    line: null,
    field: null,
    message: `no policy file: ${found}. A policy directory must hold *.yaml, *.yml or *.json files with PortPolicy documents; a ConfigMap key is the file name, so it must end in .yaml (kubectl create configmap NAME --from-file=policy.yaml=FILE)`,
  };
}

/**
 * Loads every PortPolicy document in the given files and directories (recursively).
 * An empty `paths` loads the shipped default. Problems are collected, never thrown. Every
 * path must yield at least one PortPolicy: a path that yields none is an error, never an
 * empty set (which would allow everything).
 */
export async function loadPolicyPaths(paths: readonly string[], defaults?: PortPolicySpec): Promise<LoadedPolicies> {
  const defaultSpec = defaults ?? (await loadDefaultSpec());
  const result: LoadedPolicies = { policies: [], errors: [], warnings: [] };
  const names = new Map<string, string>();
  for (const p of paths.length ? paths : [DEFAULT_POLICY_FILE]) {
    const before = { policies: result.policies.length, errors: result.errors.length };
    const { files, errors } = await policyFilesUnder(p);
    result.errors.push(...errors);
    for (const file of files) await loadFile(file, defaultSpec, names, result);
    if (result.policies.length === before.policies && result.errors.length === before.errors) result.errors.push(await emptyPathError(p, files));
  }
  return result;
}

async function loadFile(file: string, defaultSpec: PortPolicySpec, names: Map<string, string>, result: LoadedPolicies): Promise<void> {
  const loaded = await loadDocuments(file);
  if (!('docs' in loaded)) {
    result.errors.push(loaded);
    return;
  }
  for (const doc of loaded.docs) {
    const at = (p: PolicyProblem): PolicyFileError => ({ file, line: lineOf(doc, p.path, loaded.lines), field: p.path || null, message: p.message });
    let object: unknown;
    try {
      // The yaml library refuses to expand aliases past its maxAliasCount (a "billion laughs"
      // file would take the heap): a mistake in the file, said at the document.
      object = doc.toJS();
    } catch (err) {
      const message = /alias/i.test((err as Error).message)
        ? "its aliases expand too far (more than the YAML parser's alias count allows); write the values out"
        : (err as Error).message.split('\n')[0];
      result.errors.push({ file, line: doc.range ? loaded.lines.linePos(doc.range[0]).line : null, field: null, message: `invalid YAML: ${message}` });
      continue;
    }
    const kind = (object as { kind?: unknown } | null)?.kind;
    // Another kind of object (a ConfigMap, a Deployment) in a policy file: one error that
    // says so, instead of the schema's complaints about every PortPolicy field it lacks.
    if (typeof kind === 'string' && kind !== 'PortPolicy') {
      result.errors.push(at({ path: 'kind', message: `a ${kind} is not a PortPolicy; a policy file holds only PortPolicy documents (kind: PortPolicy)` }));
      continue;
    }
    const r = loadPolicy(object, defaultSpec);
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
