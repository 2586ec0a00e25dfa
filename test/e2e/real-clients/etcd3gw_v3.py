"""Drives the v3 JSON gateway with Debian's python3-etcd3gw (etcd3gw 2.0), a client no one here wrote.

Usage: python3 etcd3gw_v3.py HOST PORT [watch]

Without `watch`: puts, gets, prefixes, deletes, compare-and-replace, create, leases, status and
members. With `watch`: only the watch calls (a history watch and a live one), which need the
gateway's streaming /v3/watch. Prints one JSON object: {"steps": [[name, result], ...]}. Exits 2
when the module is missing, 1 on an unexpected failure (traceback on stderr).

The client's default api_path is /v3alpha/, which etcd 3.4 no longer serves: /v3/ is passed.
"""
import sys
import threading

from step_runner import Steps, run_main

try:
    from etcd3gw.client import Etcd3Client
    from etcd3gw import exceptions
except ImportError:
    print('python3-etcd3gw is not installed (apt-get install python3-etcd3gw)', file=sys.stderr)
    sys.exit(2)


def text(b):
    return b.decode('utf-8') if isinstance(b, bytes) else b


def with_meta(items):
    """(value, metadata) pairs as JSON: the values and every metadata field the server sent."""
    return [{'value': text(v), 'meta': {k: text(x) for k, x in m.items()}} for v, m in items]


def attempt(fn):
    try:
        return {'ok': fn()}
    except exceptions.Etcd3Exception as e:
        return {'error': type(e).__name__, 'detail': str(e.detail_text) if hasattr(e, 'detail_text') else str(e)}


def kv_steps(c, step):
    step('put', lambda: c.put('foo', 'bar'))
    step('get', lambda: [text(v) for v in c.get('foo')])
    step('get with metadata', lambda: with_meta(c.get('foo', metadata=True)))
    step('get missing', lambda: c.get('missing'))
    step('put more', lambda: [c.put('foo/a', '1'), c.put('foo/b', '2'), c.put('fop', '3')])
    step('get_prefix', lambda: with_meta(c.get_prefix('foo/')))
    step('get_prefix descend by key', lambda: with_meta(c.get_prefix('foo', sort_order='descend', sort_target='key')))
    step('get_all', lambda: with_meta(c.get_all()))
    step('replace ok', lambda: c.replace('foo', 'bar', 'baz'))
    step('replace wrong value', lambda: c.replace('foo', 'bar', 'qux'))
    step('get after replace', lambda: [text(v) for v in c.get('foo')])
    step('create new', lambda: c.create('created', 'v'))
    step('create existing', lambda: c.create('created', 'w'))
    step('delete', lambda: c.delete('fop'))
    step('delete missing', lambda: c.delete('fop'))
    step('delete_prefix', lambda: c.delete_prefix('foo/'))
    step('get_prefix after delete', lambda: with_meta(c.get_prefix('foo/')))
    step('raw txn', lambda: c.transaction({
        'compare': [{'key': 'Zm9v', 'result': 'EQUAL', 'target': 'VALUE', 'value': 'YmF6'}],
        'success': [{'request_range': {'key': 'Zm9v'}}],
        'failure': [],
    }))

    lease = c.lease(ttl=60)
    # The lease ID is chosen by each server (etcd 3.4 from its clock and member ID): it cannot
    # agree, so only its presence is recorded, and the leased key's metadata leaves it out.
    step('lease grant', lambda: lease.id > 0)
    step('put with lease', lambda: c.put('leased', 'v', lease=lease))
    step('leased key carries the lease', lambda: [int(m['lease']) == lease.id for _, m in c.get('leased', metadata=True)])
    step('lease ttl within 60', lambda: 0 < lease.ttl() <= 60)
    step('lease keys', lambda: lease.keys())
    step('lease refresh', lambda: 0 < lease.refresh() <= 60)
    step('lease revoke', lambda: lease.revoke())
    step('leased key gone', lambda: c.get('leased'))
    step('revoked lease ttl', lambda: lease.ttl())

    def status():
        s = c.status()
        # version, dbSize and raft indexes differ between implementations (another release and
        # storage engine; etcd 3.4's /health goes through raft): record the field names only.
        return {'header': s['header'], 'leader_is_self': s['leader'] == s['header']['member_id'],
                'fields': sorted(s.keys())}
    step('status', status)
    step('members', lambda: c.members())


def watch_steps(c, step):
    c.put('w', 'one')
    rev = int(c.get('w', metadata=True)[0][1]['mod_revision'])
    c.put('w', 'two')
    step('watch_once from history', lambda: c.watch_once('w', timeout=5, start_revision=rev))

    def live():
        timer = threading.Timer(0.5, lambda: c.put('w/x', 'three'))
        timer.start()
        try:
            return c.watch_prefix_once('w/', timeout=5)
        finally:
            timer.join()
    step('watch_prefix_once live', live)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    c = Etcd3Client(host=host, port=port, api_path='/v3/', timeout=10)
    step = Steps(attempt)

    if len(sys.argv) > 3 and sys.argv[3] == 'watch':
        watch_steps(c, step)
    else:
        kv_steps(c, step)
    step.print(default=text)


if __name__ == '__main__':
    run_main(main)
