// The port map: an overview of 0-65535 on a broken axis and a zoomed lane for the NodePort
// range, both SVG. Bands are the reserved catalog, the NodePort range and the tenants'
// slices; markers are the ports in use, with violations drawn as a different shape (and
// colour), so colour is never the only signal.
import type { CompiledPolicy, PortEntry } from '../../../engine/policy/model.js';
import { dynamicBand } from '../../../engine/policy/load.js';
import { formatRange, type PortRange } from '../../../engine/ports.js';
import { panels, spans, ticks, xMid, xOf, type Panel } from './axis.js';
import { esc } from './escape.js';
import type { Lane, Mark } from './model.js';

const W = 1200;
const LEFT = 92;
const RIGHT = 12;
const PLOT = W - LEFT - RIGHT;
const MARK = 13; // pixels per stacked marker row
const ROWS = 3; // marker rows per lane before markers overlap
const LANE_H = MARK * ROWS;
/** Uses listed in a marker's label before "and N more": a label is read aloud whole. */
const LABEL_USES = 8;

/** Marker shapes centred on 0,0: a circle when in use without finding; one shape per action. */
export const SHAPES: Record<'ok' | 'deny' | 'warn' | 'audit', string> = {
  ok: '<circle r="4.5"/>',
  deny: '<path d="M0,-7L6.5,5H-6.5Z"/>',
  warn: '<path d="M0,-7L7,0L0,7L-7,0Z"/>',
  audit: '<path d="M-5.5,-5.5H5.5V5.5H-5.5Z"/>',
};

export const TENANT_HUES = ['#cfe3f7', '#d8f0d2', '#f6e3c3', '#e6dcf5', '#f7d4de', '#d3eeec', '#eeeec4', '#e2e2e2'];

function markLabel(m: Mark): string {
  const protocols = [...new Set(m.uses.map((u) => u.protocol).filter((p) => p !== null))].join('/');
  const findings = m.uses.reduce((n, u) => n + u.findings.length, 0);
  const objects = new Set(m.uses.map((u) => `${u.resource.kind}/${u.resource.namespace}/${u.resource.name}`)).size;
  const head =
    `${m.lane} ${m.port}${protocols ? `/${protocols}` : ''}: ${objects} object${objects === 1 ? '' : 's'}` +
    (findings ? `, ${findings} finding${findings === 1 ? '' : 's'} (worst: ${m.worst})` : ', no finding');
  // Violating uses first: they are what a reader is looking for.
  const ordered = [...m.uses].sort((a, b) => b.findings.length - a.findings.length);
  const lines = [head];
  for (const u of ordered.slice(0, LABEL_USES)) {
    const where = `${u.resource.kind} ${u.resource.namespace ? `${u.resource.namespace}/` : ''}${u.resource.name}, field ${u.path}`;
    if (u.findings.length === 0) lines.push(`• ${where}: no finding`);
    for (const f of u.findings) lines.push(`• ${where}: ${f.action.toUpperCase()} ${f.rule}: ${f.message}`);
  }
  if (ordered.length > LABEL_USES) lines.push(`… and ${ordered.length - LABEL_USES} more uses of this port`);
  return lines.join('\n');
}

/** Greedy row assignment so markers a few pixels apart stack instead of hiding each other. */
function stack(xs: number[]): number[] {
  const last = new Array<number>(ROWS).fill(-Infinity);
  return xs.map((x) => {
    let row = last.findIndex((l) => x - l >= MARK - 1);
    if (row < 0) row = last.indexOf(Math.min(...last));
    last[row] = x;
    return row;
  });
}

/**
 * Markers for one lane. The overview's markers carry the label (<title>); the zoomed lanes
 * repeat a marker for the same port, and refer to the overview's (data-of) instead of
 * repeating a label that can list eight objects: that halves the page for large scans.
 */
function markersSvg(ms: readonly Mark[], x: (port: number) => number, top: number, view: string, id: string): string {
  const xs = ms.map((m) => x(m.port));
  const rows = stack(xs);
  return ms
    .map((m, i) => {
      const kind = m.worst ?? 'ok';
      const y = top + MARK / 2 + 1 + rows[i] * MARK;
      const ref = `${id}-${m.lane}-${m.port}`;
      const label = view === 'overview' ? `<title>${esc(markLabel(m))}</title>` : '';
      return (
        `<g class="mk k-${kind}" ${view === 'overview' ? `id="${ref}"` : `data-of="${ref}"`} tabindex="0" role="img" data-view="${view}" data-lane="${m.lane}"` +
        ` data-port="${m.port}" data-uses="${m.uses.length}" data-act="${kind}" transform="translate(${xs[i].toFixed(1)},${y})">${label}${SHAPES[kind]}</g>`
      );
    })
    .join('');
}

function band(cls: string, x: number, y: number, w: number, h: number, title: string, data: string): string {
  return `<g class="band ${cls}" ${data}><title>${esc(title)}</title><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}"/></g>`;
}

const entryTitle = (e: PortEntry) => `reserved: ${e.name} ${formatRange(e.range)}/${e.protocol} (${e.component})`;

const laneLabel = (text: string, y: number) => `<text class="lane" x="6" y="${y}">${text}</text>`;

export interface MapInput {
  policy: CompiledPolicy;
  marks: readonly Mark[];
  /** An id prefix unique in the page (one map per policy). */
  id: string;
}

/** The overview: every panel of the broken axis, bands, hostPort and nodePort lanes. */
export function overviewSvg({ policy, marks, id }: MapInput): string {
  const ps = panels(policy.nodePortRange, LEFT, PLOT, 10);
  const bandTop = 22;
  const hostTop = 52;
  const nodeTop = hostTop + LANE_H + 6;
  const axisY = nodeTop + LANE_H + 4;
  const height = axisY + 22;
  const out: string[] = [];
  out.push(
    `<svg class="map" id="${id}-overview" viewBox="0 0 ${W} ${height}" role="group" aria-labelledby="${id}-overview-title"` +
      ` data-policy="${esc(policy.name)}"><title id="${id}-overview-title">Port map of 0-65535 for policy ${esc(policy.name)}: reserved ports and the NodePort range as bands, ports in use as markers (arrow keys move between markers)</title>`,
  );
  for (const p of ps) {
    out.push(`<rect class="panel" x="${p.x.toFixed(1)}" y="${bandTop - 2}" width="${p.w.toFixed(1)}" height="${axisY - bandTop + 2}"/>`);
    if (p.caption && p.w >= p.caption.length * 5.6) {
      out.push(`<text class="cap" x="${(p.x + p.w / 2).toFixed(1)}" y="13" text-anchor="middle">${p.caption}</text>`);
    }
  }
  out.push(laneLabel('reserved', bandTop + 16), laneLabel('hostPorts', hostTop + LANE_H / 2 + 4), laneLabel('nodePorts', nodeTop + LANE_H / 2 + 4));
  out.push(`<g class="bands">`);
  for (const e of policy.reservedPorts) {
    const isRange = e.name === 'nodeport-range';
    for (const s of spans(ps, e.range.lo, e.range.hi, 3)) {
      out.push(
        isRange
          ? band(
              'b-np',
              s.x,
              bandTop,
              s.w,
              12,
              `NodePort range ${formatRange(e.range)} (all protocols): hostPorts here clash with kube-proxy's NodePort rules`,
              `data-name="nodeport-range"`,
            )
          : band('b-res', s.x, bandTop, s.w, 24, entryTitle(e), `data-name="${esc(e.name)}"`),
      );
    }
  }
  policy.tenants.forEach((t, i) => {
    if (!t.nodePortRange) return;
    for (const s of spans(ps, t.nodePortRange.lo, t.nodePortRange.hi, 2)) {
      out.push(
        band(
          `b-ten t${i % TENANT_HUES.length}`,
          s.x,
          bandTop + 12,
          s.w,
          12,
          `tenant ${t.name}: NodePort slice ${formatRange(t.nodePortRange)}`,
          `data-tenant="${esc(t.name)}"`,
        ),
      );
    }
  });
  out.push(`</g>`);
  out.push(axis(ps, axisY));
  out.push(`<g class="mks" role="group" aria-label="Ports in use on the nodes">`);
  const lane = (l: Lane) => marks.filter((m) => m.lane === l);
  out.push(markersSvg(lane('hostPort'), (p) => xMid(ps, p), hostTop, 'overview', id));
  out.push(markersSvg(lane('nodePort'), (p) => xMid(ps, p), nodeTop, 'overview', id));
  out.push(`</g></svg>`);
  return out.join('');
}

/** The bottom of the NodePort range that the API server allocates from last (KEP-3668). */
export function staticBand(range: PortRange): PortRange {
  const dynamic = dynamicBand(range);
  return { lo: range.lo, hi: Math.max(range.lo, dynamic.lo - 1) };
}

/**
 * Where the tenants' slices lie when they cover under a quarter of the NodePort range: at
 * full NodePort width a 40-port slice is 16 pixels, too small to see which ports are taken.
 */
export function slicesSpan(policy: CompiledPolicy): PortRange | null {
  const slices = policy.tenants.map((t) => t.nodePortRange).filter((r): r is PortRange => r !== null);
  if (slices.length === 0) return null;
  const lo = Math.min(...slices.map((r) => r.lo));
  const hi = Math.max(...slices.map((r) => r.hi));
  const np = policy.nodePortRange;
  return (hi - lo + 1) * 4 <= np.hi - np.lo + 1 ? { lo, hi } : null;
}

/** Shared SVG definitions, once per page: the hatch that marks reserved bands (see style.ts). */
export const DEFS =
  `<svg class="defs" width="0" height="0" aria-hidden="true"><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
  `<rect width="6" height="6" fill="#fbe3e1"/><line x1="0" y1="0" x2="0" y2="6" stroke="#b3261e" stroke-width="2.2"/></pattern>` +
  Object.entries(SHAPES)
    .map(([k, shape]) => `<symbol id="i-${k}" viewBox="-8 -8 16 16"><g class="k-${k}">${shape}</g></symbol>`)
    .join('') +
  `</defs></svg>`;

/** A marker shape as a small inline icon (legend, tables), drawn from DEFS. */
export const icon = (kind: keyof typeof SHAPES): string => `<svg class="ico" aria-hidden="true"><use href="#i-${kind}"/></svg>`;

/** Estimated width of an 11px label: the page has no font metrics at render time. */
const textWidth = (text: string) => text.length * 6.4;

/**
 * Places labels left to right, dropping any that would overlap one already placed; `must`
 * labels (panel starts) are placed first so ticks inside a panel yield to them.
 */
function placeLabels(labels: { x: number; text: string; anchor: 'start' | 'middle' | 'end'; must: boolean }[], y: number): string {
  const placed: { a: number; b: number }[] = [];
  const box = (l: (typeof labels)[number]) => {
    const w = textWidth(l.text);
    const a = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
    return { a: a - 3, b: a + w + 3 };
  };
  const out: string[] = [];
  for (const l of [...labels.filter((x) => x.must), ...labels.filter((x) => !x.must)]) {
    const b = box(l);
    if (placed.some((p) => b.a < p.b && p.a < b.b)) continue;
    placed.push(b);
    out.push(`<text x="${l.x.toFixed(1)}" y="${y}" text-anchor="${l.anchor}">${l.text}</text>`);
  }
  return out.join('');
}

function axis(ps: readonly Panel[], y: number): string {
  const out = [`<g class="axis">`];
  const labels: Parameters<typeof placeLabels>[0] = [];
  for (const p of ps) {
    out.push(`<line x1="${p.x.toFixed(1)}" x2="${(p.x + p.w).toFixed(1)}" y1="${y}" y2="${y}"/>`);
    labels.push({ x: p.x, text: String(p.lo), anchor: 'start', must: true });
    for (const t of [p.lo, ...ticks(p.lo, p.hi, p.w, 55).filter((t) => t !== p.lo)]) {
      const x = xOf(ps, t);
      out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y}" y2="${y + 4}"/>`);
      if (t !== p.lo) labels.push({ x, text: String(t), anchor: 'middle', must: false });
    }
  }
  const last = ps[ps.length - 1];
  labels.push({ x: last.x + last.w, text: String(last.hi), anchor: 'end', must: true });
  for (let i = 0; i + 1 < ps.length; i++) {
    const gx = ps[i].x + ps[i].w + 5;
    out.push(`<path class="brk" d="M${(gx - 4).toFixed(1)},${y + 4}l4,-8M${gx.toFixed(1)},${y + 4}l4,-8"/>`);
  }
  out.push(placeLabels(labels, y + 15), `</g>`);
  return out.join('');
}

/**
 * A part of the NodePort range at full width (the whole range, or just where the tenants'
 * slices are): tenant slices labelled, nodePorts, and hostPorts that stray into it.
 */
export function rangeSvg({ policy, marks, id }: MapInput, np: PortRange, view: 'nodeports' | 'slices'): string {
  const span = np.hi - np.lo + 1;
  const x = (p: number) => LEFT + ((p - np.lo) / span) * PLOT;
  const xm = (p: number) => LEFT + ((p - np.lo + 0.5) / span) * PLOT;
  const labelY = 14;
  const sliceTop = 34;
  const nodeTop = 66;
  const hostTop = nodeTop + LANE_H + 6;
  const axisY = hostTop + LANE_H + 4;
  const height = axisY + 22;
  const out: string[] = [];
  out.push(
    `<svg class="map" id="${id}-${view}" viewBox="0 0 ${W} ${height}" role="group" aria-labelledby="${id}-${view}-title"` +
      ` data-policy="${esc(policy.name)}"><title id="${id}-${view}-title">${view === 'slices' ? 'Tenant slices' : 'NodePort range'} ${formatRange(np)} of policy ${esc(policy.name)} at full width: tenant slices as bands, ports in use as markers</title>`,
  );
  out.push(`<rect class="panel" x="${LEFT}" y="${sliceTop - 2}" width="${PLOT}" height="${axisY - sliceTop + 2}"/>`);
  out.push(laneLabel('slices', sliceTop + 16), laneLabel('nodePorts', nodeTop + LANE_H / 2 + 4), laneLabel('hostPorts', hostTop + LANE_H / 2 + 4));
  out.push(`<g class="bands">`);
  out.push(band('b-np', LEFT, sliceTop, PLOT, 24, `NodePort range ${formatRange(policy.nodePortRange)}`, `data-name="nodeport-range"`));
  // Slice names sit above the bands (a 100-port slice is ~40px wide here), in two rows
  // when neighbours would collide, each with a leader line to its band.
  const rowEnd = [-Infinity, -Infinity];
  const names: string[] = [];
  policy.tenants.forEach((t, i) => {
    const r = t.nodePortRange;
    if (!r || r.hi < np.lo || r.lo > np.hi) return;
    const bx = x(Math.max(r.lo, np.lo));
    const bw = Math.max(2, x(Math.min(r.hi, np.hi) + 1) - bx);
    out.push(
      band(`b-ten t${i % TENANT_HUES.length}`, bx, sliceTop, bw, 24, `tenant ${t.name}: NodePort slice ${formatRange(r)}`, `data-tenant="${esc(t.name)}"`),
    );
    const label = `${t.name} ${formatRange(r)}`;
    const w = textWidth(label);
    const cx = bx + bw / 2;
    const lx = Math.min(Math.max(cx - w / 2, LEFT), LEFT + PLOT - w);
    const row = rowEnd[1] <= lx - 6 ? 1 : rowEnd[0] <= lx - 6 ? 0 : 1;
    rowEnd[row] = lx + w;
    const ly = labelY + row * 13;
    out.push(`<line class="leader" x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${ly + 3}" y2="${sliceTop}"/>`);
    names.push(`<text class="slice" x="${lx.toFixed(1)}" y="${ly}">${esc(label)}</text>`);
  });
  out.push(...names);
  // The static band (KEP-3668): the API server allocates NodePorts there only when the rest
  // is full, so slices placed there rarely collide with its own allocations.
  const band0 = staticBand(policy.nodePortRange);
  const s0 = Math.max(band0.lo, np.lo);
  const s1 = Math.min(band0.hi, np.hi);
  if (s0 <= s1) {
    const y = sliceTop + 28;
    const [a, b] = [x(s0), x(s1 + 1)];
    out.push(
      `<g class="static"><title>API server's static band ${formatRange(band0)}: it allocates NodePorts here last (KEP-3668)</title>` +
        `<path d="M${a.toFixed(1)},${y - 3}V${y}H${b.toFixed(1)}V${y - 3}"/></g>`,
    );
  }
  out.push(`</g><g class="axis"><line x1="${LEFT}" x2="${LEFT + PLOT}" y1="${axisY}" y2="${axisY}"/>`);
  const labels: Parameters<typeof placeLabels>[0] = [
    { x: LEFT, text: String(np.lo), anchor: 'start', must: true },
    { x: LEFT + PLOT, text: String(np.hi), anchor: 'end', must: true },
  ];
  for (const t of [np.lo, ...ticks(np.lo, np.hi, PLOT, 90).filter((t) => t !== np.lo), np.hi + 1]) {
    const tx = x(t);
    out.push(`<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${axisY}" y2="${axisY + 4}"/>`);
    if (t > np.lo && t <= np.hi) labels.push({ x: tx, text: String(t), anchor: 'middle', must: false });
  }
  out.push(placeLabels(labels, axisY + 15));
  out.push(`</g><g class="mks" role="group" aria-label="Ports in use in the NodePort range">`);
  const inRange = (m: Mark) => m.port >= np.lo && m.port <= np.hi;
  out.push(
    markersSvg(
      marks.filter((m) => m.lane === 'nodePort' && inRange(m)),
      xm,
      nodeTop,
      view,
      id,
    ),
  );
  out.push(
    markersSvg(
      marks.filter((m) => m.lane === 'hostPort' && inRange(m)),
      xm,
      hostTop,
      view,
      id,
    ),
  );
  out.push(`</g></svg>`);
  return out.join('');
}

/** The key to shapes and bands, in words. */
export function legend(): string {
  const swatch = (cls: string) => `<svg class="ico sw" viewBox="0 0 24 14" aria-hidden="true"><g class="band ${cls}"><rect width="24" height="14"/></g></svg>`;
  return (
    `<ul class="legend">` +
    `<li>${icon('ok')} port in use, no finding</li>` +
    `<li>${icon('deny')} violation, action deny</li>` +
    `<li>${icon('warn')} violation, action warn</li>` +
    `<li>${icon('audit')} violation, action audit</li>` +
    `<li>${swatch('b-res')} reserved port (catalog)</li>` +
    `<li>${swatch('b-np')} NodePort range</li>` +
    `<li>${swatch('b-ten t0')} tenant slice (named in the NodePort lane)</li>` +
    `</ul>`
  );
}
