/**
 * The local businesses of `npm start` on two pod servers: on http://localhost:3001/ the buyer and the customer (a
 * second customer of the seller), on http://localhost:3002/ the seller; file-backed under `<dataDir>/pods/buyer`
 * and `<dataDir>/pods/seller` (named after their first business).
 *
 * Files under dataDir (folders 0700, files 0600, they hold secrets):
 *   accounts.json            { version: 1, buyer: { email, password, podName, baseUrl }, seller: {...}, customer: {...} }
 *                            written on the first start, with random passwords; a data folder made before the
 *                            customer existed gets its account added once.
 *   profiles/<name>.json     one per device, named <business>-<device> (buyer-desktop, buyer-mobile, seller-desktop,
 *                            seller-mobile, customer-desktop): { name, business, device, webId, podRoot, oidcIssuer,
 *                            clientId, clientSecret }
 *
 * First start: accounts.json is created, each server seeds its account + pod, and client credentials are made for
 * the four devices. Later starts reuse all of it: startPodServer does not re-seed a data folder that already has
 * accounts (it only checks that each account logs in), and an existing profile is never replaced, so no new
 * accounts and no new credentials appear. A profile that is missing (deleted by hand) is recreated with new
 * credentials. Ports are fixed once accounts exist: the WebIDs contain them.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FedinvoiceError } from '../model/errors.ts';
import type { WebId } from '../model/ids.ts';
import { createClientCredentials, getAccountWebId } from './accounts.ts';
import { profilePath, profilesDirOf, type DeviceProfile } from './profile.ts';
import { startPodServer, type PodServer } from './server.ts';

interface AccountRecord {
  email: string;
  password: string;
  podName: string;
  baseUrl: string;
}
/** The two servers, named after the business each was first made for. */
type Server = 'buyer' | 'seller';
type Business = 'buyer' | 'seller' | 'customer';
type AccountsFile = { version: 1 } & Record<Business, AccountRecord>;

/** Each business: the server its pod is on and its devices' labels. */
const BUSINESSES: ReadonlyArray<{ name: Business; server: Server; devices: readonly string[] }> = [
  { name: 'buyer', server: 'buyer', devices: ['desktop', 'mobile'] },
  { name: 'seller', server: 'seller', devices: ['desktop', 'mobile'] },
  { name: 'customer', server: 'buyer', devices: ['desktop'] },
];
const SERVERS: Server[] = ['buyer', 'seller'];

export interface LocalPodsOptions {
  dataDir: string;
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
  /** Paths of the device profiles. */
  profiles: string[];
  /** What changed in the data folder on this start that a person should know (e.g. a business added). */
  notes: string[];
  stop(): Promise<void>;
}


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

const newAccount = (business: Business, port: number): AccountRecord => ({
  email: `${business}@fedinvoice.local`,
  password: randomBytes(24).toString('base64url'),
  podName: business,
  baseUrl: `http://localhost:${port}/`,
});

async function loadOrCreateAccounts(dataDir: string, ports: Record<Server, number>, notes: string[]): Promise<AccountsFile> {
  const path = join(dataDir, 'accounts.json');
  const existing = (await readJson(path)) as Partial<AccountsFile> | undefined;
  if (existing) {
    for (const party of SERVERS) {
      const record = existing[party];
      if (!record?.email || !record.password || !record.podName || !record.baseUrl) {
        throw new FedinvoiceError(`${path} has no complete "${party}" account; restore it from a backup or start with a new data folder.`);
      }
      const wanted = `http://localhost:${ports[party]}/`;
      if (record.baseUrl !== wanted) {
        throw new FedinvoiceError(
          `The ${party} pod in ${dataDir} was created for ${record.baseUrl}, not ${wanted}: WebIDs contain the port. Start with port ${new URL(record.baseUrl).port} or a new data folder.`,
        );
      }
    }
    if (existing.customer) return existing as AccountsFile;
    const upgraded = { ...existing, customer: newAccount('customer', ports.buyer) } as AccountsFile;
    await writeSecretJson(path, upgraded);
    notes.push(`Added a third business, "customer" (a second customer of the seller, on the buyer's server), to ${path}.`);
    return upgraded;
  }
  const accounts: AccountsFile = { version: 1, buyer: newAccount('buyer', ports.buyer), seller: newAccount('seller', ports.seller), customer: newAccount('customer', ports.buyer) };
  await writeSecretJson(path, accounts);
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
  const ports: Record<Server, number> = { buyer: options.buyerPort ?? 3001, seller: options.sellerPort ?? 3002 };
  const notes: string[] = [];
  const host = options.host ?? '127.0.0.1';
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const accounts = await loadOrCreateAccounts(dataDir, ports, notes);

  const started = await Promise.allSettled(
    SERVERS.map((server) =>
      startPodServer({
        port: ports[server],
        storage: 'file',
        dataDir: join(dataDir, 'pods', server),
        listenHost: host,
        seedAccounts: BUSINESSES.filter((b) => b.server === server).map(({ name }) => ({ email: accounts[name].email, password: accounts[name].password, podName: accounts[name].podName })),
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
    }
    return { ...businesses, profiles, notes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
