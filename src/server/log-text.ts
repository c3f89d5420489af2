// Caller-chosen text bounded for a log line. A request names its object, kind, uid and user
// as it likes, and a denial message can quote megabytes of a network policy's peers: each
// such value gets a budget in bytes of the JSON line (escapes included), so one decision
// line stays under LOG_LINE_MAX_BYTES whatever the request held.

/**
 * The decision line's upper size. Log pipelines cut lines longer than 16 KiB (the container
 * runtime's CRI log line, then Fluent Bit's default buffer): a line has to stay well under
 * that to arrive whole, and at 1,000 requests a second 4 KiB lines are at most 350 GB a
 * day only if every request is hostile; ordinary decision lines are about 400 bytes.
 */
export const LOG_LINE_MAX_BYTES = 4096;

/** Budgets within LOG_LINE_MAX_BYTES, in bytes of JSON. */
export const LOG_BUDGET = {
  /** The API server's uids are 36-character UUIDs. */
  uid: 96,
  /** Kinds are short CamelCase names; a namespace is a DNS label of at most 63 characters. */
  kind: 96,
  namespace: 96,
  /** Object names are DNS subdomains of at most 253 characters (plus `*` for a generateName). */
  name: 300,
  /** Usernames: `system:serviceaccount:<namespace>:<name>` is at most 339 characters. */
  username: 360,
  /** The denial or refusal message: its head and first lines say what was wrong. */
  message: 1536,
  /** An internal error's message and stack: enough to find the throwing line. */
  errorMessage: 512,
  errorStack: 1536,
} as const;

/** JSON-escaped UTF-8 bytes of one UTF-16 unit, at most (a lone surrogate is escaped as \udxxx). */
function unitBytes(c: number): number {
  if (c < 0x20) return c === 0x0a || c === 0x0d || c === 0x09 || c === 0x08 || c === 0x0c ? 2 : 6;
  if (c === 0x22 || c === 0x5c) return 2;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  return c >= 0xd800 && c <= 0xdfff ? 6 : 3;
}

/**
 * `text` as is when its JSON form fits `maxBytes`, else cut to fit with `…`. Anything that
 * is not a string is written as its type, never expanded.
 */
export function logText(text: unknown, maxBytes: number): string {
  if (typeof text !== 'string') return text === undefined || text === null ? '' : `(${typeof text})`;
  // 6 bytes is the most one UTF-16 unit can take in JSON: short texts need no count.
  if (text.length * 6 <= maxBytes) return text;
  const budget = maxBytes - 3; // room for the ellipsis
  let bytes = 0;
  let cut = 0;
  for (let i = 0; i < text.length; i++) {
    if (bytes <= budget) cut = i;
    bytes += unitBytes(text.charCodeAt(i));
    if (bytes > maxBytes) {
      // Never end on the first half of a surrogate pair.
      if (cut > 0 && (text.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut--;
      return `${text.slice(0, cut)}…`;
    }
  }
  return text;
}
