/**
 * The v2 keys API error table: every code etcd 3.4's v2error package knows, with its exact
 * message and the HTTP status etcd answers with. The store returns these as values; the v2 HTTP
 * layer writes them as `{"errorCode":…,"message":…,"cause":…,"index":…}` with `X-Etcd-Index`.
 *
 * Source: etcd 3.4 etcdserver/api/v2error (the `errors` and `errorStatus` maps). Codes etcd keeps
 * unexported (never sent by 3.4's own handlers) are listed too, so a client of ours recognises
 * them.
 */
import { goJsonString } from './go-json.js';

/** The numeric v2 error codes, named as etcd names them (without the `Ecode` prefix). */
export const V2ErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NoMorePeer: 103,
  NotDir: 104,
  NodeExist: 105,
  KeyIsPreserved: 106,
  RootROnly: 107,
  DirNotEmpty: 108,
  ExistingPeerAddr: 109,
  Unauthorized: 110,

  ValueRequired: 200,
  PrevValueRequired: 201,
  TtlNaN: 202,
  IndexNaN: 203,
  ValueOrTtlRequired: 204,
  TimeoutNaN: 205,
  NameRequired: 206,
  IndexOrValueRequired: 207,
  IndexValueMutex: 208,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTtlRequired: 212,

  RaftInternal: 300,
  LeaderElect: 301,

  WatcherCleared: 400,
  EventIndexCleared: 401,
  StandbyInternal: 402,
  InvalidActiveSize: 403,
  InvalidRemoveDelay: 404,

  ClientInternal: 500,
} as const;

/** One of the numeric v2 error codes. */
export type V2ErrorCodeValue = (typeof V2ErrorCode)[keyof typeof V2ErrorCode];

/** One row of the table. */
export interface V2ErrorSpec {
  readonly errorCode: V2ErrorCodeValue;
  /** etcd's Go constant name, for cross-reference. */
  readonly etcdName: string;
  /** The exact `message` text etcd sends. */
  readonly message: string;
  /** The HTTP status of the response carrying it. */
  readonly status: number;
}

const C = V2ErrorCode;

/** Every v2 error, grouped as etcd groups them. Statuses not in etcd's errorStatus map are 400. */
export const V2_ERROR_SPECS: readonly V2ErrorSpec[] = [
  // Command related.
  { errorCode: C.KeyNotFound, etcdName: 'EcodeKeyNotFound', message: 'Key not found', status: 404 },
  { errorCode: C.TestFailed, etcdName: 'EcodeTestFailed', message: 'Compare failed', status: 412 },
  { errorCode: C.NotFile, etcdName: 'EcodeNotFile', message: 'Not a file', status: 403 },
  { errorCode: C.NoMorePeer, etcdName: 'ecodeNoMorePeer', message: 'Reached the max number of peers in the cluster', status: 400 },
  { errorCode: C.NotDir, etcdName: 'EcodeNotDir', message: 'Not a directory', status: 400 },
  { errorCode: C.NodeExist, etcdName: 'EcodeNodeExist', message: 'Key already exists', status: 412 },
  { errorCode: C.KeyIsPreserved, etcdName: 'ecodeKeyIsPreserved', message: 'The prefix of given key is a keyword in etcd', status: 400 },
  { errorCode: C.RootROnly, etcdName: 'EcodeRootROnly', message: 'Root is read only', status: 400 },
  { errorCode: C.DirNotEmpty, etcdName: 'EcodeDirNotEmpty', message: 'Directory not empty', status: 403 },
  { errorCode: C.ExistingPeerAddr, etcdName: 'ecodeExistingPeerAddr', message: 'Peer address has existed', status: 400 },
  { errorCode: C.Unauthorized, etcdName: 'EcodeUnauthorized', message: 'The request requires user authentication', status: 401 },

  // POST form related.
  { errorCode: C.ValueRequired, etcdName: 'ecodeValueRequired', message: 'Value is Required in POST form', status: 400 },
  { errorCode: C.PrevValueRequired, etcdName: 'EcodePrevValueRequired', message: 'PrevValue is Required in POST form', status: 400 },
  { errorCode: C.TtlNaN, etcdName: 'EcodeTTLNaN', message: 'The given TTL in POST form is not a number', status: 400 },
  { errorCode: C.IndexNaN, etcdName: 'EcodeIndexNaN', message: 'The given index in POST form is not a number', status: 400 },
  { errorCode: C.ValueOrTtlRequired, etcdName: 'ecodeValueOrTTLRequired', message: 'Value or TTL is required in POST form', status: 400 },
  { errorCode: C.TimeoutNaN, etcdName: 'ecodeTimeoutNaN', message: 'The given timeout in POST form is not a number', status: 400 },
  { errorCode: C.NameRequired, etcdName: 'ecodeNameRequired', message: 'Name is required in POST form', status: 400 },
  { errorCode: C.IndexOrValueRequired, etcdName: 'ecodeIndexOrValueRequired', message: 'Index or value is required', status: 400 },
  { errorCode: C.IndexValueMutex, etcdName: 'ecodeIndexValueMutex', message: 'Index and value cannot both be specified', status: 400 },
  { errorCode: C.InvalidField, etcdName: 'EcodeInvalidField', message: 'Invalid field', status: 400 },
  { errorCode: C.InvalidForm, etcdName: 'EcodeInvalidForm', message: 'Invalid POST form', status: 400 },
  { errorCode: C.RefreshValue, etcdName: 'EcodeRefreshValue', message: 'Value provided on refresh', status: 400 },
  { errorCode: C.RefreshTtlRequired, etcdName: 'EcodeRefreshTTLRequired', message: 'A TTL must be provided on refresh', status: 400 },

  // Raft related.
  { errorCode: C.RaftInternal, etcdName: 'EcodeRaftInternal', message: 'Raft Internal Error', status: 500 },
  { errorCode: C.LeaderElect, etcdName: 'EcodeLeaderElect', message: 'During Leader Election', status: 500 },

  // etcd related.
  { errorCode: C.WatcherCleared, etcdName: 'EcodeWatcherCleared', message: 'watcher is cleared due to etcd recovery', status: 400 },
  { errorCode: C.EventIndexCleared, etcdName: 'EcodeEventIndexCleared', message: 'The event in requested index is outdated and cleared', status: 400 },
  { errorCode: C.StandbyInternal, etcdName: 'ecodeStandbyInternal', message: 'Standby Internal Error', status: 400 },
  { errorCode: C.InvalidActiveSize, etcdName: 'ecodeInvalidActiveSize', message: 'Invalid active size', status: 400 },
  { errorCode: C.InvalidRemoveDelay, etcdName: 'ecodeInvalidRemoveDelay', message: 'Standby remove delay', status: 400 },

  // Client related.
  { errorCode: C.ClientInternal, etcdName: 'ecodeClientInternal', message: 'Client Internal Error', status: 400 },
];

const SPEC_BY_CODE: ReadonlyMap<number, V2ErrorSpec> = new Map(V2_ERROR_SPECS.map((s) => [s.errorCode, s]));

/**
 * A v2 error as etcd sends it. `index` is the store's index when the error was decided (etcd's
 * X-Etcd-Index for the error response); request validation errors carry 0.
 */
export interface V2Error {
  readonly errorCode: V2ErrorCodeValue;
  readonly message: string;
  /** What the error is about (a key, a compare detail); '' when none, then left out of the JSON. */
  readonly cause: string;
  readonly index: number;
}

/** Makes the error for `errorCode` with etcd's message (etcd's NewError). */
export function newV2Error(errorCode: V2ErrorCodeValue, cause = '', index = 0): V2Error {
  return { errorCode, message: SPEC_BY_CODE.get(errorCode)?.message ?? '', cause, index };
}

/** The table row for a code, if it is one etcd knows. */
export function v2ErrorSpec(errorCode: number): V2ErrorSpec | undefined {
  return SPEC_BY_CODE.get(errorCode);
}

/** The HTTP status etcd answers an error with: its errorStatus map, else 400 Bad Request. */
export function v2ErrorStatus(errorCode: number): number {
  return SPEC_BY_CODE.get(errorCode)?.status ?? 400;
}

/** etcd's `Error()` text: `message (cause)`. */
export function v2ErrorText(err: V2Error): string {
  return `${err.message} (${err.cause})`;
}

/**
 * The error's JSON body byte for byte as etcd's json.Marshal writes it (field order, `cause`
 * omitted when empty, Go's string escaping). The HTTP layer appends the trailing newline.
 */
export function encodeV2Error(err: V2Error): string {
  let s = `{"errorCode":${err.errorCode},"message":${goJsonString(err.message)}`;
  if (err.cause !== '') s += `,"cause":${goJsonString(err.cause)}`;
  return `${s},"index":${err.index}}`;
}
