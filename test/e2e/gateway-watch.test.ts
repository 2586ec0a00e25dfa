/**
 * POST /v3/watch on the JSON gateway, driven by curl (a streaming POST whose answers arrive as
 * `{"result":...}` lines), against real etcd 3.4 and etcd-ts in turn with the same name, ports
 * and token, so IDs and revisions must agree: history and live events, several watchers on one
 * stream, cancel, duplicate IDs, bad first and later requests; then that a stream the client
 * closes is cleaned up and the member keeps serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts, realEtcdSkipReason, startMember, targetSkipReason, type Member, type MemberKind } from './harness/index.js';

const skip = (await targetSkipReason('etcd-ts')) ?? realEtcdSkipReason();

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function post(m: Member, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${m.clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${path}: ${await res.text()}`);
}

/** A curl streaming POST /v3/watch; `lines()` is what it printed so far (headers first, with -i). */
class CurlWatch {
  private readonly child: ChildProcess;
  private out = '';
  private readonly exited: Promise<void>;

  constructor(m: Member, body: string) {
    this.child = spawn('curl', ['-s', '-i', '-N', '-X', 'POST', `${m.clientUrl}/v3/watch`, '--data-binary', body]);
    this.child.stdout!.on('data', (c: Buffer) => (this.out += c.toString('utf8')));
    this.exited = new Promise((r) => this.child.on('exit', () => r()));
  }

  /** Status line, content type and body lines (headers that differ by server left out). */
  snapshot(): string[] {
    const [head = '', body = ''] = this.out.split('\r\n\r\n');
    const keep = head.split('\r\n').filter((h) => /^(HTTP\/|content-type:|grpc-metadata-content-type:)/i.test(h)).map((h) => h.toLowerCase());
    return [...keep.sort(), ...body.split('\n').filter((l) => l !== '')];
  }

  async close(): Promise<void> {
    this.child.kill();
    await this.exited;
  }
}

/** Runs the scenario on a fresh member of `kind`; returns what each curl saw. */
async function scenario(kind: MemberKind, clientPort: number, peerPort: number): Promise<Record<string, string[]>> {
  const m = await startMember(kind, { name: 'gw-watch', clientPort, peerPort });
  try {
    await post(m, '/v3/kv/put', { key: b64('w'), value: b64('1') });
    const history = new CurlWatch(m, JSON.stringify({ create_request: { key: b64('w'), start_revision: 1 } }));
    const multi = new CurlWatch(
      m,
      `${JSON.stringify({ create_request: { key: b64('w'), prev_kv: true, watch_id: '7' } })}\n` +
        `${JSON.stringify({ create_request: { key: b64('p/'), range_end: b64('p0'), filters: ['NODELETE'] } })} ` +
        `${JSON.stringify({ create_request: { key: b64('w'), watch_id: '7' } })}` +
        `${JSON.stringify({ cancel_request: { watch_id: '8' } })}`,
    );
    const canceled = new CurlWatch(m, `${JSON.stringify({ create_request: { key: b64('w') } })}${JSON.stringify({ cancel_request: { watch_id: '0' } })}`);
    const laterBad = new CurlWatch(m, `${JSON.stringify({ create_request: { key: b64('p/'), range_end: b64('p0') } })}{bad`);
    const firstBad = new CurlWatch(m, '{bad');
    const wrongType = new CurlWatch(m, JSON.stringify({ create_request: { key: b64('w'), start_revision: 'x' } }));
    const progress = new CurlWatch(m, JSON.stringify({ progress_request: {} }));
    await sleep(700);
    await post(m, '/v3/kv/put', { key: b64('w'), value: b64('2') });
    await post(m, '/v3/kv/put', { key: b64('p/a'), value: b64('x') });
    await post(m, '/v3/kv/deleterange', { key: b64('p/'), range_end: b64('p0') });
    await post(m, '/v3/kv/deleterange', { key: b64('w') });
    await sleep(700);
    const all = { history, multi, canceled, laterBad, firstBad, wrongType, progress };
    const out: Record<string, string[]> = {};
    for (const [name, w] of Object.entries(all)) {
      out[name] = w.snapshot();
      await w.close();
    }
    return out;
  } finally {
    await m.destroy();
  }
}

describe('gateway /v3/watch', { skip }, () => {
  test('streams every WatchResponse as real etcd 3.4 does, for good and bad requests', async () => {
    const [clientPort, peerPort] = await freePorts(2);
    const want = await scenario('etcd', clientPort!, peerPort!);
    const got = await scenario('etcd-ts', clientPort!, peerPort!);
    assert.ok(want['history']!.length > 3, 'real etcd answered the history watch');
    assert.deepEqual(got, want);
  });

  test('streams closed by their clients are dropped; the member keeps serving watches and writes', async () => {
    const m = await startMember('etcd-ts', { name: 'gw-watch-close' });
    try {
      for (let i = 0; i < 20; i++) {
        const ac = new AbortController();
        const res = await fetch(`${m.clientUrl}/v3beta/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64('k') } }), signal: ac.signal });
        assert.equal(res.status, 200);
        ac.abort();
      }
      const w = new CurlWatch(m, JSON.stringify({ create_request: { key: b64('k') } }));
      await sleep(300);
      await post(m, '/v3/kv/put', { key: b64('k'), value: b64('v') });
      await sleep(300);
      const lines = w.snapshot();
      await w.close();
      assert.equal(lines[0], 'content-type: application/json');
      assert.match(lines.at(-1)!, /^\{"result":\{"header":\{.*\},"events":\[\{"kv":\{"key":"aw==","create_revision":"2","mod_revision":"2","version":"1","value":"dg=="\}\}\]\}\}$/);
    } finally {
      await m.destroy();
    }
  });
});
