/**
 * Test fixture for replay.test.ts, run as a child process that kills itself at a failpoint:
 * `node crash-child.js <data-dir> <puts> <failpoint>`. It starts a member in the data dir, makes
 * `puts` acknowledged puts of `key<i>` = `value<i>` (printing `acked <i>` after each), arms the
 * failpoint with SIGKILL, prints `armed`, and puts `last` = `x`, which the failpoint interrupts.
 */
import { createPutRequest } from '../api/gen/etcdserverpb.js';
import { EtcdServer } from './etcd-server.js';
import { Failpoints, type FailpointName } from './failpoints.js';
import { quietLogger, testConfig } from './test-member.js';

const [dir, putsText, failpoint] = process.argv.slice(2);
const enc = new TextEncoder();
const failpoints = new Failpoints();
// A commit per apply batch, so that the backend holds most puts when the failpoint kills.
const server = await EtcdServer.start(testConfig(dir!, ['--backend-batch-limit=1']), quietLogger(), { failpoints });
await server.readyNotify();
const puts = Number(putsText);
for (let i = 0; i < puts; i++) {
  await server.put(createPutRequest({ key: enc.encode(`key${i}`), value: enc.encode(`value${i}`) }));
  process.stdout.write(`acked ${i}\n`);
}
failpoints.arm(failpoint as FailpointName, 'kill');
process.stdout.write('armed\n');
await server.put(createPutRequest({ key: enc.encode('last'), value: enc.encode('x') }));
process.stdout.write('survived\n');
await server.stop();
