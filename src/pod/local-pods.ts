/**
 * The local businesses of `npm start` on two pod servers: on the buyer's (http://localhost:3001/, or the port chosen
 * on the first start) the buyer and the customer (a second customer of the seller), on the seller's
 * (http://localhost:3002/) the seller and the carrier (which the seller admits to set the tracking); file-backed
 * under `<dataDir>/pods/buyer` and `<dataDir>/pods/seller`.
 *
 * Files under dataDir (folders 0700, files 0600, they hold secrets):
 *   accounts.json            { version: 1, buyer: { email, password, podName, baseUrl }, seller, customer, carrier }
 *                            written on the first start, with random passwords; a data folder made before the
 *                            customer or the carrier existed gets its account added once.
 *   profiles/<name>.json     one per device, named <business>-<device> (buyer-desktop, buyer-mobile, seller-desktop,
 *                            seller-mobile, customer-desktop, carrier-desktop): { name, business, device, webId, podRoot, oidcIssuer,
 *                            clientId, clientSecret }
 *
 * First start: accounts.json is created, each server seeds its account + pod, and client credentials are made for
 * the four devices. Later starts reuse all of it: startPodServer does not re-seed a data folder that already has
 * accounts (it only checks that each account logs in), and an existing profile is never replaced, so no new
 * accounts and no new credentials appear. A profile that is missing (deleted by hand) is recreated with new
 * credentials. Ports are fixed once accounts exist (the WebIDs contain them): later starts default to them.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { asWebId, type WebId } from '../model/ids.ts';
import { createClientCredentials, getAccountWebId } from './accounts.ts';
import { profilePath, profilesDirOf, readDeviceProfile, writeSecretJson, type DeviceProfile } from './profile.ts';
import { assertPortFree } from './ports.ts';
import type { PodServer } from './server.ts';

interface AccountRecord {
  email: string;
  password: string;
  podName: string;
  baseUrl: string;
}
/** The two servers, named after the business each was first made for. */
type Party = 'buyer' | 'seller';
/** Businesses added after the first data folders were made: each may be missing from an older accounts.json. */
type LaterBusiness = 'customer' | 'carrier';
type Business = Party | LaterBusiness;
type AccountsFile = { version: 1 } & Record<Party, AccountRecord> & Partial<Record<LaterBusiness, AccountRecord>>;

/** Each business: the server its pod is on and its devices' labels. */
const BUSINESSES: ReadonlyArray<{ name: Business; server: Party; devices: readonly string[] }> = [
  { name: 'buyer', server: 'buyer', devices: ['desktop', 'mobile'] },
  { name: 'seller', server: 'seller', devices: ['desktop', 'mobile'] },
  { name: 'customer', server: 'buyer', devices: ['desktop'] },
  { name: 'carrier', server: 'seller', devices: ['desktop'] },
];
const LATER_BUSINESSES: ReadonlyArray<{ name: LaterBusiness; description: string }> = [
  { name: 'customer', description: "a second customer of the seller, on the buyer's server" },
  { name: 'carrier', description: "a carrier the seller can admit to set the tracking, on the seller's server" },
];

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
/** A business for local use: its WebID, pod and account (to log in on its pod server's pages). */
export type LocalBusiness = LocalParty & { name: string; email: string; password: string };

export interface LocalPods {
  buyer: LocalBusiness;
  seller: LocalBusiness;
  /** A second customer of the seller, on the buyer's server. */
  customer: LocalBusiness;
  /** A carrier, on the seller's server: the seller admits it to an invoice to set the tracking. */
  carrier: LocalBusiness;
  /** Paths of the four device profiles. */
  profiles: string[];
  /** What changed in the data folder on this start that a person should know (e.g. a business added). */
  notes: string[];
  stop(): Promise<void>;
}

const PARTIES: Party[] = ['buyer', 'seller'];

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
export async function localPodPorts(
  dataDir: string,
  requested: Partial<Record<Party, number>> = {},
): Promise<{ ports: Record<Party, number>; fixed: boolean }> {
  const accounts = await readAccounts(dataDir);
  return { ports: portsFor(dataDir, accounts, requested), fixed: accounts !== undefined };
}

const newAccount = (business: Business, port: number): AccountRecord => ({
  email: `${business}@fedinvoice.local`,
  password: randomBytes(24).toString('base64url'),
  podName: business,
  baseUrl: `http://localhost:${port}/`,
});

async function createAccounts(dataDir: string, ports: Record<Party, number>): Promise<Required<AccountsFile>> {
  const accounts = {
    version: 1 as const,
    buyer: newAccount('buyer', ports.buyer),
    seller: newAccount('seller', ports.seller),
    customer: newAccount('customer', ports.buyer),
    carrier: newAccount('carrier', ports.seller),
  };
  await writeSecretJson(join(dataDir, 'accounts.json'), accounts);
  return accounts;
}

/** A data folder made before a later business existed gets its account once (its server creates it on start). */
async function withLaterBusinesses(dataDir: string, accounts: AccountsFile, notes: string[]): Promise<Required<AccountsFile>> {
  const missing = LATER_BUSINESSES.filter(({ name }) => !accounts[name]);
  if (missing.length === 0) return accounts as Required<AccountsFile>;
  const path = join(dataDir, 'accounts.json');
  const upgraded = { ...accounts };
  for (const { name, description } of missing) {
    const server = BUSINESSES.find((b) => b.name === name)!.server;
    upgraded[name] = newAccount(name, Number(new URL(accounts[server].baseUrl).port));
    notes.push(`Added a business, "${name}" (${description}), to ${path}.`);
  }
  await writeSecretJson(path, upgraded);
  return upgraded as Required<AccountsFile>;
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

/** Makes the business's inbox if it has none, so that the first invitation to it arrives (inbox.ts). */
async function openInbox(profileFile: string, notes: string[]): Promise<void> {
  const profile = await readDeviceProfile(profileFile);
  // Loaded here, like the server: importing this module stays cheap for the port checks that run first.
  const [{ loginProfile }, { ensureInbox }] = await Promise.all([import('./profile-session.ts'), import('./inbox.ts')]);
  try {
    const session = await loginProfile(profile, profileFile);
    try {
      await ensureInbox(session.fetch, asWebId(profile.webId), profile.podRoot);
    } finally {
      await session.logout();
    }
  } catch (error) {
    notes.push(`Could not make the inbox of ${profile.webId} (${messageOf(error)}); \`fedinvoice invitations\` makes it later.`);
  }
}

export async function startLocalPods(options: LocalPodsOptions): Promise<LocalPods> {
  const { dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const existing = await readAccounts(dataDir);
  const requested = {
    ...(options.buyerPort !== undefined && { buyer: options.buyerPort }),
    ...(options.sellerPort !== undefined && { seller: options.sellerPort }),
  };
  const ports = portsFor(dataDir, existing, requested);
  // Seconds before CSS would find out: a taken port fails here, before any server loads.
  for (const party of PARTIES) await assertPortFree(ports[party], host);
  const notes: string[] = [];
  const accounts = existing ? await withLaterBusinesses(dataDir, existing, notes) : await createAccounts(dataDir, ports);
  // Loaded only now: importing this module (for localPodPorts, or before the checks above) costs no CSS start-up.
  const { startPodServer } = await import('./server.ts');

  const started = await Promise.allSettled(
    PARTIES.map((party) =>
      startPodServer({
        port: ports[party],
        storage: 'file',
        dataDir: join(dataDir, 'pods', party),
        listenHost: host,
        seedAccounts: BUSINESSES.filter((b) => b.server === party).map(({ name }) => ({
          email: accounts[name].email,
          password: accounts[name].password,
          podName: accounts[name].podName,
        })),
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
    const businesses = {} as Record<Business, LocalBusiness>;
    const profiles: string[] = [];
    for (const business of BUSINESSES) {
      const server = business.server === 'buyer' ? buyerServer : sellerServer;
      const account = accounts[business.name];
      const webId = await getAccountWebId(server.baseUrl, account.email, account.password);
      const podRoot = `${server.baseUrl}${account.podName}/`;
      businesses[business.name] = { ...server, name: business.name, webId, podRoot, email: account.email, password: account.password };
      for (const device of business.devices) {
        const name = `${business.name}-${device}`;
        const path = profilePath(dataDir, name);
        const expected = { name, business: business.name, device, webId, podRoot, oidcIssuer: server.baseUrl };
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
      await openInbox(profilePath(dataDir, `${business.name}-${business.devices[0]}`), notes);
    }
    return { ...businesses, profiles, notes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
