/**
 * `npm run bench`: every bench, one after the other, each in its own process (so one's heap and pod servers do
 * not weigh on the next). Flags are passed through: `npm run bench -- --quick` (smaller sizes, fewer rounds) and
 * `--json` (one JSON object per figure on stdout); `--smoke` (below) is what .ci/run uses. No timing is asserted
 * anywhere.
 *
 *   bench/fold.ts         fold vs Automerge, 1k / 10k / 100k ops, peak heap, growth
 *   bench/ingest.ts       judging fetched ops (parse, strict read, hash) per CPU-second, vs n3's parse alone
 *   bench/sync.ts         cold and incremental sync on real pods vs plain GETs, writes and batches
 *   bench/propagation.ts  write-to-viewer latency, notifications vs polling
 *   bench/cli-start.ts    wall time of one fedinvoice command (--help, warm show, warm write) vs node -e 0
 *   bench/servers.ts      the viewer on a server without notifications or ETags vs polling only
 *   bench/export.ts       UBL e-invoice export and its validation (CEN, Peppol, XSD), 10 and 1,000 lines
 *   bench/list.ts         a warm list of 1,000 invoices with 20 counterparties, 10 changed: change feeds vs one sync each
 *   bench/restarts.ts     a pod server started 50 times in one process: each start's time and the heap kept
 *
 * `--only fold,sync` runs a subset. A bench file that is missing, or a name --only does not know, is an error.
 * `npm run soak` (bench/soak.ts) is not among them: it runs for as long as it is told, not in CI.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { arg, machine, note } from './lib.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const smoke = process.argv.includes('--smoke');
const passThrough = process.argv.slice(2).filter((a, i, all) => a !== '--smoke' && a !== '--only' && all[i - 1] !== '--only');
/**
 * `--smoke` (what .ci/run uses): every bench in quick mode at its smallest useful size, so that none can rot; its
 * figures are too small to quote (quote a --quick or full run).
 */
const SMOKE_ARGS: Record<string, string[]> = {
  ingest: ['--n', '100'],
  sync: ['--ops', '30'],
  propagation: ['--n', '2'],
  'cli-start': ['--rounds', '1'],
  servers: ['--seconds', '1'],
  list: ['--invoices', '20', '--customers', '2', '--changed', '1'],
  restarts: ['--starts', '4'],
};
const argsFor = (name: string): string[] => (smoke ? ['--quick', ...(SMOKE_ARGS[name] ?? []), ...passThrough] : passThrough);
const only = arg('--only')?.split(',');
const ALL = ['fold', 'ingest', 'sync', 'propagation', 'cli-start', 'servers', 'export', 'list', 'restarts'];
const unknown = only?.filter((name) => !ALL.includes(name)) ?? [];
if (unknown.length) {
  note(`--only names no bench called ${unknown.join(', ')}: the benches are ${ALL.join(', ')}`);
  process.exit(1);
}
const benches = ALL.filter((name) => !only || only.includes(name));

note(`fedinvoice benches — ${machine()}`);
let failed = 0;
const timings: string[] = [];
for (const name of benches) {
  const file = `${here}${name}.ts`;
  if (!existsSync(file)) {
    // A bench that is gone must not pass as "nothing to report": CI would keep going without its figures.
    note(`bench/${name}.ts is missing: restore it, or take it out of bench/run.ts's list`);
    failed++;
    continue;
  }
  note(`\n# bench/${name}.ts ${argsFor(name).join(' ')}`);
  const started = performance.now();
  const code = await new Promise<number>((resolve) => {
    // --expose-gc: benches that report memory measure it after a full collection.
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...argsFor(name)], { stdio: 'inherit' });
    child.on('exit', (status) => resolve(status ?? 1));
  });
  timings.push(`${name} ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (code !== 0) {
    failed++;
    note(`bench/${name}.ts exited with ${code}`);
  }
}
// What each bench cost in wall time, so the CI budget can be kept (.ci/run runs them after the tests).
note(`\nwall time per bench: ${timings.join(', ')}`);
note(`\n${machine()}`);
process.exit(failed ? 1 : 0);
