/**
 * Ingest throughput: how many op resources per second one device can take in (Turtle parse + structure
 * checks + SHACL validation + op rebuild + SHA-256 id), compared with parsing the Turtle alone.
 *
 *   npx tsx bench/ingest.ts            # 2000 ops
 *   npx tsx bench/ingest.ts --quick    # 200 ops
 *   npx tsx bench/ingest.ts --n 10000 --seed 1
 *   npx tsx bench/ingest.ts --workers 0   # skip the worker-thread row (default: one worker per core)
 *   npx tsx bench/ingest.ts --json        # one JSON object per figure
 *
 * Rows: single op resources (what the crawler does per single member), one pack holding all the ops (what it
 * does per pack or checkpoint: one parse, one SHACL pass per op type), and singles spread over worker threads.
 *
 * Not a test: timings depend on the machine. The project's goal is ≥ 5000 ops/s on a 2-core machine.
 */
import fc from 'fast-check';
import { Parser } from 'n3';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { asContainerUrl } from '../src/model/ids.ts';
import { opToTurtle } from '../src/rdf/codec.ts';
import { parseOpTurtle, parseOpTurtles } from '../src/rdf/op-resource.ts';
import { packResource, readPack } from '../src/sync/packs.ts';
import { loadOpValidator } from '../src/sync/shapes.ts';
import { arbitraryOp } from '../test/support/op-arbitraries.ts';
import { arg, best, figure, machine, note, quick, report, type Figure } from './lib.ts';

interface Doc {
  readonly id: string;
  readonly url: string;
  readonly turtle: string;
}

async function ingestAll(docs: readonly Doc[], validator: Awaited<ReturnType<typeof loadOpValidator>>): Promise<void> {
  for (const d of docs) {
    const result = await parseOpTurtle(d.turtle, d.url, validator);
    if (!result.ok) throw new Error(`op ${d.id} was refused: ${result.reason}`);
    if (result.op.id !== d.id) throw new Error(`op ${d.id} came back as ${result.op.id}`);
  }
}

if (!isMainThread) {
  // Worker: receive a share of the docs, warm up, then ingest it on every 'go'.
  const port = parentPort as NonNullable<typeof parentPort>;
  const validator = await loadOpValidator();
  let docs: Doc[] = [];
  port.on('message', (message: { docs?: Doc[]; go?: true }) => {
    void (async () => {
      if (message.docs) {
        docs = message.docs;
        await ingestAll(docs, validator);
        port.postMessage('ready');
      } else if (message.go) {
        await ingestAll(docs, validator);
        port.postMessage('done');
      }
    })();
  });
} else {
  await main();
}

async function main(): Promise<void> {
const n = Number(arg('--n') ?? (quick ? 200 : 2000));
const seed = Number(arg('--seed') ?? 20240601);
const BASE = 'https://seller.example/invoices/inv-1/ops/';

const ops = fc.sample(arbitraryOp(), { numRuns: n, seed });
const docs: Doc[] = ops.map((op) => ({ id: op.id, url: `${BASE}${op.id}`, turtle: opToTurtle(op) }));
const bytes = docs.reduce((sum, d) => sum + Buffer.byteLength(d.turtle), 0);
const validator = await loadOpValidator();
const pack = packResource('pack', ops);

function parseOnly(): void {
  for (const d of docs) new Parser({ baseIRI: d.url, format: 'text/turtle' }).parse(d.turtle);
}
const ingest = (): Promise<void> => ingestAll(docs, validator);
// What the crawler does with single op resources: judge them 64 at a time (one SHACL pass per op type per chunk).
const ingestBatched = async (): Promise<void> => {
  for (let i = 0; i < docs.length; i += 64) {
    const chunk = docs.slice(i, i + 64);
    const results = await parseOpTurtles(chunk.map((d) => ({ turtle: d.turtle, baseIri: d.url })), validator);
    results.forEach((result, k) => {
      if (!result.ok || result.op.id !== chunk[k]!.id) throw new Error(`op ${chunk[k]!.id} was refused or renamed`);
    });
  }
};
const ingestPack = async (): Promise<void> => {
  const read = await readPack(pack.turtle, asContainerUrl(BASE), pack.name, { maxOps: n });
  if (read.refused.length || read.ops.length !== pack.count) throw new Error(`pack refused: ${read.refused[0]?.reason}`);
};

const rounds = quick ? 3 : 5;
note(`${n} generated ops (seed ${seed}), ${(bytes / n).toFixed(0)} bytes of Turtle each on average; best of ${rounds} rounds; ${machine()}`);
const parse = await best(parseOnly, rounds);
const full = await best(ingest, rounds);
const batched = await best(ingestBatched, rounds);
const packed = await best(ingestPack, rounds);
const perSecond = (ms: number): number => (n / ms) * 1000;

// The same work split over worker threads (one per core by default): what a crawler could do on this machine.
const workerCount = Number(arg('--workers') ?? availableParallelism());
let parallel: number | undefined;
if (workerCount > 1) {
  const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const workers = Array.from({ length: workerCount }, () => new Worker(code, { eval: true }));
  const reply = (w: Worker): Promise<void> =>
    new Promise((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
  await Promise.all(workers.map((w, i) => {
    const r = reply(w);
    w.postMessage({ docs: docs.filter((_, j) => j % workerCount === i) });
    return r;
  }));
  let bestMs = Infinity;
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await Promise.all(workers.map((w) => {
      const r = reply(w);
      w.postMessage({ go: true });
      return r;
    }));
    bestMs = Math.min(bestMs, performance.now() - start);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  parallel = perSecond(bestMs);
}
const baseline = { name: 'n3 parse only', value: perSecond(parse.wallMs) };
const baselineCpu = { name: 'n3 parse only, per CPU-second', value: perSecond(parse.cpuMs) };
const goal = (rate: number) => ({ text: '≥ 5000 ops/s', met: rate >= 5000 });
const figures: Figure[] = [
  figure('ingest single op resources, 1 thread (wall)', perSecond(full.wallMs), 'ops/s', baseline, goal(perSecond(full.wallMs))),
  figure('ingest single op resources, per CPU-second', perSecond(full.cpuMs), 'ops/s', baselineCpu, goal(perSecond(full.cpuMs))),
  figure('ingest single op resources, 64 per SHACL pass as the crawler does, 1 thread (wall)', perSecond(batched.wallMs), 'ops/s', baseline, goal(perSecond(batched.wallMs))),
  figure('ingest single op resources, 64 per SHACL pass, per CPU-second', perSecond(batched.cpuMs), 'ops/s', baselineCpu, goal(perSecond(batched.cpuMs))),
  figure(`ingest one pack of ${n} ops, 1 thread (wall)`, perSecond(packed.wallMs), 'ops/s', baseline, goal(perSecond(packed.wallMs))),
  figure(`ingest one pack of ${n} ops, per CPU-second`, perSecond(packed.cpuMs), 'ops/s', baselineCpu, goal(perSecond(packed.cpuMs))),
];
if (parallel !== undefined) figures.push(figure(`ingest single op resources on ${workerCount} worker threads (wall)`, parallel, 'ops/s', baseline, goal(parallel)));
report('Ingest (Turtle parse + SHACL + rebuild + SHA-256 check)', figures);
if (loadavg()[0]! > availableParallelism() * 0.75) note('The machine is busy: wall-clock figures are pessimistic; the per-CPU-second figures are what the work costs.');
}
