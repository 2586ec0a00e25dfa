/**
 * A cluster member and its JSON form, as etcd 3.4 writes it into conf change contexts and the
 * backend's `members` bucket: `{"id":<decimal uint64>,"peerURLs":[...],"isLearner":true,
 * "name":"...","clientURLs":[...]}` with isLearner, name and clientURLs left out when empty
 * (Go's omitempty). A conf change adding a member at run time adds `"isPromote":<bool>`.
 */

/** One member of the cluster. */
export interface Member {
  readonly id: bigint;
  /** Empty until the member published its attributes (etcd shows it as "unstarted"). */
  readonly name: string;
  readonly peerUrls: readonly string[];
  /** Empty until the member published its attributes. */
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

/** What a member publishes about itself once started (etcd's membership.Attributes). */
export interface MemberAttributes {
  readonly name: string;
  readonly clientUrls: readonly string[];
}

/** The member as etcd marshals it to JSON. */
export function memberToJson(m: Member, isPromote?: boolean): string {
  let s = `{"id":${m.id.toString()},"peerURLs":${JSON.stringify(m.peerUrls)}`;
  if (m.isLearner) s += ',"isLearner":true';
  if (m.name !== '') s += `,"name":${JSON.stringify(m.name)}`;
  if (m.clientUrls.length > 0) s += `,"clientURLs":${JSON.stringify(m.clientUrls)}`;
  if (isPromote !== undefined) s += `,"isPromote":${isPromote}`;
  return `${s}}`;
}

/** Attributes as etcd publishes them (`{"name":...,"clientURLs":[...]}`, empty fields left out). */
export function attributesToJson(a: MemberAttributes): string {
  const parts: string[] = [];
  if (a.name !== '') parts.push(`"name":${JSON.stringify(a.name)}`);
  if (a.clientUrls.length > 0) parts.push(`"clientURLs":${JSON.stringify(a.clientUrls)}`);
  return `{${parts.join(',')}}`;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Parses a member (or a conf change context) from etcd's JSON. The ID is read from the text
 * itself: as a JSON number it would lose precision above 2^53. Throws on malformed input.
 */
export function memberFromJson(text: string): { member: Member; isPromote: boolean } {
  const idMatch = /"id"\s*:\s*(\d+)/.exec(text);
  if (idMatch === null) throw new Error(`member JSON without an id: ${text}`);
  const o = JSON.parse(text) as Record<string, unknown>;
  return {
    member: {
      id: BigInt(idMatch[1]!),
      name: typeof o['name'] === 'string' ? o['name'] : '',
      peerUrls: stringList(o['peerURLs']),
      clientUrls: stringList(o['clientURLs']),
      isLearner: o['isLearner'] === true,
    },
    isPromote: o['isPromote'] === true,
  };
}

/** Parses published attributes; throws on malformed JSON. */
export function attributesFromJson(text: string): MemberAttributes {
  const o = JSON.parse(text) as Record<string, unknown>;
  return { name: typeof o['name'] === 'string' ? o['name'] : '', clientUrls: stringList(o['clientURLs']) };
}
