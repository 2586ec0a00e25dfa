/**
 * A small gRPC client of one member (KV and Maintenance), built from the project's own codecs with
 * grpc-js's generic client. Faster than spawning etcdctl, and it hands back what a test needs to
 * check durability: the revision each acknowledged write got, and each member's raft status.
 */
import * as grpc from '@grpc/grpc-js';
import { grpcServiceNames, grpcServices } from '../../../src/api/codec.js';
import {
  createHashKVRequest,
  createPutRequest,
  createRangeRequest,
  createRequestOp,
  createStatusRequest,
  createTxnRequest,
  type HashKVResponse,
  type PutResponse,
  type RangeResponse,
  type StatusResponse,
  type TxnResponse,
} from '../../../src/api/gen/etcdserverpb.js';

type Unary = (
  req: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => grpc.ClientUnaryCall;
type GenericClient = grpc.Client & Record<string, Unary>;

const KvClient = grpc.makeGenericClientConstructor(grpcServices.KV, grpcServiceNames.KV);
const MaintenanceClient = grpc.makeGenericClientConstructor(grpcServices.Maintenance, grpcServiceNames.Maintenance);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One member's raft view, from Maintenance.Status. */
export interface MemberStatus {
  readonly memberId: bigint;
  readonly leader: bigint;
  readonly raftTerm: number;
  readonly raftIndex: number;
  readonly revision: number;
}

/** KV and Maintenance calls against one member's client endpoint (`host:port`). */
export class MemberClient {
  private readonly kv: GenericClient;
  private readonly maintenance: GenericClient;

  constructor(readonly endpoint: string) {
    const opts = { 'grpc.max_receive_message_length': -1, 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 200 };
    this.kv = new KvClient(endpoint, grpc.credentials.createInsecure(), opts) as unknown as GenericClient;
    this.maintenance = new MaintenanceClient(endpoint, grpc.credentials.createInsecure(), opts) as unknown as GenericClient;
  }

  private call<Res>(client: GenericClient, method: string, req: unknown, timeoutMs: number): Promise<Res> {
    return new Promise((resolveCall, reject) => {
      client[method]!(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err !== null) reject(err);
        else resolveCall(res as Res);
      });
    });
  }

  /** Puts `key` = `value`; resolves with the revision the write created. */
  async put(key: string, value: string, timeoutMs = 5_000): Promise<number> {
    const res = await this.call<PutResponse>(
      this.kv,
      'Put',
      createPutRequest({ key: encoder.encode(key), value: encoder.encode(value) }),
      timeoutMs,
    );
    return res.header?.revision ?? 0;
  }

  /** Puts every pair in one transaction (one raft entry, one revision); resolves with that revision. */
  async putAll(pairs: readonly (readonly [string, string])[], timeoutMs = 5_000): Promise<number> {
    const success = pairs.map(([key, value]) => createRequestOp({ requestPut: createPutRequest({ key: encoder.encode(key), value: encoder.encode(value) }) }));
    const res = await this.call<TxnResponse>(this.kv, 'Txn', createTxnRequest({ success }), timeoutMs);
    return res.header?.revision ?? 0;
  }

  /** Every key under `prefix` with its value, and the revision of the read. */
  async getPrefix(prefix: string, serializable: boolean, timeoutMs = 10_000): Promise<{ revision: number; kvs: Map<string, string> }> {
    const key = encoder.encode(prefix);
    const rangeEnd = Uint8Array.from(key);
    rangeEnd[rangeEnd.length - 1]! += 1;
    const res = await this.call<RangeResponse>(this.kv, 'Range', createRangeRequest({ key, rangeEnd, serializable }), timeoutMs);
    const kvs = new Map<string, string>();
    for (const kv of res.kvs) kvs.set(decoder.decode(kv.key), decoder.decode(kv.value));
    return { revision: res.header?.revision ?? 0, kvs };
  }

  /** The member's raft status. */
  async status(timeoutMs = 1_000): Promise<MemberStatus> {
    const res = await this.call<StatusResponse>(this.maintenance, 'Status', createStatusRequest(), timeoutMs);
    return {
      memberId: res.header?.memberId ?? 0n,
      leader: res.leader,
      raftTerm: res.raftTerm,
      raftIndex: res.raftIndex,
      revision: res.header?.revision ?? 0,
    };
  }

  /** The hash of the key space up to `revision` (Maintenance.HashKV). */
  async hashKv(revision: number, timeoutMs = 10_000): Promise<{ hash: number; revision: number }> {
    const res = await this.call<HashKVResponse>(this.maintenance, 'HashKV', createHashKVRequest({ revision }), timeoutMs);
    return { hash: res.hash, revision: res.header?.revision ?? 0 };
  }

  /** Closes the channels. */
  close(): void {
    this.kv.close();
    this.maintenance.close();
  }
}
