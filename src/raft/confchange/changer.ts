import { ConfChangeType, type ConfChangeSingle } from '../../api/raftpb/types.js';
import { MajorityConfig } from '../quorum/index.js';
import { Inflights, Progress, cloneTrackerConfig, type TrackerConfig } from '../tracker/index.js';

/** The config and progress map a Changer works from. Only read, never mutated. */
export interface ChangerTracker {
  readonly config: TrackerConfig;
  readonly progress: ReadonlyMap<bigint, Progress>;
}

/** The outcome of a configuration change: the new config and progress map, or etcd's error text. */
export type ChangeResult =
  | { ok: true; config: TrackerConfig; progress: Map<bigint, Progress> }
  | { ok: false; error: string };

/** What a Changer needs; a Changer itself satisfies it. */
export interface ChangerInputs {
  readonly tracker: ChangerTracker;
  /** The leader's last log index, where new peers' progress starts. */
  readonly lastIndex: number;
  /** Inflights window of new progresses. */
  readonly maxInflight: number;
  /** Inflights byte budget of new progresses; 0 = unlimited. */
  readonly maxInflightBytes: number;
}

function fail(error: string): ChangeResult {
  return { ok: false, error };
}

function isJoint(cfg: TrackerConfig): boolean {
  return cfg.voters.outgoing.ids.size > 0;
}

/** Number of IDs in exactly one of the two sets. */
function symdiff(a: ReadonlySet<bigint>, b: ReadonlySet<bigint>): number {
  let n = 0;
  for (const id of a) if (!b.has(id)) n++;
  for (const id of b) if (!a.has(id)) n++;
  return n;
}

/**
 * Checks that a config and progress map fit together: every voter and learner is tracked,
 * learners and voters are disjoint, staged learners are outgoing voters, and outside a joint
 * config nothing joint-only is set. Returns the first violation, or undefined.
 */
export function checkInvariants(cfg: TrackerConfig, trk: ReadonlyMap<bigint, Progress>): string | undefined {
  for (const ids of [cfg.voters.incoming.ids, cfg.voters.outgoing.ids, cfg.learners, cfg.learnersNext]) {
    for (const id of ids) if (!trk.has(id)) return `no progress for ${id}`;
  }
  // A learner is staged only because it is still a voter in the outgoing config.
  for (const id of cfg.learnersNext) {
    if (!cfg.voters.outgoing.ids.has(id)) return `${id} is in LearnersNext, but not Voters[1]`;
    if (trk.get(id)!.isLearner) return `${id} is in LearnersNext, but is already marked as learner`;
  }
  for (const id of cfg.learners) {
    if (cfg.voters.outgoing.ids.has(id)) return `${id} is in Learners and Voters[1]`;
    if (cfg.voters.incoming.ids.has(id)) return `${id} is in Learners and Voters[0]`;
    if (!trk.get(id)!.isLearner) return `${id} is in Learners, but is not marked as learner`;
  }
  if (!isJoint(cfg)) {
    if (cfg.learnersNext.size > 0) return 'cfg.LearnersNext must be nil when not joint';
    if (cfg.autoLeave) return 'AutoLeave must be false when not joint';
  }
  return undefined;
}

function checked(config: TrackerConfig, progress: Map<bigint, Progress>): ChangeResult {
  const err = checkInvariants(config, progress);
  return err === undefined ? { ok: true, config, progress } : fail(err);
}

/**
 * Validates and carries out membership changes (Raft thesis §4.1 single-server changes and §4.3
 * joint consensus) on copies of a tracker's config and progress map; the caller installs the
 * result once the change applies. Empty configs may be populated freely (bootstrap, tests).
 */
export class Changer implements ChangerInputs {
  constructor(
    readonly tracker: ChangerTracker,
    readonly lastIndex: number,
    readonly maxInflight: number,
    readonly maxInflightBytes = 0,
  ) {}

  /**
   * Enters a joint config: the current voters become the outgoing half, `ccs` apply to the
   * incoming half (C_old,new). With `autoLeave` raft leaves the joint config on its own once it
   * is committed.
   */
  enterJoint(autoLeave: boolean, ccs: readonly ConfChangeSingle[]): ChangeResult {
    const copied = this.checkAndCopy();
    if (!copied.ok) return copied;
    const { config: cfg, progress: trk } = copied;
    if (isJoint(cfg)) return fail('config is already joint');
    // An empty config may be populated by simple changes, but there is nothing to keep joint with.
    if (cfg.voters.incoming.ids.size === 0) return fail("can't make a zero-voter config joint");
    cfg.voters.outgoing = new MajorityConfig(cfg.voters.incoming.ids);
    const err = this.apply(cfg, trk, ccs);
    if (err !== undefined) return fail(err);
    cfg.autoLeave = autoLeave;
    return checked(cfg, trk);
  }

  /**
   * Leaves a joint config: the incoming half alone decides (C_new), staged learners become
   * learners, and peers only the outgoing half knew are dropped.
   */
  leaveJoint(): ChangeResult {
    const copied = this.checkAndCopy();
    if (!copied.ok) return copied;
    const { config: cfg, progress: trk } = copied;
    if (!isJoint(cfg)) return fail("can't leave a non-joint config");
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id);
      trk.get(id)!.isLearner = true;
    }
    cfg.learnersNext.clear();
    for (const id of cfg.voters.outgoing.ids) {
      if (!cfg.voters.incoming.ids.has(id) && !cfg.learners.has(id)) trk.delete(id);
    }
    cfg.voters.outgoing = new MajorityConfig();
    cfg.autoLeave = false;
    return checked(cfg, trk);
  }

  /**
   * Applies changes that together alter the voters by at most one (Raft thesis §4.1: any two
   * majorities of configs differing by one voter overlap). Learner changes are unrestricted.
   */
  simple(ccs: readonly ConfChangeSingle[]): ChangeResult {
    const copied = this.checkAndCopy();
    if (!copied.ok) return copied;
    const { config: cfg, progress: trk } = copied;
    if (isJoint(cfg)) return fail("can't apply simple config change in joint config");
    const err = this.apply(cfg, trk, ccs);
    if (err !== undefined) return fail(err);
    if (symdiff(this.tracker.config.voters.incoming.ids, cfg.voters.incoming.ids) > 1) {
      return fail('more than one voter changed without entering joint config');
    }
    return checked(cfg, trk);
  }

  // Changes always edit the incoming half; the outgoing half is frozen while joint.
  private apply(cfg: TrackerConfig, trk: Map<bigint, Progress>, ccs: readonly ConfChangeSingle[]): string | undefined {
    for (const cc of ccs) {
      // etcd zeroes the node ID of a change it decided not to apply: skip it.
      if (cc.nodeId === 0n) continue;
      switch (cc.type) {
        case ConfChangeType.ConfChangeAddNode:
          this.makeVoter(cfg, trk, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeAddLearnerNode:
          this.makeLearner(cfg, trk, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeRemoveNode:
          this.remove(cfg, trk, cc.nodeId);
          break;
        case ConfChangeType.ConfChangeUpdateNode:
          break;
        default:
          return `unexpected conf type ${cc.type as number}`;
      }
    }
    if (cfg.voters.incoming.ids.size === 0) return 'removed all voters';
    return undefined;
  }

  // Adds `id` as an incoming voter, promoting it if it is a (possibly staged) learner.
  private makeVoter(cfg: TrackerConfig, trk: Map<bigint, Progress>, id: bigint): void {
    const pr = trk.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, trk, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    cfg.voters.incoming.ids.add(id);
  }

  // Makes `id` a learner. A voter of the outgoing half cannot be a learner at the same time, so
  // it is staged in learnersNext and becomes a learner when the joint config is left.
  private makeLearner(cfg: TrackerConfig, trk: Map<bigint, Progress>, id: bigint): void {
    const pr = trk.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, trk, id, true);
      return;
    }
    if (pr.isLearner) return;
    this.remove(cfg, trk, id);
    // Keep the existing progress: the peer's log position is still valid.
    trk.set(id, pr);
    if (cfg.voters.outgoing.ids.has(id)) {
      cfg.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

  // Removes `id` from the incoming half and the learners; its progress stays while the
  // outgoing half still counts it.
  private remove(cfg: TrackerConfig, trk: Map<bigint, Progress>, id: bigint): void {
    if (!trk.has(id)) return;
    cfg.voters.incoming.ids.delete(id);
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    if (!cfg.voters.outgoing.ids.has(id)) trk.delete(id);
  }

  private initProgress(cfg: TrackerConfig, trk: Map<bigint, Progress>, id: bigint, isLearner: boolean): void {
    if (isLearner) cfg.learners.add(id);
    else cfg.voters.incoming.ids.add(id);
    trk.set(
      id,
      new Progress({
        match: 0,
        // Probe from the leader's last index: the new peer is expected to be empty and will be
        // walked back (or sent a snapshot). invariant: match < next, hence at least 1.
        next: Math.max(this.lastIndex, 1),
        inflights: new Inflights(this.maxInflight, this.maxInflightBytes),
        isLearner,
        // A new peer has had no chance to talk yet; counting it inactive could make check
        // quorum depose the leader right after the change.
        recentActive: true,
      }),
    );
  }

  // Copies the input (progresses shallowly: only isLearner is changed on them) and checks it.
  private checkAndCopy(): ChangeResult {
    const cfg = cloneTrackerConfig(this.tracker.config);
    const trk = new Map<bigint, Progress>();
    for (const [id, pr] of this.tracker.progress) trk.set(id, pr.shallowClone());
    return checked(cfg, trk);
  }
}
