/**
 * Kill stress: the buyer's and the seller's pods run as file-backed Community Solid Servers in child processes, and
 * are killed with SIGKILL (no flush, no close) in the middle of PUTs and in the middle of crawls, then started again
 * on the same data. After each recovery every device syncs and the script checks:
 *   - lost:        an op some device accepted that is not readable from its pod (missing, or refused by the crawler)
 *   - duplicates:  a container listing a member twice, or a log holding one op twice
 *   - divergence:  devices folding different invoices, or outboxes not empty, after recovery
 *
 *   npx tsx bench/stress-kill.ts [kills=100] [seed=1]
 *
 * Not run in CI (each kill costs a cold start of ~5 s). Prints one line per kill and the totals.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FedinvoiceError } from '../src/model/errors.ts';
import { asInvoiceId, type OpId } from '../src/model/ids.ts';
import { listContainer } from '../src/pod/resources.ts';
import { Replica } from '../src/sync/replica.ts';
import { MemoryDeviceStore } from '../src/sync/store.ts';
import { childPod, type ChildPod } from '../test/support/child-pod.ts';
import { seeded } from '../test/support/faulty-fetch.ts';
import { freePort, loginNewDevice } from '../test/support/pods.ts';

const KILLS = Number(process.argv[2] ?? 100);
const random = seeded(Number(process.argv[3] ?? 1));
type Side = 'buyer' | 'seller';

interface Device {
  side: Side;
  label: string;
  replica: Replica;
  store: MemoryDeviceStore;
  cleanFetch: typeof fetch;
  /** Called when this device starts a request of the given kind. */
  onRequest?: (method: string, url: string) => void;
  inFlight: Set<string>;
}

const dirs: string[] = [];
type Account = { email: string; password: string; podName: string };
const pods = {} as Record<Side, ChildPod & { podRoot: string; webId: string; account: Account }>;
const devices: Device[] = [];
let invoiceId = asInvoiceId('STRESS-KILL');
const accepted = new Map<OpId, Side>();
const reportedRefusals = new Set<string>();
const figures = {
  kills: 0,
  midPut: 0,
  midCrawl: 0,
  putsInFlightAtKill: 0,
  getsInFlightAtKill: 0,
  written: 0,
  refusedLocally: 0,
  lost: 0,
  duplicates: 0,
  divergent: 0,
  stuckOutbox: 0,
  refusedOnPod: 0,
  restartMs: [] as number[],
  recoveryMs: [] as number[],
};

async function main(): Promise<void> {
  for (const side of ['buyer', 'seller'] as const) {
    const dataDir = await mkdtemp(join(tmpdir(), `fedinvoice-kill-${side}-`));
    dirs.push(dataDir);
    const port = await freePort();
    const account = { email: `${side}@example.test`, password: 'stress-password', podName: side };
    const pod = childPod({ port, dataDir, seed: account });
    const ms = await pod.start();
    console.log(`${side} pod started in ${ms} ms on port ${port}`);
    pods[side] = Object.assign(pod, { podRoot: `${pod.baseUrl}${side}/`, webId: `${pod.baseUrl}${side}/profile/card#me`, account });
  }
  for (const side of ['buyer', 'seller'] as const) {
    for (const label of ['desktop', 'mobile']) {
      const pod = pods[side];
      const session = await loginNewDevice({ baseUrl: pod.baseUrl, address: { address: '127.0.0.1', port: pod.port }, stop: async () => undefined }, pod.account, `${side}-${label}`);
      const store = new MemoryDeviceStore();
      const device: Device = { side, label, store, cleanFetch: session.fetch, inFlight: new Set(), replica: undefined as never };
      const watched = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
        const url = String(input instanceof Request ? input.url : input);
        const method = init?.method ?? 'GET';
        const key = `${method} ${url} ${Math.random()}`;
        device.inFlight.add(key);
        device.onRequest?.(method, url);
        try {
          return await session.fetch(input, init);
        } finally {
          device.inFlight.delete(key);
        }
      }) as typeof fetch;
      const identity = { webId: pod.webId as never, podRoot: pod.podRoot, device: label };
      device.replica = new Replica({ store, fetch: watched, identity });
      devices.push(device);
    }
  }
  const [bd] = devices;
  invoiceId = (await bd!.replica.createInvoice(invoiceId, {
    currency: 'EUR',
    counterparty: { webId: pods.seller.webId as never, podRoot: pods.seller.podRoot },
    ownInfo: { name: 'Michiel' },
    counterpartyInfo: { name: 'George' },
  })).op.invoiceId;
  for (const device of devices.slice(1)) await device.replica.joinInvoice(invoiceId, bd!.replica.ownContainer(invoiceId));
  for (const s of await bd!.store.loadOps(invoiceId)) accepted.set(s.op.id, 'buyer');

  const started = Date.now();
  for (let i = 0; i < KILLS; i++) {
    const target: Side = i % 4 < 2 ? 'buyer' : 'seller';
    const mode = i % 2 === 0 ? 'put' : 'crawl';
    await killOnce(i, target, mode);
  }
  const total = (Date.now() - started) / 1000;
  const avg = (list: number[]) => Math.round(list.reduce((a, b) => a + b, 0) / Math.max(1, list.length));
  console.log('\n=== stress-kill figures ===');
  console.log(`kills: ${figures.kills} (${figures.midPut} during writes, ${figures.midCrawl} during crawls) in ${total.toFixed(0)} s`);
  console.log(`requests in flight at the kill: ${figures.putsInFlightAtKill} PUTs, ${figures.getsInFlightAtKill} GETs`);
  console.log(`ops accepted locally: ${accepted.size} (written during the run: ${figures.written}; refused locally: ${figures.refusedLocally})`);
  console.log(`ops lost: ${figures.lost}`);
  console.log(`duplicates: ${figures.duplicates}`);
  console.log(`members a device could not read as ops (torn by a kill?): ${figures.refusedOnPod}`);
  console.log(`recoveries that did not converge: ${figures.divergent}; outboxes left non-empty: ${figures.stuckOutbox}`);
  console.log(`restart: avg ${avg(figures.restartMs)} ms; recovery sync (all 4 devices, 2 rounds): avg ${avg(figures.recoveryMs)} ms`);
}

async function killOnce(i: number, target: Side, mode: 'put' | 'crawl'): Promise<void> {
  const pod = pods[target];
  const delay = Math.floor(random() * 12);
  let armed = true;
  let killing: Promise<void> | undefined;
  const arm = (device: Device, predicate: (method: string, url: string) => boolean) => {
    device.onRequest = (method, url) => {
      if (!armed || !predicate(method, url)) return;
      armed = false;
      killing = (async () => {
        await new Promise((r) => setTimeout(r, delay));
        const inFlight = devices.flatMap((d) => [...d.inFlight]).filter((key) => key.includes(pod.baseUrl));
        figures.putsInFlightAtKill += inFlight.filter((key) => key.startsWith('PUT ')).length;
        figures.getsInFlightAtKill += inFlight.filter((key) => key.startsWith('GET ')).length;
        await pod.kill();
      })();
    };
  };
  const own = devices.filter((d) => d.side === target);
  const others = devices.filter((d) => d.side !== target);
  const work: Array<Promise<unknown>> = [];
  if (mode === 'put') {
    figures.midPut++;
    for (const device of own) arm(device, (method, url) => method === 'PUT' && url.includes('/ops/'));
    for (const device of own) work.push(writeSome(device, 4, i));
  } else {
    figures.midCrawl++;
    // New ops first, so the crawl has members to fetch; then the other side crawls and the pod dies under it.
    for (const device of own) await writeSome(device, 2, i);
    for (const device of others) arm(device, (method, url) => method === 'GET' && url.startsWith(pod.podRoot) && !url.endsWith('/'));
    for (const device of others) work.push(device.replica.sync(invoiceId));
  }
  await Promise.allSettled(work);
  if (armed) {
    // Nothing reached the pod (e.g. every member was known): kill it anyway so every round is a kill.
    armed = false;
    killing = pod.kill();
  }
  await killing;
  for (const device of devices) device.onRequest = undefined;
  figures.kills++;
  // While it is down, the devices keep working: their writes queue up.
  for (const device of own) await writeSome(device, 1, i);
  const restart = await pod.start();
  figures.restartMs.push(restart);

  const recovery = Date.now();
  for (let round = 0; round < 2; round++) for (const device of devices) await device.replica.sync(invoiceId);
  figures.recoveryMs.push(Date.now() - recovery);
  const problems = await check();
  console.log(`kill ${String(i + 1).padStart(3)} ${mode.padEnd(5)} ${target.padEnd(6)} +${delay}ms  restart ${restart} ms  ops ${accepted.size}  ${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'ok'}`);
}

const PRODUCTS = ['beans', 'pencils', 'paper', 'ink'];
async function writeSome(device: Device, n: number, i: number): Promise<void> {
  for (let k = 0; k < n; k++) {
    try {
      const product = PRODUCTS[(i + k) % PRODUCTS.length]!;
      const result =
        device.side === 'buyer'
          ? await device.replica.write(invoiceId, 'AddToCart', { product, quantity: 1 + k })
          : await device.replica.write(invoiceId, 'QuoteItem', { product, unitPrice: `${1 + ((i + k) % 9)}.5`, taxRate: '21' });
      accepted.set(result.op.id, device.side);
      figures.written++;
    } catch (error) {
      if (!(error instanceof FedinvoiceError)) throw error;
      figures.refusedLocally++;
    }
  }
}

async function check(): Promise<string[]> {
  const problems: string[] = [];
  const views = await Promise.all(devices.map((d) => d.replica.view(invoiceId)));
  const first = JSON.stringify(views[0]);
  if (views.some((v) => JSON.stringify(v) !== first)) {
    figures.divergent++;
    problems.push('devices differ');
  }
  for (const device of devices) {
    const queued = (await device.store.outbox(invoiceId)).length;
    if (queued) {
      figures.stuckOutbox++;
      problems.push(`${device.side}-${device.label} outbox ${queued}`);
    }
  }
  const logged = new Map<string, number>();
  for (const entry of views[0]!.log) logged.set(entry.opId, (logged.get(entry.opId) ?? 0) + 1);
  const doubled = [...logged.values()].filter((n) => n > 1).length;
  for (const side of ['buyer', 'seller'] as const) {
    const owner = devices.find((d) => d.side === side)!;
    const container = owner.replica.ownContainer(invoiceId);
    const listing = await listContainer(owner.cleanFetch, container);
    const members = listing.notModified ? [] : listing.members.map((url) => url.slice(container.length));
    const set = new Set(members);
    const dupes = members.length - set.size;
    const missing = [...accepted].filter(([id, s]) => s === side && (!set.has(id) || !logged.has(id)));
    if (missing.length || dupes) problems.push(`${side}: ${missing.length} lost, ${dupes} listed twice`);
    figures.lost += missing.length;
    figures.duplicates += dupes;
    for (const [id] of missing) accepted.delete(id); // counted once
  }
  // A member some device refused is an op nobody can read: torn by the kill?
  for (const device of devices) {
    const states = await device.replica.containerStates(invoiceId);
    for (const state of Object.values(states)) {
      for (const refused of state.refused) {
        if (reportedRefusals.has(refused.url)) continue;
        reportedRefusals.add(refused.url);
        figures.refusedOnPod++;
        problems.push(`${device.side}-${device.label} refused ${refused.url.slice(-16)}: ${refused.reason}`);
      }
    }
  }
  if (doubled) {
    figures.duplicates += doubled;
    problems.push(`${doubled} op(s) twice in the log`);
  }
  return problems;
}

try {
  await main();
} finally {
  for (const pod of Object.values(pods)) await pod.stop().catch(() => undefined);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  process.exit(process.exitCode ?? 0);
}
