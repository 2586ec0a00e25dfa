import { EntryType, type ConfChange, type ConfChangeV2, type Entry } from '../../api/raftpb/types.js';
import { unmarshalConfChange, unmarshalConfChangeV2 } from '../conf-change-codec.js';

/** The membership change carried by a conf-change entry; undefined for other entries or bad data. */
export function decodeConfChangeEntry(e: Entry): ConfChange | ConfChangeV2 | undefined {
  try {
    if (e.type === EntryType.EntryConfChange) return unmarshalConfChange(e.data);
    if (e.type === EntryType.EntryConfChangeV2) return unmarshalConfChangeV2(e.data);
  } catch {
    return undefined;
  }
  return undefined;
}
