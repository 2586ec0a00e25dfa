/**
 * The v2 HTTP requests the differential test sends, in order, to real etcd 3.4 and to etcd-ts
 * (both with --enable-v2): writes of every kind, reads, compare-and-swap/delete, directories,
 * TTLs, in-order keys, watches answered from the history, and bad input.
 */

/** One request: method, path with query, and an optional url-encoded body. */
export interface V2Step {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD' | 'PATCH';
  readonly path: string;
  readonly form?: string;
}

const put = (path: string, form: string): V2Step => ({ method: 'PUT', path, form });
const get = (path: string): V2Step => ({ method: 'GET', path });
const del = (path: string): V2Step => ({ method: 'DELETE', path });

/** The scenario, in order. */
export const V2_SCENARIO: readonly V2Step[] = [
  put('/v2/keys/message', 'value=Hello+world'),
  get('/v2/keys/message'),
  put('/v2/keys/message', 'value=Hello+etcd'),
  get('/v2/keys/nope'),
  put('/v2/keys/foo/bar', 'value=1'),
  get('/v2/keys/foo'),
  get('/v2/keys/?recursive=true&sorted=true'),
  get('/v2/keys'),
  { method: 'POST', path: '/v2/keys/queue', form: 'value=job1' },
  { method: 'POST', path: '/v2/keys/queue', form: 'value=job2' },
  get('/v2/keys/queue?recursive=true&sorted=true'),
  put('/v2/keys/message?prevExist=false', 'value=x'),
  put('/v2/keys/fresh?prevExist=false', 'value=new'),
  put('/v2/keys/fresh?prevExist=true', 'value=updated'),
  put('/v2/keys/missing?prevExist=true', 'value=x'),
  put('/v2/keys/fresh?prevValue=wrong', 'value=y'),
  put('/v2/keys/fresh?prevValue=updated', 'value=swapped'),
  put('/v2/keys/fresh?prevIndex=1', 'value=z'),
  del('/v2/keys/fresh?prevValue=nope'),
  del('/v2/keys/fresh?prevValue=swapped'),
  put('/v2/keys/dir', 'dir=true'),
  put('/v2/keys/dir', 'value=v'),
  del('/v2/keys/dir'),
  del('/v2/keys/dir?dir=true'),
  del('/v2/keys/foo?recursive=true'),
  put('/v2/keys/ttl', 'value=v&ttl=abc'),
  put('/v2/keys/ttl', 'value=v&ttl=-1'),
  put('/v2/keys/ttl?prevIndex=x', 'value=v'),
  get('/v2/keys/x?recursive=maybe'),
  put('/v2/keys/x?prevValue=', 'value=v'),
  put('/v2/keys/x', 'value=%zz'),
  get('/v2/keys/x?a=1;b=2'),
  put('/v2/keys/x?wait=true', 'value=v'),
  put('/v2/keys/r', 'refresh=true&value=v&ttl=5'),
  put('/v2/keys/r', 'refresh=true'),
  get('/v2/keys/message?wait=true&waitIndex=1'),
  get('/v2/keys/message?wait=true&waitIndex=abc'),
  put('/v2/keys/nv?noValueOnSuccess=true', 'value=v'),
  { method: 'HEAD', path: '/v2/keys/message' },
  { method: 'PATCH', path: '/v2/keys/message' },
  get('/v2/keys/message?quorum=true'),
  put('/v2/keys/', 'value=root'),
  del('/v2/keys/'),
  get('/v2/keys/../x'),
  get('/v2/members'),
  get('/v2/members/leader'),
  get('/v2/members/nope'),
  { method: 'DELETE', path: '/v2/members/1234' },
  { method: 'POST', path: '/v2/members', form: 'peerURLs=x' },
  get('/v2/machines'),
  get('/v2/stats/store'),
  get('/v2/stats/leader'),
  get('/v2/foo'),
];
