/**
 * Events as JSON, byte for byte as etcd 3.4 writes them: Go's field order, every zero-valued
 * field left out (`omitempty`), Go's string escaping. `encodeEvent` is the stored form (event
 * history in snapshots, golden tests); `encodeClientEvent` is what the v2 HTTP API sends.
 */
import type { NodeExtern, V2Event } from './event.js';
import { goJsonString } from './go-json.js';

function trim(key: string, prefix: string): string {
  return prefix !== '' && key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

function nodeInto(out: string[], n: NodeExtern, prefix: string): void {
  let sep = '{';
  const key = trim(n.key, prefix);
  if (key !== '') {
    out.push(sep, '"key":', goJsonString(key));
    sep = ',';
  }
  if (n.value !== undefined) {
    out.push(sep, '"value":', goJsonString(n.value));
    sep = ',';
  }
  if (n.dir) {
    out.push(sep, '"dir":true');
    sep = ',';
  }
  if (n.expiration !== undefined) {
    out.push(sep, '"expiration":', goJsonString(n.expiration));
    sep = ',';
  }
  if (n.ttl !== 0) {
    out.push(sep, '"ttl":', String(n.ttl));
    sep = ',';
  }
  if (n.nodes !== undefined && n.nodes.length > 0) {
    out.push(sep, '"nodes":[');
    for (let i = 0; i < n.nodes.length; i++) {
      if (i > 0) out.push(',');
      nodeInto(out, n.nodes[i]!, prefix);
    }
    out.push(']');
    sep = ',';
  }
  if (n.modifiedIndex !== 0) {
    out.push(sep, '"modifiedIndex":', String(n.modifiedIndex));
    sep = ',';
  }
  if (n.createdIndex !== 0) {
    out.push(sep, '"createdIndex":', String(n.createdIndex));
    sep = ',';
  }
  out.push(sep === '{' ? '{}' : '}');
}

function eventInto(out: string[], e: V2Event, prefix: string, withRefresh: boolean): void {
  out.push('{"action":', goJsonString(e.action), ',"node":');
  nodeInto(out, e.node, prefix);
  if (e.prevNode !== undefined) {
    out.push(',"prevNode":');
    nodeInto(out, e.prevNode, prefix);
  }
  if (withRefresh && e.refresh) out.push(',"refresh":true');
  out.push('}');
}

/** One node's JSON, with `prefix` trimmed from the start of every key in it. */
export function encodeNodeExtern(n: NodeExtern, prefix = ''): string {
  const out: string[] = [];
  nodeInto(out, n, prefix);
  return out.join('');
}

/** The event's JSON as etcd marshals its Event (with `"refresh":true` on refreshes). */
export function encodeEvent(e: V2Event): string {
  const out: string[] = [];
  eventInto(out, e, '', true);
  return out.join('');
}

/**
 * The event as etcd's v2 HTTP API sends it: `keyPrefix` (the store namespace, "/1" in etcd)
 * trimmed from every key, and no `refresh` field, since etcd clones the event before trimming
 * and the clone leaves the flag behind. The caller appends the newline etcd's encoder writes.
 */
export function encodeClientEvent(e: V2Event, keyPrefix = ''): string {
  const out: string[] = [];
  eventInto(out, e, keyPrefix, false);
  return out.join('');
}
