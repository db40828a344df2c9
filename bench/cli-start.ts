/**
 * How long one `fedinvoice` command takes, as a person runs it: the whole process, from exec to exit, against the
 * file-backed local pods of `npm start` (started in this process, on free ports, in a temporary data folder).
 *
 *   node -e 0           the floor: starting Node and exiting, measured in the same rounds
 *   --help              start-up alone (parse, print, exit; no device code is loaded)
 *   show (warm)         the kept access token, the change feed on each participant's pod (one conditional request
 *                       each, in parallel: nothing changed, so no crawl), fold, print
 *   comment (warm)      a write: the same check, then one op PUT to the device's own pod, then its feed entries
 *   show, from source   the same show through tsx (what bin/fedinvoice falls back to without a fresh build)
 *   comment, history    the warm write again once the seller's own change feed holds --history entries (default
 *                       1,000; --quick 100) dated over the 30 days before, as weeks of a business's writes leave it:
 *                       a read lists only the days since the last one (docs/many-invoices.md), so it should cost
 *                       what the same write cost before (ratio ~1)
 *
 * Each figure is the median wall time of its runs, interleaved round by round with the floor's so that a busy
 * machine weighs on all of them alike. A warm-up round comes first: its show writes the bundle's code cache
 * (bin/run-bundle.mjs), as a person's first command after `npm ci` does. Goal: a warm show or write under 350 ms.
 *
 *   npx tsx bench/cli-start.ts [--quick] [--json] [--rounds 9] [--history 1000]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { asWebId } from '../src/model/ids.ts';
import { startLocalPods } from '../src/pod/local-pods.ts';
import { profilePath, readDeviceProfile } from '../src/pod/profile.ts';
import { loginProfile } from '../src/pod/profile-session.ts';
import { announce } from '../src/sync/change-feed.ts';
import { FileDeviceStore } from '../src/sync/file-store.ts';
import { freePort } from '../test/support/pods.ts';
import { arg, figure, note, quick, report, type Figure } from './lib.ts';

const GOAL_MS = 350;
const rounds = Number(arg('--rounds') ?? (quick ? 3 : 9));
const historyEntries = Number(arg('--history') ?? (quick ? 100 : 1000));
const HISTORY_DAYS = 30;
const root = fileURLToPath(new URL('../', import.meta.url));
const bin = join(root, 'bin', 'fedinvoice');

/** Runs one process to its exit; its wall time in ms. A failing command fails the bench: a fast error proves nothing. */
function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

note('building the CLI (bin/build-cli.mjs, as npm ci does)…');
await run([join(root, 'bin', 'build-cli.mjs')], process.env);
const dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-bench-cli-'));
note('starting the local pods (file-backed, as npm start)…');
const pods = await startLocalPods({ dataDir, buyerPort: await freePort(), sellerPort: await freePort() });
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FEDINVOICE_'))), FEDINVOICE_DATA: dataDir };
const cli = (...args: string[]) => [bin, ...args];
const figures: Figure[] = [];
try {
  const invoice = 'BENCH-CLI';
  await run(cli('create', invoice, '--profile', 'buyer-desktop', '--with', 'seller-desktop', '--name', 'Michiel', '--counterparty-name', 'George'), env);
  await run(cli('join', invoice, '--profile', 'seller-desktop', '--with', 'buyer-desktop'), env);
  await run(cli('add-to-cart', invoice, 'beans', '520', '--profile', 'buyer-desktop'), env);
  await run(cli('quote-item', invoice, 'beans', '0.05', '--tax', '21', '--profile', 'seller-desktop'), env);

  const commands = {
    'node -e 0': ['-e', '0'],
    'fedinvoice --help': cli('--help'),
    'fedinvoice show (warm)': cli('show', invoice, '--profile', 'seller-desktop'),
    'fedinvoice comment (warm write)': cli('comment', invoice, 'benchmarked', '--profile', 'seller-desktop'),
    'fedinvoice show, from source (tsx)': ['--import', 'tsx', join(root, 'src', 'cli', 'entry.ts'), 'show', invoice, '--profile', 'seller-desktop'],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (const args of Object.values(commands)) await run(args, env); // warm-up: disk caches, the devices' stores
  for (let round = 1; round <= rounds; round++) {
    for (const [name, args] of Object.entries(commands)) times[name]!.push(await run(args, env));
    note(`round ${round}/${rounds}: ${Object.entries(times).map(([name, ms]) => `${name} ${Math.round(ms.at(-1)!)} ms`).join(', ')}`);
  }

  note(`putting ${historyEntries} entries in the seller's own change feed…`);
  await padOwnFeed(dataDir, 'seller-desktop', historyEntries);
  const withHistory: number[] = [];
  await run(commands['fedinvoice comment (warm write)'], env); // reads the new entries once (a sync), as a device would
  for (let round = 1; round <= rounds; round++) withHistory.push(await run(commands['fedinvoice comment (warm write)'], env));
  note(`with history: ${withHistory.map(Math.round).join(', ')} ms`);

  const ms = (name: keyof typeof commands) => median(times[name]!);
  const floor = { name: 'node -e 0', value: ms('node -e 0') };
  const goal = (value: number) => ({ text: `< ${GOAL_MS} ms`, met: value < GOAL_MS });
  figures.push(
    figure('node -e 0 (median)', floor.value, 'ms', null),
    figure('fedinvoice --help (median)', ms('fedinvoice --help'), 'ms', floor),
    figure('fedinvoice show, warm (median)', ms('fedinvoice show (warm)'), 'ms', floor, goal(ms('fedinvoice show (warm)'))),
    figure('fedinvoice comment, warm write (median)', ms('fedinvoice comment (warm write)'), 'ms', floor, goal(ms('fedinvoice comment (warm write)'))),
    figure('fedinvoice show, built vs from source (median)', ms('fedinvoice show (warm)'), 'ms', { name: 'show through tsx', value: ms('fedinvoice show, from source (tsx)') }),
    figure(`fedinvoice comment, own feed with ${historyEntries} entries of the ${HISTORY_DAYS} days before (median)`, median(withHistory), 'ms', { name: 'the same write before', value: ms('fedinvoice comment (warm write)') }),
  );
} finally {
  await pods.stop();
  await rm(dataDir, { recursive: true, force: true });
}
report(`fedinvoice command start-up (${rounds} rounds, median wall time per process)`, figures);

/**
 * Puts `count` entries in the business's own change feed, each naming an op already in one of its invoices (announced
 * again, as a retried push names it), so that readers find every one handled: history, not news.
 */
async function padOwnFeed(dataDir: string, profileName: string, count: number): Promise<void> {
  const path = profilePath(dataDir, profileName);
  const profile = await readDeviceProfile(path);
  const session = await loginProfile(profile, path);
  try {
    const store = new FileDeviceStore(join(dataDir, 'devices', profileName));
    const [ref] = await store.listInvoices();
    const [sourced] = (await store.loadOps(ref!.invoiceId)).filter((op) => op.container === ref!.ownContainer);
    const webId = asWebId(profile.webId);
    const resource = `${ref!.ownContainer}${sourced!.op.id}`;
    const entries = Array.from({ length: count }, (_, i) => i);
    const worker = async () => {
      // Dated over the days before today, as a feed's history is (the pods are local: this machine's clock is theirs).
      for (let i = entries.shift(); i !== undefined; i = entries.shift()) {
        const datedAt = Date.now() - (1 + (i % HISTORY_DAYS)) * 24 * 60 * 60_000;
        await announce(session.fetch, profile.podRoot, ref!.invoiceId, resource, [webId], { datedAt, againAt: i + 1 });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    await session.logout();
  }
}
