/**
 * One node of the v2 tree: a directory (children by name) or a file (a string value), with its
 * indexes and an optional expiry (etcd 3.4 etcdserver/api/v2store node.go).
 */
import { compareKeys, type NodeExtern } from './event.js';
import { baseName } from './node-path.js';
import { formatRfc3339Nano } from './rfc3339.js';
import type { TtlKeyHeap } from './ttl-key-heap.js';
import { V2ErrorCode, newV2Error, type V2Error } from './v2-errors.js';

/** How a compare-and-X test came out; names the mismatching parts for the error cause. */
export type CompareResult = 'match' | 'index-mismatch' | 'value-mismatch' | 'both-mismatch';

/** Called with the path of every node a remove takes out of the tree, children first. */
export type RemoveCallback = (path: string) => void;

/** A directory or file of the tree. Owned by its store. */
export class V2Node {
  /** invariant: children !== undefined exactly for directories. */
  children: Map<string, V2Node> | undefined;
  /** Expiry in ms since the epoch; 0 for a permanent node. */
  expireTime: number;
  /** Position in the store's TTL heap; -1 when not in it. */
  heapIndex = -1;

  private constructor(
    /** The node's clean, rooted path. */
    readonly path: string,
    public createdIndex: number,
    public modifiedIndex: number,
    public parent: V2Node | undefined,
    expireTime: number,
    public value: string,
    dir: boolean,
  ) {
    this.expireTime = expireTime;
    this.children = dir ? new Map() : undefined;
  }

  /** A file (key-value pair) created at `createdIndex`. */
  static newKv(path: string, value: string, createdIndex: number, parent: V2Node | undefined, expireTime: number): V2Node {
    return new V2Node(path, createdIndex, createdIndex, parent, expireTime, value, false);
  }

  /** An empty directory created at `createdIndex`. */
  static newDir(path: string, createdIndex: number, parent: V2Node | undefined, expireTime: number): V2Node {
    return new V2Node(path, createdIndex, createdIndex, parent, expireTime, '', true);
  }

  /** A node rebuilt from a snapshot, without parent (set by the caller). */
  static restore(path: string, createdIndex: number, modifiedIndex: number, expireTime: number, value: string, dir: boolean): V2Node {
    return new V2Node(path, createdIndex, modifiedIndex, undefined, expireTime, value, dir);
  }

  /** Whether this is a directory. */
  get isDir(): boolean {
    return this.children !== undefined;
  }

  /** Whether the node never expires. */
  get isPermanent(): boolean {
    return this.expireTime === 0;
  }

  /** The expiry as RFC3339Nano UTC, undefined when permanent. */
  expiration(): string | undefined {
    return this.expireTime === 0 ? undefined : formatRfc3339Nano(this.expireTime);
  }

  /**
   * Seconds left at `now`, rounded up so it counts 1..n rather than 1..n+1 (etcd's ceiling; a
   * node past its expiry but not yet swept shows 0 or less). 0 when permanent.
   */
  ttl(now: number): number {
    if (this.expireTime === 0) return 0;
    const left = this.expireTime - now;
    let secs = Math.trunc(left / 1000);
    if (left % 1000 > 0) secs++;
    return secs === 0 ? 0 : secs;
  }

  /**
   * The node's external view (etcd's Repr): a directory lists its children only when
   * `recursive`, leaving hidden ones out; `sorted` orders each listing by key.
   */
  repr(recursive: boolean, sorted: boolean, now: number): NodeExtern {
    const dir = this.children !== undefined;
    return {
      key: this.path,
      value: dir ? undefined : this.value,
      dir,
      expiration: this.expiration(),
      ttl: this.ttl(now),
      nodes: dir && recursive ? this.list(recursive, sorted, now) : undefined,
      modifiedIndex: this.modifiedIndex,
      createdIndex: this.createdIndex,
    };
  }

  /**
   * The view a get answers with (etcd's loadInternalNode): like repr, but a directory always
   * lists its children (recursing into them only when `recursive`), under the key as asked.
   */
  load(key: string, recursive: boolean, sorted: boolean, now: number): NodeExtern {
    const dir = this.children !== undefined;
    return {
      key,
      value: dir ? undefined : this.value,
      dir,
      expiration: this.expiration(),
      ttl: this.ttl(now),
      nodes: dir ? this.list(recursive, sorted, now) : undefined,
      modifiedIndex: this.modifiedIndex,
      createdIndex: this.createdIndex,
    };
  }

  private list(recursive: boolean, sorted: boolean, now: number): NodeExtern[] {
    const nodes: NodeExtern[] = [];
    for (const [name, child] of this.children!) {
      // Hidden nodes (a name starting with '_') are left out of listings.
      if (name.charCodeAt(0) === 0x5f) continue;
      nodes.push(child.repr(recursive, sorted, now));
    }
    if (sorted) nodes.sort((a, b) => compareKeys(a.key, b.key));
    return nodes;
  }

  /** Tests a compare-and-X condition; '' and 0 mean "do not test" (etcd's Compare). */
  compare(prevValue: string, prevIndex: number): CompareResult {
    const indexMatch = prevIndex === 0 || this.modifiedIndex === prevIndex;
    const valueMatch = prevValue === '' || this.value === prevValue;
    if (indexMatch && valueMatch) return 'match';
    if (indexMatch) return 'value-mismatch';
    if (valueMatch) return 'index-mismatch';
    return 'both-mismatch';
  }

  /**
   * Sets a file's value and modifiedIndex. A directory is left untouched (etcd 3.4 ignores the
   * Not-a-file result here, so a TTL update of a directory keeps its modifiedIndex).
   */
  write(value: string, index: number): void {
    if (this.children !== undefined) return;
    this.value = value;
    this.modifiedIndex = index;
  }

  /** Sets the expiry (0: permanent) and keeps the TTL heap in step. */
  updateTtl(expireTime: number, heap: TtlKeyHeap<V2Node>): void {
    if (this.expireTime !== 0) {
      this.expireTime = expireTime;
      if (expireTime === 0) heap.remove(this);
      else heap.update(this);
      return;
    }
    if (expireTime === 0) return;
    this.expireTime = expireTime;
    heap.push(this);
  }

  /**
   * Takes the node out of the tree (etcd's Remove). A directory needs `dir`, and `recursive`
   * when it has children; its children go first. `onRemoved` sees each removed path so
   * watchers on it are told. `index` is the store's index, for the error.
   */
  remove(dir: boolean, recursive: boolean, heap: TtlKeyHeap<V2Node>, index: number, onRemoved?: RemoveCallback): V2Error | undefined {
    if (this.children === undefined) {
      this.detach();
      onRemoved?.(this.path);
      if (this.expireTime !== 0) heap.remove(this);
      return undefined;
    }
    if (!dir) return newV2Error(V2ErrorCode.NotFile, this.path, index);
    if (this.children.size !== 0 && !recursive) return newV2Error(V2ErrorCode.DirNotEmpty, this.path, index);
    // Deleting the entry being visited is safe in a Map iteration.
    for (const child of this.children.values()) child.remove(true, true, heap, index, onRemoved);
    if (this.detach()) {
      onRemoved?.(this.path);
      if (this.expireTime !== 0) heap.remove(this);
    }
    return undefined;
  }

  /** Unlinks from the parent if still linked there; whether it was. */
  private detach(): boolean {
    const p = this.parent;
    if (p === undefined) return false;
    const name = baseName(this.path);
    if (p.children!.get(name) !== this) return false;
    p.children!.delete(name);
    return true;
  }
}
