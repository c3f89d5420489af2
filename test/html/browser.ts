// Headless chromium for the html report tests: Debian's package driven by playwright-core,
// with the flags a root, offline machine needs. Missing chromium is a failure, not a skip.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

export interface Session {
  context: BrowserContext;
  close: () => Promise<void>;
}

export async function launch(executablePath = CHROMIUM): Promise<Session> {
  if (!existsSync(executablePath)) {
    throw new Error(`chromium is missing (${executablePath}): install it with \`bash scripts/install-chromium.sh\` (also run by .ci/run)`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'portcullis-chromium-'));
  // playwright passes the profile as --user-data-dir; a persistent context is how it takes one.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    offline: true,
    viewport: { width: 1280, height: 1180 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Everything a page asked the network for, and every console error, while it was open. */
export interface Watch {
  requests: string[];
  outside: string[];
  errors: string[];
}

/**
 * A page that records every request and aborts any that is not file: or data:, and records
 * console errors (a Content-Security-Policy refusal is one) and uncaught exceptions.
 */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; watch: Watch }> {
  const page = await context.newPage();
  const watch: Watch = { requests: [], outside: [], errors: [] };
  const local = (url: string) => url.startsWith('file:') || url.startsWith('data:') || url === 'about:blank';
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (local(url)) await route.continue();
    else {
      if (!watch.outside.includes(url)) watch.outside.push(url);
      await route.abort();
    }
  });
  page.on('request', (r) => {
    watch.requests.push(r.url());
    if (!local(r.url()) && !watch.outside.includes(r.url())) watch.outside.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') watch.errors.push(m.text());
  });
  page.on('pageerror', (e) => watch.errors.push(e.message));
  return { page, watch };
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}
