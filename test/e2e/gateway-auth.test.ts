/**
 * The Auth service through the JSON gateway (/v3/auth/*), against real etcd 3.4 and etcd-ts in
 * turn with the same name, ports and token: users and roles, enabling auth, a token from
 * /v3/auth/authenticate sent back in the `Authorization` header (which etcd's gateway forwards
 * as the call's token), requests without it, and disabling auth again. Bodies are compared
 * exactly but for the token itself (random) and revisions of the auth store.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts, realEtcdSkipReason, startMember, targetSkipReason, type MemberKind } from './harness/index.js';

const skip = (await targetSkipReason('etcd-ts')) ?? realEtcdSkipReason();

const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface Step {
  readonly path: string;
  readonly body: unknown;
  /** Send the token of the last authenticate step. */
  readonly withToken?: boolean;
  /** A streaming call (/v3/watch): keep its first line, then hang up. */
  readonly stream?: boolean;
}

const STEPS: readonly Step[] = [
  { path: '/v3/auth/user/get', body: { name: 'root' } },
  { path: '/v3/auth/enable', body: {} },
  { path: '/v3/auth/user/add', body: { name: 'root', password: 'pw' } },
  { path: '/v3/auth/user/add', body: { name: 'alice', password: 'secret' } },
  { path: '/v3/auth/role/add', body: { name: 'reader' } },
  { path: '/v3/auth/role/grant', body: { name: 'reader', perm: { permType: 'READ', key: b64('a'), range_end: b64('b') } } },
  { path: '/v3/auth/user/grant', body: { user: 'alice', role: 'reader' } },
  { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
  { path: '/v3/auth/role/get', body: { role: 'reader' } },
  { path: '/v3/auth/user/list', body: {} },
  { path: '/v3/auth/role/list', body: {} },
  { path: '/v3/auth/enable', body: {} },
  { path: '/v3/kv/put', body: { key: b64('a1'), value: b64('v') } },
  { path: '/v3/auth/authenticate', body: { name: 'alice', password: 'wrong' } },
  { path: '/v3/auth/authenticate', body: { name: 'alice', password: 'secret' } },
  { path: '/v3/kv/range', body: { key: b64('a1') }, withToken: true },
  { path: '/v3/kv/put', body: { key: b64('a1'), value: b64('v') }, withToken: true },
  { path: '/v3/watch', body: { create_request: { key: b64('a1'), watch_id: 3 } }, withToken: true, stream: true },
  { path: '/v3/watch', body: { create_request: { key: b64('z'), watch_id: 4 } }, withToken: true, stream: true },
  { path: '/v3/auth/authenticate', body: { name: 'root', password: 'pw' } },
  { path: '/v3/kv/put', body: { key: b64('a1'), value: b64('v') }, withToken: true },
  { path: '/v3/auth/user/changepw', body: { name: 'alice', password: 'new' }, withToken: true },
  { path: '/v3/auth/user/revoke', body: { name: 'alice', role: 'reader' }, withToken: true },
  { path: '/v3/auth/role/revoke', body: { role: 'reader', key: b64('a'), range_end: b64('b') }, withToken: true },
  { path: '/v3/auth/role/delete', body: { role: 'reader' }, withToken: true },
  { path: '/v3/auth/user/delete', body: { name: 'alice' }, withToken: true },
  { path: '/v3/auth/disable', body: {}, withToken: true },
  { path: '/v3/kv/range', body: { key: b64('a1') } },
];

/** The first line a streaming response sends; then the call is hung up. */
async function firstLine(r: Response, abort: AbortController): Promise<string> {
  const reader = r.body!.getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  abort.abort();
  return text.split('\n')[0]!;
}

async function run(kind: MemberKind, clientPort: number, peerPort: number): Promise<string[]> {
  const m = await startMember(kind, { name: 'gw-auth', clientPort, peerPort });
  try {
    const out: string[] = [];
    let token = '';
    for (const s of STEPS) {
      const headers: Record<string, string> = {};
      if (s.withToken === true) headers['Authorization'] = token;
      const abort = new AbortController();
      const r = await fetch(`${m.clientUrl}${s.path}`, { method: 'POST', body: JSON.stringify(s.body), headers, signal: abort.signal });
      const body = s.stream === true ? await firstLine(r, abort) : await r.text();
      const t = /"token":"([^"]*)"/.exec(body);
      if (t !== null) token = t[1]!;
      out.push(`${s.path} -> ${r.status} ${body.replace(/"token":"[^"]*"/, '"token":"<token>"')}`);
    }
    return out;
  } finally {
    await m.destroy();
  }
}

describe('gateway /v3/auth/*', { skip }, () => {
  test('every Auth call and token-carrying request answers as real etcd 3.4 does', async () => {
    const [clientPort, peerPort] = await freePorts(2);
    const want = await run('etcd', clientPort!, peerPort!);
    const got = await run('etcd-ts', clientPort!, peerPort!);
    assert.deepEqual(got, want);
  });
});
