// A small Dockerfile parser: enough to check the properties the tests assert (stages,
// FROM images, COPY sources, USER, ENTRYPOINT), not a full BuildKit frontend.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './kustomize.js';

export interface Instruction {
  keyword: string; // upper case
  args: string; // the rest of the line, continuations joined
  line: number;
}

export interface Stage {
  image: string;
  name: string | null;
  index: number;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    // Comment lines are dropped, also inside a continued instruction (as BuildKit does).
    if (/^\s*#/.test(line) || (pending === null && line.trim() === '')) return;
    const continued = line.endsWith('\\');
    const body = continued ? line.slice(0, -1) : line;
    pending = pending ? { text: `${pending.text} ${body.trim()}`, line: pending.line } : { text: body.trim(), line: i + 1 };
    if (!continued) {
      const m = /^(\S+)\s*(.*)$/.exec(pending.text)!;
      instructions.push({ keyword: m[1].toUpperCase(), args: m[2], line: pending.line });
      pending = null;
    }
  });
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot parse FROM ${ins.args}`);
      stages.push({ image: m[1], name: m[2] ?? null, index: stages.length, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

export const readDockerfile = (): Stage[] => parseDockerfile(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));

/** The JSON (exec) form of ENTRYPOINT/CMD, or null for the shell form. */
export function execForm(args: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

/** COPY's flags and its source and destination paths. */
export function parseCopy(args: string): { from: string | null; sources: string[]; dest: string } {
  const words = args.split(/\s+/).filter(Boolean);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length) ?? null;
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

/** The last stage: the image that ships. */
export const runtimeStage = (stages: Stage[]): Stage => stages[stages.length - 1];

export function stageByRef(stages: Stage[], ref: string): Stage | undefined {
  return stages.find((s) => s.name === ref) ?? (/^\d+$/.test(ref) ? stages[Number(ref)] : undefined);
}
