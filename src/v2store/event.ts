/**
 * What the v2 store answers and what its watchers receive: an Event with the node as it is after
 * the operation and, for changes of an existing node, as it was before. Shapes and names are
 * etcd's v2 JSON (etcd 3.4 etcdserver/api/v2store event.go, node_extern.go).
 *
 * Events are shared: the one returned to the writer is the one kept in the event history and
 * handed to every watcher. Nobody mutates them after the store built them.
 */

/** An event's `action` field. */
export type V2Action = 'get' | 'create' | 'set' | 'update' | 'delete' | 'compareAndSwap' | 'compareAndDelete' | 'expire';

/** etcd's external view of one node (NodeExtern); JSON leaves out every field at its zero value. */
export interface NodeExtern {
  readonly key: string;
  /** The value of a file; undefined for a directory. '' is a value. */
  readonly value: string | undefined;
  readonly dir: boolean;
  /** When the node expires, RFC3339Nano UTC; undefined when permanent. */
  readonly expiration: string | undefined;
  /** Seconds to expiry, rounded up (etcd's ceiling); 0 when permanent. */
  readonly ttl: number;
  /** Children of a listed directory, hidden ones left out; undefined when not listed. */
  readonly nodes: readonly NodeExtern[] | undefined;
  readonly modifiedIndex: number;
  readonly createdIndex: number;
}

/** One store event (etcd's Event). */
export interface V2Event {
  readonly action: V2Action;
  readonly node: NodeExtern;
  /** The node before a set/update/delete/CAS/CAD/expire of an existing node. */
  readonly prevNode: NodeExtern | undefined;
  /**
   * The store's index this event answers at: X-Etcd-Index. Not part of the JSON body. For a write
   * it is the write's index; for a get, the store's current index; for a watch answered from the
   * history, the store's index when the watch was made.
   */
  readonly etcdIndex: number;
  /** A TTL refresh: recorded in the history, never sent to watchers. */
  readonly refresh: boolean;
}

/** The index an event happened at (its node's modifiedIndex), which orders the history. */
export function eventIndex(e: V2Event): number {
  return e.node.modifiedIndex;
}

/** Whether the event created its node (create, or set of an absent key). */
export function isCreated(e: V2Event): boolean {
  return e.action === 'create' || (e.action === 'set' && e.prevNode === undefined);
}

/** A node view of a key with only its indexes, the start of every event's node. */
export function plainNode(key: string, modifiedIndex: number, createdIndex: number, dir = false): NodeExtern {
  return { key, value: undefined, dir, expiration: undefined, ttl: 0, nodes: undefined, modifiedIndex, createdIndex };
}

/**
 * Orders keys as Go compares strings: by UTF-8 bytes. UTF-16 order differs only where a
 * surrogate pair (above U+FFFF) meets a character from U+E000 to U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}
