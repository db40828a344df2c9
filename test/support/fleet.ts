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
 * Schedules run on a fleet through test/support/schedule-run.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPodServer, type PodServer, type SeedAccount } from '../../src/pod/server.ts';
import type { DeviceSession } from '../../src/pod/session.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { urlOf } from '../../src/pod/http-client.ts';
import { emptyStats, faultyFetch, NO_FAULTS, seeded, type FaultStats, type FaultyFetch } from './faulty-fetch.ts';
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
          const url = urlOf(input);
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
          replica: replicaFor(store, faults.fetch, pod, side, LABELS[i]!),
        });
      }
    }
    return { backend, pods, devices, stats, restartMs: 0, restarts: 0, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function replicaFor(store: MemoryDeviceStore, fetchFn: typeof fetch, pod: FleetPod, side: Side, label: string): Replica {
  return new Replica({ store, fetch: fetchFn, identity: { webId: pod.webId as never, podRoot: pod.podRoot, device: label } });
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

/** Starts a stopped server again, as an operator would: same port, same data folder. */
export async function podUp(fleet: Fleet, pod: FleetPod): Promise<void> {
  if (pod.up) return;
  fleet.restarts++;
  if (fleet.backend === 'css-memory') {
    pod.partitioned = false;
    pod.up = true;
    return;
  }
  const started = Date.now();
  await pod.startServer();
  pod.up = true;
  fleet.restartMs += Date.now() - started;
}

/** A fresh device store and replica for every device: each schedule starts from nothing on the devices. */
export function freshDevices(fleet: Fleet): void {
  for (const device of fleet.devices) {
    device.store = new MemoryDeviceStore();
    device.replica = replicaFor(device.store, device.faults.fetch, device.pod, device.side, device.label);
  }
}
