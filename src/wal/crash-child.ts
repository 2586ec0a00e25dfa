/**
 * Test fixture for wal.test.ts, run as a child process that is killed with SIGKILL mid-flight:
 * `node crash-child.js <dir> <concurrency>`. It opens (or creates) the WAL in `dir` and saves
 * 100-byte entries forever, keeping `concurrency` saves in flight, printing each index to stdout
 * once its save has resolved (stdout to a pipe is synchronous on Linux, so a printed index was
 * acknowledged before the kill).
 */
import { EntryType } from '../api/raftpb/types.js';
import { Wal } from './wal.js';

const dir = process.argv[2]!;
const concurrency = Number(process.argv[3] ?? '8');
const opts = { segmentBytes: 64 * 1024 };

let wal: Wal;
let next = 1;
if (await Wal.exists(dir)) {
  wal = await Wal.open(dir, { index: 0, term: 0 }, opts);
  const { entries } = await wal.readAll();
  next = entries.length + 1;
} else {
  wal = await Wal.create(dir, new TextEncoder().encode('crash-test'), opts);
}
const data = new Uint8Array(100).fill(0x5a);

async function worker(): Promise<void> {
  for (;;) {
    const index = next++;
    await wal.save({ term: 1, vote: 1n, commit: index - 1 }, [{ term: 1, index, type: EntryType.EntryNormal, data }], true);
    process.stdout.write(`${index}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: concurrency }, worker));
