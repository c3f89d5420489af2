// Tests that check what the documentation says read its sections from the files themselves.
import { readFileSync } from 'node:fs';

/** The text of a markdown file of the repository (`README.md`, `docs/webhook.md`). */
export function readDoc(file: string): string {
  return readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
}

/** Each heading of a markdown text with its level and line index; `#` lines inside code fences are not headings. */
export function headings(text: string): { level: number; title: string; line: number }[] {
  const found: { level: number; title: string; line: number }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((line, i) => {
    const f = /^\s*(```+|~~~+)/.exec(line);
    if (f) {
      if (fence === null) fence = f[1][0]!;
      else if (f[1][0] === fence) fence = null;
      return;
    }
    const h = fence === null ? /^(#{1,6}) (.+?)\s*#*\s*$/.exec(line) : null;
    if (h) found.push({ level: h[1].length, title: h[2], line: i });
  });
  return found;
}

/** The section headed `heading` (any level) in `file`, up to the next heading of that level or higher. */
export function docSection(file: string, heading: string): string {
  const lines = readDoc(file).split('\n');
  const all = headings(lines.join('\n'));
  const at = all.findIndex((h) => h.title === heading);
  if (at < 0) throw new Error(`${file} has no section "${heading}"`);
  const next = all.slice(at + 1).find((h) => h.level <= all[at].level);
  return lines.slice(all[at].line, next ? next.line : undefined).join('\n');
}

/** The `## heading` section of README.md. */
export function readmeSection(heading: string): string {
  return docSection('README.md', heading);
}
