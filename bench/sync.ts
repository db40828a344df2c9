/**
 * Sync and writes against two real in-memory Community Solid Servers started in this process (as in the tests):
 *
 *   cold sync     a new device syncing an invoice of ~1,000 ops (about half in each pod): wall time and requests,
 *                 without packing (one GET per op) and with a checkpoint per party. Baseline, same run: plain
 *                 authenticated GETs of every op resource at the best of several concurrencies: the floor of
 *                 one-resource-per-op. Goals: ≤ 1.2× the floor without packing, ≥ 5× faster with packing.
 *   incremental   requests when nothing is new (goal: one per pod, answered 304) and when k ops are new
 *                 (goal: O(k), no known op fetched again). Baseline: a cold sync's requests.
 *   writes        ops per second one device posts through Replica.write (fold check, durable outbox, PUT), and a
 *                 batch of 200 ops through Replica.writeBatch (one request). Baseline: raw PUTs of ready Turtle.
 *
 *   npx tsx bench/sync.ts [--quick] [--json] [--ops 1000]
 *
 * The servers share this process's 2 cores with the crawler: every figure includes the server's CPU cost.
 */
import { performance } from 'node:perf_hooks';
import { asInvoiceId } from '../src/model/ids.ts';
import type { AnyOp } from '../src/model/ops.ts';
import { getResource, putImmutable } from '../src/pod/resources.ts';
import { opToTurtle } from '../src/rdf/codec.ts';
import type { Replica } from '../src/sync/replica.ts';
import { joinedReplica, opsIn, putPack, putSingles, seedNegotiation } from '../test/sync/seed-pods.ts';
import { startTestPods } from '../test/support/pods.ts';
import { arg, computed, figure, note, quick, report, type Figure } from './lib.ts';

const total = Number(arg('--ops') ?? (quick ? 100 : 1000));
const rounds = quick ? 1 : 2;

note(`starting two in-memory pod servers…`);
const pods = await startTestPods();
const figures: Figure[] = [];
try {
  const seeded = await seedNegotiation(pods, asInvoiceId('BENCH-SYNC'), total, 2026);
  const buyerOps = opsIn(seeded, seeded.buyerContainer);
  const sellerOps = opsIn(seeded, seeded.sellerContainer);
  note(`${seeded.ops.length} ops: ${buyerOps.length} in the buyer's pod, ${sellerOps.length} in the seller's`);

  // Seeding doubles as the write-throughput baseline at concurrency 8.
  let start = performance.now();
  await Promise.all([
    putSingles(pods.buyer.devices.desktop.fetch, seeded.buyerContainer, buyerOps, 4),
    putSingles(pods.seller.devices.desktop.fetch, seeded.sellerContainer, sellerOps, 4),
  ]);
  const seedRate = (seeded.ops.length / (performance.now() - start)) * 1000;

  // ---- the floor: plain GETs of every op resource ----
  const reader = pods.seller.devices.mobile.fetch;
  const urls = seeded.ops.map((s) => `${s.container}${s.op.id}`);
  const getAll = async (concurrency: number) => {
    let next = 0;
    const worker = async () => {
      while (next < urls.length) await getResource(reader, urls[next++]!, { maxBytes: 1 << 20 });
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return performance.now() - t;
  };
  await getAll(8); // warm-up: token, caches, JIT
  let floor = { ms: Infinity, concurrency: 0 };
  for (const concurrency of quick ? [8, 16] : [4, 8, 16, 32]) {
    for (let r = 0; r < rounds; r++) {
      const ms = await getAll(concurrency);
      note(`  floor: ${urls.length} GETs at concurrency ${concurrency}: ${ms.toFixed(0)} ms`);
      if (ms < floor.ms) floor = { ms, concurrency };
    }
  }
  const floorBaseline = { name: `${urls.length} plain GETs, best concurrency (${floor.concurrency})`, value: floor.ms };

  const coldSync = async (useCheckpoints: boolean): Promise<{ ms: number; requests: number; replica: Replica }> => {
    let bestRun: { ms: number; requests: number; replica: Replica } | undefined;
    for (let r = 0; r < rounds; r++) {
      const replica = await joinedReplica(pods.seller, 'seller', 'mobile', seeded, { useCheckpoints });
      const t = performance.now();
      const result = await replica.sync(seeded.invoiceId);
      const ms = performance.now() - t;
      if (result.newOps !== seeded.ops.length) throw new Error(`cold sync read ${result.newOps} ops, expected ${seeded.ops.length}`);
      note(`  cold sync ${useCheckpoints ? 'with' : 'without'} checkpoints: ${ms.toFixed(0)} ms, ${result.requests} requests, status "${result.invoice.status}"`);
      if (!bestRun || ms < bestRun.ms) bestRun = { ms, requests: result.requests, replica };
    }
    return bestRun!;
  };

  await (await joinedReplica(pods.seller, 'seller', 'mobile', seeded, { useCheckpoints: false })).sync(seeded.invoiceId); // warm-up, like the floor's
  const plain = await coldSync(false);
  figures.push(figure(`cold sync, ${seeded.ops.length} ops, no packing`, plain.ms, 'ms', floorBaseline, { text: '≤ 1.2× the floor', met: plain.ms <= 1.2 * floor.ms }));
  figures.push(figure('cold sync, no packing: requests', plain.requests, 'requests', computed('one GET per op', urls.length)));

  // A device of each party writes a checkpoint of its single ops (what Replica does every `checkpointEvery` ops).
  start = performance.now();
  const [buyerCheckpoint, sellerCheckpoint] = await Promise.all([
    putPack(pods.buyer.devices.desktop.fetch, seeded.buyerContainer, 'checkpoint', buyerOps),
    putPack(pods.seller.devices.desktop.fetch, seeded.sellerContainer, 'checkpoint', sellerOps),
  ]);
  const checkpointMs = performance.now() - start;
  note(`  checkpoints written in ${checkpointMs.toFixed(0)} ms: ${buyerCheckpoint.split('/').at(-1)!.slice(0, 24)}…, ${sellerCheckpoint.split('/').at(-1)!.slice(0, 24)}…`);

  const packed = await coldSync(true);
  figures.push(figure(`cold sync, ${seeded.ops.length} ops, with checkpoints`, packed.ms, 'ms', floorBaseline, { text: '≥ 5× faster than the floor', met: floor.ms / packed.ms >= 5 }));
  figures.push(figure('cold sync with checkpoints: requests', packed.requests, 'requests', computed('one GET per op', urls.length)));

  // ---- incremental ----
  const device = packed.replica;
  const idle = await device.sync(seeded.invoiceId);
  const outcomes = idle.containers.map((c) => c.outcome).join(', ');
  figures.push(figure(`incremental, nothing new: requests (${outcomes})`, idle.requests, 'requests', { name: 'cold sync, no packing', value: plain.requests }, { text: 'one per pod, 304', met: idle.requests === 2 && idle.containers.every((c) => c.outcome === 'unchanged') }));

  const writer = await joinedReplica(pods.buyer, 'buyer', 'desktop', seeded);
  await writer.sync(seeded.invoiceId);
  for (const k of quick ? [1, 5] : [1, 10, 50]) {
    for (let i = 0; i < k; i++) await writer.write(seeded.invoiceId, 'Comment', { text: `incremental ${k}/${i}` });
    const next = await device.sync(seeded.invoiceId);
    const expected = 2 + k;
    figures.push(figure(`incremental, ${k} new op${k > 1 ? 's' : ''}: requests`, next.requests, 'requests', { name: 'cold sync, no packing', value: plain.requests }, { text: `2 listings + ${k} GETs, no known op fetched`, met: next.requests === expected && next.newOps === k }));
  }

  // ---- writes ----
  const n = quick ? 10 : 50;
  start = performance.now();
  for (let i = 0; i < n; i++) await writer.write(seeded.invoiceId, 'Comment', { text: `write bench ${i}` });
  const writeRate = (n / (performance.now() - start)) * 1000;
  const raw = buyerOps.slice(0, n).map((op) => ({ ...op, device: 'raw-bench' }) as AnyOp);
  start = performance.now();
  const rawContainer = `${pods.buyer.podRoot}bench-raw/${Date.now()}/`;
  for (const op of raw) await putImmutable(pods.buyer.devices.desktop.fetch, `${rawContainer}${op.id}`, opToTurtle(op));
  const rawRate = (n / (performance.now() - start)) * 1000;
  figures.push(figure(`writes: Replica.write, one after another (${n} ops)`, writeRate, 'ops/s', { name: 'raw PUT of ready Turtle, one after another', value: rawRate }));
  figures.push(figure('writes: raw PUTs at concurrency 8 (the seeding)', seedRate, 'ops/s', { name: 'raw PUT, one after another', value: rawRate }));

  await device.sync(seeded.invoiceId);
  const batchSize = 200;
  const before = writer.requests;
  start = performance.now();
  const batch = await writer.writeBatch(
    seeded.invoiceId,
    Array.from({ length: batchSize }, (_, i) => ({ type: 'Comment' as const, payload: { text: `imported order line ${i}` } })),
  );
  const batchMs = performance.now() - start;
  if (batch.outbox.pushed !== batchSize) throw new Error(`batch: ${batch.outbox.error}`);
  figures.push(figure(`writes: a batch of ${batchSize} ops (Replica.writeBatch)`, (batchSize / batchMs) * 1000, 'ops/s', { name: 'Replica.write one by one', value: writeRate }));
  figures.push(figure(`writes: requests for a batch of ${batchSize} ops`, writer.requests - before, 'requests', computed('one PUT per op', batchSize), { text: 'one request', met: writer.requests - before === 1 }));
  const readBack = await device.sync(seeded.invoiceId);
  figures.push(figure(`incremental, a ${batchSize}-op batch: requests`, readBack.requests, 'requests', computed('2 listings + one GET per op', batchSize + 2), { text: '2 listings + 1 pack', met: readBack.requests === 3 && readBack.newOps === batchSize }));
} finally {
  await pods.stop();
}
report('Sync and writes (two in-memory CSS 7.2 in this process)', figures);
