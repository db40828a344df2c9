/**
 * One process starting and stopping a file-backed pod server again and again, as the soak (`npm run soak`) and the
 * reliability tests do when they restart a pod: does each start cost the same, and does memory stay put? The
 * process keeps CSS's parsed config for its later servers (src/pod/css-runner.ts); building a server from it must
 * leave nothing behind. Figures: the median start of the last five starts against that of starts 2–6 (the first
 * parses the config), and the heap after the last stop against the heap after the first (after a full GC).
 *
 *   npx tsx --expose-gc bench/restarts.ts [--starts 50] [--quick] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startPodServer } from '../src/pod/server.ts';
import { freePort } from '../test/support/pods.ts';
import { arg, figure, note, quick, report } from './lib.ts';

const starts = Number(arg('--starts') ?? (quick ? 12 : 50));
const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = (): number => {
  gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-bench-restarts-'));
const port = await freePort();
const startMs: number[] = [];
const heap: number[] = [];
try {
  for (let i = 1; i <= starts; i++) {
    const begin = performance.now();
    const server = await startPodServer({ port, storage: 'file', dataDir, seedAccounts: [{ email: 'bench@example.org', password: 'bench-pass-1', podName: 'bench' }] });
    startMs.push(performance.now() - begin);
    const status = (await fetch(`http://localhost:${port}/bench/profile/card`)).status;
    if (status !== 200) throw new Error(`start ${i}: the pod's profile answered ${status}`);
    await server.stop();
    heap.push(heapMb());
    if (i % 10 === 0 || i === starts) note(`start ${i}: ${Math.round(startMs.at(-1)!)} ms, heap ${heap.at(-1)!.toFixed(1)} MB`);
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
if (!gc) note('(run with --expose-gc, as `npm run bench` does, for heap figures after a full GC)');
const early = median(startMs.slice(1, 6));
const late = median(startMs.slice(-5));
report(`a pod server started ${starts} times in one process`, [
  figure(`start, last 5 of ${starts} (median)`, late, 'ms', { name: 'starts 2–6', value: early }),
  figure(`heap after ${starts} starts and stops`, heap.at(-1)!, 'MB', { name: 'after the first', value: heap[0]! }),
  figure('heap kept per start', (heap.at(-1)! - heap[0]!) / (starts - 1), 'MB', null),
]);
