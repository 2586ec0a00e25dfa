/**
 * The simulated operator: picks membership changes to propose to the leader (add learner, add or
 * promote a voter, demote, remove — the leader too — and joint changes with every transition),
 * keeping the voter count within bounds so the cluster can make progress once faults heal.
 */
import type { Rand } from '../../src/pkg/rand.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
} from '../../src/api/raftpb/types.js';

const EMPTY = new Uint8Array(0);

/** A change to propose and the new node IDs it introduces (to be started before proposing). */
export interface PlannedChange {
  cc: ConfChange | ConfChangeV2;
  newNodes: bigint[];
  text: string;
}

/** Chooses membership changes. */
export class MembershipOperator {
  constructor(
    private readonly rand: Rand,
    private readonly minVoters: number,
    private readonly maxVoters: number,
    private nextId: bigint,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[this.rand.intn(xs.length)]!;
  }

  private freshId(): bigint {
    return this.nextId++;
  }

  /** The empty v2 change: leave the joint config. */
  leaveJoint(): PlannedChange {
    return {
      cc: { transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [], context: EMPTY },
      newNodes: [],
      text: 'leave-joint',
    };
  }

  /** A change to propose given the leader's current membership, or undefined if none fits. */
  plan(cs: ConfState): PlannedChange | undefined {
    if (cs.votersOutgoing.length > 0) return this.leaveJoint();
    const voters = cs.voters;
    const learners = cs.learners;
    const options: (() => PlannedChange | undefined)[] = [
      () => this.single(ConfChangeType.ConfChangeAddLearnerNode, this.freshId(), true),
      () => (voters.length < this.maxVoters ? this.single(ConfChangeType.ConfChangeAddNode, this.freshId(), true) : undefined),
      () =>
        learners.length > 0 && voters.length < this.maxVoters
          ? this.single(ConfChangeType.ConfChangeAddNode, this.pick(learners), false)
          : undefined,
      () => (voters.length > this.minVoters ? this.single(ConfChangeType.ConfChangeRemoveNode, this.pick(voters), false) : undefined),
      () => (learners.length > 0 ? this.single(ConfChangeType.ConfChangeRemoveNode, this.pick(learners), false) : undefined),
      () => (voters.length > this.minVoters ? this.single(ConfChangeType.ConfChangeAddLearnerNode, this.pick(voters), false) : undefined),
      () => this.joint(voters, learners),
      () => this.joint(voters, learners),
    ];
    for (let tries = 0; tries < 4; tries++) {
      const c = this.pick(options)();
      if (c !== undefined) return c;
    }
    return undefined;
  }

  /** One change, as a legacy ConfChange or a simple ConfChangeV2 at random. */
  private single(type: ConfChangeType, nodeId: bigint, isNew: boolean): PlannedChange {
    const newNodes = isNew ? [nodeId] : [];
    const text = `${ConfChangeType[type]} ${nodeId}`;
    if (this.rand.intn(2) === 0) {
      return { cc: { id: 0n, type, nodeId, context: EMPTY }, newNodes, text: `v1 ${text}` };
    }
    return {
      cc: { transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [{ type, nodeId }], context: EMPTY },
      newNodes,
      text: `v2 ${text}`,
    };
  }

  /** A joint change: bring in a voter (promoted learner or new node) and retire one. */
  private joint(voters: readonly bigint[], learners: readonly bigint[]): PlannedChange | undefined {
    const changes: ConfChangeSingle[] = [];
    const newNodes: bigint[] = [];
    let incoming: bigint;
    if (learners.length > 0 && this.rand.intn(2) === 0) {
      incoming = this.pick(learners);
    } else {
      incoming = this.freshId();
      newNodes.push(incoming);
    }
    changes.push({ type: ConfChangeType.ConfChangeAddNode, nodeId: incoming });
    if (voters.length >= this.minVoters) {
      const out = this.pick(voters);
      // Retire the voter either entirely or down to a learner (it then sits in learnersNext).
      const type = this.rand.intn(3) === 0 ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeRemoveNode;
      changes.push({ type, nodeId: out });
    }
    const transition = this.pick([
      ConfChangeTransition.ConfChangeTransitionAuto,
      ConfChangeTransition.ConfChangeTransitionJointImplicit,
      ConfChangeTransition.ConfChangeTransitionJointExplicit,
    ]);
    const text = `joint ${ConfChangeTransition[transition]} ${changes.map((c) => `${ConfChangeType[c.type]} ${c.nodeId}`).join(', ')}`;
    return { cc: { transition, changes, context: EMPTY }, newNodes, text };
  }
}
