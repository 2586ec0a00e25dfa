/**
 * Opens a member's durable state, creating it for a new member (etcd's bootstrap):
 *
 * - New member (no WAL): derives the member and cluster IDs from the configuration, creates the
 *   WAL with etcdserverpb.Metadata {NodeID, ClusterID}, and writes the raft log's bootstrap: one
 *   ConfChangeAddNode per initial member (context: the member's JSON, as etcd writes it), all
 *   committed at term 1.
 * - Existing member: loads the newest snapshot that has a WAL marker, reads the WAL from it
 *   (repairing a torn tail), and rebuilds raft's storage from snapshot, hard state and entries.
 *   The WAL's member ID must be the one the configuration describes.
 *
 * The backend lives at `<data-dir>/member/snap/db`; see data-dir.ts.
 */
import { mkdir } from 'node:fs/promises';
import { Metadata } from '../api/gen/etcdserverpb.js';
import { ConfChangeType, EntryType, emptyConfState, type ConfState, type Entry, type HardState, type Snapshot } from '../api/raftpb/types.js';
import { Backend } from '../backend/backend.js';
import type { Logger } from '../pkg/logger.js';
import { MemoryStorage, marshalConfChange } from '../raft/index.js';
import { Snapshotter } from '../snap/index.js';
import { Wal } from '../wal/index.js';
import { computeClusterId, computeMemberId, formatId } from './config/ids.js';
import { parseInitialCluster } from './config/initial-cluster.js';
import type { ServerConfig } from './config/server-config.js';
import { dataDirLayout, type DataDirLayout } from './data-dir.js';
import { fetchRemoteCluster } from './join-cluster.js';
import { memberToJson, type Member } from './member.js';
import { MembershipStore } from './membership-store.js';
import { openBackendForSnapshot } from './snapshot-install.js';

/** A member's opened durable state. */
export interface BootState {
  readonly layout: DataDirLayout;
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** Whether the member was created now. */
  readonly isNew: boolean;
  readonly backend: Backend;
  readonly membership: MembershipStore;
  readonly wal: Wal;
  readonly snapshotter: Snapshotter;
  /** raft's storage, holding the snapshot, hard state and entries read back. */
  readonly storage: MemoryStorage;
  /** The snapshot recovered from, if any. */
  readonly snapshot: Snapshot | undefined;
  /** The membership raft starts with (the snapshot's; empty without one). */
  readonly confState: ConfState;
  /** A member joining an existing cluster: the members it learned from its peers (its first peers). */
  readonly remoteMembers?: readonly Member[];
}

/** Options of {@link openMember}. */
export interface OpenMemberOptions {
  /** WAL segment size (tests); default the WAL's. */
  readonly walSegmentBytes?: number;
  /** Skip fsync in the backend (throwaway tests and benchmarks only). */
  readonly unsafeBackendNoSync?: boolean;
}

const enc = new TextEncoder();

/** The initial members the configuration describes, in ascending ID order. */
export function initialMembers(config: ServerConfig): Member[] {
  const parsed = parseInitialCluster(config.initialCluster);
  if (!parsed.ok) throw new Error(`invalid --initial-cluster: ${parsed.error}`);
  const members: Member[] = [];
  for (const [name, urls] of parsed.value) {
    const peerUrls = urls.map((u) => u.text).sort();
    members.push({ id: computeMemberId(peerUrls, config.initialClusterToken), name, peerUrls, clientUrls: [], isLearner: false });
  }
  const seen = new Set<bigint>();
  for (const m of members) {
    if (seen.has(m.id)) throw new Error(`--initial-cluster: member ${m.name} has the same ID (${formatId(m.id)}) as another member (same peer URLs?)`);
    seen.add(m.id);
  }
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** This member's ID as the configuration derives it (its advertised peer URLs and the token). */
export function configuredMemberId(config: ServerConfig): bigint {
  return computeMemberId(
    config.initialAdvertisePeerUrls.map((u) => u.text),
    config.initialClusterToken,
  );
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((u, i) => u === sb[i]);
}

/** The bootstrap entries: one committed ConfChangeAddNode per member, at term 1. */
function bootstrapEntries(members: readonly Member[]): Entry[] {
  return members.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.EntryConfChange,
    data: marshalConfChange({ id: 0n, type: ConfChangeType.ConfChangeAddNode, nodeId: m.id, context: enc.encode(memberToJson(m)) }),
  }));
}

/** Writes the bootstrap entries and hard state to a fresh WAL and raft's storage. */
async function writeBootstrap(wal: Wal, storage: MemoryStorage, members: readonly Member[]): Promise<void> {
  const ents = bootstrapEntries(members);
  const hs: HardState = { term: 1, vote: 0n, commit: ents.length };
  await wal.save(hs, ents, true);
  storage.append(ents);
  storage.setHardState(hs);
}

/** Opens (or creates) the durable state of the member `config` describes. */
export async function openMember(config: ServerConfig, logger: Logger, options: OpenMemberOptions = {}): Promise<BootState> {
  const layout = dataDirLayout(config);
  const walOpts = options.walSegmentBytes === undefined ? {} : { segmentBytes: options.walSegmentBytes };
  const snapshotter = new Snapshotter(layout.snapDir);
  const isNew = !(await Wal.exists(layout.walDir));

  if (isNew) {
    if (config.initialClusterState === 'existing') return joinExisting(config, logger, layout, snapshotter, walOpts, options);
    const members = initialMembers(config);
    const self = members.find((m) => m.name === config.name);
    if (self === undefined) throw new Error(`couldn't find local name "${config.name}" in the initial cluster configuration`);
    const advertised = config.initialAdvertisePeerUrls.map((u) => u.text);
    if (!sameUrls(self.peerUrls, advertised)) {
      throw new Error(
        `--initial-cluster has ${config.name}=${self.peerUrls.join(',')} but missing from --initial-advertise-peer-urls=${advertised.join(',')}`,
      );
    }
    const clusterId = computeClusterId(members.map((m) => m.id));
    await mkdir(layout.snapDir, { recursive: true });
    const backend = Backend.open({ path: layout.backendPath, unsafeNoSync: options.unsafeBackendNoSync });
    const wal = await Wal.create(layout.walDir, Metadata.encode({ NodeID: self.id, ClusterID: clusterId }), walOpts);
    const storage = new MemoryStorage();
    await writeBootstrap(wal, storage, members);
    logger.info('starting local member', { 'local-member-id': formatId(self.id), 'cluster-id': formatId(clusterId) });
    return {
      layout,
      memberId: self.id,
      clusterId,
      isNew,
      backend,
      membership: new MembershipStore(backend),
      wal,
      snapshotter,
      storage,
      snapshot: undefined,
      confState: emptyConfState(),
    };
  }

  // Without snapshot files there is nothing to match against WAL markers: skip reading the log twice.
  const haveSnaps = (await snapshotter.snapNames()).length > 0;
  const snapshot = haveSnaps ? await snapshotter.loadNewestAvailable(await Wal.validSnapshotEntries(layout.walDir)) : undefined;
  const snapRef = snapshot === undefined ? { index: 0, term: 0 } : { index: snapshot.metadata.index, term: snapshot.metadata.term };
  const wal = await Wal.open(layout.walDir, snapRef, walOpts);
  const read = await wal.readAll();
  if (read.repaired !== undefined) {
    logger.warn('repaired the torn tail of the WAL', { file: read.repaired.file, offset: read.repaired.offset, reason: read.repaired.reason });
  }
  const md = Metadata.decode(read.metadata);
  const memberId = md.NodeID ?? 0n;
  const clusterId = md.ClusterID ?? 0n;
  await mkdir(layout.snapDir, { recursive: true });
  const backend = await openBackendForSnapshot(layout, snapshot, logger, options.unsafeBackendNoSync);
  let membership: MembershipStore;
  try {
    membership = new MembershipStore(backend);
    checkMemberMatches(config, memberId, clusterId, membership);
  } catch (err) {
    await backend.close();
    await wal.close();
    throw err;
  }

  const storage = new MemoryStorage();
  if (snapshot !== undefined) storage.applySnapshot(snapshot);
  if (snapshot === undefined && read.entries.length === 0 && read.hardState.term === 0) {
    // Created but stopped before the bootstrap entries were written: write them now.
    await writeBootstrap(wal, storage, initialMembers(config));
  } else {
    storage.setHardState(read.hardState);
    storage.append(read.entries);
  }
  logger.info('restarting local member', {
    'local-member-id': formatId(memberId),
    'cluster-id': formatId(clusterId),
    'snapshot-index': snapRef.index,
    'commit-index': storage.hardState.commit,
    'last-index': storage.lastIndex(),
  });
  return {
    layout,
    memberId,
    clusterId,
    isNew,
    backend,
    membership,
    wal,
    snapshotter,
    storage,
    snapshot,
    confState: snapshot?.metadata.confState ?? emptyConfState(),
  };
}

/**
 * The data dir must belong to the member the configuration describes: its WAL's member ID is the
 * one derived from --initial-advertise-peer-urls and --initial-cluster-token, or (a member added
 * at run time, whose ID was drawn then) the stored member of that ID has those peer URLs.
 */
function checkMemberMatches(config: ServerConfig, memberId: bigint, clusterId: bigint, membership: MembershipStore): void {
  const expected = configuredMemberId(config);
  if (memberId === expected) return;
  const advertised = config.initialAdvertisePeerUrls.map((u) => u.text);
  const stored = membership.member(memberId);
  if (stored !== undefined && sameUrls(stored.peerUrls, advertised)) return;
  throw new Error(
    `data dir ${config.dataDir} belongs to member ${formatId(memberId)} of cluster ${formatId(clusterId)}, ` +
      `but --initial-advertise-peer-urls=${advertised.join(',')} with --initial-cluster-token=${config.initialClusterToken} ` +
      `describes member ${formatId(expected)}; start it with that member's settings or use another data dir`,
  );
}

/**
 * Creates the state of a member joining an existing cluster: the cluster ID and this member's ID
 * come from the members' list on the other members' peer ports; the log starts empty and the
 * leader replicates it (or sends a snapshot).
 */
async function joinExisting(
  config: ServerConfig,
  logger: Logger,
  layout: DataDirLayout,
  snapshotter: Snapshotter,
  walOpts: { segmentBytes?: number },
  options: OpenMemberOptions,
): Promise<BootState> {
  const advertised = config.initialAdvertisePeerUrls.map((u) => u.text);
  const others = initialMembers(config).filter((m) => !sameUrls(m.peerUrls, advertised)).flatMap((m) => m.peerUrls);
  const remote = await fetchRemoteCluster(others, 2000);
  const self = remote.members.find((m) => sameUrls(m.peerUrls, advertised));
  if (self === undefined) {
    throw new Error(`member with peer URLs ${advertised.join(',')} is not in the cluster ${formatId(remote.clusterId)}; add it with member add first`);
  }
  await mkdir(layout.snapDir, { recursive: true });
  const backend = Backend.open({ path: layout.backendPath, unsafeNoSync: options.unsafeBackendNoSync });
  const wal = await Wal.create(layout.walDir, Metadata.encode({ NodeID: self.id, ClusterID: remote.clusterId }), walOpts);
  logger.info('joining an existing cluster', { 'local-member-id': formatId(self.id), 'cluster-id': formatId(remote.clusterId) });
  return {
    layout,
    memberId: self.id,
    clusterId: remote.clusterId,
    isNew: true,
    backend,
    membership: new MembershipStore(backend),
    wal,
    snapshotter,
    storage: new MemoryStorage(),
    snapshot: undefined,
    confState: emptyConfState(),
    remoteMembers: remote.members,
  };
}
