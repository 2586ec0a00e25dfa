/**
 * The v2 store's snapshot: the JSON etcd 3.4 writes from its store struct (json.Marshal of the
 * store: Root, WatcherHub with its EventHistory, CurrentIndex, Stats, CurrentVersion), so the
 * state a raft snapshot carries reads the same here and in etcd. Node expiry times are Go
 * times: RFC 3339, "0001-01-01T00:00:00Z" for a permanent node.
 */
import { EtcdError } from '../pkg/errors.js';
import { compareKeys, type NodeExtern, type V2Action, type V2Event } from './event.js';
import { encodeEvent } from './event-json.js';
import { EventHistory } from './event-history.js';
import { goJsonString } from './go-json.js';
import { V2Node } from './node.js';
import { GO_ZERO_TIME_MS, formatRfc3339Nano, parseRfc3339 } from './rfc3339.js';
import { V2_STAT_FIELDS, type V2StatsSnapshot } from './stats.js';

/** What a snapshot holds. */
export interface StoreSnapshotState {
  readonly root: V2Node;
  readonly history: EventHistory;
  readonly currentIndex: number;
  readonly stats: V2StatsSnapshot;
  readonly version: number;
}

/** A decoded snapshot; counters as found (unknown ones dropped, missing ones absent). */
export interface DecodedStoreSnapshot {
  readonly root: V2Node;
  readonly history: EventHistory;
  readonly currentIndex: number;
  readonly stats: Partial<Record<keyof V2StatsSnapshot, unknown>>;
  readonly version: number;
}

const GO_ZERO_TIME = formatRfc3339Nano(GO_ZERO_TIME_MS);

function goTime(ms: number): string {
  return ms === 0 ? GO_ZERO_TIME : formatRfc3339Nano(ms);
}

/**
 * Collects UTF-8 output in small string chunks encoded as they fill: a snapshot can be tens of
 * megabytes, and neither one giant concatenation nor millions of joined pieces is cheap.
 */
class Utf8Writer {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  private chunk = '';
  private readonly encoder = new TextEncoder();

  write(s: string): void {
    this.chunk += s;
    if (this.chunk.length >= 1 << 14) this.flush();
  }

  bytes(): Uint8Array {
    this.flush();
    return this.buf.slice(0, this.len);
  }

  private flush(): void {
    // A UTF-16 unit takes at most 3 UTF-8 bytes.
    const need = this.len + this.chunk.length * 3;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.len += this.encoder.encodeInto(this.chunk, this.buf.subarray(this.len)).written;
    this.chunk = '';
  }
}

function writeNode(w: Utf8Writer, n: V2Node): void {
  const head = `{"Path":${goJsonString(n.path)},"CreatedIndex":${n.createdIndex},"ModifiedIndex":${n.modifiedIndex},"ExpireTime":"${goTime(n.expireTime)}","Value":${goJsonString(n.value)},"Children":`;
  if (n.children === undefined) {
    w.write(head + 'null}');
    return;
  }
  if (n.children.size === 0) {
    w.write(head + '{}}');
    return;
  }
  // Go writes map keys sorted by their bytes.
  const names = [...n.children.keys()].sort(compareKeys);
  let sep = head + '{';
  for (const name of names) {
    w.write(sep + goJsonString(name) + ':');
    writeNode(w, n.children.get(name)!);
    sep = ',';
  }
  w.write('}}');
}

/** The snapshot bytes (UTF-8 JSON). */
export function encodeStoreSnapshot(s: StoreSnapshotState): Uint8Array {
  const w = new Utf8Writer();
  const q = s.history.queue;
  w.write('{"Root":');
  writeNode(w, s.root);
  w.write(',"WatcherHub":{"EventHistory":{"Queue":{"Events":[');
  for (let i = 0; i < q.events.length; i++) {
    const e = q.events[i];
    w.write((i > 0 ? ',' : '') + (e === undefined ? 'null' : encodeEvent(e)));
  }
  w.write(
    `],"Size":${q.size},"Front":${q.front},"Back":${q.back},"Capacity":${q.capacity}},` +
      `"StartIndex":${s.history.startIndex},"LastIndex":${s.history.lastIndex}}},` +
      `"CurrentIndex":${s.currentIndex},"Stats":{` +
      V2_STAT_FIELDS.map((f) => `"${f}":${s.stats[f]}`).join(',') +
      `},"CurrentVersion":${s.version}}`,
  );
  return w.bytes();
}

function corrupt(what: string): never {
  throw new EtcdError('v2-snapshot-corrupt', `v2store: corrupt snapshot: ${what}`);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// `where` and `field` name the place for the error only; they are joined when one is thrown.
function uint(v: unknown, where: string, field = ''): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) corrupt(`${where}${field} is not an index`);
  return v;
}

function str(v: unknown, where: string, field = ''): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') corrupt(`${where}${field} is not a string`);
  return v;
}

/** `where` names the node's place for errors: "Root", or the path of the directory holding it. */
function decodeNode(v: unknown, parent: V2Node | undefined, where: string): V2Node {
  if (!isObject(v)) corrupt(`a node in ${where} is not an object`);
  const path = str(v['Path'], where, ' Path');
  const t = str(v['ExpireTime'], where, ' ExpireTime');
  let expireTime = 0;
  if (t !== '') {
    const ms = parseRfc3339(t);
    if (ms === undefined) corrupt(`${where} ExpireTime ${JSON.stringify(t)} is not a time`);
    expireTime = ms === GO_ZERO_TIME_MS ? 0 : ms;
  }
  const children = v['Children'];
  if (children !== undefined && children !== null && !isObject(children)) corrupt(`${where} Children is not an object`);
  const isDir = isObject(children);
  const n = V2Node.restore(path, uint(v['CreatedIndex'], where, ' CreatedIndex'), uint(v['ModifiedIndex'], where, ' ModifiedIndex'), expireTime, str(v['Value'], where, ' Value'), isDir);
  n.parent = parent;
  if (isDir) {
    for (const name in children) n.children!.set(name, decodeNode(children[name], n, path));
  }
  return n;
}

const ACTIONS: ReadonlySet<string> = new Set(['get', 'create', 'set', 'update', 'delete', 'compareAndSwap', 'compareAndDelete', 'expire']);

function decodeNodeExtern(v: unknown, what: string): NodeExtern {
  if (!isObject(v)) corrupt(`${what} is not an object`);
  const value = v['value'];
  const expiration = v['expiration'];
  const nodes = v['nodes'];
  const ttl = v['ttl'] ?? 0;
  if (value !== undefined && typeof value !== 'string') corrupt(`${what} value is not a string`);
  if (expiration !== undefined && typeof expiration !== 'string') corrupt(`${what} expiration is not a string`);
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl)) corrupt(`${what} ttl is not an integer`);
  if (nodes !== undefined && nodes !== null && !Array.isArray(nodes)) corrupt(`${what} nodes is not an array`);
  return {
    key: str(v['key'], what, ' key'),
    value,
    dir: v['dir'] === true,
    expiration,
    ttl,
    nodes: Array.isArray(nodes) ? nodes.map((c, i) => decodeNodeExtern(c, `${what} nodes[${i}]`)) : undefined,
    modifiedIndex: uint(v['modifiedIndex'], what, ' modifiedIndex'),
    createdIndex: uint(v['createdIndex'], what, ' createdIndex'),
  };
}

function decodeEvent(v: unknown, what: string): V2Event | undefined {
  if (v === null) return undefined;
  if (!isObject(v)) corrupt(`${what} is not an object`);
  const action = v['action'];
  if (typeof action !== 'string' || !ACTIONS.has(action)) corrupt(`${what} action ${JSON.stringify(action)} is unknown`);
  if (v['node'] === undefined || v['node'] === null) corrupt(`${what} has no node`);
  return {
    action: action as V2Action,
    node: decodeNodeExtern(v['node'], `${what} node`),
    prevNode: v['prevNode'] === undefined || v['prevNode'] === null ? undefined : decodeNodeExtern(v['prevNode'], `${what} prevNode`),
    etcdIndex: 0,
    refresh: v['refresh'] === true,
  };
}

function decodeHistory(hub: unknown): EventHistory {
  if (!isObject(hub) || !isObject(hub['EventHistory'])) corrupt('WatcherHub.EventHistory is missing');
  const eh = hub['EventHistory'];
  const q = eh['Queue'];
  if (!isObject(q)) corrupt('EventHistory.Queue is missing');
  const capacity = uint(q['Capacity'], 'Queue.Capacity');
  const events = q['Events'];
  if (capacity < 1 || !Array.isArray(events) || events.length !== capacity) corrupt(`event queue of capacity ${capacity} does not hold ${capacity} slots`);
  const size = uint(q['Size'], 'Queue.Size');
  const front = uint(q['Front'], 'Queue.Front');
  const back = uint(q['Back'], 'Queue.Back');
  if (size > capacity || front >= capacity || back >= capacity || (front + size) % capacity !== back) corrupt('event queue positions are inconsistent');
  const decoded = events.map((e, i) => decodeEvent(e, `Events[${i}]`));
  for (let k = 0; k < size; k++) if (decoded[(front + k) % capacity] === undefined) corrupt(`event queue slot ${(front + k) % capacity} is empty`);
  const history = new EventHistory(capacity);
  history.restore(decoded, size, front, back, uint(eh['StartIndex'], 'StartIndex'), uint(eh['LastIndex'], 'LastIndex'));
  return history;
}

/** Decodes snapshot bytes; throws EtcdError 'v2-snapshot-corrupt' when malformed. */
export function decodeStoreSnapshot(bytes: Uint8Array): DecodedStoreSnapshot {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    corrupt(`not UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) corrupt('not a JSON object');
  const root = decodeNode(doc['Root'], undefined, 'Root');
  if (!root.isDir) corrupt('root is not a directory');
  const stats = doc['Stats'];
  if (stats !== undefined && stats !== null && !isObject(stats)) corrupt('Stats is not an object');
  const version = doc['CurrentVersion'] ?? 2;
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) corrupt('CurrentVersion is not an integer');
  return {
    root,
    history: decodeHistory(doc['WatcherHub']),
    currentIndex: uint(doc['CurrentIndex'], 'CurrentIndex'),
    stats: isObject(stats) ? stats : {},
    version,
  };
}
