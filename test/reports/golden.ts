// Golden files: the exact output of each writer for the fixture. `UPDATE_GOLDEN=1` rewrites
// them; review the diff before committing it.
import { readFileSync, writeFileSync } from 'node:fs';

export const goldenPath = (name: string) => new URL(`./golden/${name}`, import.meta.url).pathname;

export function expectGolden(name: string, actual: string): void {
  const file = goldenPath(name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

export const readGolden = (name: string) => readFileSync(goldenPath(name), 'utf8');
