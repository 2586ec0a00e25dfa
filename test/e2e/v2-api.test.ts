/**
 * The v2 HTTP API end to end: etcd's own example through curl, a differential run of
 * {@link V2_SCENARIO} against real etcd 3.4 and etcd-ts (one after the other, same ports and
 * flags, so IDs and indexes must agree exactly), watches, TTL expiry, and the v2 etcdctl.
 */
import { execFile } from 'node:child_process';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { etcdctl, freePorts, realEtcdSkipReason, startMember, targetSkipReason, type Member, type MemberKind } from './harness/index.js';
import { V2_SCENARIO, type V2Step } from './v2/v2-scenarios.js';

const run = promisify(execFile);
const skip = (await targetSkipReason('etcd-ts')) ?? realEtcdSkipReason();

/** The headers compared between the two servers. */
const COMPARED_HEADERS = ['content-type', 'x-etcd-index', 'x-raft-term', 'x-etcd-cluster-id', 'allow', 'location', 'access-control-allow-origin'];

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly body: string;
}

async function send(base: string, step: V2Step): Promise<Answer> {
  const init: RequestInit = { method: step.method, redirect: 'manual' };
  if (step.form !== undefined) {
    init.body = step.form;
    init.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  }
  const res = await fetch(`${base}${step.path}`, init);
  const headers: Record<string, string | undefined> = {};
  for (const h of COMPARED_HEADERS) headers[h] = res.headers.get(h) ?? undefined;
  const sorted = new URL(step.path, base).searchParams.get('sorted') === 'true';
  return { status: res.status, headers, body: normalize(await res.text(), sorted) };
}

interface V2NodeJson {
  key?: string;
  nodes?: V2NodeJson[];
}

/** Sorts directory listings by key, at every depth. */
function sortNodes(n: V2NodeJson | undefined): void {
  if (n?.nodes === undefined) return;
  n.nodes.sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : (a.key ?? '') > (b.key ?? '') ? 1 : 0));
  for (const c of n.nodes) sortNodes(c);
}

/**
 * etcd keeps a directory's children in a Go map, so an unsorted listing comes in random order
 * (only `sorted=true` orders it): such listings are compared sorted by key.
 */
function orderListings(body: string): string {
  let doc: { node?: V2NodeJson; prevNode?: V2NodeJson };
  try {
    doc = JSON.parse(body) as typeof doc;
  } catch {
    return body;
  }
  if (doc.node?.nodes === undefined) return body;
  sortNodes(doc.node);
  return `${JSON.stringify(doc)}\n`;
}

/** Wall-clock fields differ between runs: expiry times, TTLs left, uptimes. */
function normalize(body: string, sorted: boolean): string {
  return (sorted ? body : orderListings(body))
    .replace(/"expiration":"[^"]*"/g, '"expiration":"<time>"')
    .replace(/"(startTime|uptime)":"[^"]*"/g, '"$1":"<time>"')
    // etcd 3.4's /health makes a v2 QGET, so its get counters follow the harness's polling.
    .replace(/"(getsSuccess|getsFail)":\d+/g, '"$1":<n>');
}

async function runScenario(kind: MemberKind, clientPort: number, peerPort: number): Promise<Answer[]> {
  const m = await startMember(kind, { name: 'v2', clientPort, peerPort, extraArgs: ['--enable-v2'] });
  try {
    const answers: Answer[] = [];
    for (const step of V2_SCENARIO) answers.push(await send(m.clientUrl, step));
    return answers;
  } finally {
    await m.destroy();
  }
}

async function v2ctl(m: Member, args: readonly string[]): Promise<string> {
  const r = await etcdctl(m.clientUrl, args, { env: { ETCDCTL_API: '2' } });
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('v2 HTTP API', { skip }, () => {
  const members: Member[] = [];
  after(async () => {
    await Promise.all(members.map((m) => m.destroy()));
  });

  test("etcd's example: curl -XPUT -d value=\"Hello world\" answers etcd's JSON with 201", async () => {
    const m = await startMember('etcd-ts', { name: 'curl', extraArgs: ['--enable-v2'] });
    members.push(m);
    const { stdout } = await run('curl', ['-s', '-i', `http://127.0.0.1:${m.clientPort}/v2/keys/message`, '-XPUT', '-d', 'value=Hello world']);
    const [head, body] = stdout.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 201 Created/);
    assert.match(head!, /\r\nX-Etcd-Index: 4\r\n/i);
    assert.match(head!, /\r\nX-Raft-Term: \d+\r\n/i);
    assert.equal(body, '{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":4,"createdIndex":4}}\n');
  });

  test('every scenario step answers as real etcd 3.4 does (status, headers, body)', async () => {
    const [clientPort, peerPort] = await freePorts(2);
    const want = await runScenario('etcd', clientPort!, peerPort!);
    const got = await runScenario('etcd-ts', clientPort!, peerPort!);
    for (let i = 0; i < V2_SCENARIO.length; i++) {
      const s = V2_SCENARIO[i]!;
      assert.deepEqual(got[i], want[i], `step ${i}: ${s.method} ${s.path} ${s.form ?? ''}`);
    }
  });

  test('a long poll answers the next write; a TTL key expires through the leader', async () => {
    const m = await startMember('etcd-ts', { name: 'watch', extraArgs: ['--enable-v2'] });
    members.push(m);
    const polled = fetch(`${m.clientUrl}/v2/keys/w?wait=true`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 200));
    await send(m.clientUrl, { method: 'PUT', path: '/v2/keys/w', form: 'value=1' });
    assert.equal(await polled, '{"action":"set","node":{"key":"/w","value":"1","modifiedIndex":4,"createdIndex":4}}\n');
    await send(m.clientUrl, { method: 'PUT', path: '/v2/keys/t', form: 'value=v&ttl=1' });
    const expired = fetch(`${m.clientUrl}/v2/keys/t?wait=true&waitIndex=6`).then((r) => r.text());
    assert.match(await expired, /^\{"action":"expire","node":\{"key":"\/t","modifiedIndex":6,"createdIndex":5\},"prevNode":/);
    assert.equal((await send(m.clientUrl, { method: 'GET', path: '/v2/keys/t' })).status, 404);
  });

  test('ETCDCTL_API=2 etcdctl set, get, mk, mkdir, ls --recursive, update, rm, member list', async () => {
    const m = await startMember('etcd-ts', { name: 'ctl', extraArgs: ['--enable-v2'] });
    members.push(m);
    assert.equal(await v2ctl(m, ['set', '/a/b', 'one']), 'one\n');
    assert.equal(await v2ctl(m, ['get', '/a/b']), 'one\n');
    assert.equal(await v2ctl(m, ['mk', '/a/c', 'two']), 'two\n');
    await v2ctl(m, ['mkdir', '/d']);
    assert.equal(await v2ctl(m, ['ls', '--recursive', '/']), '/a\n/a/b\n/a/c\n/d\n');
    assert.equal(await v2ctl(m, ['update', '/a/b', 'uno']), 'uno\n');
    assert.equal(await v2ctl(m, ['rm', '/a/c']), 'PrevNode.Value: two\n');
    assert.match(await v2ctl(m, ['member', 'list']), /^[0-9a-f]+: name=ctl peerURLs=http:\/\/127\.0\.0\.1:\d+ clientURLs=http:\/\/127\.0\.0\.1:\d+ isLeader=true\n$/);
  });

  test('without --enable-v2, /v2/keys is 404 as in etcd 3.4', async () => {
    const m = await startMember('etcd-ts', { name: 'nov2' });
    members.push(m);
    const a = await send(m.clientUrl, { method: 'GET', path: '/v2/keys/x' });
    assert.equal(a.status, 404);
    assert.equal(a.body, '404 page not found\n');
  });
});
