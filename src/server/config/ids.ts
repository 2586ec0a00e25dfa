/**
 * Member and cluster IDs, derived exactly as etcd 3.4 derives them, so a cluster bootstrapped
 * by etcd-ts with the same names, URLs and token has the IDs etcd would give it, and etcdctl
 * shows the same hex.
 *
 * - member ID: SHA-1 over the member's sorted peer URLs concatenated, then the cluster token,
 *   then (for a member added at run time) the decimal Unix seconds of the add; the first 8
 *   bytes of the digest read big-endian.
 * - cluster ID: SHA-1 over the sorted member IDs, each as 8 bytes big-endian; the first 8 bytes
 *   of the digest read big-endian.
 */

import { createHash } from 'node:crypto';

function first8BigEndian(digest: Buffer): bigint {
  return digest.readBigUInt64BE(0);
}

/**
 * The ID of a member with these peer URLs (normalized text, any order) in the cluster with
 * this token. For a member added by MemberAdd, etcd 3.4 passes an empty token and the add
 * time in whole Unix seconds.
 */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string, addedAtUnixSeconds?: number): bigint {
  const sorted = [...peerUrls].sort();
  const hash = createHash('sha1');
  for (const u of sorted) hash.update(u, 'utf8');
  hash.update(clusterToken, 'utf8');
  if (addedAtUnixSeconds !== undefined) hash.update(String(Math.floor(addedAtUnixSeconds)), 'utf8');
  return first8BigEndian(hash.digest());
}

/** The cluster ID of the initial members (any order). */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  return first8BigEndian(createHash('sha1').update(bytes).digest());
}

/** Lowercase hex without padding, as etcd's `types.ID.String()` and etcdctl print IDs. */
export function formatId(id: bigint): string {
  return id.toString(16);
}

/** 16-digit zero-padded lowercase hex, as etcd prints IDs with `%016x` (file names, some logs). */
export function formatIdPadded(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

/** Parses hex as etcd's `types.IDFromString`; undefined unless it is 1 to 16 hex digits. */
export function parseId(hex: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return undefined;
  return BigInt(`0x${hex}`);
}
