import { EtcdError } from '../pkg/errors.js';

/**
 * Expected outcomes of stepping a message, returned as values (never thrown):
 * - `proposal-dropped`: the proposal was ignored (no leader, a leadership transfer in progress,
 *   the uncommitted-size limit reached, or forwarding disabled); the proposer should retry later.
 * - `step-local-msg`: a message type that only the node itself may produce arrived from a peer.
 * - `step-peer-not-found`: a response came from a peer that is not in the configuration.
 */
export type StepError = 'proposal-dropped' | 'step-local-msg' | 'step-peer-not-found';

/**
 * A broken invariant of the raft core (e.g. a committed entry would be overwritten, or the host
 * handed back an impossible index). Thrown, never caught inside raft: the node must stop.
 */
export class RaftInvariantError extends EtcdError {
  constructor(message: string) {
    super('raft-invariant', message);
    this.name = 'RaftInvariantError';
  }
}

/** Throws a RaftInvariantError with `message`. */
export function fail(message: string): never {
  throw new RaftInvariantError(message);
}
