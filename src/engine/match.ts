// Name globs and label selectors, compiled once at policy load.
import type { Labels } from './types.js';

/** `*` matches any run of characters, `?` one character; everything else is literal. */
export function compileGlob(glob: string): (name: string) => boolean {
  if (glob === '*') return () => true;
  if (!/[*?]/.test(glob)) return (name) => name === glob;
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const re = new RegExp(`^${body}$`);
  return (name) => re.test(name);
}

export function compileGlobs(globs: readonly string[]): (name: string) => boolean {
  const matchers = globs.map(compileGlob);
  return (name) => matchers.some((m) => m(name));
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** Kubernetes label-selector semantics: every term must hold; an empty selector matches everything. */
export function compileSelector(selector: LabelSelector): (labels: Labels) => boolean {
  const labelTerms = Object.entries(selector.matchLabels ?? {});
  const exprs = selector.matchExpressions ?? [];
  return (labels) =>
    labelTerms.every(([k, v]) => labels[k] === v) &&
    exprs.every((e) => {
      const has = Object.hasOwn(labels, e.key);
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(labels[e.key]);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(labels[e.key]);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
      }
    });
}
