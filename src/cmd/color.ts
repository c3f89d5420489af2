// Whether the table on stdout gets ANSI colour, read from the environment as picocolors (the
// table's colour library) reads it, with two differences: FORCE_COLOR=0 and FORCE_COLOR=false
// turn colour off, as Node's own tty.getColorDepth and chalk's supports-color read them (for
// picocolors any non-empty value forces colour on); and a CI variable alone does not turn it
// on, so a report redirected to a file in CI stays plain text (FORCE_COLOR=1 asks for it).
// The --color and --no-color flags are applied by the caller and win over all of this.

export interface ColorEnv {
  NO_COLOR?: string;
  FORCE_COLOR?: string;
  TERM?: string;
}

export function colorFromEnv(env: ColorEnv, isTTY: boolean): boolean {
  // https://no-color.org: present and not empty, whatever its value.
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}
