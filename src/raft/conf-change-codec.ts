import type { ConfChange, ConfChangeV2 } from '../api/raftpb/types.js';
import { decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2 } from '../api/raftpb/codec.js';

/*
 * The data of EntryConfChange / EntryConfChangeV2 entries: etcd's protobuf encoding of the
 * membership change, through the raftpb codec. The core needs it to inspect proposed changes and
 * to bootstrap; hosts use it to apply committed ones.
 */

/** Encodes a ConfChange as EntryConfChange data. */
export function marshalConfChange(cc: ConfChange): Uint8Array {
  return encodeConfChange(cc);
}

/** Decodes EntryConfChange data. Throws on malformed input. */
export function unmarshalConfChange(data: Uint8Array): ConfChange {
  return decodeConfChange(data);
}

/** Encodes a ConfChangeV2 as EntryConfChangeV2 data. */
export function marshalConfChangeV2(cc: ConfChangeV2): Uint8Array {
  return encodeConfChangeV2(cc);
}

/**
 * Decodes EntryConfChangeV2 data. Empty data is the empty change that leaves a joint config (the
 * leader's automatic leave proposes exactly that). Throws on malformed input.
 */
export function unmarshalConfChangeV2(data: Uint8Array): ConfChangeV2 {
  return decodeConfChangeV2(data);
}

/** Whether a value is a ConfChangeV2 rather than a legacy ConfChange. */
export function isConfChangeV2(cc: ConfChange | ConfChangeV2): cc is ConfChangeV2 {
  return 'changes' in cc;
}
