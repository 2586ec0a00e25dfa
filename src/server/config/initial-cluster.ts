/**
 * `--initial-cluster` (`n1=http://10.0.0.1:2380,n1=http://10.0.0.1:2381,n2=...`): member names
 * to their peer URLs, read as etcd 3.4's `types.NewURLsMap` reads it.
 */

import { parseUrlList, type EtcdUrl, type Parsed } from './urls.js';

/**
 * Parses an initial-cluster string into name → sorted peer URLs. A name may repeat to give a
 * member several URLs; empty items are skipped; an item without `=` names a member with an
 * empty URL, which then fails URL parsing as in etcd.
 */
export function parseInitialCluster(text: string): Parsed<Map<string, EtcdUrl[]>> {
  const raw = new Map<string, string[]>();
  for (const item of text.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const url = eq < 0 ? '' : item.slice(eq + 1);
    const list = raw.get(name);
    if (list === undefined) raw.set(name, [url]);
    else list.push(url);
  }
  const out = new Map<string, EtcdUrl[]>();
  for (const [name, urls] of raw) {
    const r = parseUrlList(urls.join(','));
    if (!r.ok) return r;
    out.set(name, r.value);
  }
  return { ok: true, value: out };
}
