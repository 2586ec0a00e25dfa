/**
 * End-to-end KV tests of the implementation under test (E2E_TARGET, default etcd-ts) through the
 * real etcdctl: durability across restarts and crashes, clear errors for bad input without losing
 * service, and writes in every output format. They skip, with the reason, while etcd-ts does not
 * answer KV requests; E2E_TARGET=etcd runs them against real etcd to check the tests themselves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterIdOf,
  etcdctl,
  startMember,
  targetKind,
  targetSkipReason,
  type EtcdctlOptions,
  type EtcdctlResult,
  type Member,
} from './harness/index.js';
import { protobufToText } from './differential/protobuf-text.js';

const kind = targetKind();
const skip = await targetSkipReason(kind);

async function ctl(m: Member, args: readonly string[], opts?: EtcdctlOptions): Promise<EtcdctlResult> {
  return etcdctl(m.endpoint, args, opts);
}

async function ok(m: Member, args: readonly string[], opts?: EtcdctlOptions): Promise<string> {
  const r = await ctl(m, args, opts);
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Every key and value (base64, as etcdctl's JSON has them) and the store's current revision. */
async function dump(m: Member): Promise<{ revision: number; kvs: unknown[] }> {
  const parsed = JSON.parse(await ok(m, ['get', '--from-key', '', '-w', 'json'])) as {
    header: { revision: number };
    kvs?: unknown[];
  };
  return { revision: parsed.header.revision, kvs: parsed.kvs ?? [] };
}

function errorLine(r: EtcdctlResult): string | undefined {
  return r.stderr.split('\n').find((l) => l.startsWith('Error:'));
}

describe(`${kind}: end-to-end KV through etcdctl`, { skip }, () => {
  const members: Member[] = [];
  after(async () => {
    await Promise.all(members.map((m) => m.destroy()));
  });

  test('restart and crash keep every key, the history and the revision counter', async () => {
    const m = await startMember(kind, { name: 'durable' });
    members.push(m);
    for (let i = 0; i < 30; i++) await ok(m, ['put', `key${i % 12}`, `value-${i}`]);
    await ok(m, ['txn'], { input: '\nput t1 a\nput t2 b\n\n\n' });
    await ok(m, ['del', 'key1', 'key10']); // the range [key1, key10) holds key1 only
    await ok(m, ['compaction', '10']);
    // The last write is a delete: the revision it made survives only if the counter is persisted.
    await ok(m, ['del', 'key3']);
    const before = await dump(m);
    const historyBefore = await ok(m, ['get', 'key5', '--rev=20', '-w', 'json']);
    assert.equal(before.revision, 34);

    await m.stop();
    await m.restart();
    assert.deepEqual(await dump(m), before, 'after a graceful restart');

    await m.kill9();
    await m.restart();
    assert.deepEqual(await dump(m), before, 'after kill -9 and restart');
    const history = JSON.parse(await ok(m, ['get', 'key5', '--rev=20', '-w', 'json'])) as { kvs: unknown };
    assert.deepEqual(history.kvs, (JSON.parse(historyBefore) as { kvs: unknown }).kvs);
    const compacted = await ctl(m, ['get', 'key5', '--rev=9']);
    assert.equal(errorLine(compacted), 'Error: etcdserver: mvcc: required revision has been compacted');

    const put = JSON.parse(await ok(m, ['put', 'after', 'restart', '-w', 'json'])) as { header: { revision: number } };
    assert.equal(put.header.revision, before.revision + 1);
  });

  describe('one member for bad input and output formats', () => {
    let m: Member;
    before(async () => {
      m = await startMember(kind, { name: 'kv', initialClusterToken: 'kv-e2e' });
      members.push(m);
    });

    test('bad input gets etcd\'s error text and the server keeps serving', async () => {
      const tooManyOps = '\n' + Array.from({ length: 129 }, (_, i) => `put k${i} v`).join('\n') + '\n\n\n';
      const cases: { args: string[]; input?: string; error: string }[] = [
        { args: ['put', '', 'x'], error: 'etcdserver: key is not provided' },
        { args: ['put', 'big'], input: 'x'.repeat(1_600_000), error: 'etcdserver: request is too large' },
        { args: ['txn'], input: tooManyOps, error: 'etcdserver: too many operations in txn request' },
        { args: ['txn'], input: '\nput d 1\nput d 2\n\n\n', error: 'etcdserver: duplicate key given in txn request' },
        { args: ['get', 'x', '--rev=1000'], error: 'etcdserver: mvcc: required revision is a future revision' },
        { args: ['put', 'x', 'y', '--lease=1234'], error: 'etcdserver: requested lease not found' },
        { args: ['put', 'nokey', '--ignore-value'], error: 'etcdserver: key not found' },
      ];
      for (const c of cases) {
        const r = await ctl(m, c.args, c.input === undefined ? {} : { input: c.input });
        assert.equal(r.code, 1, `${c.args.join(' ')}: ${r.stderr}`);
        assert.equal(errorLine(r), `Error: ${c.error}`, c.args.join(' '));
        assert.equal(await ok(m, ['put', 'still', 'serving']), 'OK\n', `after ${c.args.join(' ')}`);
      }
      assert.equal(await ok(m, ['get', 'still', '--print-value-only']), 'serving\n');
      // None of the refused requests wrote anything: only the 7 'still' puts did.
      assert.equal((await dump(m)).revision, 1 + cases.length);
    });

    test('a write answers in every output format, with the predicted IDs', async () => {
      const start = (await dump(m)).revision;
      assert.equal(await ok(m, ['put', 'fmt', 'simple']), 'OK\n');

      const json = await ok(m, ['put', 'fmt', 'json', '-w', 'json']);
      const clusterId = clusterIdOf([m.expectedId]);
      assert.equal(
        json.trim(),
        `{"header":{"cluster_id":${clusterId},"member_id":${m.expectedId},"revision":${start + 2},"raft_term":2}}`,
      );

      const fields = await ok(m, ['put', 'fmt', 'fields', '-w', 'fields', '--prev-kv']);
      assert.match(fields, new RegExp(`^"Revision" : ${start + 3}$`, 'm'));
      assert.match(fields, /^"PrevValue" : "json"$/m);
      assert.match(fields, new RegExp(`^"PrevModRevision" : ${start + 2}$`, 'm'));

      const proto = await ctl(m, ['put', 'fmt', 'protobuf', '-w', 'protobuf']);
      assert.equal(proto.code, 0, proto.stderr);
      const text = protobufToText(proto.stdoutBytes, (v) => (v === m.expectedId ? '<member>' : undefined));
      assert.match(text, new RegExp(`^1 \\{\\n  1: ${clusterId}\\n  2: <member>\\n  3: ${start + 4}\\n`));

      // etcdctl has no table form for put: it writes, then refuses to print.
      const table = await ctl(m, ['put', 'fmt', 'table', '-w', 'table']);
      assert.equal(table.code, 4);
      assert.equal(errorLine(table), 'Error: table not supported as output format');

      const got = JSON.parse(await ok(m, ['get', 'fmt', '-w', 'json'])) as {
        kvs: { value: string; version: number; mod_revision: number }[];
      };
      assert.equal(Buffer.from(got.kvs[0]!.value, 'base64').toString(), 'table');
      assert.equal(got.kvs[0]!.version, 5);
      assert.equal(got.kvs[0]!.mod_revision, start + 5);
    });
  });
});
