"""Drives the v3 gRPC API with Debian's python3-etcd3 (etcd3 0.12 on grpcio 1.51), a client no one here wrote.

Usage: python3 etcd3_grpc_v3.py HOST PORT [watch]

grpcio is gRPC's C-core: its own HTTP/2 stack (framing, HPACK, flow control), independent of
grpc-go (etcdctl) and @grpc/grpc-js, so this also checks etcd-ts's HTTP/2 server against a third
peer. Without `watch`: puts, gets, ranges with sort orders, deletes, compare-and-replace,
transactions, leases, status, members, alarms, compaction, locks, a large value, requests above
the size limit and error answers. With `watch`: history and live watches, watch_once, cancel_watch
and a watch from a compacted revision, all on the client's one Watch stream. Prints one JSON
object: {"steps": [[name, result], ...]}. Exits 2 when the module is missing, 1 on an unexpected
failure (traceback on stderr).

Left out because two fresh servers cannot agree on them: IDs of leases the server chooses (etcd
3.4 derives them from its clock; leases granted here with an explicit ID are compared in full),
TTLs left (only their range is checked), the lock's value (a uuid1), and Status's version,
dbSize and raftIndex (another release and storage engine). Headers (cluster and member IDs,
revision, raft term) are compared: the servers run with the same name, URLs and token.
"""
import queue
import sys
import threading
import time

from step_runner import Steps, run_main

try:
    import etcd3
    import grpc
    from etcd3 import etcdrpc, exceptions
    from etcd3.client import KVMetadata
    from etcd3.events import Event
    from etcd3.members import Member
    from etcd3.transactions import Version
except ImportError:
    print('python3-etcd3 is not installed (apt-get install python3-etcd3)', file=sys.stderr)
    sys.exit(2)

# Lease IDs chosen here so that they, and the leased keys' metadata, compare exactly.
LEASE_ID = 0x1234
LEASE_ID_2 = 0x5678


def text(b):
    return b.decode('utf-8') if isinstance(b, bytes) else b


def plain(x):
    """Protobuf messages, etcd3's wrappers and bytes as JSON-able values (fields as on the wire).

    etcd3's wrappers come first: an Event answers any attribute from its kv, ListFields included.
    """
    if isinstance(x, bytes):
        return text(x)
    if isinstance(x, KVMetadata):
        return plain({'key': x.key, 'create_revision': x.create_revision, 'mod_revision': x.mod_revision,
                      'version': x.version, 'lease_id': x.lease_id, 'header': x.response_header})
    if isinstance(x, Event):
        out = {'type': type(x).__name__, 'kv': plain(x._event.kv)}
        if x._event.HasField('prev_kv'):
            out['prev_kv'] = plain(x._event.prev_kv)
        return out
    if isinstance(x, Member):
        return plain({'id': x.id, 'name': x.name, 'peer_urls': x.peer_urls, 'client_urls': x.client_urls})
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) or type(x).__name__ in ('RepeatedScalarContainer', 'RepeatedCompositeContainer'):
        return [plain(v) for v in x]
    if hasattr(x, 'ListFields'):
        out = {}
        for field, value in x.ListFields():
            if field.enum_type is not None and field.label != field.LABEL_REPEATED:
                value = field.enum_type.values_by_number[value].name
            out[field.name] = plain(value)
        return out
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) > 2 ** 53:
        # 64-bit IDs as strings: JSON numbers are doubles in the test that reads this.
        return str(x)
    return x


def failure(e):
    """An exception as the client raised it: its type, and the gRPC status under it.

    etcd3 turns four status codes into its own exceptions and drops the status; Python keeps the
    original grpc.RpcError as __context__, where the code and etcd's text are read from.
    """
    # grpcio raises private subclasses of grpc.RpcError (_InactiveRpcError): the public name is kept.
    out = {'error': 'grpc.RpcError' if isinstance(e, grpc.RpcError) else type(e).__name__}
    if isinstance(e, exceptions.RevisionCompactedError):
        out['compacted_revision'] = e.compacted_revision
    rpc = e if isinstance(e, grpc.RpcError) else e.__context__
    if isinstance(rpc, grpc.RpcError) and hasattr(rpc, 'code'):
        out['code'] = rpc.code().name
        out['details'] = rpc.details()
    return out


def attempt(fn):
    try:
        return {'ok': plain(fn())}
    except (exceptions.Etcd3Exception, grpc.RpcError) as e:
        return failure(e)


def kv_steps(c, step):
    step('put', lambda: c.put('foo', 'bar'))
    step('put prev_kv', lambda: c.put('foo', 'bar', prev_kv=True))
    step('get', lambda: c.get('foo'))
    step('get serializable', lambda: c.get('foo', serializable=True))
    step('get missing', lambda: c.get('missing'))
    step('put more', lambda: [c.put('foo/a', '1'), c.put('foo/c', '3'), c.put('foo/b', '22'), c.put('foo/a', '11'), c.put('fop', '4')])
    step('get_prefix', lambda: list(c.get_prefix('foo/')))
    for order in ('ascend', 'descend'):
        for target in ('key', 'version', 'create', 'mod', 'value'):
            step('get_prefix %s by %s' % (order, target),
                 lambda o=order, t=target: [text(m.key) for _, m in c.get_prefix('foo', sort_order=o, sort_target=t)])
    step('get_prefix keys_only', lambda: list(c.get_prefix('foo/', keys_only=True)))
    step('get_prefix_response count', lambda: c.get_prefix_response('foo/').count)
    step('get_range', lambda: list(c.get_range('foo/a', 'foo/c')))
    step('get_all', lambda: list(c.get_all()))
    step('get_all descend', lambda: [text(m.key) for _, m in c.get_all(sort_order='descend')])
    step('replace ok', lambda: c.replace('foo', 'bar', 'baz'))
    step('replace wrong value', lambda: c.replace('foo', 'bar', 'qux'))
    step('get after replace', lambda: c.get('foo'))
    step('put_if_not_exists new', lambda: c.put_if_not_exists('created', 'v'))
    step('put_if_not_exists existing', lambda: c.put_if_not_exists('created', 'w'))
    step('delete', lambda: c.delete('fop'))
    step('delete missing', lambda: c.delete('fop'))
    step('delete prev_kv response', lambda: c.delete('created', prev_kv=True, return_response=True))
    step('delete_prefix', lambda: c.delete_prefix('foo/'))
    step('get_prefix after delete', lambda: list(c.get_prefix('foo/')))


def txn_steps(c, step):
    t = c.transactions
    c.put('t/a', '1')
    c.put('t/b', '2')
    a_rev = c.get('t/a')[1].mod_revision
    step('txn value/version/create/mod true', lambda: c.transaction(
        compare=[t.value('t/a') == '1', t.version('t/a') == 1, t.create('t/a') == a_rev, t.mod('t/a') == a_rev,
                 t.value('t/b') != '1', t.version('t/b') > 0, t.mod('t/b') > a_rev, t.create('t/missing') < 1],
        success=[t.put('t/c', '3'), t.get('t/a'), t.delete('t/b')],
        failure=[t.put('t/wrong', 'x')]))
    step('txn false takes failure branch', lambda: c.transaction(
        compare=[t.value('t/a') == 'nope'],
        success=[t.put('t/wrong', 'x')],
        failure=[t.get('t/', 't0'), t.put('t/a', 'again', prev_kv=True), t.delete('t/c', prev_kv=True)]))
    step('txn nested with range results', lambda: c.transaction(
        compare=[t.version('t/a') == 2],
        success=[t.txn(compare=[t.value('t/a') == 'again'],
                       success=[t.get('t/a'), t.put('t/n', 'nested')],
                       failure=[]),
                 t.get('t/', 't0')],
        failure=[]))
    step('txn empty', lambda: c.transaction(compare=[], success=[], failure=[]))
    step('txn duplicate key', lambda: c.transaction(compare=[], success=[t.put('t/d', '1'), t.put('t/d', '2')], failure=[]))
    step('txn too many ops', lambda: c.transaction(compare=[], success=[t.put('t/%d' % i, 'v') for i in range(129)], failure=[]))
    step('txn range compare', lambda: c.transaction(
        compare=[Version('t/', 't0') > 0], success=[t.get('t/n')], failure=[]))
    step('get_prefix after txns', lambda: list(c.get_prefix('t/')))


def lease_steps(c, step):
    chosen = c.lease(60)
    # The server chooses this lease's ID: only that there is one and that keys carry it is kept.
    step('lease grant server-chosen', lambda: [chosen.id > 0, chosen.ttl])
    step('put with server-chosen lease', lambda: c.put('leased0', 'v', lease=chosen).header)
    step('key carries server-chosen lease', lambda: c.get('leased0')[1].lease_id == chosen.id)
    step('revoke server-chosen lease', lambda: chosen.revoke())

    lease = c.lease(60, lease_id=LEASE_ID)
    step('lease grant with ID', lambda: [lease.id, lease.ttl])
    step('lease grant existing ID', lambda: c.lease(60, lease_id=LEASE_ID))
    step('put with lease', lambda: c.put('leased', 'v', lease=lease))
    step('put with lease object id', lambda: c.put('leased2', 'w', lease=LEASE_ID))
    step('get leased', lambda: c.get('leased'))

    def info():
        r = c.get_lease_info(LEASE_ID)
        # TTL left depends on when each server started counting: only its range.
        return {'header': plain(r.header), 'ID': r.ID, 'grantedTTL': r.grantedTTL,
                'ttl_in_range': 0 < r.TTL <= 60, 'keys': sorted(text(k) for k in r.keys)}
    step('get_lease_info', info)
    step('lease granted_ttl and keys', lambda: [lease.granted_ttl, sorted(text(k) for k in lease.keys)])
    step('lease remaining_ttl in range', lambda: 0 < lease.remaining_ttl <= 60)

    def refresh():
        rs = lease.refresh()
        return [{'header': plain(r.header), 'ID': r.ID, 'TTL': r.TTL} for r in rs]
    step('lease refresh', refresh)
    step('lease revoke', lambda: lease.revoke())
    step('leased keys gone', lambda: [c.get('leased'), c.get('leased2')])
    step('lease info after revoke', lambda: c.get_lease_info(LEASE_ID))

    def refresh_revoked():
        return [{'ID': r.ID, 'TTL': r.TTL} for r in lease.refresh()]
    step('refresh revoked lease', refresh_revoked)
    step('revoke unknown lease', lambda: c.revoke_lease(LEASE_ID))
    step('put with unknown lease', lambda: c.put('leased', 'v', lease=LEASE_ID_2))
    step('lease grant ttl 0', lambda: [c.lease(0, lease_id=LEASE_ID_2).ttl, c.revoke_lease(LEASE_ID_2)])


def cluster_steps(c, step):
    def status():
        s = c.status()
        # version, db_size and raft_index differ between implementations: left out.
        return {'leader': plain(s.leader), 'raft_term': s.raft_term}
    step('status', status)
    step('members', lambda: list(c.members))
    step('list_alarms', lambda: [[a.alarm_type, a.member_id] for a in c.list_alarms()])


def compaction_steps(c, step):
    c.put('k', '1')
    old = c.put('k', '2').header.revision
    c.put('k', '3')
    now = c.get('k')[1].mod_revision
    step('compact', lambda: c.compact(now - 1))
    step('compact physical', lambda: c.compact(now, physical=True))
    step('compact again', lambda: c.compact(now - 1))
    step('compact future', lambda: c.compact(now + 100))
    # etcd3 0.12's get() drops its revision argument: the client's own KV stub is used for it.
    step('range at compacted revision', lambda: c.kvstub.Range(etcdrpc.RangeRequest(key=b'k', revision=old), 10))
    step('range at future revision', lambda: c.kvstub.Range(etcdrpc.RangeRequest(key=b'k', revision=now + 100), 10))
    step('range at current revision', lambda: c.kvstub.Range(etcdrpc.RangeRequest(key=b'k', revision=now), 10))


def lock_steps(c, step):
    # etcd3's lock is a key under /locks/ created with create_revision == 0 and a fresh lease.
    lock = c.lock('job', ttl=60)
    other = c.lock('job', ttl=60)
    step('lock acquire', lambda: lock.acquire(timeout=5))
    step('lock is_acquired', lambda: lock.is_acquired())
    step('second lock acquire while held', lambda: other.acquire(timeout=0))
    step('second lock is_acquired', lambda: other.is_acquired())
    step('lock refresh', lambda: [r.TTL for r in lock.refresh()])
    step('lock key', lambda: [text(m.key) for _, m in c.get_prefix('/locks/')])
    step('lock release', lambda: lock.release())
    step('lock released', lambda: [lock.is_acquired(), list(c.get_prefix('/locks/'))])
    step('lock release again', lambda: lock.release())
    step('second lock acquire after release', lambda: other.acquire(timeout=5))
    step('second lock release', lambda: other.release())

    def with_context():
        with c.lock('ctx', ttl=10) as held:
            return held.is_acquired()
    step('lock as context manager', with_context)


def size_steps(c, step):
    big = 'x' * (1000 * 1000)
    step('put ~1 MB value', lambda: c.put('big', big).header.revision > 0)
    step('get ~1 MB value', lambda: (lambda v: [len(v), v == big.encode()])(c.get('big')[0]))
    # Above etcd's --max-request-bytes (1.5 MiB) but under gRPC's receive limit (that plus 512 KiB):
    # etcd's own check answers. Above both: the gRPC layer answers.
    step('put 1.6 MiB value', lambda: c.put('huge', 'y' * (1677722)))
    step('put 3 MiB value', lambda: c.put('huge', 'y' * (3 << 20)))
    step('served after too large', lambda: c.get('huge'))
    step('put empty key', lambda: c.put('', 'v'))
    step('delete_prefix big', lambda: c.delete_prefix('big').deleted)

    def five_mb():
        for i in range(5):
            c.put('mb/%d' % i, big)
        return c.get_prefix_response('mb/', keys_only=True).count
    step('put five ~1 MB values', five_mb)
    # grpcio refuses replies above its 4 MiB receive limit itself; the size in its text is the
    # encoded reply's, so it agrees only if both servers encode the same bytes.
    step('range reply above the client receive limit', lambda: len(list(c.get_prefix('mb/'))))
    step('delete_prefix mb', lambda: c.delete_prefix('mb/').deleted)

    def parallel():
        # Many calls in flight on the one channel: concurrent HTTP/2 streams on one connection.
        def worker(w):
            for i in range(25):
                c.put('par/%d/%d' % (w, i), 'v' * (i * 100))
        threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        r = c.get_prefix_response('par/', keys_only=True)
        return [r.count, r.header.revision]
    step('parallel puts on one channel', parallel)


def watch_steps(c, step):
    first = c.put('w', 'one').header.revision
    c.put('w', 'two')
    c.delete('w')

    def history():
        events, cancel = c.watch('w', start_revision=first)
        got = []
        for e in events:
            got.append(plain(e))
            if len(got) == 3:
                break
        cancel()
        return got
    step('watch from revision (history)', history)

    def history_prev_kv():
        events, cancel = c.watch('w', start_revision=first + 1, prev_kv=True)
        got = [plain(next(events)), plain(next(events))]
        cancel()
        return got
    step('watch from revision with prev_kv', history_prev_kv)

    def live():
        events, cancel = c.watch_prefix('w/')

        def writer():
            time.sleep(0.3)
            c.put('w/x', 'a')
            c.put('w/y', 'b')
            c.delete('w/x')
            c.put('other', 'ignored')
            c.delete_prefix('w/')
        thread = threading.Thread(target=writer)
        thread.start()
        got = []
        for e in events:
            got.append(plain(e))
            if len(got) == 4:
                break
        cancel()
        thread.join()
        return got
    step('watch_prefix live', live)

    step('watch_once live', lambda: _put_soon_and_watch(c, 'w/once', 'now', lambda: c.watch_once('w/once', timeout=5)))
    step('watch_prefix_once live', lambda: _put_soon_and_watch(c, 'w/p/1', 'p', lambda: c.watch_prefix_once('w/p/', timeout=5)))
    step('watch_once timeout', lambda: c.watch_once('w/silent', timeout=0.5))

    def cancelled():
        got = queue.Queue()
        watch_id = c.add_watch_callback('w/cancelled', got.put)
        c.cancel_watch(watch_id)
        c.put('w/cancelled', 'x')
        # A watch that reports nothing is only seen by waiting: 0.5 s is long next to a put here.
        time.sleep(0.5)
        # etcd numbers watches per stream from 0: this is the stream's seventh.
        return {'watch_id': watch_id, 'events_after_cancel': got.qsize()}
    step('cancel_watch stops events', cancelled)

    def callback_events():
        got = queue.Queue()
        watch_id = c.add_watch_prefix_callback('w/cb/', got.put)
        c.put('w/cb/1', 'x')
        r = got.get(timeout=5)
        c.cancel_watch(watch_id)
        return {'header': plain(r.header), 'events': [plain(e) for e in r.events]}
    step('add_watch_prefix_callback', callback_events)

    now = c.put('w', 'last').header.revision
    c.compact(now)

    def compacted():
        events, cancel = c.watch('w', start_revision=first)
        try:
            return [plain(e) for e in events]
        finally:
            cancel()
    step('watch from compacted revision', compacted)
    # The client's one Watch stream still serves a new watch after a compacted one was cancelled.
    step('watch_once after compacted', lambda: _put_soon_and_watch(c, 'w/after', 'ok', lambda: c.watch_once('w/after', timeout=5)))


def _put_soon_and_watch(c, key, value, watch):
    """What `watch` returns while `key` is put from another thread 0.3 s after it starts."""
    timer = threading.Timer(0.3, lambda: c.put(key, value))
    timer.start()
    try:
        return watch()
    finally:
        timer.join()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    c = etcd3.client(host=host, port=port, timeout=10)
    step = Steps(attempt)

    # The channel is left open: closing it makes etcd3's watch thread reopen its stream on a
    # closed channel and die noisily; the process exits right after anyway.
    if len(sys.argv) > 3 and sys.argv[3] == 'watch':
        watch_steps(c, step)
    else:
        kv_steps(c, step)
        txn_steps(c, step)
        lease_steps(c, step)
        cluster_steps(c, step)
        lock_steps(c, step)
        size_steps(c, step)
        compaction_steps(c, step)
    step.print(default=text)


if __name__ == '__main__':
    run_main(main)
