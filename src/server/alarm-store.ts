/**
 * Raised alarms (etcd's v3alarm.AlarmStore), persisted in the backend's `alarm` bucket: the key is
 * the encoded AlarmMember {memberID, alarm}, the value empty, as etcd stores them. Changes go into
 * the open batch of the apply that made them.
 */
import type { Backend } from '../backend/backend.js';
import type { Bucket } from '../backend/bucket.js';
import { AlarmMember, AlarmType } from '../api/gen/etcdserverpb.js';

const EMPTY = new Uint8Array(0);

/** The alarms of a cluster, per type and member. */
export class AlarmStore {
  /** alarm type -> member ID -> the alarm. */
  private readonly types = new Map<AlarmType, Map<bigint, AlarmMember>>();
  private readonly bucket: Bucket;

  /** Loads the alarms stored in `backend`. */
  constructor(private readonly backend: Backend) {
    this.bucket = backend.bucket('alarm');
    backend.forEach(this.bucket, EMPTY, undefined, (k) => {
      const m = AlarmMember.decode(k);
      this.membersOf(m.alarm).set(m.memberID, m);
    });
  }

  private membersOf(t: AlarmType): Map<bigint, AlarmMember> {
    let m = this.types.get(t);
    if (m === undefined) {
      m = new Map();
      this.types.set(t, m);
    }
    return m;
  }

  /** Raises `alarm` for `memberId`. Returns the alarm, or undefined when it was raised already. */
  activate(memberId: bigint, alarm: AlarmType): AlarmMember | undefined {
    const members = this.membersOf(alarm);
    if (members.has(memberId)) return undefined;
    const m: AlarmMember = { memberID: memberId, alarm };
    members.set(memberId, m);
    this.backend.batchTx.put(this.bucket, AlarmMember.encode(m), EMPTY);
    return m;
  }

  /** Clears `alarm` of `memberId`. Returns the cleared alarm, or undefined when it was not raised. */
  deactivate(memberId: bigint, alarm: AlarmType): AlarmMember | undefined {
    const members = this.types.get(alarm);
    const m = members?.get(memberId);
    if (m === undefined) return undefined;
    members!.delete(memberId);
    this.backend.batchTx.delete(this.bucket, AlarmMember.encode(m));
    return m;
  }

  /** The raised alarms of type `alarm`, or every raised alarm for AlarmType.NONE. */
  get(alarm: AlarmType): AlarmMember[] {
    if (alarm !== AlarmType.NONE) return [...(this.types.get(alarm)?.values() ?? [])];
    const all: AlarmMember[] = [];
    for (const members of this.types.values()) all.push(...members.values());
    return all;
  }

  /** Whether any alarm of type `alarm` is raised. */
  has(alarm: AlarmType): boolean {
    return (this.types.get(alarm)?.size ?? 0) > 0;
  }
}

/** An alarm as etcd prints it in Status errors (Go's compact proto text): `memberID:<n> alarm:NOSPACE `. */
export function alarmText(m: AlarmMember): string {
  // proto3 text leaves out fields at their zero value.
  let s = m.memberID === 0n ? '' : `memberID:${m.memberID.toString()} `;
  if (m.alarm !== AlarmType.NONE) s += `alarm:${AlarmType[m.alarm] ?? String(m.alarm)} `;
  return s;
}
