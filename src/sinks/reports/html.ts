// The html report: one self-contained page (inline CSS, JS and SVG; no fetch, so it opens
// from disk and offline) that shows the port space: a summary, the port map, tenant slice
// usage, network-policy exposures and the findings table. Rendered server-side so it reads
// and prints without the script; the script only adds tooltips, keyboard movement on the
// map, and sorting/filtering of the table.
import { stringify } from 'yaml';
import type { CompiledPolicy, Tenant } from '../../engine/policy/model.js';
import type { RuleCatalog } from '../../engine/rules/rule.js';
import { formatRange, inRange, rangeSize } from '../../engine/ports.js';
import { ACTIONS } from '../../engine/types.js';
import type { Action, Finding } from '../../engine/types.js';
import { esc } from './html/escape.js';
import { DEFS, icon, legend, overviewSvg, rangeSvg, slicesSpan, staticBand } from './html/map.js';
import { marks, resourceKey, tenantLookup, type Mark, type MarkUse } from './html/model.js';
import { JS } from './html/script.js';
import { CSS } from './html/style.js';
import type { ReportWriter, RuleExcerpt, ScanResult } from './scan-result.js';

const NONE = '(none)';
/** Holders listed openly per tenant before they fold into a <details>. */
const OPEN_HOLDERS = 8;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** A field path that may wrap after each dot: spec.<wbr>template.<wbr>spec… */
const escPath = (path: string) => esc(path).replace(/\./g, '.<wbr>');
const objectName = (r: { kind: string; namespace: string | null; name: string }) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
const actionText = (a: Action) => `<span class="act act-${a}">${icon(a)} ${a}</span>`;

export const writeHtml: ReportWriter = (result, { rules }) => {
  const maps = result.policies.map((policy, i) => ({ policy, id: `p${i}`, marks: marks(result, policy.name, rules), tenantOf: tenantLookup(result, policy) }));
  const body = [
    header(result),
    `<main id="main">`,
    summary(result, rules),
    `<section id="map" aria-labelledby="map-h"><h2 id="map-h">Port map</h2>`,
    legend(),
    ...maps.map((m) => mapSection(m.policy, m.id, m.marks, result.policies.length > 1)),
    `</section>`,
    `<section id="tenants" aria-labelledby="tenants-h"><h2 id="tenants-h">Tenant NodePort slices</h2>`,
    ...maps.map((m) => tenantSection(m.policy, m.marks, m.tenantOf, result.policies.length > 1)),
    `</section>`,
    exposures(result),
    findingsTable(result),
    inputErrors(result),
    `</main>`,
  ];
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    // Belt and braces for "no request leaves the page": the browser refuses any fetch.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">` +
    `<title>portcullis port report</title><style>${CSS}</style></head>\n<body>` +
    `<a class="skip" href="#main">Skip to the report</a>${DEFS}` +
    body.join('\n') +
    `\n<div id="tip" role="tooltip" hidden></div><script>${JS}</script></body></html>\n`
  );
};

function header(result: ScanResult): string {
  const policies = result.policies.map((p) => esc(p.name)).join(', ');
  return (
    `<header><h1>portcullis port report</h1>` +
    `<p>Generated ${esc(result.generatedAt.toISOString())} · ${result.policies.length === 1 ? 'policy' : 'policies'}: ${policies}</p>` +
    `<nav aria-label="Sections"><ul><li><a href="#summary">Summary</a></li><li><a href="#map">Port map</a></li>` +
    `<li><a href="#tenants">Tenant slices</a></li><li><a href="#exposures">Network-policy exposures</a></li>` +
    `<li><a href="#findings">Findings</a></li>${result.errors.length ? `<li><a href="#errors">Input errors</a></li>` : ''}</ul></nav></header>`
  );
}

function summary(result: ScanResult, rules: RuleCatalog): string {
  const s = result.summary;
  const card = (n: number, label: string, extra = '') => `<li${extra}><span class="n">${n}</span>${label}</li>`;
  const byRule = rules.rules
    .map(({ id: rule }) => {
      const counts = ACTIONS.map((a) => result.findings.filter((f) => f.rule === rule && f.action === a).length);
      const total = counts.reduce((x, y) => x + y, 0);
      return `<tr><th scope="row"><code>${rule}</code></th>${counts.map((c) => `<td class="num">${c}</td>`).join('')}<td class="num">${total}</td></tr>`;
    })
    .join('');
  const tenantRows = result.policies
    .flatMap((p) => {
      const tenantOf = tenantLookup(result, p);
      const seen = (result.namespaces ?? []).map((n) => n.name);
      return p.tenants.map((t) => {
        const nss = seen.filter((n) => tenantOf(n) === t.name);
        const n = result.findings.filter((f) => f.policy === p.name && f.tenant === t.name).length;
        return (
          `<tr><th scope="row">${esc(t.name)}</th>${result.policies.length > 1 ? `<td>${esc(p.name)}</td>` : ''}` +
          `<td>${t.nodePortRange ? esc(formatRange(t.nodePortRange)) : '<span class="muted">none</span>'}</td>` +
          `<td>${nss.length ? nss.map((x) => `<code>${esc(x)}</code>`).join(', ') : `<span class="muted">none in the input</span>`}</td><td class="num">${n}</td></tr>`
        );
      });
    })
    .join('');
  return (
    `<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>` +
    `<ul class="cards" data-summary>` +
    card(s.resources, 'resources checked', ' data-k="resources"') +
    card(s.skipped, 'documents skipped', ' data-k="skipped"') +
    card(s.errors, 'input errors', ' data-k="errors"') +
    ACTIONS.map((a) => card(s.findings[a], `${actionText(a)} findings`, ` data-k="${a}"`)).join('') +
    `</ul><div class="cols"><div><h3>Findings by rule</h3><table class="by-rule"><thead><tr><th scope="col">Rule</th>` +
    ACTIONS.map((a) => `<th scope="col" class="num">${a}</th>`).join('') +
    `<th scope="col" class="num">total</th></tr></thead><tbody>${byRule}</tbody></table></div>` +
    `<div><h3>Tenants</h3>` +
    (tenantRows
      ? `<table class="tenants"><thead><tr><th scope="col">Tenant</th>${result.policies.length > 1 ? '<th scope="col">Policy</th>' : ''}<th scope="col">NodePort slice</th><th scope="col">Namespaces seen</th><th scope="col" class="num">Findings</th></tr></thead><tbody>${tenantRows}</tbody></table>`
      : `<p class="muted">No tenants are defined.</p>`) +
    `</div></div></section>`
  );
}

function mapSection(policy: CompiledPolicy, id: string, ms: readonly Mark[], many: boolean): string {
  const violating = ms.filter((m) => m.worst !== null).length;
  const slices = slicesSpan(policy);
  const catalog = policy.reservedPorts
    .map(
      (e) =>
        `<tr><td><code>${esc(e.name)}</code></td><td class="num">${esc(formatRange(e.range))}</td><td>${esc(e.protocol)}</td><td>${esc(e.component)}</td><td>${esc(e.source ?? '')}</td></tr>`,
    )
    .join('');
  return (
    `<div class="policy-map" data-policy="${esc(policy.name)}">` +
    (many ? `<h3>Policy ${esc(policy.name)}</h3>` : '') +
    `<p>${plural(ms.length, 'port')} in use on the nodes (${ms.filter((m) => m.lane === 'hostPort').length} hostPort, ${ms.filter((m) => m.lane === 'nodePort').length} nodePort), ` +
    `${violating} with findings. Hover or focus a marker for the objects, fields and findings; in a map, arrow keys move between markers.</p>` +
    `<figure><figcaption>All ports, 0-65535, on a broken axis: each panel is linear, panels are sized for readability, not by port count.</figcaption>${overviewSvg({ policy, marks: ms, id })}</figure>` +
    `<figure><figcaption>The NodePort range ${esc(formatRange(policy.nodePortRange))} at full width, with each tenant's slice. ` +
    `The bracket under the band is the API server's static band ${esc(formatRange(staticBand(policy.nodePortRange)))}, which it allocates from last (KEP-3668): slices there rarely meet its own allocations.</figcaption>${rangeSvg({ policy, marks: ms, id }, policy.nodePortRange, 'nodeports')}</figure>` +
    (slices
      ? `<figure><figcaption>Zoomed to the tenants' slices, ${esc(formatRange(slices))}; the bracket marks the static band again.</figcaption>${rangeSvg({ policy, marks: ms, id }, slices, 'slices')}</figure>`
      : '') +
    `<details class="catalog"><summary>Reserved port catalog of policy ${esc(policy.name)} (${plural(policy.reservedPorts.length, 'entry', 'entries')})</summary>` +
    `<table><thead><tr><th scope="col">Name</th><th scope="col" class="num">Ports</th><th scope="col">Protocol</th><th scope="col">Component</th><th scope="col">Source</th></tr></thead><tbody>${catalog}</tbody></table></details>` +
    `</div>`
  );
}

function holderLine(u: MarkUse, note: string): string {
  const flag = u.findings.length ? ` <span class="bad">${u.findings.map((f) => `${esc(f.action)} ${esc(f.rule)}`).join(', ')}</span>` : '';
  return `<li><span class="mono">${u.port}</span> ${esc(objectName(u.resource))} <code>${escPath(u.path)}</code>${note ? ` <span class="muted">${note}</span>` : ''}${flag}</li>`;
}

function holders(lines: string[]): string {
  if (lines.length === 0) return '<span class="muted">none</span>';
  if (lines.length <= OPEN_HOLDERS) return `<ul class="holders">${lines.join('')}</ul>`;
  return `<details><summary>${lines.length} holders</summary><ul class="holders">${lines.join('')}</ul></details>`;
}

function tenantSection(policy: CompiledPolicy, ms: readonly Mark[], tenantOf: (ns: string | null) => string | null, many: boolean): string {
  const nodeUses = ms.filter((m) => m.lane === 'nodePort').flatMap((m) => m.uses);
  const hostUses = ms.filter((m) => m.lane === 'hostPort').flatMap((m) => m.uses);
  const row = (t: Tenant | null) => {
    const name = t ? t.name : null;
    const slice = t ? t.nodePortRange : policy.nodePortRange;
    const own = (u: MarkUse) => (t ? tenantOf(u.resource.namespace) === name : true);
    const lines: string[] = [];
    let usage = '<span class="muted">no slice: the policy\'s range applies</span>';
    if (slice) {
      const inSlice = nodeUses.filter((u) => inRange(slice, u.port));
      const used = new Set(inSlice.map((u) => u.port)).size;
      const size = rangeSize(slice);
      const pct = (100 * used) / size;
      usage =
        `<span class="usage" role="img" aria-label="${used} of ${size} ports used"><span style="width:${pct.toFixed(2)}%"></span></span>` +
        `<span data-used="${used}" data-free="${size - used}">${used} used, ${size - used} free of ${size}</span>`;
      for (const u of inSlice) {
        const holder = tenantOf(u.resource.namespace);
        lines.push(holderLine(u, t && holder !== name ? `(held by ${holder === null ? 'no tenant' : `tenant ${esc(holder)}`})` : ''));
      }
    }
    if (t) for (const u of nodeUses.filter((u) => own(u) && !(slice && inRange(slice, u.port)))) lines.push(holderLine(u, '(outside the slice)'));
    const hostCount = hostUses.filter(own).length;
    const rules = t
      ? [
          t.allowNodePorts ? '' : 'NodePorts not allowed',
          t.allowedHostPorts === null
            ? 'hostPorts: any'
            : t.allowedHostPorts.length === 0
              ? 'hostPorts: none allowed'
              : `hostPorts: ${t.allowedHostPorts.map(formatRange).join(', ')}`,
          t.allowHostNetwork === false ? 'no hostNetwork' : '',
        ]
          .filter(Boolean)
          .join('; ')
      : 'all namespaces';
    return (
      `<tr data-tenant="${esc(name ?? NONE)}"><th scope="row">${t ? esc(t.name) : '<em>whole NodePort range</em>'}</th>` +
      `<td>${t ? (t.namespaces.length ? t.namespaces.map((n) => `<code>${esc(n)}</code>`).join(', ') : '<span class="muted">by label</span>') : ''}</td>` +
      `<td class="num">${slice ? esc(formatRange(slice)) : '—'}</td><td>${usage}</td><td>${esc(rules)}</td><td class="num">${hostCount}</td><td>${holders(lines)}</td></tr>`
    );
  };
  return (
    `<div class="tenant-usage" data-policy="${esc(policy.name)}">${many ? `<h3>Policy ${esc(policy.name)}</h3>` : ''}` +
    `<table><thead><tr><th scope="col">Tenant</th><th scope="col">Namespaces</th><th scope="col" class="num">Slice</th><th scope="col">Usage</th>` +
    `<th scope="col">Limits</th><th scope="col" class="num">hostPorts used</th><th scope="col">NodePorts held</th></tr></thead><tbody>` +
    policy.tenants.map(row).join('') +
    row(null) +
    `</tbody></table></div>`
  );
}

const PORT_KEYS = new Set(['ports', 'toPorts']);

function exposures(result: ScanResult): string {
  const excerpts = new Map<string, RuleExcerpt>();
  for (const e of result.exposures ?? []) excerpts.set(`${resourceKey(e.resource)}\u0000${e.path}`, e);
  const groups = new Map<string, Finding[]>();
  for (const f of result.findings) {
    if (f.rule !== 'netpol-sensitive-exposure') continue;
    const k = `${resourceKey(f.resource)}\u0000${f.path}`;
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  const cards = [...groups].map(([k, fs]) => {
    const f0 = fs[0];
    const excerpt = excerpts.get(k);
    let rule = `<p class="muted">The scan did not keep this rule's text; see <code>${esc(f0.path)}</code> in the object${f0.source ? ` at ${esc(f0.source.file)}:${f0.source.line}` : ''}.</p>`;
    if (excerpt && excerpt.rule !== null && typeof excerpt.rule === 'object' && !Array.isArray(excerpt.rule)) {
      const entries = Object.entries(excerpt.rule as Record<string, unknown>);
      const peers = entries.filter(([key]) => !PORT_KEYS.has(key));
      const ports = entries.filter(([key]) => PORT_KEYS.has(key));
      const yaml = (xs: [string, unknown][]) => `<pre class="mono">${esc(stringify(Object.fromEntries(xs), { lineWidth: 0 }).trimEnd())}</pre>`;
      rule =
        `<div class="cols"><div><h4>Peers as written</h4>${peers.length ? yaml(peers) : '<p>none written: the rule applies to every peer</p>'}</div>` +
        `<div><h4>Ports as written</h4>${ports.length ? yaml(ports) : '<p>none written: the rule applies to every port</p>'}</div></div>`;
    } else if (excerpt) {
      rule = `<pre class="mono">${esc(stringify(excerpt.rule, { lineWidth: 0 }).trimEnd())}</pre>`;
    }
    const list = fs
      .map(
        (f) =>
          `<li>${actionText(f.action)} port <strong>${esc(f.value ?? '')}</strong>${fs.some((g) => g.policy !== f0.policy) ? ` (policy ${esc(f.policy)})` : ''}: ${esc(f.message)}</li>`,
      )
      .join('');
    return (
      `<article class="exp" data-path="${esc(f0.path)}"><h3>${esc(objectName(f0.resource))} <code>${esc(f0.path)}</code></h3>` +
      `<p class="muted">${esc(f0.resource.apiVersion)}${f0.tenant ? ` · tenant ${esc(f0.tenant)}` : ''}${f0.source ? ` · ${esc(f0.source.file)}:${f0.source.line}` : ''}</p>` +
      `<ul>${list}</ul>${rule}</article>`
    );
  });
  return (
    `<section id="exposures" aria-labelledby="exposures-h"><h2 id="exposures-h">Network-policy exposures</h2>` +
    (cards.length
      ? `<p>${plural(cards.length, 'rule')} let pods reach sensitive node ports.</p>${cards.join('')}`
      : `<p>No network policy opens a sensitive node port.</p>`) +
    `</section>`
  );
}

function options(values: Iterable<string>): string {
  return [...new Set(values)]
    .sort()
    .map((v) => `<option value="${esc(v)}">${esc(v)}</option>`)
    .join('');
}

function findingsTable(result: ScanResult): string {
  const fs = result.findings;
  const many = result.policies.length > 1;
  const rows = fs
    .map((f) => {
      const ns = f.resource.namespace ?? NONE;
      const tenant = f.tenant ?? NONE;
      const src = f.source ? `${f.source.file}:${f.source.line}` : '';
      return (
        `<tr data-rule="${esc(f.rule)}" data-action="${esc(f.action)}" data-ns="${esc(ns)}" data-tenant="${esc(tenant)}">` +
        `<td data-sort="${ACTIONS.indexOf(f.action)}">${actionText(f.action)}${f.status === 'error' ? ' <em>(rule error)</em>' : ''}</td>` +
        `<td><code>${esc(f.rule)}</code></td><td>${esc(f.tenant ?? '')}</td><td>${esc(f.resource.namespace ?? '')}</td>` +
        `<td>${esc(objectName({ ...f.resource, namespace: null }))}</td><td class="path"><code>${escPath(f.path)}</code></td>` +
        `<td class="num" data-sort="${f.value ?? ''}">${esc(f.value ?? '')}</td><td>${esc(f.message)}</td>` +
        `<td class="mono">${esc(src)}</td>${many ? `<td>${esc(f.policy)}</td>` : ''}</tr>`
      );
    })
    .join('\n');
  const select = (key: string, label: string, values: Iterable<string>) =>
    `<label>${label}<select data-filter="${key}" id="f-${key}"><option value="">all</option>${options(values)}</select></label>`;
  return (
    `<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings</h2>` +
    `<div class="filters" role="search" aria-label="Filter findings" hidden>` +
    select(
      'rule',
      'Rule',
      fs.map((f) => f.rule),
    ) +
    select(
      'action',
      'Action',
      fs.map((f) => f.action),
    ) +
    select(
      'ns',
      'Namespace',
      fs.map((f) => f.resource.namespace ?? NONE),
    ) +
    select(
      'tenant',
      'Tenant',
      fs.map((f) => f.tenant ?? NONE),
    ) +
    `<label>Text<input type="search" id="f-text" placeholder="name, path, port…"></label><button type="button" id="f-reset">Clear filters</button></div>` +
    `<p id="findings-status" role="status">Showing ${fs.length} of ${fs.length} findings</p>` +
    (fs.length === 0 ? `<p>No findings: every object checked keeps to the ${result.policies.length === 1 ? 'policy' : 'policies'}.</p>` : '') +
    `<table id="findings-table"><caption class="muted">Sorted by file, line and path; the column headers sort.</caption><thead><tr>` +
    `<th scope="col">Action</th><th scope="col">Rule</th><th scope="col">Tenant</th><th scope="col">Namespace</th><th scope="col">Object</th>` +
    `<th scope="col">Field</th><th scope="col" class="num" data-type="num">Value</th><th scope="col">Message</th><th scope="col">Source</th>${many ? '<th scope="col">Policy</th>' : ''}` +
    `</tr></thead><tbody>\n${rows}\n</tbody></table></section>`
  );
}

function inputErrors(result: ScanResult): string {
  if (result.errors.length === 0) return '';
  const items = result.errors
    .map((e) => `<li><span class="mono">${esc(e.file ?? 'cluster')}${e.line !== null ? `:${e.line}` : ''}</span> ${esc(e.message)}</li>`)
    .join('');
  return `<section id="errors" aria-labelledby="errors-h"><h2 id="errors-h">Input errors</h2><ul>${items}</ul></section>`;
}
