/**
 * The member and cluster IDs etcd derives when it bootstraps a new cluster, so tests can predict
 * them: a member started with the same peer URLs and cluster token gets the same ID on every
 * implementation, and outputs can name the expected IDs instead of masking all numbers.
 */
import { createHash } from 'node:crypto';

/**
 * The ID of a member of a new cluster: the first 8 bytes (big-endian) of SHA-1 over its peer URLs
 * sorted and concatenated, followed by the cluster token.
 */
export function memberIdOf(peerUrls: readonly string[], clusterToken: string): bigint {
  const digest = createHash('sha1')
    .update([...peerUrls].sort().join('') + clusterToken)
    .digest();
  return digest.readBigUInt64BE(0);
}

/**
 * The ID of a new cluster: the first 8 bytes (big-endian) of SHA-1 over its member IDs, sorted
 * ascending, each as 8 big-endian bytes.
 */
export function clusterIdOf(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(bytes).digest().readBigUInt64BE(0);
}
