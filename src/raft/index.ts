/**
 * The raft consensus core: a synchronous, deterministic state machine (etcd's raft). Hosts drive a
 * RawNode and persist through a Storage; see RawNode for the loop.
 */
export { RawNode, type StepError } from './raw-node.js';
export { ReadOnlyOption, NO_LIMIT, type RaftConfig, type RaftLogger } from './config.js';
export { MemoryStorage, isStorageError, type Storage, type StorageError } from './storage.js';
export {
  StateType,
  stateTypeName,
  type Ready,
  type ReadState,
  type SoftState,
  type Status,
  type ProgressStatus,
} from './ready.js';
export { RaftInvariantError } from './errors.js';
export { silentLogger } from './logger.js';
export {
  marshalConfChange,
  unmarshalConfChange,
  marshalConfChangeV2,
  unmarshalConfChangeV2,
  isConfChangeV2,
} from './conf-change-codec.js';
export {
  describeEntry,
  describeEntries,
  describeMessage,
  describeHardState,
  describeSoftState,
  describeSnapshot,
  describeReady,
  describeReadStates,
  goQuote,
  type EntryFormatter,
} from './describe.js';
export { entrySize, payloadSize, limitSize } from './entries.js';
export { isLocalMsg, isResponseMsg, messageTypeName } from './messages.js';
