/**
 * `npm start`'s pods: two file-backed servers in a temp data folder, started twice. The first start finds an
 * accounts.json of the previous layout (buyer and seller only) and adds the third business once, saying so. The
 * second start must reuse the accounts and the device credentials, and a stored profile must log in and write into
 * its own pod. An invoice in the previous folder layout (`<pod>invoices/<number>/ops/`) still lists, shows, takes
 * writes and can be joined through the CLI.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAccount, getPods } from '../../src/pod/accounts.ts';
import { DEFAULT_POD_PORTS, localPodPorts, startLocalPods, type LocalPods } from '../../src/pod/local-pods.ts';
import { PortInUseError } from '../../src/pod/server.ts';
import { readDeviceProfile } from '../../src/pod/profile.ts';
import { getResource, putImmutable } from '../../src/pod/resources.ts';
import { loginProfile } from '../../src/pod/profile-session.ts';
import { findInbox } from '../../src/pod/inbox.ts';
import { runCli } from '../../src/cli/main.ts';
import { makeOp } from '../../src/model/builder.ts';
import { asContainerUrl, asInvoiceId, asWebId } from '../../src/model/ids.ts';
import { setInvoiceAccess } from '../../src/pod/acl.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { FileDeviceStore } from '../../src/sync/file-store.ts';
import { freePort } from '../support/pods.ts';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('startLocalPods', () => {
  let dataDir: string;
  let buyerPort: number;
  let sellerPort: number;
  let first: { accounts: string; profiles: Record<string, string>; buyerWebId: string; sellerWebId: string; notes: string[] };
  let second: LocalPods | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-local-'));
    buyerPort = await freePort();
    sellerPort = await freePort();
    // accounts.json as the previous `npm start` wrote it: two businesses.
    const old = (name: string, port: number) => ({ email: `${name}@fedinvoice.local`, password: `old-${name}-password`, podName: name, baseUrl: `http://localhost:${port}/` });
    await writeFile(join(dataDir, 'accounts.json'), JSON.stringify({ version: 1, buyer: old('buyer', buyerPort), seller: old('seller', sellerPort) }), { mode: 0o600 });
    const pods = await startLocalPods({ dataDir, buyerPort, sellerPort });
    try {
      const profiles: Record<string, string> = {};
      for (const path of pods.profiles) profiles[path] = await readFile(path, 'utf8');
      first = {
        accounts: await readFile(join(dataDir, 'accounts.json'), 'utf8'),
        profiles,
        buyerWebId: pods.buyer.webId,
        sellerWebId: pods.seller.webId,
        notes: pods.notes,
      };
    } finally {
      await pods.stop();
    }
    second = await startLocalPods({ dataDir, buyerPort, sellerPort });
    // Two file-backed starts of two servers each (four businesses, each inbox made on the first), CSS loaded inside the hook: minutes on a busy 2-core machine.
  }, 600_000);
  afterAll(async () => {
    await second?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('lays out the data folder with secrets readable by the owner only', async () => {
    expect(second!.buyer.baseUrl).toBe(`http://localhost:${buyerPort}/`);
    expect(second!.seller.baseUrl).toBe(`http://localhost:${sellerPort}/`);
    expect(second!.buyer.podRoot).toBe(`http://localhost:${buyerPort}/buyer/`);
    expect(second!.seller.webId).toBe(`http://localhost:${sellerPort}/seller/profile/card#me`);
    expect(second!.buyer.address.address).toBe('127.0.0.1');
    expect(existsSync(join(dataDir, 'pods', 'buyer', 'buyer'))).toBe(true);
    expect(existsSync(join(dataDir, 'pods', 'seller', 'seller'))).toBe(true);
    expect(await mode(join(dataDir, 'accounts.json'))).toBe(0o600);
    expect(await mode(join(dataDir, 'profiles'))).toBe(0o700);
    expect((await readdir(join(dataDir, 'profiles'))).sort()).toEqual([
      'buyer-desktop.json',
      'buyer-mobile.json',
      'carrier-desktop.json',
      'customer-desktop.json',
      'seller-desktop.json',
      'seller-mobile.json',
    ]);
    expect(first.notes).toEqual([
      expect.stringMatching(/^Added a business, "customer" \(a second customer of the seller, on the buyer's server\), to .*accounts\.json\.$/),
      expect.stringMatching(/^Added a business, "carrier" \(a carrier the seller can admit to set the tracking, on the seller's server\), to .*accounts\.json\.$/),
    ]);
    expect(second!.notes).toEqual([]);
    expect(second!.customer).toMatchObject({ name: 'customer', email: 'customer@fedinvoice.local', webId: `http://localhost:${buyerPort}/customer/profile/card#me` });
    const stored = JSON.parse(await readFile(join(dataDir, 'accounts.json'), 'utf8')) as Record<string, { password: string }>;
    expect(second!.customer.password).toBe(stored['customer']!.password);
    expect(second!.carrier).toMatchObject({ name: 'carrier', email: 'carrier@fedinvoice.local', webId: `http://localhost:${sellerPort}/carrier/profile/card#me` });
    expect(second!.carrier.password).toBe(stored['carrier']!.password);
    // Each business has an inbox, so that the first invitation to it arrives.
    for (const business of [second!.buyer, second!.seller, second!.customer, second!.carrier]) {
      expect(await findInbox(fetch, business.webId)).toBe(`${business.podRoot}inbox/`);
    }
    expect(second!.buyer.password).toBe('old-buyer-password');
    for (const path of second!.profiles) expect(await mode(path)).toBe(0o600);

    const profile = await readDeviceProfile(join(dataDir, 'profiles', 'seller-mobile.json'));
    expect(profile).toMatchObject({
      name: 'seller-mobile',
      business: 'seller',
      device: 'mobile',
      webId: second!.seller.webId,
      podRoot: `http://localhost:${sellerPort}/seller/`,
      oidcIssuer: `http://localhost:${sellerPort}/`,
    });
    expect(profile.clientId).toBeTruthy();
    expect(profile.clientSecret).toBeTruthy();
  });

  it('reuses accounts and credentials on the second start', async () => {
    expect(await readFile(join(dataDir, 'accounts.json'), 'utf8')).toBe(first.accounts);
    expect(second!.profiles.sort()).toEqual(Object.keys(first.profiles).sort());
    for (const [path, content] of Object.entries(first.profiles)) {
      expect(await readFile(path, 'utf8')).toBe(content);
    }
    expect(second!.buyer.webId).toBe(first.buyerWebId);
    expect(second!.seller.webId).toBe(first.sellerWebId);
    // No second account took the email, and the account still has exactly one pod.
    const accounts = JSON.parse(first.accounts) as { buyer: { email: string; password: string } };
    const login = await loginAccount(second!.buyer.baseUrl, accounts.buyer.email, accounts.buyer.password);
    expect(await getPods(login)).toEqual([second!.buyer.podRoot]);
    // White-box check on CSS's account store (file backend: one JSON per account under .internal/accounts/data/):
    // still one account per business (the buyer's server also holds the customer's, the seller's the carrier's), each holding exactly the device
    // credentials made on the first start.
    for (const [server, credentials] of [['buyer', [1, 2]], ['seller', [1, 2]]] as const) {
      const dir = join(dataDir, 'pods', server, '.internal', 'accounts', 'data');
      const files = await readdir(dir);
      const counts = [];
      for (const file of files) {
        const record = JSON.parse(await readFile(join(dir, file), 'utf8')) as { payload: Record<string, Record<string, unknown>> };
        counts.push(Object.keys(record.payload['**clientCredentials**'] ?? {}).length);
      }
      expect(counts.sort()).toEqual(credentials);
    }
  });

  it('logs a stored profile in and writes into its own pod', async () => {
    const profile = await readDeviceProfile(join(dataDir, 'profiles', 'buyer-desktop.json'));
    const session = await loginProfile(profile, join(dataDir, 'profiles', 'buyer-desktop.json'));
    try {
      expect(session.webId).toBe(second!.buyer.webId);
      const url = `${profile.podRoot}invoices/local-1/ops/a.ttl`;
      expect(await putImmutable(session.fetch, url, '<#a> <https://example.test/ns#n> 1 .\n')).toBe('created');
      expect((await getResource(session.fetch, url, { maxBytes: 1000 })).body).toContain('1');
      // Persisted on disk under the buyer's data folder.
      expect(existsSync(join(dataDir, 'pods', 'buyer', 'buyer', 'invoices', 'local-1', 'ops'))).toBe(true);
    } finally {
      await session.logout();
    }
  });

  it('keeps an invoice of the previous folder layout working: list, show, write, join', async () => {
    // What the previous code made: folder and op invoiceId are the bare number, the device store keyed by it.
    const buyer = await readDeviceProfile(join(dataDir, 'profiles', 'buyer-desktop.json'));
    const seller = await readDeviceProfile(join(dataDir, 'profiles', 'seller-desktop.json'));
    const invoiceId = asInvoiceId('OLD-1');
    const own = asContainerUrl(`${buyer.podRoot}invoices/OLD-1/ops/`);
    const payload = {
      currency: 'EUR',
      buyer: { webId: asWebId(buyer.webId), container: own, info: { name: 'Michiel' } },
      seller: { webId: asWebId(seller.webId), container: asContainerUrl(`${seller.podRoot}invoices/OLD-1/ops/`), info: { name: 'George' } },
    };
    const create = makeOp('CreateInvoice', payload, { invoiceId, device: 'desktop', heads: [], latestClock: { wallMs: 0, counter: 0 } }, Date.now());
    const session = await loginProfile(buyer, join(dataDir, 'profiles', 'buyer-desktop.json'));
    try {
      await setInvoiceAccess(session.fetch, `${buyer.podRoot}invoices/OLD-1/`, asWebId(buyer.webId), [asWebId(seller.webId)]);
      await putImmutable(session.fetch, `${own}${create.id}`, opToTurtle(create));
    } finally {
      await session.logout();
    }
    const store = new FileDeviceStore(join(dataDir, 'devices', 'buyer-desktop'));
    await store.saveInvoice({ invoiceId, ownContainer: own, origin: own, seedContainers: [own], readers: [asWebId(seller.webId)] });
    await store.appendOps(invoiceId, [{ op: create, container: own }]);

    const cli = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['--data', dataDir, ...argv], { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, isTTY: false });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    expect((await cli('add-to-cart', 'OLD-1', 'beans', '3', '--profile', 'buyer-desktop')).code).toBe(0);
    expect((await cli('join', 'OLD-1', '--from', own, '--profile', 'seller-desktop')).code).toBe(0);
    expect((await cli('quote-item', 'OLD-1', 'beans', '2', '--profile', 'seller-desktop')).code).toBe(0);
    expect((await cli('list', '--profile', 'buyer-desktop')).out).toMatch(/^OLD-1\s+draft\s+EUR 6\.00\s+Michiel ← George\s+\(you: buyer\)$/m);
    const shown = await cli('show', 'OLD-1', '--profile', 'buyer-desktop');
    expect([shown.code, shown.err]).toEqual([0, '']);
    expect(shown.out).toContain('6.00');
  });

  it('refuses to start the existing pods on other ports', async () => {
    await expect(startLocalPods({ dataDir, buyerPort: buyerPort + 1, sellerPort })).rejects.toThrow(/WebIDs contain the port/);
  });

  it('defaults to the ports the data folder was created with', async () => {
    expect(await localPodPorts(dataDir)).toEqual({ ports: { buyer: buyerPort, seller: sellerPort }, fixed: true });
    expect(await localPodPorts(join(dataDir, 'not-there'))).toEqual({ ports: DEFAULT_POD_PORTS, fixed: false });
    expect(await localPodPorts(join(dataDir, 'not-there'), { seller: 4002 })).toEqual({ ports: { buyer: DEFAULT_POD_PORTS.buyer, seller: 4002 }, fixed: false });
  });

  it('refuses a port in use before creating anything', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'fedinvoice-local-taken-'));
    try {
      const attempt = startLocalPods({ dataDir: fresh, buyerPort: await freePort(), sellerPort });
      await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
      await expect(attempt).rejects.toMatchObject({ port: sellerPort });
      expect(existsSync(join(fresh, 'accounts.json'))).toBe(false);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
