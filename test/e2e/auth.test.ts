/**
 * Auth, differentially: the same etcdctl sequence (users, roles, permissions with single keys,
 * ranges, --prefix and --from-key; auth enable; reads and writes as users with and without the
 * permissions; administration refused to non-root users; a restart with auth enabled; password
 * change; auth disable) runs against real etcd 3.4 and against the implementation under test, on
 * the same name, ports and cluster token; every step's normalized output must be equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, realEtcdSkipReason, startCluster, startMember, targetKind, targetSkipReason, type Member, type MemberKind } from './harness/index.js';
import { clusterIdOf } from './harness/member-id.js';
import { freePorts } from './harness/free-port.js';
import { renderRun, type NormalizeContext } from './differential/normalize-output.js';
import { splitCommandLine } from './differential/scenario-command.js';

/**
 * One step: an etcdctl command line (with optional stdin); a JSON gateway call, made with the
 * token of `user` ("name:password") when given; or a restart of the member.
 */
type Step = string | { readonly cmd: string; readonly input: string } | { readonly post: string; readonly body: object; readonly user?: string } | 'RESTART';

const ROOT = '--user root:rootpw';
const U2 = '--user u2:pw';

const STEPS: readonly Step[] = [
  // Users and roles while auth is disabled: anyone may administer.
  'user add root:rootpw',
  'user add root:x',
  'user list',
  'user get root',
  'user get nobody',
  'user delete nobody',
  'role add r1',
  'role add r1',
  "role add ''",
  'role list',
  'role get r1',
  'role get root',
  'role get nope',
  'role grant-permission r1 read foo',
  'role grant-permission r1 readwrite a --prefix',
  'role grant-permission r1 write k1 k5',
  'role grant-permission r1 read z --from-key',
  'role grant-permission r1 write foo',
  'role grant-permission nope read x',
  'role get r1',
  'role get r1 -w json',
  'role revoke-permission r1 foo',
  'role revoke-permission r1 foo',
  'role revoke-permission r1 a --prefix',
  'role revoke-permission nope a',
  'role get r1',
  'user grant-role root nope',
  'user grant-role root r1',
  'user grant-role root r1',
  'user revoke-role root nope',
  'user revoke-role nobody r1',
  'user get root',
  'user add u1:p1 -w json',
  'user add u2:pw',
  'user add np --no-password',
  'user get np',
  { cmd: 'user add fromstdin --interactive=false', input: 'stdinpw\n' },
  'user grant-role u2 r1',
  'user get u2 -w json',
  'user list -w json',
  'role list -w json',
  'put a 0',
  // auth enable: etcdctl creates the root role and grants it to root on the server's refusal.
  'auth enable',
  'auth enable',
  'user get root',
  'user list',
  `role get root ${ROOT}`,
  `user get root ${ROOT}`,
  `user list ${ROOT}`,
  `role list ${ROOT}`,
  // Reads and writes with and without permission.
  'put a 1',
  'get a',
  'put a 1 --user root:bad',
  'put a 1 --user nobody:x',
  'put a 1 --user np:x',
  `endpoint hashkv ${U2}`,
  'endpoint hashkv --user nobody:x',
  `put a 1 ${ROOT}`,
  `get a ${ROOT} -w json`,
  `put a 1 ${U2}`,
  `put k2 v ${U2}`,
  `put k2 v ${U2} --prev-kv`,
  `get k2 ${U2}`,
  `get z1 ${U2}`,
  `get z --from-key ${U2}`,
  `get a --prefix ${U2}`,
  `del k3 ${U2}`,
  `del k3 k9 ${U2}`,
  `del k2 ${U2} --prev-kv`,
  { cmd: `txn ${U2}`, input: 'value("z1") = "x"\n\nput k3 y\n\nput k4 n\n\n' },
  { cmd: `txn ${U2}`, input: 'value("k1") = "x"\n\nput k3 y\n\n\n' },
  { cmd: `txn ${U2}`, input: 'value("z1") = "x"\n\nput a y\n\n\n' },
  { cmd: `txn ${U2}`, input: '\nget z\n\n\n' },
  { cmd: `txn ${U2}`, input: '\nget k3\n\n\n' },
  // Administration as a user without the root role.
  `user list ${U2}`,
  `user get u2 ${U2}`,
  `user get root ${U2}`,
  `role get r1 ${U2}`,
  `role get root ${U2}`,
  `role add r2 ${U2}`,
  `auth disable ${U2}`,
  // Root keeps what enabled auth needs.
  `role delete root ${ROOT}`,
  `user delete root ${ROOT}`,
  `user revoke-role root root ${ROOT}`,
  `role revoke-permission r1 k1 k5 ${ROOT}`,
  `put k2 v ${U2}`,
  // Watch and lease revoke.
  `watch k9 ${U2}`,
  `watch k --prefix ${U2}`,
  `lease revoke 1234 ${U2}`,
  'lease revoke 1234',
  // Revoking a lease needs write permission on its keys (lease 0x4d2 is granted through the gateway: fixed ID).
  { post: '/v3/lease/grant', body: { TTL: 100, ID: 1234 } },
  `put a 5 --lease=4d2 ${ROOT}`,
  `lease revoke 4d2 ${U2}`,
  'lease revoke 4d2',
  `put a 6 --lease=4d2 ${U2}`,
  `lease revoke 4d2 ${ROOT}`,
  `get a ${ROOT}`,
  // The JSON gateway: the token from /v3/auth/authenticate goes in the Authorization header.
  { post: '/v3/auth/authenticate', body: { name: 'u2', password: 'pw' } },
  { post: '/v3/auth/authenticate', body: { name: 'u2', password: 'bad' } },
  { post: '/v3/kv/put', body: { key: 'ejE=', value: 'dg==' } },
  { post: '/v3/kv/put', body: { key: 'ejE=', value: 'dg==' }, user: 'u2:pw' },
  { post: '/v3/kv/range', body: { key: 'eg==', range_end: 'AA==' }, user: 'u2:pw' },
  { post: '/v3/kv/range', body: { key: 'YQ==' }, user: 'u2:pw' },
  { post: '/v3/auth/user/list', body: {}, user: 'u2:pw' },
  { post: '/v3/auth/user/list', body: {}, user: 'root:rootpw' },
  { post: '/v3/auth/role/get', body: { role: 'r1' }, user: 'u2:pw' },
  { post: '/v3/auth/user/add', body: { name: 'g', password: 'gp' }, user: 'root:rootpw' },
  { post: '/v3/auth/role/grant', body: { name: 'r1', perm: { permType: 'READWRITE', key: 'Zw==', range_end: 'aA==' } }, user: 'root:rootpw' },
  { post: '/v3/auth/user/grant', body: { user: 'g', role: 'r1' }, user: 'root:rootpw' },
  { post: '/v3/auth/user/get', body: { name: 'g' }, user: 'g:gp' },
  { post: '/v3/kv/put', body: { key: 'Z2c=', value: 'dg==' }, user: 'g:gp' },
  { post: '/v3/auth/user/delete', body: { name: 'g' }, user: 'root:rootpw' },
  { post: '/v3/kv/put', body: { key: 'Z2c=', value: 'dg==' }, user: 'g:gp' },
  'RESTART',
  // Users, roles, permissions and the enabled flag survive the restart.
  `put k2 v ${U2}`,
  `get z --from-key ${U2}`,
  'user list',
  `user get root ${ROOT}`,
  `role get r1 ${ROOT}`,
  { cmd: `user passwd u2 --interactive=false ${ROOT}`, input: 'newpw\n' },
  `get z --from-key ${U2}`,
  `get z --from-key --user u2:newpw`,
  `get z --from-key --user fromstdin:stdinpw`,
  `user delete u1 ${ROOT}`,
  `user delete u1 ${ROOT}`,
  `role delete r1 ${ROOT}`,
  `user get u2 ${ROOT}`,
  `get z --from-key --user u2:newpw`,
  `auth disable ${ROOT}`,
  'auth disable',
  'user list',
  'put a 2',
  'get a',
  'role list',
];

async function post(member: Member, path: string, body: object, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${member.clientUrl}${path}`, {
    method: 'POST',
    headers: token === undefined ? {} : { authorization: token },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** A gateway call's status and body, with the IDs and the token (random) masked. */
async function gatewayCall(member: Member, step: { readonly post: string; readonly body: object; readonly user?: string }): Promise<string> {
  let token: string | undefined;
  if (step.user !== undefined) {
    const [name, password] = step.user.split(':');
    const auth = await post(member, '/v3/auth/authenticate', { name, password });
    token = (JSON.parse(auth.text) as { token?: string }).token ?? 'no-token';
  }
  const { status, text } = await post(member, step.post, step.body, token);
  const masked = text.replace(/"(cluster_id|member_id)":"\d+"/g, '"$1":"<id>"').replace(/"token":"[A-Za-z]+\.\d+"/, '"token":"<token>"');
  return `${status} ${masked}`;
}

async function runSteps(kind: MemberKind, ports: { client: number; peer: number }): Promise<string[]> {
  const member: Member = await startMember(kind, { name: 'auth', clientPort: ports.client, peerPort: ports.peer, initialClusterToken: 'etcd-auth' });
  try {
    const ctx: NormalizeContext = { clientPort: ports.client, peerPort: ports.peer, memberId: member.expectedId, clusterId: clusterIdOf([member.expectedId]) };
    const outputs: string[] = [];
    for (const step of STEPS) {
      if (step === 'RESTART') {
        await member.restart();
        outputs.push('(restarted)');
        continue;
      }
      if (typeof step !== 'string' && 'post' in step) {
        outputs.push(await gatewayCall(member, step));
        continue;
      }
      const { cmd, input } = typeof step === 'string' ? { cmd: step, input: undefined } : step;
      const args = splitCommandLine(cmd);
      const run = await etcdctl(member.endpoint, args, { input });
      outputs.push(renderRun(args, run, ctx));
    }
    return outputs;
  } finally {
    await member.destroy();
  }
}

const target = targetKind();
const etcdSkip = realEtcdSkipReason();
const targetSkip = etcdSkip ?? (await targetSkipReason(target));

test(`${target} answers the auth sequence exactly as real etcd`, { skip: targetSkip, timeout: 120_000 }, async () => {
  const [client, peer] = await freePorts(2);
  const ports = { client: client!, peer: peer! };
  const reference = await runSteps('etcd', ports);
  const actual = await runSteps(target, ports);
  const mismatches: string[] = [];
  STEPS.forEach((step, i) => {
    if (reference[i] !== actual[i]) {
      const cmd = typeof step === 'string' ? step : 'cmd' in step ? step.cmd : `POST ${step.post} ${JSON.stringify(step.body)}`;
      mismatches.push(`step ${i}: ${cmd}\n--- real etcd:\n${reference[i]}--- ${target}:\n${actual[i]}`);
    }
  });
  assert.equal(mismatches.length, 0, mismatches.join('\n'));
});

test(`${target}: auth state and tokens are replicated to every member of a cluster, and a restarted member keeps them`, { skip: targetSkip, timeout: 60_000 }, async () => {
  const cluster = await startCluster(target, 3, { token: 'etcd-auth-cluster' });
  try {
    const [m0, m1, m2] = cluster.members as [Member, Member, Member];
    const ok = async (m: Member, args: string[], input?: string): Promise<string> => {
      const r = await etcdctl(m.endpoint, args, { input });
      assert.equal(r.code, 0, `${args.join(' ')} on ${m.name}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(m0, ['user', 'add', 'root:rootpw']);
    await ok(m0, ['user', 'add', 'u:pw']);
    await ok(m0, ['role', 'add', 'r']);
    await ok(m0, ['role', 'grant-permission', 'r', 'readwrite', 'k', '--prefix']);
    await ok(m0, ['user', 'grant-role', 'u', 'r']);
    await ok(m0, ['auth', 'enable']);
    // Every member applied the same auth entries.
    await ok(m1, ['put', 'k1', 'v', '--user', 'u:pw']);
    const denied = await etcdctl(m2.endpoint, ['put', 'a', 'v', '--user', 'u:pw']);
    assert.match(denied.stderr, /Error: etcdserver: permission denied/);
    assert.equal(await ok(m2, ['get', 'k1', '--print-value-only', '--user', 'u:pw']), 'v\n');
    // A token is assigned by every member when the Authenticate entry applies: one from m0 works on m2.
    const auth = await fetch(`${m0.clientUrl}/v3/auth/authenticate`, { method: 'POST', body: JSON.stringify({ name: 'u', password: 'pw' }) });
    const { token } = (await auth.json()) as { token: string };
    const range = async (): Promise<Response> =>
      fetch(`${m2.clientUrl}/v3/kv/range`, { method: 'POST', headers: { authorization: token }, body: JSON.stringify({ key: 'azE=' }) });
    let res = await range();
    for (let i = 0; i < 50 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await range();
    }
    assert.equal(res.status, 200, await res.text());
    // Hashes, defragmentation and snapshots need the root role (etcd answers with the auth package's own texts).
    const hashkv = await etcdctl(m2.endpoint, ['endpoint', 'hashkv', '--user', 'u:pw']);
    assert.notEqual(hashkv.code, 0);
    assert.match(hashkv.stderr, /permission denied/);
    assert.match(await ok(m2, ['endpoint', 'hashkv', '--user', 'root:rootpw']), /, \d+/);
    // A restarted member reloads users, roles and the enabled flag from its backend and WAL.
    await m1.restart();
    assert.equal(await ok(m1, ['get', 'k1', '--print-value-only', '--user', 'u:pw']), 'v\n');
    assert.match((await etcdctl(m1.endpoint, ['get', 'k1'])).stderr, /user name is empty/);
    assert.equal(await ok(m1, ['user', 'list', '--user', 'root:rootpw']), 'root\nu\n');
  } finally {
    await cluster.destroy();
  }
});
