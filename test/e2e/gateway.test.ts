/**
 * The v3 JSON gateway end to end: the same requests, sent with fetch, against real etcd 3.4 and
 * etcd-ts (one after the other, same name, ports and cluster token, so member and cluster IDs,
 * revisions and raft terms must agree), comparing HTTP status, content type and body exactly.
 * Normalized, because they cannot agree: Status's version, dbSize and dbSizeInUse (another
 * storage engine and release), Status's raftIndex and raftAppliedIndex (etcd 3.4's /health, which
 * the harness polls until ready, is a v2 QGET through raft, so each poll adds an entry), Hash's
 * hash (a hash of the backend file), and the remaining TTL of a lease (wall clock).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts, realEtcdSkipReason, startMember, targetSkipReason, type MemberKind } from './harness/index.js';

const skip = (await targetSkipReason('etcd-ts')) ?? realEtcdSkipReason();

/** One request: method (POST unless given), path, JSON body. */
interface Step {
  readonly path: string;
  readonly body?: string;
  readonly method?: string;
}

interface Answer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function scenario(memberId: bigint, peerUrl: string): Step[] {
  const foo = b64('foo');
  return [
    { path: '/v3/kv/put', body: JSON.stringify({ key: foo, value: b64('bar') }) },
    { path: '/v3/kv/put', body: JSON.stringify({ value: b64('bar') }) },
    { path: '/v3/kv/range', body: JSON.stringify({ key: foo }) },
    { path: '/v3/kv/range', body: JSON.stringify({ key: b64('none') }) },
    { path: '/v3/kv/put', body: JSON.stringify({ key: foo, value: b64('baz'), prev_kv: true }) },
    { path: '/v3/kv/put', body: JSON.stringify({ key: b64('fop'), value: b64('1'), prevKv: true }) },
    {
      path: '/v3/kv/txn',
      body: JSON.stringify({
        compare: [{ key: foo, target: 'VALUE', result: 'EQUAL', value: b64('baz') }],
        success: [{ request_put: { key: foo, value: b64('qux') } }, { requestRange: { key: foo } }],
        failure: [{ request_delete_range: { key: foo } }],
      }),
    },
    { path: '/v3/kv/txn', body: JSON.stringify({ compare: [{ key: foo, target: 'CREATE', result: 1, create_revision: '0' }], failure: [{ request_range: { key: foo, count_only: true } }] }) },
    { path: '/v3/kv/range', body: JSON.stringify({ key: b64('f'), range_end: b64('g'), sort_order: 'DESCEND', sort_target: 'KEY', limit: '1' }) },
    { path: '/v3/kv/range', body: JSON.stringify({ key: b64('f'), rangeEnd: b64('g'), keys_only: true, revision: 3 }) },
    { path: '/v3/kv/deleterange', body: JSON.stringify({ key: b64('fop'), prev_kv: true }) },
    { path: '/v3/kv/compaction', body: JSON.stringify({ revision: 100 }) },
    { path: '/v3/kv/compaction', body: JSON.stringify({ revision: '3', physical: true }) },
    { path: '/v3/kv/range', body: JSON.stringify({ key: foo, revision: 2 }) },
    { path: '/v3/kv/put', body: JSON.stringify({ key: 'Zm9v!', value: b64('x') }) },
    { path: '/v3/kv/range', body: JSON.stringify({ key: foo, sort_order: 'BAD' }) },
    { path: '/v3/kv/put', body: '[]' },
    { path: '/v3/kv/range', body: '' },
    { path: '/v3/kv/nope', body: '{}' },
    { path: '/v3/kv/range', method: 'GET' },
    { path: '/v3/cluster/member/list', body: '{}' },
    { path: '/v3/cluster/member/update', body: JSON.stringify({ ID: memberId.toString(), peerURLs: [peerUrl] }) },
    { path: '/v3/cluster/member/remove', body: JSON.stringify({ ID: '1' }) },
    { path: '/v3/cluster/member/promote', body: JSON.stringify({ ID: '1' }) },
    { path: '/v3/maintenance/alarm', body: '{}' },
    { path: '/v3/maintenance/status', body: '{}' },
    { path: '/v3/maintenance/hash', body: '{}' },
    { path: '/v3/maintenance/defragment', body: '{}' },
    { path: '/v3/lease/grant', body: JSON.stringify({ TTL: 60, ID: '1234' }) },
    { path: '/v3/kv/put', body: JSON.stringify({ key: b64('leased'), value: b64('v'), lease: 1234 }) },
    { path: '/v3/lease/timetolive', body: JSON.stringify({ ID: '1234', keys: true }) },
    { path: '/v3/lease/leases', body: '{}' },
    { path: '/v3/kv/lease/revoke', body: JSON.stringify({ ID: '1234' }) },
    { path: '/v3/lease/revoke', body: JSON.stringify({ ID: '1234' }) },
    { path: '/v3/kv/range', body: JSON.stringify({ key: b64('leased') }) },
  ];
}

/** Fields that cannot agree between the two servers (see the file comment). */
function normalize(body: string): string {
  return body
    .replace(/"(version|dbSize|dbSizeInUse|raftIndex|raftAppliedIndex)":"[^"]*"/g, '"$1":"<n>"')
    .replace(/"hash":\d+/g, '"hash":<n>')
    .replace(/"TTL":"(5\d|60)"/g, '"TTL":"<ttl>"');
}

async function runScenario(kind: MemberKind, clientPort: number, peerPort: number): Promise<{ steps: Step[]; answers: Answer[] }> {
  const m = await startMember(kind, { name: 'gw', clientPort, peerPort });
  try {
    const steps = scenario(m.expectedId, m.peerUrl);
    const answers: Answer[] = [];
    for (const s of steps) {
      const res = await fetch(`${m.clientUrl}${s.path}`, { method: s.method ?? 'POST', body: s.body });
      answers.push({ status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: normalize(await res.text()) });
    }
    return { steps, answers };
  } finally {
    await m.destroy();
  }
}

describe('v3 JSON gateway', { skip }, () => {
  test('every request answers as real etcd 3.4 does (status, content type, body)', async () => {
    const [clientPort, peerPort] = await freePorts(2);
    const want = await runScenario('etcd', clientPort!, peerPort!);
    const got = await runScenario('etcd-ts', clientPort!, peerPort!);
    // Labelled lists, so one failure shows every step that differs.
    const label = (a: Answer, i: number): string => `${i} ${want.steps[i]!.method ?? 'POST'} ${want.steps[i]!.path} ${want.steps[i]!.body ?? ''} -> ${a.status} ${a.contentType ?? '-'} ${a.body}`;
    assert.deepEqual(got.answers.map(label), want.answers.map(label));
  });
});
