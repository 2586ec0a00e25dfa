"""Drives an etcd v2 API with Debian's python3-etcd (python-etcd 0.4.5), a client no one here wrote.

Usage: python3 python_etcd_v2.py HOST PORT

Prints one JSON object: {"steps": [[name, result], ...]}, where a result is what the client
returned (or the error class and payload it raised). Exits 2 when the module is missing, 1 on an
unexpected failure (with the traceback on stderr). The caller compares the output between servers.
"""
import sys
import threading
import time

from step_runner import Steps, run_main

try:
    import etcd
except ImportError:
    print('python3-etcd is not installed (apt-get install python3-etcd)', file=sys.stderr)
    sys.exit(2)


def node(r):
    """The parts of an EtcdResult both servers must agree on. raft_index is left out: etcd 3.4's
    /health (polled by the harness) is a v2 QGET through raft, so its raft index runs ahead."""
    out = {
        'action': r.action,
        'key': r.key,
        'value': r.value,
        'dir': r.dir,
        'createdIndex': r.createdIndex,
        'modifiedIndex': r.modifiedIndex,
        'etcd_index': getattr(r, 'etcd_index', None),
        # The TTL left and the expiry time follow the wall clock: record only that they are set.
        'ttl_set': r.ttl is not None,
        'expiration_set': r.expiration is not None,
    }
    prev = getattr(r, '_prev_node', None)
    if prev is not None:
        out['prev'] = {'key': prev.key, 'value': prev.value, 'modifiedIndex': prev.modifiedIndex}
    if r._children:
        # Sorted here because etcd 3.4 lists a directory read without sorted=true in Go map
        # order, which is random: no order can be compared.
        out['leaves'] = sorted(({'key': c.key, 'value': c.value, 'dir': c.dir} for c in r.leaves),
                               key=lambda c: c['key'])
    return out


def attempt(fn):
    """fn's result as JSON, or the error the client raised (its class and etcd's payload)."""
    try:
        return {'ok': fn()}
    except etcd.EtcdException as e:
        payload = e.payload if isinstance(e.payload, dict) else None
        return {'error': type(e).__name__, 'payload': payload}


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    c = etcd.Client(host=host, port=port, read_timeout=10)
    step = Steps(attempt)

    step('write', lambda: node(c.write('/message', 'Hello world')))
    step('read', lambda: node(c.read('/message')))
    step('overwrite', lambda: node(c.write('/message', 'Hello etcd')))
    step('get (value only)', lambda: c.get('/message').value)
    step('read missing', lambda: node(c.read('/nope')))
    step('write nested', lambda: node(c.write('/dir/a/b', '1')))
    step('write nested 2', lambda: node(c.write('/dir/c', '2')))
    step('read dir', lambda: node(c.read('/dir')))
    step('recursive read', lambda: node(c.read('/dir', recursive=True, sorted=True)))
    step('contains', lambda: ['/dir/c' in c, '/dir/zz' in c])
    step('test_and_set ok', lambda: node(c.test_and_set('/message', 'swapped', 'Hello etcd')))
    step('test_and_set wrong prev', lambda: node(c.test_and_set('/message', 'x', 'nope')))
    step('prevExist=False on existing', lambda: node(c.write('/message', 'x', prevExist=False)))
    step('prevExist=False new', lambda: node(c.write('/fresh', 'new', prevExist=False)))
    step('prevExist=True missing', lambda: node(c.write('/missing', 'x', prevExist=True)))
    step('prevIndex wrong', lambda: node(c.write('/fresh', 'y', prevIndex=1)))

    def update():
        r = c.read('/fresh')
        r.value = 'updated'
        return node(c.update(r))
    step('update (prevIndex CAS)', update)
    step('mkdir', lambda: node(c.write('/emptydir', None, dir=True)))
    step('write value over dir', lambda: node(c.write('/emptydir', 'v')))
    step('delete dir without dir=True', lambda: node(c.delete('/emptydir')))
    step('delete empty dir', lambda: node(c.delete('/emptydir', dir=True)))
    step('delete non-empty dir', lambda: node(c.delete('/dir', dir=True)))
    step('delete recursive', lambda: node(c.delete('/dir', recursive=True)))
    step('delete with prevValue wrong', lambda: node(c.delete('/fresh', prevValue='no')))
    step('delete with prevValue', lambda: node(c.delete('/fresh', prevValue='updated')))
    step('pop', lambda: node(c.pop('/message')))

    step('write ttl', lambda: node(c.write('/ttl', 'v', ttl=60)))
    step('read ttl key (ttl within 60)', lambda: 0 < c.read('/ttl').ttl <= 60)
    step('refresh ttl', lambda: node(c.refresh('/ttl', ttl=120)))
    step('write short ttl', lambda: node(c.write('/short', 'v', ttl=1)))

    def expired():
        time.sleep(2.5)
        return node(c.read('/short'))
    step('short ttl key is gone after 2.5 s', expired)

    w = c.write('/watched', 'one')
    c.write('/watched', 'two')
    step('watch from index (history)', lambda: node(c.watch('/watched', index=w.modifiedIndex)))
    step('watch from next index (history)', lambda: node(c.watch('/watched', index=w.modifiedIndex + 1)))

    def live_watch():
        timer = threading.Timer(0.5, lambda: c.write('/watched', 'three'))
        timer.start()
        try:
            return node(c.watch('/watched', timeout=10))
        finally:
            timer.join()
    step('watch (live)', live_watch)

    def recursive_watch():
        timer = threading.Timer(0.5, lambda: c.write('/wdir/x', 'y'))
        timer.start()
        try:
            return node(c.watch('/wdir', recursive=True, timeout=10))
        finally:
            timer.join()
    step('watch recursive (live)', recursive_watch)
    step('watch times out', lambda: node(c.watch('/quiet', timeout=1)))

    step('append 1', lambda: node(c.write('/queue', 'job1', append=True)))
    step('append 2', lambda: node(c.write('/queue', 'job2', append=True)))
    step('append 3', lambda: node(c.write('/queue', 'job3', append=True)))
    step('read queue in order', lambda: [ch.value for ch in c.read('/queue', recursive=True, sorted=True).leaves])

    step('members', lambda: sorted(
        [{'id': m['id'], 'name': m['name'], 'peerURLs': m['peerURLs'], 'clientURLs': m['clientURLs']}
         for m in c.members.values()], key=lambda m: m['id']))
    step('leader', lambda: c.leader['name'])
    step('machines', lambda: c.machines)
    step('store stats keys', lambda: sorted(c.store_stats.keys()))

    step.print()


if __name__ == '__main__':
    run_main(main)
