// The Nodes' InternalIP/ExternalIP addresses from a Node informer, as one sorted array that
// stays the same object until an address changes: evaluate() caches the parsed node set
// per array, so an unchanged cluster never re-parses it.
import type { KubeClient } from '../k8s/client.js';
import { NODES } from '../k8s/resources.js';
import { Informer, type InformerOptions } from './informer.js';
import { strip, type Cached } from './strip.js';

export interface NodeAddressCache {
  informer: Informer<Cached>;
  addresses(): readonly string[];
}

/** `onAddressesChanged` runs only when some node's addresses really changed. */
export function nodeAddressCache(opts: {
  client: KubeClient;
  /** Paging, retries, log and page gate, as the process's other informers have them. */
  tuning?: Omit<Partial<InformerOptions<Cached>>, 'client' | 'type' | 'strip' | 'onChange'>;
  onAddressesChanged: () => void;
}): NodeAddressCache {
  let addresses: readonly string[] = [];
  let stale = true;
  const informer = new Informer<Cached>({
    ...opts.tuning,
    client: opts.client,
    type: NODES,
    strip: (raw) => strip(NODES, raw),
    onChange: (type, o, old) => {
      if (type === 'update' && JSON.stringify(o.addresses) === JSON.stringify(old?.addresses)) return;
      stale = true;
      opts.onAddressesChanged();
    },
  });
  return {
    informer,
    addresses: () => {
      if (stale) {
        addresses = [...new Set([...informer.values()].flatMap((n) => (n.addresses as string[] | undefined) ?? []))].sort();
        stale = false;
      }
      return addresses;
    },
  };
}
