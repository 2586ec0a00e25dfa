/**
 * Key paths of the v2 tree, cleaned as etcd cleans them (`path.Clean(path.Join("/", p))` in Go):
 * rooted, no empty, `.` or `..` components, no trailing slash except for the root itself.
 */

// A rooted path is already clean unless it has `//`, `/./`, `/../`, or ends in `/`, `/.`, `/..`.
const UNCLEAN = /\/\.{0,2}(?:\/|$)/;

/** `p` made rooted and lexically clean, as Go's path.Clean(path.Join("/", p)). */
export function cleanPath(p: string): string {
  if (p.length > 1 && p.charCodeAt(0) === 0x2f && !UNCLEAN.test(p)) return p;
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    // A rooted path cannot climb above the root.
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** Go's path.Split: everything up to and including the last `/`, and the rest. */
export function splitPath(p: string): [dir: string, name: string] {
  const at = p.lastIndexOf('/');
  return [p.slice(0, at + 1), p.slice(at + 1)];
}

/** The last component of a clean path ('' for the root). */
export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** `dir` joined with a child name, for a clean `dir` ("/" + "a" is "/a"). */
export function joinChild(dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name;
}

/**
 * Whether `keyPath` is hidden from a watcher at `watchPath`: some component of the key below the
 * watched path starts with `_` (etcd's isHidden). A watch path deeper than the key (a directory
 * deleted above the watched key) never hides.
 */
export function isHiddenFrom(watchPath: string, keyPath: string): boolean {
  if (watchPath.length > keyPath.length) return false;
  const after = cleanPath('/' + keyPath.slice(watchPath.length));
  return after.includes('/_');
}
