// The html report in a real browser (Debian's chromium via playwright-core): the report for
// examples/, produced by the scan pipeline, must draw what the JSON output of the same scan
// says, and so must the report of a --cluster scan (against the test API server); nothing may
// leave the page; markers answer the keyboard; the table sorts and filters.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { runScan } from '../../src/cmd/scan.js';
import { RULE_CATALOG } from '../../src/engine/rules/index.js';
import { ACTIONS, type Action } from '../../src/engine/types.js';
import { writeHtml } from '../../src/sinks/reports/html.js';
import { loadPolicyPaths } from '../../src/sources/policy-files.js';
import { artifact, launch, watchedPage, type Session, type Watch } from './browser.js';
import { fixture, INJECTION } from './fixture.js';
import { kubeletEgress, namespace, node, pod, service } from '../support/cluster-objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NOW = new Date('2026-11-25T18:00:00Z');
/** Relative to the working directory, as a user types it (the report shows these paths). */
const arg = (p: string) => path.relative(process.cwd(), path.join(ROOT, p)) || '.';

interface JsonFinding {
  rule: string;
  action: Action;
  policy: string;
  tenant: string | null;
  resource: { apiVersion: string; kind: string; namespace: string | null; name: string };
  path: string;
  value: number | null;
  message: string;
}
interface JsonReport {
  summary: { resources: number; skipped: number; errors: number; findings: Record<Action, number> };
  findings: JsonFinding[];
}

async function scan(policyArgs: string[], format: 'json' | 'html', cluster = false): Promise<string> {
  let out = '';
  let err = '';
  const status = await runScan(
    cluster ? [] : [arg('examples')],
    { policy: policyArgs.map(arg), format, cluster },
    {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      stdoutColor: false,
      now: () => NOW,
    },
  );
  if (status === 2) throw new Error(`scan failed (status 2): ${err}`);
  return out;
}

const LANE: Record<string, string> = {
  'hostport-reserved': 'hostPort',
  'hostport-not-allowed': 'hostPort',
  'nodeport-range': 'nodePort',
  'nodeport-not-allowed': 'nodePort',
};

let session: Session;
beforeAll(async () => {
  session = await launch();
});
afterAll(async () => {
  await session?.close();
});

async function open(html: string, name: string): Promise<{ page: Page; watch: Watch }> {
  const file = artifact(name);
  writeFileSync(file, html);
  const w = await watchedPage(session.context);
  await w.page.goto(`file://${file}`);
  return w;
}

const visibleRows = (page: Page) => page.locator('#findings-table tbody tr:not([hidden])').count();

describe.each([
  { name: 'with the examples tenant policy', policies: ['examples/policies'], file: 'report-examples' },
  { name: 'with the shipped default policy', policies: [], file: 'report-examples-default' },
])('report for examples/ $name', ({ policies, file }) => {
  let json: JsonReport;
  let page: Page;
  let watch: Watch;
  beforeAll(async () => {
    json = JSON.parse(await scan(policies, 'json')) as JsonReport;
    ({ page, watch } = await open(await scan(policies, 'html'), `${file}.html`));
  });
  afterAll(async () => {
    await page?.close();
  });

  it('makes no request beyond the file itself, and logs no error', async () => {
    // The summary and the map, as docs/report-screenshot.png shows them.
    const map = (await page.locator('#map figure').last().boundingBox())!;
    await page.screenshot({ path: artifact(`${file}-top.png`), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(map.y + map.height + 12) } });
    expect(watch.outside).toEqual([]);
    expect(watch.requests.every((u) => u.startsWith('file:'))).toBe(true);
    expect(watch.errors).toEqual([]);
  });

  it('summarises what the JSON summary says', async () => {
    const card = (k: string) => page.locator(`[data-summary] [data-k="${k}"] .n`).innerText();
    expect(await card('resources')).toBe(String(json.summary.resources));
    expect(await card('skipped')).toBe(String(json.summary.skipped));
    expect(await card('errors')).toBe(String(json.summary.errors));
    for (const a of ACTIONS) expect(await card(a)).toBe(String(json.summary.findings[a]));
  });

  it('lists the JSON findings in the table, row by row', async () => {
    const rows = await page
      .locator('#findings-table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells).map((c) => c.innerText.trim())));
    expect(rows).toHaveLength(json.findings.length);
    expect(rows.map((r) => r.slice(0, 7))).toEqual(
      json.findings.map((f) => [
        f.action,
        f.rule,
        f.tenant ?? '',
        f.resource.namespace ?? '',
        `${f.resource.kind} ${f.resource.name}`,
        f.path,
        f.value === null ? '' : String(f.value),
      ]),
    );
    expect(rows.map((r) => r[7])).toEqual(json.findings.map((f) => f.message));
  });

  it('draws the catalog, the NodePort range and the tenant slices as bands', async () => {
    const loaded = await loadPolicyPaths(policies.map((p) => path.join(ROOT, p)));
    const policy = loaded.policies[0];
    const overview = page.locator('svg[id$="-overview"]');
    await expect(overview.count()).resolves.toBe(1);
    expect((await overview.boundingBox())!.width).toBeGreaterThan(1000);
    const names = await overview.locator('.b-res').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-name')));
    expect(new Set(names)).toEqual(new Set(policy.reservedPorts.filter((e) => e.name !== 'nodeport-range').map((e) => e.name)));
    // Every band is drawn with a visible size, even a single port on a 9,000-port panel.
    const widths = await overview.locator('.band rect').evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().width));
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(2);
    await expect(overview.locator('.b-np').count()).resolves.toBe(1);
    const slices = policy.tenants.filter((t) => t.nodePortRange).map((t) => t.name);
    expect(await overview.locator('.b-ten').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-tenant')))).toEqual(slices);
    // The JSON's tenants are the policy's tenants.
    for (const f of json.findings) if (f.tenant) expect(policy.tenants.map((t) => t.name)).toContain(f.tenant);
  });

  it("marks exactly the JSON's port violations, each with its worst action and its findings named", async () => {
    const marks = await page.locator('svg[id$="-overview"] .mk').evaluateAll((gs) =>
      gs.map((g) => ({
        lane: g.getAttribute('data-lane')!,
        port: Number(g.getAttribute('data-port')),
        act: g.getAttribute('data-act')!,
        label: g.getAttribute('aria-label')!,
      })),
    );
    const want = new Map<string, { act: Action; findings: JsonFinding[] }>();
    for (const f of json.findings) {
      if (!LANE[f.rule] || f.value === null) continue;
      const k = `${LANE[f.rule]}:${f.value}`;
      const w = want.get(k) ?? { act: f.action, findings: [] };
      if (ACTIONS.indexOf(f.action) < ACTIONS.indexOf(w.act)) w.act = f.action;
      w.findings.push(f);
      want.set(k, w);
    }
    const violating = marks.filter((m) => m.act !== 'ok');
    expect(new Set(violating.map((m) => `${m.lane}:${m.port}`))).toEqual(new Set(want.keys()));
    expect(marks.length).toBeGreaterThan(violating.length);
    for (const m of violating) {
      const w = want.get(`${m.lane}:${m.port}`)!;
      expect(m.act).toBe(w.act);
      for (const f of w.findings) {
        expect(m.label).toContain(
          `${f.resource.kind} ${f.resource.namespace}/${f.resource.name}, field ${f.path}: ${f.action.toUpperCase()} ${f.rule}: ${f.message}`,
        );
      }
    }
    // The NodePort lane repeats the markers in the range, no more, no fewer.
    const np = marks.filter((m) => m.port >= 30000 && m.port <= 32767).map((m) => `${m.lane}:${m.port}`);
    const lane = await page
      .locator('svg[id$="-nodeports"] .mk')
      .evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-lane')}:${g.getAttribute('data-port')}`));
    expect(lane.sort()).toEqual(np.sort());
  });

  it('reaches the markers by keyboard and shows the tooltip for the focused one', async () => {
    await page.locator('body').focus();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let tabs = 0;
    while (!(await page.evaluate(() => document.activeElement?.classList.contains('mk'))) && tabs < 30) {
      await page.keyboard.press('Tab');
      tabs++;
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-view'))).toBe('overview');
    let moves = 0;
    while ((await page.evaluate(() => document.activeElement?.getAttribute('data-act'))) !== 'deny' && moves < 40) {
      await page.keyboard.press('ArrowRight');
      moves++;
    }
    const focused = await page.evaluate(() => ({
      port: Number(document.activeElement!.getAttribute('data-port')),
      label: document.activeElement!.getAttribute('aria-label'),
    }));
    const f = json.findings.find((x) => LANE[x.rule] && x.value === focused.port && x.action === 'deny')!;
    expect(f).toBeDefined();
    const tip = page.locator('#tip');
    await expect(tip.isVisible()).resolves.toBe(true);
    const text = await tip.innerText();
    expect(text).toContain(`${f.resource.name}, field ${f.path}: DENY ${f.rule}`);
    expect(text.replace(/\s+/g, ' ')).toBe(focused.label!.replace(/\s+/g, ' '));
    // The tooltip sits next to the marker, inside the window.
    const [m, t] = [await page.locator('.mk:focus').boundingBox(), await tip.boundingBox()];
    expect(Math.min(Math.abs(t!.y - (m!.y + m!.height)), Math.abs(t!.y + t!.height - m!.y))).toBeLessThan(20);
    await page.screenshot({ path: artifact(`${file}-tooltip.png`) });
    await page.keyboard.press('Escape');
    await expect(tip.isVisible()).resolves.toBe(false);
  });

  it('shows a zoomed-lane marker the label of its overview marker on hover', async () => {
    const zoomed = page.locator('svg[id$="-nodeports"] .mk').first();
    await zoomed.hover();
    const of = await zoomed.getAttribute('data-of');
    const label = await page.locator(`[id="${of}"]`).getAttribute('aria-label');
    expect(label).toMatch(/^(hostPort|nodePort) 3\d{4}/);
    expect((await page.locator('#tip').innerText()).replace(/\s+/g, ' ')).toBe(label!.replace(/\s+/g, ' '));
    await page.mouse.move(0, 0);
  });

  it('filters the table by rule, tenant and text, and sorts it by value', async () => {
    const rule = 'hostport-reserved';
    await page.selectOption('#f-rule', rule);
    expect(await visibleRows(page)).toBe(json.findings.filter((f) => f.rule === rule).length);
    const tenant = json.findings.find((f) => f.rule === rule)!.tenant ?? '(none)';
    await page.selectOption('#f-tenant', tenant);
    const both = json.findings.filter((f) => f.rule === rule && (f.tenant ?? '(none)') === tenant).length;
    expect(await visibleRows(page)).toBe(both);
    await expect(page.locator('#findings-status').innerText()).resolves.toBe(`Showing ${both} of ${json.findings.length} findings`);
    await page.click('#f-reset');
    await page.fill('#f-text', '10250');
    expect(await visibleRows(page)).toBe(json.findings.filter((f) => f.value === 10250 || f.message.includes('10250') || f.path.includes('10250')).length);
    await page.click('#f-reset');
    expect(await visibleRows(page)).toBe(json.findings.length);

    await page.getByRole('button', { name: 'Value' }).click();
    const values = () => page.locator('#findings-table tbody tr td:nth-child(7)').allInnerTexts();
    const nums = (await values()).map((v) => (v === '' ? 0 : Number(v)));
    expect(nums).toEqual([...nums].sort((a, b) => a - b));
    await expect(page.locator('#findings-table th[aria-sort]').getAttribute('aria-sort')).resolves.toBe('ascending');
    await page.getByRole('button', { name: 'Value' }).click();
    const desc = (await values()).map((v) => (v === '' ? 0 : Number(v)));
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
  });

  it('prints without the controls and with the map and the table', async () => {
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('.filters').isVisible()).resolves.toBe(false);
    await expect(page.locator('svg[id$="-overview"]').isVisible()).resolves.toBe(true);
    await expect(page.locator('#findings-table').isVisible()).resolves.toBe(true);
    await page.emulateMedia({ media: 'screen' });
    await page.screenshot({ path: artifact(`${file}.png`), fullPage: true });
  });
});

describe('report for a fixture with hostile names', () => {
  let page: Page;
  let watch: Watch;
  beforeAll(async () => {
    ({ page, watch } = await open(writeHtml(fixture(), { rules: RULE_CATALOG }), 'report-fixture.html'));
  });
  afterAll(async () => {
    await page?.close();
  });

  it('shows an object named like markup as text and runs none of it', async () => {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await expect(page.locator('img').count()).resolves.toBe(0);
    await expect(page.locator('script').count()).resolves.toBe(1);
    const objects = await page.locator('#findings-table tbody td:nth-child(5)').allInnerTexts();
    expect(objects).toContain(`Pod ${INJECTION}`);
    await page.locator('[data-port="10250"][data-view="overview"]').focus();
    expect(await page.locator('#tip').innerText()).toContain(INJECTION);
    expect(watch.outside).toEqual([]);
    expect(watch.errors).toEqual([]);
  });

  it('keeps text at 4.5:1 and marker shapes at 3:1 against their backgrounds (WCAG 1.4.3, 1.4.11)', async () => {
    const colours = await page.evaluate(() => {
      const css = (sel: string, prop: string) => getComputedStyle(document.querySelector(sel)!).getPropertyValue(prop);
      const text = ['.act-deny', '.act-warn', '.act-audit', '.muted', 'header p', '#findings-table td', '.axis text', '.lane', '.cap'].map((sel) => ({
        sel,
        fg: css(sel, sel.startsWith('.axis') || sel === '.lane' || sel === '.cap' ? 'fill' : 'color'),
      }));
      const shapes = ['ok', 'deny', 'warn', 'audit'].map((k) => ({ sel: k, fg: css(`.k-${k} > *`, 'fill') }));
      return { text, shapes, body: css('body', 'background-color'), panel: css('.panel', 'fill') };
    });
    const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const lum = (c: string) => {
      const [r, g, b] = rgb(c)
        .map((v) => v / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a: string, b: string) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    expect(colours.shapes.every((s) => s.fg.startsWith('rgb'))).toBe(true);
    for (const t of colours.text)
      expect({ sel: t.sel, ok: ratio(t.fg, colours.body) >= 4.5 && ratio(t.fg, colours.panel) >= 4.5 }).toEqual({ sel: t.sel, ok: true });
    for (const sh of colours.shapes) expect({ sel: sh.sel, ok: ratio(sh.fg, colours.panel) >= 3 }).toEqual({ sel: sh.sel, ok: true });
  });

  it("refuses the page's own attempts to reach the network (Content-Security-Policy)", async () => {
    const result = await page.evaluate(() =>
      fetch('http://192.0.2.1/x').then(
        () => 'fetched',
        () => 'refused',
      ),
    );
    expect(result).toBe('refused');
    expect(watch.errors.join('\n')).toMatch(/Content Security Policy/);
  });
});

describe('report for a --cluster scan', () => {
  let fake: FakeApiServer;
  let dir: string;
  const saved = process.env.KUBECONFIG;
  beforeAll(async () => {
    fake = await FakeApiServer.start();
    fake.put(namespace('shop'));
    fake.put(node('node-1', '10.0.0.11'));
    fake.put(node('node-2', '10.0.0.12'));
    fake.put(pod('shop', 'agent', [{ containerPort: 10250, hostPort: 10250 }]));
    fake.put(pod('shop', 'web', [{ containerPort: 8080, hostPort: 8080 }]));
    fake.put(service('shop', 'front', [30080, 31000]));
    fake.put(kubeletEgress('shop', 'to-nodes', '10.0.0.0/24'));
    dir = mkdtempSync(path.join(tmpdir(), 'portcullis-html-cluster-'));
    const file = path.join(dir, 'kubeconfig');
    writeFileSync(file, fake.kubeconfig());
    process.env.KUBECONFIG = file;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws the cluster’s ports and exposures as the JSON output says, with no file sources', async () => {
    const json = JSON.parse(await scan([], 'json', true)) as JsonReport;
    const { page, watch } = await open(await scan([], 'html', true), 'report-cluster.html');
    expect(json.findings.map((f) => `${f.rule} ${f.resource.name} ${f.value}`).sort()).toEqual([
      'hostport-reserved agent 10250',
      'netpol-sensitive-exposure to-nodes 10250',
    ]);
    const marks = await page
      .locator('svg[id$="-overview"] .mk')
      .evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-lane')}:${g.getAttribute('data-port')}:${g.getAttribute('data-act')}`));
    expect(marks.sort()).toEqual(['hostPort:10250:deny', 'hostPort:8080:ok', 'nodePort:30080:ok', 'nodePort:31000:ok']);
    await expect(page.locator('#findings-table tbody tr').count()).resolves.toBe(json.findings.length);
    expect((await page.locator('#findings-table tbody td:nth-child(9)').allInnerTexts()).every((t) => t === '')).toBe(true);
    await expect(page.locator('#exposures pre').first().innerText()).resolves.toBe('to:\n  - ipBlock:\n      cidr: 10.0.0.0/24');
    expect(watch.outside).toEqual([]);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});

describe('an empty report', () => {
  it('runs its script without errors when there is nothing to draw', async () => {
    const html = writeHtml(
      {
        ...fixture(),
        findings: [],
        errors: [],
        portUses: [],
        exposures: [],
        summary: { resources: 0, skipped: 0, skippedKinds: {}, errors: 0, findings: { deny: 0, warn: 0, audit: 0 } },
      },
      { rules: RULE_CATALOG },
    );
    const { page, watch } = await open(html, 'report-empty.html');
    await expect(page.locator('.filters').isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Rule' }).click();
    await expect(page.locator('#findings-status').innerText()).resolves.toBe('Showing 0 of 0 findings; sorted by Rule, ascending');
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});

describe('the request watch itself', () => {
  it('catches a page that fetches from the network', async () => {
    const { page, watch } = await open('<!DOCTYPE html><p>leaky</p><img src="http://192.0.2.1/pixel.png">', 'leaky.html');
    await page.waitForLoadState('load');
    expect(watch.outside).toEqual(['http://192.0.2.1/pixel.png']);
    await page.close();
  });

  it('fails, naming the setup step, when chromium is missing', async () => {
    await expect(launch('/nonexistent/chromium')).rejects.toThrow('bash scripts/install-chromium.sh');
  });
});
