import type { RaftLogger } from './config.js';

/** A logger that discards everything; the default when RaftConfig.logger is not given. */
export const silentLogger: RaftLogger = {
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
};

/** Formats a node ID as etcd does in its logs and describe output: lowercase hex. */
export function hexId(id: bigint): string {
  return id.toString(16);
}
