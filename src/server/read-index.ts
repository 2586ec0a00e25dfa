/**
 * Linearizable reads through raft's ReadIndex (Raft §8, etcd's linearizableReadLoop), batched:
 * every read that arrives while a round is in flight waits for the next round, and one round
 * serves all of them. A round asks raft for a read index with a unique context, waits for the
 * ReadState carrying that context, then for the local applied index to reach it; then every read
 * of the round may be served from the local store. A round starts once the current I/O phase is
 * over, so reads arriving together share it.
 *
 * A read must not join a round already asked for: that round's index may predate a write the
 * reader saw complete.
 */
import type { RpcError } from '../api/rpctypes/index.js';
import type { ReadState } from '../raft/index.js';
import { bytesEqual } from '../pkg/bytes.js';

interface Waiter {
  resolve: () => void;
  reject: (err: RpcError) => void;
}

interface Round {
  ctx: Uint8Array;
  waiters: Waiter[];
  /** The confirmed read index; -1 until the ReadState arrives. */
  index: number;
  timer: NodeJS.Timeout;
}

/** What the batcher needs from the server. */
export interface ReadIndexDeps {
  /** Asks raft for a read index carrying `ctx`. */
  requestReadIndex(ctx: Uint8Array): void;
  /** The member's applied index. */
  appliedIndex(): number;
  /** A fresh unique ID for a round's context. */
  nextId(): bigint;
  /** How long a round may take. */
  readonly timeoutMs: number;
  /** The error for reads of a round that timed out. */
  timeoutError(): RpcError;
}

/** Batches linearizable reads into read index rounds. */
export class ReadIndexBatcher {
  private waiting: Waiter[] = [];
  private round: Round | undefined;
  private stopped: RpcError | undefined;
  private roundScheduled = false;
  /** Rounds started, for tests. */
  rounds = 0;

  constructor(private readonly d: ReadIndexDeps) {}

  /** Resolves once the local state includes every write committed before the call. */
  wait(): Promise<void> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.scheduleRound();
    });
  }

  /** Starts a round once the callbacks of this I/O phase had their say, so their reads join it. */
  private scheduleRound(): void {
    if (this.round !== undefined || this.roundScheduled) return;
    this.roundScheduled = true;
    setImmediate(() => {
      this.roundScheduled = false;
      if (this.round === undefined && this.waiting.length > 0 && this.stopped === undefined) this.startRound();
    });
  }

  private startRound(): void {
    const id = this.d.nextId();
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, id);
    const round: Round = {
      ctx,
      waiters: this.waiting,
      index: -1,
      timer: setTimeout(() => this.finish(round, this.d.timeoutError()), this.d.timeoutMs),
    };
    this.waiting = [];
    this.round = round;
    this.rounds++;
    this.d.requestReadIndex(ctx);
  }

  /** Takes confirmed read states from the host loop. */
  onReadStates(states: readonly ReadState[]): void {
    const round = this.round;
    if (round === undefined) return;
    for (const rs of states) {
      if (round.index < 0 && bytesEqual(rs.requestCtx, round.ctx)) {
        round.index = rs.index;
        this.onApplied(this.d.appliedIndex());
      }
    }
  }

  /** Tells the batcher the applied index moved to `applied`. */
  onApplied(applied: number): void {
    const round = this.round;
    if (round !== undefined && round.index >= 0 && applied >= round.index) this.finish(round, undefined);
  }

  /** The leader changed: a round still waiting for its read index will not get it (etcd: leader changed). */
  onLeaderChanged(err: RpcError): void {
    const round = this.round;
    if (round !== undefined && round.index < 0) this.finish(round, err);
  }

  private finish(round: Round, err: RpcError | undefined): void {
    if (this.round !== round) return;
    clearTimeout(round.timer);
    this.round = undefined;
    for (const w of round.waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
    if (this.waiting.length > 0) this.scheduleRound();
  }

  /** Fails every waiting read with `err` and refuses new ones. */
  stop(err: RpcError): void {
    this.stopped = err;
    if (this.round !== undefined) this.finish(this.round, err);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.reject(err);
  }
}
