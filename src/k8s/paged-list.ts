// A list in pages (limit/continue), as client-go's pager reads one, so no answer holds the whole
// collection: the caller gets one page at a time and the next is asked for only when it wants
// it. Used by `scan --cluster` (sources/cluster.ts), by the controller's informers
// (cluster/informer.ts) before they watch, and by its report writer for the reports it wrote.
import { ApiError, type KubeClient } from './client.js';
import { collectionPath, withQuery, type ResourceType } from './resources.js';

export interface ListPage {
  /** This page's objects; emptied when the next page is asked for. */
  items: Record<string, any>[];
  /**
   * The list's resourceVersion as of this page (every page of one list is served from the
   * first page's snapshot): a watch from the last page's version misses nothing.
   */
  resourceVersion: string;
}

export interface PagedListOptions {
  /** One namespace; all namespaces when null or absent (and always for cluster-scoped kinds). */
  namespace?: string | null;
  labelSelector?: string;
  /** Items per page. 500 is client-go's default page size. */
  pageSize?: number;
  /** Bounds how many pages are held at once across lists; a permit is held from a page's request until the next page is asked for. */
  gate?: PageGate;
  /**
   * An expired continue token restarted the list (`restarts` so far): the pages that follow
   * begin it again, so objects already seen come again, each as it is now.
   */
  onRestart?: (restarts: number) => void;
}

/**
 * A semaphore over list pages. Parsing a page of 500 pods makes 10-20 MB of short-lived
 * objects; sixteen informers listing at once would hold sixteen of them.
 */
export class PageGate {
  private waiting: (() => void)[] = [];
  private free: number;
  constructor(permits: number) {
    this.free = permits;
  }

  /** Waits for a permit; the function returned gives it back (calling it again does nothing). */
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/**
 * Every page of a list of `type`. A continue token that expires (410 Gone: etcd compacts
 * every 5 minutes, so a slow list of a large collection can outlive its snapshot) restarts
 * the list from the start, in pages; if that expires too, the list is read in one piece, which
 * no compaction can interrupt, as client-go's pager does with FullListIfExpired. So a list
 * always ends. Any other failure is thrown.
 */
export async function* pagedList(client: KubeClient, type: ResourceType, opts: PagedListOptions = {}): AsyncGenerator<ListPage, void, undefined> {
  const { namespace = null, labelSelector, pageSize = 500, gate, onRestart } = opts;
  const path = collectionPath(type, namespace);
  let cont: string | undefined;
  let resourceVersion = '';
  let restarts = 0;
  for (;;) {
    const release = await gate?.acquire();
    try {
      let page = await requestPage(client, withQuery(path, { limit: restarts > 1 ? undefined : pageSize, continue: cont, labelSelector }), cont);
      if (page === null) {
        restarts++;
        cont = undefined;
        onRestart?.(restarts);
        continue;
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
      const out: ListPage = { items: page.items ?? [], resourceVersion };
      page = null;
      yield out;
      // The caller has asked for the next page, but its loop variable still holds this one:
      // emptied here, it is garbage before the next request, so one page is held, not two.
      out.items = [];
    } finally {
      release?.();
    }
    if (!cont) return;
  }
}

interface ListAnswer {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: Record<string, any>[];
}

/** One page; null when the continue token it was asked with has expired. */
async function requestPage(client: KubeClient, path: string, cont: string | undefined): Promise<ListAnswer | null> {
  try {
    return await client.request<ListAnswer>('GET', path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 410 && cont) return null;
    throw err;
  }
}
