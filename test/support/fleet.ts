/**
 * A fleet for reliability simulations: a buyer pod and a seller pod on two servers, with N devices per party,
 * each behind its own fault-injecting fetch (test/support/faulty-fetch.ts) around its real fetch.
 *
 * Backends: 'css-file' and 'css-memory' are real Community Solid Servers with logged-in devices (DPoP sessions);
 * 'mini' is test/support/mini-pod.ts (real HTTP, no auth), for the thousand-schedule runs.
 * - 'css-file' and 'mini' pods are really stopped and started again (same port, same data): a pod restart.
 *   'css-memory' pods are never stopped (they would lose everything); `down` there is a network partition:
 *   every device's requests to that server fail as refused connections until `up`.
 * - Each schedule runs on a fresh invoice with fresh device stores (`newRound`), so one fleet (one server start,
 *   the expensive part) serves hundreds of schedules.
 *
 * `runSchedule` executes a list of steps, then brings everything back, syncs until quiet and returns what every
 * device ended with; `checkConverged` states the two properties the issue asks for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptanceOf, proposalOf } from '../../src/model/builder.ts';
import { FedinvoiceError } from '../../src/model/errors.ts';
import { invoiceKeyOf } from '../../src/model/invoice-key.ts';
import { isOpId, type ContainerUrl, type InvoiceId, type OpId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { OpType, PayloadByType } from '../../src/model/ops.ts';
import { listContainer } from '../../src/pod/resources.ts';
import { startPodServer, type PodServer, type SeedAccount } from '../../src/pod/server.ts';
import type { DeviceSession } from '../../src/pod/session.ts';
import type { OpValidator } from '../../src/rdf/shacl.ts';
import { Replica } from '../../src/sync/replica.ts';
import { loadOpValidator } from '../../src/sync/shapes.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { emptyStats, faultyFetch, NO_FAULTS, seeded, type FaultPlan, type FaultStats, type FaultyFetch } from './faulty-fetch.ts';
import { startMiniPod } from './mini-pod.ts';
import { freePort, loginNewDevice } from './pods.ts';

export type Side = 'buyer' | 'seller';

export type Backend = 'css-memory' | 'css-file' | 'mini';

export interface FleetPod {
  readonly side: Side;
  readonly baseUrl: string;
  readonly webId: string;
  readonly podRoot: string;
  up: boolean;
  /** Memory CSS pods: a partition instead of a stop. */
  partitioned: boolean;
  /** Really stops / starts the server, keeping its data (file CSS and mini pods). */
  readonly stopServer: () => Promise<void>;
  readonly startServer: () => Promise<void>;
}

export interface FleetDevice {
  readonly index: number;
  readonly side: Side;
  readonly label: string;
  readonly pod: FleetPod;
  /** The device's own fetch without injected faults (for checks). */
  readonly cleanFetch: typeof fetch;
  readonly faults: FaultyFetch;
  store: MemoryDeviceStore;
  replica: Replica;
}

export interface Fleet {
  readonly backend: Backend;
  readonly pods: Record<Side, FleetPod>;
  readonly devices: FleetDevice[];
  readonly stats: FaultStats;
  readonly validator: OpValidator;
  /** Milliseconds spent stopping and starting servers. */
  restartMs: number;
  restarts: number;
  stop(): Promise<void>;
}

const PASSWORD = 'test-password-not-secret';
const LABELS = ['desktop', 'mobile', 'laptop', 'tablet', 'phone', 'office'];

export async function startFleet(options: { backend: Backend; devicesPerParty: number; seed?: number }): Promise<Fleet> {
  const { backend } = options;
  const stats = emptyStats();
  const random = seeded(options.seed ?? 1);
  const made: FleetPod[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  const sessions: DeviceSession[] = [];
  const cssServers: Partial<Record<Side, { server: PodServer | undefined; account: SeedAccount }>> = {};
  const stopAll = async () => {
    await Promise.all(sessions.map((s) => s.logout().catch(() => undefined)));
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    for (const side of ['buyer', 'seller'] as const) {
      if (backend === 'mini') {
        const mini = await startMiniPod();
        cleanups.push(() => mini.stop());
        const baseUrl = mini.baseUrl;
        const pod: FleetPod = {
          side,
          baseUrl,
          webId: `${baseUrl}${side}/profile/card#me`,
          podRoot: `${baseUrl}${side}/`,
          up: true,
          partitioned: false,
          stopServer: () => mini.stop(),
          startServer: () => mini.start(),
        };
        made.push(pod);
        continue;
      }
      const port = await freePort();
      const storage = backend === 'css-file' ? 'file' : 'memory';
      const dataDir = storage === 'file' ? await mkdtemp(join(tmpdir(), `fedinvoice-fleet-${side}-`)) : undefined;
      if (dataDir) cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      const account = { email: `${side}@example.test`, password: PASSWORD, podName: side };
      const slot: { server: PodServer | undefined; account: SeedAccount } = { server: undefined, account };
      cssServers[side] = slot;
      cleanups.push(async () => slot.server?.stop());
      const baseUrl = `http://localhost:${port}/`;
      made.push({
        side,
        baseUrl,
        webId: `${baseUrl}${side}/profile/card#me`,
        podRoot: `${baseUrl}${side}/`,
        up: true,
        partitioned: false,
        stopServer: async () => {
          const server = slot.server;
          slot.server = undefined;
          await server?.stop();
        },
        startServer: async () => {
          slot.server = await startPodServer({ port, storage, dataDir, loggingLevel: 'error' });
        },
      });
      // The first start seeds the account (a restart must not: it would leave an orphan account).
      slot.server = await startPodServer({ port, storage, dataDir, seedAccounts: [account], loggingLevel: 'error' });
    }
    const pods = { buyer: made[0]!, seller: made[1]! };
    const validator = await loadOpValidator();
    const devices: FleetDevice[] = [];
    for (const side of ['buyer', 'seller'] as const) {
      for (let i = 0; i < options.devicesPerParty; i++) {
        const pod = pods[side];
        let base: typeof fetch = fetch;
        const slot = cssServers[side];
        if (slot) {
          // One after the other: CSS loses one of two concurrent credential updates to an account.
          const session = await loginNewDevice(slot.server!, slot.account, `${side}-${LABELS[i]}`);
          sessions.push(session);
          base = session.fetch;
        }
        const partitionAware = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
          const url = String(input instanceof Request ? input.url : input);
          if (made.some((p) => p.partitioned && url.startsWith(p.baseUrl))) {
            throw new TypeError('fetch failed', { cause: Object.assign(new Error('injected partition'), { code: 'ECONNREFUSED' }) });
          }
          return base(input, init);
        }) as typeof fetch;
        const faults = faultyFetch(partitionAware, random, NO_FAULTS, stats);
        const store = new MemoryDeviceStore();
        devices.push({
          index: devices.length,
          side,
          label: LABELS[i]!,
          pod,
          cleanFetch: base,
          faults,
          store,
          replica: replicaFor(store, faults.fetch, validator, pod, side, LABELS[i]!),
        });
      }
    }
    return { backend, pods, devices, stats, validator, restartMs: 0, restarts: 0, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function replicaFor(store: MemoryDeviceStore, fetchFn: typeof fetch, validator: OpValidator, pod: FleetPod, side: Side, label: string): Replica {
  return new Replica({ store, fetch: fetchFn, validator, identity: { webId: pod.webId as never, podRoot: pod.podRoot, device: label } });
}

/** Takes a pod off the network: a real stop (file CSS, mini pod), a partition for memory CSS (a stop would lose its data). */
export async function podDown(fleet: Fleet, pod: FleetPod): Promise<void> {
  if (!pod.up) return;
  pod.up = false;
  if (fleet.backend === 'css-memory') {
    pod.partitioned = true;
    return;
  }
  const started = Date.now();
  await pod.stopServer();
  fleet.restartMs += Date.now() - started;
}

export async function podUp(fleet: Fleet, pod: FleetPod): Promise<void> {
  if (pod.up) return;
  pod.up = true;
  fleet.restarts++;
  if (fleet.backend === 'css-memory') {
    pod.partitioned = false;
    return;
  }
  const started = Date.now();
  await pod.startServer();
  fleet.restartMs += Date.now() - started;
}

// ---- schedules ------------------------------------------------------------------------------------------------------

export type Step =
  | { readonly t: 'write'; readonly d: number; readonly k: number }
  | { readonly t: 'sync'; readonly d: number }
  /** Two devices sync at the same time: their requests interleave, deliveries arrive in any order. */
  | { readonly t: 'both'; readonly a: number; readonly b: number }
  | { readonly t: 'offline'; readonly d: number }
  | { readonly t: 'online'; readonly d: number }
  | { readonly t: 'down'; readonly p: Side }
  | { readonly t: 'up'; readonly p: Side };

const PRODUCTS = ['beans', 'pencils', 'paper'];
type Write = { [T in OpType]: { type: T; payload: (view: FoldedInvoice) => PayloadByType[T] } }[OpType];
const w = <T extends OpType>(type: T, payload: (view: FoldedInvoice) => PayloadByType[T]): Write => ({ type, payload }) as unknown as Write;

function writesFor(side: Side, k: number): Write[] {
  const product = PRODUCTS[k % PRODUCTS.length]!;
  const n = 1 + (k % 7);
  if (side === 'buyer') {
    return [
      w('AddToCart', () => ({ product, quantity: n })),
      w('AddToCart', () => ({ product, quantity: 1 })),
      w('EditQuantity', () => ({ product, quantity: n * 2 })),
      w('BidItem', () => ({ product, unitPrice: `${n}.5`, taxRate: '21' })),
      w('AddExtra', () => ({ key: 'wrap', description: 'gift wrap', amount: '1.25', taxRate: '21' })),
      w('RemoveExtra', () => ({ key: 'wrap' })),
      w('Comment', () => ({ text: `buyer note ${k}` })),
      w('ChooseDeliveryAddress', () => ({ address: { streetAddress: `Main St ${n}`, postalCode: '1011', addressLocality: 'Amsterdam', addressCountry: 'NL' } })),
      w('SetBuyerInfo', () => ({ info: { name: `Michiel ${n}` } })),
      w('Propose', (view) => proposalOf(view)),
      w('Accept', (view) => acceptanceOf(view, 'buyer')),
      w('Accept', (view) => acceptanceOf(view, 'buyer')),
    ];
  }
  return [
    w('QuoteItem', () => ({ product, unitPrice: `${n}.25`, taxRate: '21' })),
    w('QuoteItem', () => ({ product, unitPrice: `${10 - n}`, taxRate: '9' })),
    w('SetProductStock', () => ({ product, quantity: 10 * n })),
    w('AddProductStock', () => ({ product, delta: n })),
    w('ProposeDeliveryDate', () => ({ date: `2026-12-0${n}` })),
    w('AddDiscount', () => ({ key: 'loyal', description: 'loyalty', percent: '5' })),
    w('Comment', () => ({ text: `seller note ${k}` })),
    w('SetSellerInfo', () => ({ info: { name: `George ${n}` } })),
    w('Propose', (view) => proposalOf(view)),
    w('Propose', (view) => proposalOf(view)),
    w('Accept', (view) => acceptanceOf(view, 'seller')),
    w('MarkShipped', () => ({})),
  ];
}

export interface ScheduleOutcome {
  readonly invoiceId: InvoiceId;
  /** Every op some device accepted locally (write() returned it), by the container it belongs to. */
  readonly accepted: Map<OpId, ContainerUrl>;
  readonly views: FoldedInvoice[];
  /** Op ids listed in each party's container after the final sync. */
  readonly onPods: Record<Side, string[]>;
  readonly outboxes: number[];
  readonly refusedWrites: number;
}

let invoiceCounter = 0;

/** Runs `steps` on a fresh invoice, then heals everything and syncs until quiet. */
export async function runSchedule(fleet: Fleet, steps: readonly Step[], plan: FaultPlan, faultSeed = 1, prefix = 'SIM'): Promise<ScheduleOutcome> {
  const invoiceId = invoiceKeyOf(fleet.pods.buyer.podRoot, `${prefix}-${process.pid}-${++invoiceCounter}`);
  const { devices } = fleet;
  for (const device of devices) {
    device.store = new MemoryDeviceStore();
    device.replica = replicaFor(device.store, device.faults.fetch, fleet.validator, device.pod, device.side, device.label);
    device.faults.offline = false;
    device.faults.plan = NO_FAULTS;
    device.faults.random = seeded(faultSeed * 31 + device.index);
  }
  const buyer0 = devices.find((d) => d.side === 'buyer')!;
  // Setup without faults: buyer creates, everyone joins (a join that cannot read the CreateInvoice fails by design).
  await buyer0.replica.createInvoice(invoiceId, {
    currency: 'EUR',
    counterparty: { webId: fleet.pods.seller.webId as never, podRoot: fleet.pods.seller.podRoot },
    ownInfo: { name: 'Michiel' },
    counterpartyInfo: { name: 'George' },
  });
  const origin = buyer0.replica.ownContainer(invoiceId);
  for (const device of devices) if (device !== buyer0) await device.replica.joinInvoice(invoiceId, origin);

  const accepted = new Map<OpId, ContainerUrl>();
  for (const sourced of await buyer0.store.loadOps(invoiceId)) accepted.set(sourced.op.id, sourced.container);
  let refusedWrites = 0;
  for (const device of devices) device.faults.plan = plan;

  const write = async (device: FleetDevice, k: number) => {
    const options = writesFor(device.side, k);
    const chosen = options[k % options.length]!;
    try {
      const view = await device.replica.view(invoiceId);
      const payload = chosen.payload(view);
      const result = await device.replica.write(invoiceId, chosen.type, payload as never);
      accepted.set(result.op.id, device.replica.ownContainer(invoiceId));
    } catch (error) {
      if (!(error instanceof FedinvoiceError)) throw error;
      refusedWrites++;
    }
  };

  for (const step of steps) {
    switch (step.t) {
      case 'write':
        await write(devices[step.d % devices.length]!, step.k);
        break;
      case 'sync':
        await devices[step.d % devices.length]!.replica.sync(invoiceId);
        break;
      case 'both': {
        const a = devices[step.a % devices.length]!;
        const b = devices[step.b % devices.length]!;
        await Promise.all([a.replica.sync(invoiceId), a === b ? undefined : b.replica.sync(invoiceId)]);
        break;
      }
      case 'offline':
        devices[step.d % devices.length]!.faults.offline = true;
        break;
      case 'online':
        devices[step.d % devices.length]!.faults.offline = false;
        break;
      case 'down':
        await podDown(fleet, fleet.pods[step.p]);
        break;
      case 'up':
        await podUp(fleet, fleet.pods[step.p]);
        break;
    }
  }

  // Heal: pods up, devices online, no more faults; then sync until nothing is new and every outbox is empty.
  await podUp(fleet, fleet.pods.buyer);
  await podUp(fleet, fleet.pods.seller);
  for (const device of devices) {
    device.faults.offline = false;
    device.faults.plan = NO_FAULTS;
  }
  for (let round = 0; round < 4; round++) {
    let fresh = 0;
    for (const device of devices) fresh += (await device.replica.sync(invoiceId)).newOps;
    const queued = (await Promise.all(devices.map((d) => d.store.outbox(invoiceId)))).reduce((n, o) => n + o.length, 0);
    if (round >= 1 && fresh === 0 && queued === 0) break;
  }
  const views = await Promise.all(devices.map((d) => d.replica.view(invoiceId)));
  const outboxes = await Promise.all(devices.map(async (d) => (await d.store.outbox(invoiceId)).length));
  const onPods = {} as Record<Side, string[]>;
  for (const side of ['buyer', 'seller'] as const) {
    const owner = devices.find((d) => d.side === side)!;
    const container = owner.replica.ownContainer(invoiceId);
    const listing = await listContainer(owner.cleanFetch, container);
    onPods[side] = listing.notModified ? [] : listing.members.map((url) => url.slice(container.length));
  }
  return { invoiceId, accepted, views, onPods, outboxes, refusedWrites };
}

/** The two properties, as a list of violations (empty when the schedule converged and lost nothing). */
export function checkConverged(outcome: ScheduleOutcome, fleet: Fleet): string[] {
  const problems: string[] = [];
  const [first, ...rest] = outcome.views.map((view) => JSON.stringify(view));
  rest.forEach((view, i) => {
    if (view !== first) problems.push(`device ${i + 1} folded a different invoice than device 0`);
  });
  outcome.outboxes.forEach((n, i) => {
    if (n !== 0) problems.push(`device ${i} still has ${n} op(s) in its outbox`);
  });
  const containerOf = (side: Side) => fleet.devices.find((d) => d.side === side)!.replica.ownContainer(outcome.invoiceId);
  for (const side of ['buyer', 'seller'] as const) {
    const listed = new Set(outcome.onPods[side]);
    if (listed.size !== outcome.onPods[side].length) problems.push(`the ${side} container lists a member twice`);
    for (const [id, container] of outcome.accepted) {
      if (container === containerOf(side) && !listed.has(id)) problems.push(`op ${id.slice(0, 12)}… was accepted locally but is not on the ${side}'s pod`);
    }
    for (const name of listed) {
      // Packs and checkpoints (src/sync/packs.ts) are copies of ops, not ops of their own.
      if (name.startsWith('pack-') || name.startsWith('checkpoint-')) continue;
      if (!isOpId(name) || outcome.accepted.get(name) !== containerOf(side)) problems.push(`the ${side} container holds ${name}, which no device wrote`);
    }
  }
  const logged = new Set(outcome.views[0]!.log.map((entry) => entry.opId as string));
  for (const id of outcome.accepted.keys()) if (!logged.has(id)) problems.push(`op ${id.slice(0, 12)}… is missing from the folded log`);
  if (outcome.views[0]!.status === 'no invoice') problems.push('the invoice did not fold');
  return problems;
}
