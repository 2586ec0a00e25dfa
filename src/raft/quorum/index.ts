/** Quorum arithmetic: majority and joint configs, committed indexes and election outcomes. */
export { VoteResult } from './vote-result.js';
export { type AckedIndexer, MapAckIndexer, INDEX_INFINITY, formatIndex } from './acked-indexer.js';
export { MajorityConfig } from './majority-config.js';
export { JointConfig } from './joint-config.js';
