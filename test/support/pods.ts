/**
 * Real Community Solid Servers for integration tests. Start them ONCE per test file (in `beforeAll`, ~5 s each
 * on a 2-core machine) and stop them in `afterAll`.
 *
 * `startTestPods()` → two in-memory servers on free ports, as two parties of an invoice:
 *
 *   pods.buyer     { server, baseUrl, email, password, podName, webId, podRoot, devices: { desktop, mobile } }
 *   pods.seller    same shape, on the second server
 *   pods.stranger  same shape, a third account on the BUYER's server (pod 'stranger'), for refusal tests
 *   pods.stop()    logs every device out, stops both servers
 *
 *   baseUrl  'http://localhost:PORT/'        podRoot 'http://localhost:PORT/buyer/'
 *   webId    'http://localhost:PORT/buyer/profile/card#me'
 *   devices.desktop / devices.mobile: DeviceSession (own client credentials each, same WebID) — use `.fetch`.
 *   Anonymous requests: the global `fetch`.
 *
 * `startSinglePod('memory' | 'file')` → one server with one party (buyer@example.test, pod 'buyer'), for suites
 * that need neither a counterparty nor a stranger; the file variant uses a temp dir removed by `stop()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClientCredentials } from '../../src/pod/accounts.ts';
import { startPodServer, type PodServer, type SeedAccount } from '../../src/pod/server.ts';
import { loginDevice, type DeviceSession } from '../../src/pod/session.ts';
import type { WebId } from '../../src/model/ids.ts';

export interface TestParty {
  server: PodServer;
  baseUrl: string;
  email: string;
  password: string;
  podName: string;
  webId: WebId;
  /** Pod root, e.g. http://localhost:PORT/buyer/ */
  podRoot: string;
  devices: { desktop: DeviceSession; mobile: DeviceSession };
}

export interface TestPods {
  buyer: TestParty;
  seller: TestParty;
  stranger: TestParty;
  stop(): Promise<void>;
}

/** A port the OS reports free right now (listen on 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const PASSWORD = 'test-password-not-secret';

function seed(podName: string): SeedAccount {
  return { email: `${podName}@example.test`, password: PASSWORD, podName };
}

/** Logs in one device of an account whose pod is `podName` on `server`, with new client credentials. */
export async function loginNewDevice(server: PodServer, account: SeedAccount, deviceName: string): Promise<DeviceSession> {
  const webId = `${server.baseUrl}${account.podName}/profile/card#me`;
  const { id, secret } = await createClientCredentials(server.baseUrl, account.email, account.password, deviceName, webId);
  return loginDevice({ clientId: id, clientSecret: secret, oidcIssuer: server.baseUrl, webId });
}

async function party(server: PodServer, account: SeedAccount): Promise<TestParty> {
  // One after the other: CSS's file-backed account store loses one of two concurrent updates to an account.
  const desktop = await loginNewDevice(server, account, `${account.podName}-desktop`);
  const mobile = await loginNewDevice(server, account, `${account.podName}-mobile`);
  return {
    server,
    baseUrl: server.baseUrl,
    email: account.email,
    password: account.password,
    podName: account.podName,
    webId: desktop.webId,
    podRoot: `${server.baseUrl}${account.podName}/`,
    devices: { desktop, mobile },
  };
}

async function logoutAll(parties: TestParty[]): Promise<void> {
  await Promise.all(parties.flatMap((p) => [p.devices.desktop.logout(), p.devices.mobile.logout()]));
}

export async function startTestPods(): Promise<TestPods> {
  const [buyerPort, sellerPort] = [await freePort(), await freePort()];
  const buyerSeed = seed('buyer');
  const strangerSeed = seed('stranger');
  const sellerSeed = seed('seller');
  const [buyerServer, sellerServer] = await Promise.all([
    startPodServer({ port: buyerPort, storage: 'memory', seedAccounts: [buyerSeed, strangerSeed] }),
    startPodServer({ port: sellerPort, storage: 'memory', seedAccounts: [sellerSeed] }),
  ]);
  const parties: TestParty[] = [];
  try {
    const [buyer, seller, stranger] = await Promise.all([
      party(buyerServer, buyerSeed),
      party(sellerServer, sellerSeed),
      party(buyerServer, strangerSeed),
    ]);
    parties.push(buyer, seller, stranger);
    return {
      buyer,
      seller,
      stranger,
      stop: async () => {
        await logoutAll(parties);
        await Promise.all([buyerServer.stop(), sellerServer.stop()]);
      },
    };
  } catch (error) {
    await logoutAll(parties).catch(() => undefined);
    await Promise.all([buyerServer.stop(), sellerServer.stop()]);
    throw error;
  }
}

export interface SinglePod {
  party: TestParty;
  stop(): Promise<void>;
}

export async function startSinglePod(storage: 'memory' | 'file'): Promise<SinglePod> {
  const port = await freePort();
  const dataDir = storage === 'file' ? await mkdtemp(join(tmpdir(), 'fedinvoice-css-')) : undefined;
  const account = seed('buyer');
  let server: PodServer | undefined;
  try {
    server = await startPodServer({ port, storage, dataDir, seedAccounts: [account], loggingLevel: 'error' });
    const p = await party(server, account);
    return {
      party: p,
      stop: async () => {
        await logoutAll([p]);
        await server!.stop();
        if (dataDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Whether a TCP connection to host:port opens within 2 s (to prove what a server does NOT listen on). */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
