// The 0-65535 axis as a broken (piecewise linear) axis: a linear scale would give the
// 2,768-port NodePort range 4% of the width and the kubelet's ports (10248-10259) a few
// pixels, a log scale squeezes the NodePort range further. So the axis is cut into panels,
// each linear, with widths chosen for what lives there.
import type { PortRange } from '../../../engine/ports.js';

export interface Panel {
  readonly lo: number;
  readonly hi: number;
  readonly x: number;
  readonly w: number;
  readonly caption: string;
}

// Where the cluster's own ports cluster: the kubelet/kube-proxy/controller-manager/scheduler
// block (10248-10259) gets a zoomed panel of its own.
const CONTROL_PLANE: PortRange = { lo: 10240, hi: 10269 };
const BREAKS = [0, 1024, 10000, CONTROL_PLANE.lo, CONTROL_PLANE.hi + 1, 65536];

/** Splits 0-65535 into panels laid out from `x0` over `width` pixels with `gap` between them. */
export function panels(nodePortRange: PortRange, x0: number, width: number, gap: number): Panel[] {
  const np = nodePortRange;
  const cuts = [...new Set([...BREAKS, np.lo, np.hi + 1])].filter((c) => c >= 0 && c <= 65536).sort((a, b) => a - b);
  const segments: { lo: number; hi: number; weight: number; caption: string }[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const lo = cuts[i];
    const hi = cuts[i + 1] - 1;
    const span = hi - lo + 1;
    let weight: number;
    let caption = '';
    if (lo >= np.lo && hi <= np.hi) {
      weight = (30 * span) / (np.hi - np.lo + 1);
      caption = 'NodePort range';
    } else if (lo >= CONTROL_PLANE.lo && hi <= CONTROL_PLANE.hi) {
      weight = 11;
      caption = 'kubelet & control plane';
    } else if (lo === 0 && hi === 1023) {
      weight = 9;
      caption = 'well-known';
    } else if (lo === 1024 && hi === 9999) {
      weight = 22;
      caption = 'registered';
    } else {
      weight = 2.2 * Math.log10(span + 1);
    }
    segments.push({ lo, hi, weight, caption });
  }
  const total = segments.reduce((s, p) => s + p.weight, 0);
  const usable = width - gap * (segments.length - 1);
  let x = x0;
  return segments.map((s) => {
    const w = (usable * s.weight) / total;
    const panel = { lo: s.lo, hi: s.hi, x, w, caption: s.caption };
    x += w + gap;
    return panel;
  });
}

/** Left edge of `port` (one port is 1/span of its panel wide). */
export function xOf(ps: readonly Panel[], port: number): number {
  const p = ps.find((q) => port >= q.lo && port <= q.hi) ?? ps[ps.length - 1];
  return p.x + ((port - p.lo) / (p.hi - p.lo + 1)) * p.w;
}

/** Centre of `port`, where its marker sits. */
export function xMid(ps: readonly Panel[], port: number): number {
  const p = ps.find((q) => port >= q.lo && port <= q.hi) ?? ps[ps.length - 1];
  return p.x + ((port - p.lo + 0.5) / (p.hi - p.lo + 1)) * p.w;
}

/** The pieces of [lo, hi] per panel, as x-intervals, at least `min` pixels wide. */
export function spans(ps: readonly Panel[], lo: number, hi: number, min: number): { x: number; w: number }[] {
  const out: { x: number; w: number }[] = [];
  for (const p of ps) {
    const a = Math.max(lo, p.lo);
    const b = Math.min(hi, p.hi);
    if (a > b) continue;
    const x = p.x + ((a - p.lo) / (p.hi - p.lo + 1)) * p.w;
    const w = ((b - a + 1) / (p.hi - p.lo + 1)) * p.w;
    out.push(w >= min ? { x, w } : { x: x + w / 2 - min / 2, w: min });
  }
  return out;
}

/** Round tick values inside [lo, hi], about `pxPerTick` pixels apart over `w` pixels. */
export function ticks(lo: number, hi: number, w: number, pxPerTick: number): number[] {
  const want = Math.max(1, Math.floor(w / pxPerTick));
  const raw = (hi - lo) / want;
  const mag = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) out.push(t);
  return out;
}
