import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { ManualClock } from '../pkg/clock.js';
import { runDataDrivenFile, sourceDirOf, testdataFiles, type TestCase } from '../pkg/datadriven.js';
import { encodeEvent } from './event-json.js';
import { formatRfc3339Nano } from './rfc3339.js';
import { V2Store, type TtlOptions, type V2Outcome } from './store.js';
import { encodeV2Error } from './v2-errors.js';
import type { V2Watcher } from './watcher.js';

// Golden tests of the v2 store. Every answer prints as `etcdIndex=N <event JSON>` or
// `error <error JSON>`, followed by what each open watcher received during the command.
//   new [ns=/0,/1] [history=N]                  a fresh store; the clock at 2013-07-28T08:26:40Z
//   get path=P [recursive] [sorted]
//   set path=P [value=V] [dir] [ttl=S] [refresh]
//   create path=P [value=V] [dir] [unique] [ttl=S]
//   update path=P [value=V] [ttl=S] [refresh]
//   cas path=P [prevValue=V] [prevIndex=N] [value=V] [ttl=S] [refresh]
//   delete path=P [dir] [recursive]
//   cad path=P [prevValue=V] [prevIndex=N]
//   advance ms=N                                move the clock
//   expire                                      sweep keys expired at the clock's time
//   watch name=W path=P [recursive] [stream] [since=N]
//   unwatch name=W
//   stats | index

const START_MS = 1_375_000_000_000;

let clock = new ManualClock(START_MS);
let store = new V2Store({ clock });
let watchers = new Map<string, V2Watcher>();

function ttlOptions(tc: TestCase): TtlOptions {
  const ttl = tc.args.get('ttl');
  return { expireTime: ttl === undefined ? 0 : clock.now() + Number(ttl) * 1000, refresh: tc.args.has('refresh') };
}

function outcome(o: V2Outcome): string {
  return o.ok ? `etcdIndex=${o.event.etcdIndex} ${encodeEvent(o.event)}` : `error ${encodeV2Error(o.error)}`;
}

function str(tc: TestCase, name: string): string {
  return tc.args.get(name) ?? '';
}

function num(tc: TestCase, name: string): number {
  return Number(tc.args.get(name) ?? '0');
}

function runCommand(tc: TestCase): string {
  const path = str(tc, 'path');
  switch (tc.cmd) {
    case 'new': {
      clock = new ManualClock(START_MS);
      const ns = tc.args.get('ns');
      const history = tc.args.get('history');
      store = new V2Store({ clock, namespaces: ns === undefined ? [] : ns.split(','), historyCapacity: history === undefined ? undefined : Number(history) });
      for (const w of watchers.values()) w.remove();
      watchers = new Map();
      return `index=${store.currentIndex}`;
    }
    case 'get':
      return outcome(store.get(path, tc.args.has('recursive'), tc.args.has('sorted')));
    case 'set':
      return outcome(store.set(path, tc.args.has('dir'), str(tc, 'value'), ttlOptions(tc)));
    case 'create':
      return outcome(store.create(path, tc.args.has('dir'), str(tc, 'value'), tc.args.has('unique'), ttlOptions(tc)));
    case 'update':
      return outcome(store.update(path, str(tc, 'value'), ttlOptions(tc)));
    case 'cas':
      return outcome(store.compareAndSwap(path, str(tc, 'prevValue'), num(tc, 'prevIndex'), str(tc, 'value'), ttlOptions(tc)));
    case 'delete':
      return outcome(store.delete(path, tc.args.has('dir'), tc.args.has('recursive')));
    case 'cad':
      return outcome(store.compareAndDelete(path, str(tc, 'prevValue'), num(tc, 'prevIndex')));
    case 'advance':
      clock.advance(num(tc, 'ms'));
      return `now=${formatRfc3339Nano(clock.now())}`;
    case 'expire': {
      const events = store.deleteExpiredKeys(clock.now());
      return events.length === 0 ? 'nothing expired' : events.map((e) => `etcdIndex=${e.etcdIndex} ${encodeEvent(e)}`).join('\n');
    }
    case 'watch': {
      const name = str(tc, 'name');
      const o = store.watch(path, tc.args.has('recursive'), tc.args.has('stream'), num(tc, 'since'));
      if (!o.ok) return `error ${encodeV2Error(o.error)}`;
      watchers.set(name, o.watcher);
      return `${name} startIndex=${o.watcher.startIndex} watchers=${store.watcherCount}`;
    }
    case 'unwatch': {
      const name = str(tc, 'name');
      watchers.get(name)?.remove();
      watchers.delete(name);
      return `watchers=${store.watcherCount}`;
    }
    case 'stats':
      return store.jsonStats();
    case 'index':
      return `index=${store.currentIndex} hasTtlKeys=${store.hasTtlKeys()}`;
    default:
      throw new Error(`${tc.pos}: unknown command ${tc.cmd}`);
  }
}

function drainWatchers(): string[] {
  const lines: string[] = [];
  for (const [name, w] of watchers) {
    for (let e = w.next(); e !== undefined; e = w.next()) lines.push(`${name} <- etcdIndex=${e.etcdIndex} ${encodeEvent(e)}`);
    if (w.closed) {
      lines.push(`${name} closed${w.overflowed ? ' (overflowed)' : ''}`);
      watchers.delete(name);
    }
  }
  return lines;
}

for (const file of testdataFiles(join(sourceDirOf(import.meta.url), 'testdata'))) {
  test(`v2 store golden: ${basename(file)}`, () => {
    clock = new ManualClock(START_MS);
    store = new V2Store({ clock });
    watchers = new Map();
    runDataDrivenFile(
      file,
      (tc) => [runCommand(tc), ...drainWatchers()].join('\n'),
      (tc, actual) => assert.equal(actual, tc.expected, `${tc.pos}: ${tc.cmd} ${tc.cmdArgs.join(' ')}`),
    );
  });
}
