/**
 * The two local pod servers of `npm start`: buyer on http://localhost:3001/, seller on http://localhost:3002/ (or
 * the ports chosen on the first start), file-backed under `<dataDir>/pods/buyer` and `<dataDir>/pods/seller`.
 *
 * Files under dataDir (folders 0700, files 0600, they hold secrets):
 *   accounts.json            { version: 1, buyer: { email, password, podName, baseUrl }, seller: {...} }
 *                            written once, on the first start, with random passwords.
 *   profiles/<name>.json     one per device (buyer-desktop, buyer-mobile, seller-desktop, seller-mobile):
 *                            { name, party, device, webId, podRoot, oidcIssuer, clientId, clientSecret }
 *
 * First start: accounts.json is created, each server seeds its account + pod, and client credentials are made for
 * the four devices. Later starts reuse all of it: startPodServer does not re-seed a data folder that already has
 * accounts (it only checks that each account logs in), and an existing profile is never replaced, so no new
 * accounts and no new credentials appear. A profile that is missing (deleted by hand) is recreated with new
 * credentials. Ports are fixed once accounts exist (the WebIDs contain them): later starts default to them.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FedinvoiceError } from '../model/errors.ts';
import type { WebId } from '../model/ids.ts';
import { createClientCredentials, getAccountWebId } from './accounts.ts';
import { profilePath, profilesDirOf, type Device, type DeviceProfile, type Party } from './profile.ts';
import { assertPortFree } from './ports.ts';
import type { PodServer } from './server.ts';

interface AccountRecord {
  email: string;
  password: string;
  podName: string;
  baseUrl: string;
}
interface AccountsFile {
  version: 1;
  buyer: AccountRecord;
  seller: AccountRecord;
}

/** Where npm start's pods listen when neither an option nor the data folder says otherwise. */
export const DEFAULT_POD_PORTS: Readonly<Record<Party, number>> = { buyer: 3001, seller: 3002 };

export interface LocalPodsOptions {
  dataDir: string;
  /** Default: the port the data folder's accounts were created with, else DEFAULT_POD_PORTS. */
  buyerPort?: number;
  sellerPort?: number;
  /** Interface the servers listen on; default 127.0.0.1. */
  host?: string;
}

export type LocalParty = PodServer & { webId: WebId; podRoot: string };

export interface LocalPods {
  buyer: LocalParty;
  seller: LocalParty;
  /** Paths of the four device profiles. */
  profiles: string[];
  stop(): Promise<void>;
}

const PARTIES: Party[] = ['buyer', 'seller'];
const DEVICES: Device[] = ['desktop', 'mobile'];

/** Writes a secret file atomically with mode 0600. */
async function writeSecretJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

async function readJson(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FedinvoiceError(`${path} is not valid JSON; repair it or move it away (its credentials will then be recreated).`, { cause: error });
  }
}

/** accounts.json, checked for completeness; undefined before the first start. */
async function readAccounts(dataDir: string): Promise<AccountsFile | undefined> {
  const path = join(dataDir, 'accounts.json');
  const existing = (await readJson(path)) as AccountsFile | undefined;
  for (const party of existing ? PARTIES : []) {
    const record = existing![party];
    if (!record?.email || !record.password || !record.podName || !record.baseUrl) {
      throw new FedinvoiceError(`${path} has no complete "${party}" account; restore it from a backup or start with a new data folder.`);
    }
  }
  return existing;
}

function portsFor(dataDir: string, accounts: AccountsFile | undefined, requested: Partial<Record<Party, number>>): Record<Party, number> {
  const ports = {} as Record<Party, number>;
  for (const party of PARTIES) {
    const stored = accounts && Number(new URL(accounts[party].baseUrl).port);
    const wanted = requested[party];
    if (stored && wanted !== undefined && wanted !== stored) {
      throw new FedinvoiceError(
        `The ${party} pod in ${dataDir} was created for ${accounts![party].baseUrl}, not http://localhost:${wanted}/: WebIDs contain the port. Start with port ${stored} or a new data folder.`,
      );
    }
    ports[party] = wanted ?? stored ?? DEFAULT_POD_PORTS[party];
  }
  if (ports.buyer === ports.seller) throw new FedinvoiceError(`The buyer's and the seller's pods need different ports (both are ${ports.buyer}).`);
  return ports;
}

/**
 * The ports the pods will listen on: those asked for, else those the data folder's accounts were created with,
 * else DEFAULT_POD_PORTS. `fixed` is true when accounts exist: their WebIDs contain the ports, which cannot change.
 */
export async function localPodPorts(dataDir: string, requested: Partial<Record<Party, number>> = {}): Promise<{ ports: Record<Party, number>; fixed: boolean }> {
  const accounts = await readAccounts(dataDir);
  return { ports: portsFor(dataDir, accounts, requested), fixed: accounts !== undefined };
}

async function createAccounts(dataDir: string, ports: Record<Party, number>): Promise<AccountsFile> {
  const password = () => randomBytes(24).toString('base64url');
  const accounts: AccountsFile = {
    version: 1,
    buyer: { email: 'buyer@fedinvoice.local', password: password(), podName: 'buyer', baseUrl: `http://localhost:${ports.buyer}/` },
    seller: { email: 'seller@fedinvoice.local', password: password(), podName: 'seller', baseUrl: `http://localhost:${ports.seller}/` },
  };
  await writeSecretJson(join(dataDir, 'accounts.json'), accounts);
  return accounts;
}

function isProfile(value: unknown, expected: Omit<DeviceProfile, 'clientId' | 'clientSecret'>): value is DeviceProfile {
  if (!value || typeof value !== 'object') return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.clientId === 'string' &&
    typeof p.clientSecret === 'string' &&
    p.name === expected.name &&
    p.webId === expected.webId &&
    p.oidcIssuer === expected.oidcIssuer
  );
}

export async function startLocalPods(options: LocalPodsOptions): Promise<LocalPods> {
  const { dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const existing = await readAccounts(dataDir);
  const requested = { ...(options.buyerPort !== undefined && { buyer: options.buyerPort }), ...(options.sellerPort !== undefined && { seller: options.sellerPort }) };
  const ports = portsFor(dataDir, existing, requested);
  // Seconds before CSS would find out: a taken port fails here, before any server loads.
  for (const party of PARTIES) await assertPortFree(ports[party], host);
  const accounts = existing ?? (await createAccounts(dataDir, ports));
  // Loaded only now: importing this module (for localPodPorts, or before the checks above) costs no CSS start-up.
  const { startPodServer } = await import('./server.ts');

  const started = await Promise.allSettled(
    PARTIES.map((party) =>
      startPodServer({
        port: ports[party],
        storage: 'file',
        dataDir: join(dataDir, 'pods', party),
        listenHost: host,
        seedAccounts: [{ email: accounts[party].email, password: accounts[party].password, podName: accounts[party].podName }],
      }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  const [buyerServer, sellerServer] = servers as [PodServer, PodServer];
  const stop = async () => {
    await Promise.all([buyerServer.stop(), sellerServer.stop()]);
  };

  try {
    const profilesDir = profilesDirOf(dataDir);
    await mkdir(profilesDir, { recursive: true, mode: 0o700 });
    await chmod(profilesDir, 0o700);
    const parties = {} as Record<Party, LocalParty>;
    const profiles: string[] = [];
    for (const [party, server] of [
      ['buyer', buyerServer],
      ['seller', sellerServer],
    ] as const) {
      const account = accounts[party];
      const webId = await getAccountWebId(server.baseUrl, account.email, account.password);
      const podRoot = `${server.baseUrl}${account.podName}/`;
      parties[party] = { ...server, webId, podRoot };
      for (const device of DEVICES) {
        const name = `${party}-${device}`;
        const path = profilePath(dataDir, name);
        const expected = { name, party, device, webId, podRoot, oidcIssuer: server.baseUrl };
        const existing = await readJson(path);
        if (isProfile(existing, expected)) {
          await chmod(path, 0o600);
        } else {
          const { id, secret } = await createClientCredentials(server.baseUrl, account.email, account.password, name, webId);
          const profile: DeviceProfile = { ...expected, clientId: id, clientSecret: secret };
          await writeSecretJson(path, profile);
        }
        profiles.push(path);
      }
    }
    return { buyer: parties.buyer, seller: parties.seller, profiles, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
