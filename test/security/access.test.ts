/**
 * Who may do what to a real invoice's op containers (made by Replica.createInvoice / joinInvoice, not by hand),
 * with every write verb: anonymous and stranger are refused everything, the counterparty may only read, and nobody
 * but the owner touches the ACL. What the owner's side can do (rewrite its own ops) is shown to be evident to every
 * device that had not read the op, and harmless to those that had. Then: no secret in any output, log or error, and
 * every server fedinvoice starts listens on 127.0.0.1. (test/pod/access.test.ts covers the ACL primitive itself.)
 */
import { readdir } from 'node:fs/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { asInvoiceId, type ContainerUrl } from '../../src/model/ids.ts';
import { createClientCredentials } from '../../src/pod/accounts.ts';
import type { DeviceProfile } from '../../src/pod/profile.ts';
import { loginDevice } from '../../src/pod/session.ts';
import { writeFileAtomic } from '../../src/sync/file-store.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { startViewer } from '../../src/viewer/server.ts';
import { canConnect, startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

let pods: TestPods;
let invoiceId = asInvoiceId('SEC-1');
let buyerOps: ContainerUrl;
let sellerOps: ContainerUrl;
let firstOp: string;
const replicas = {} as Record<'bd' | 'sd' | 'sm', Replica>;

async function replicaOf(party: TestParty, side: 'buyer' | 'seller', device: 'desktop' | 'mobile'): Promise<Replica> {
  const identity = { webId: party.webId, podRoot: party.podRoot, device };
  return new Replica({ store: new MemoryDeviceStore(), fetch: party.devices[device].fetch, identity });
}

beforeAll(async () => {
  pods = await startTestPods();
  replicas.bd = await replicaOf(pods.buyer, 'buyer', 'desktop');
  replicas.sd = await replicaOf(pods.seller, 'seller', 'desktop');
  replicas.sm = await replicaOf(pods.seller, 'seller', 'mobile');
  invoiceId = (await replicas.bd.createInvoice(invoiceId, { currency: 'EUR', counterparty: { webId: pods.seller.webId, podRoot: pods.seller.podRoot }, ownInfo: { name: 'Michiel' }, counterpartyInfo: { name: 'George' } })).op.invoiceId;
  buyerOps = replicas.bd.ownContainer(invoiceId);
  await replicas.sd.joinInvoice(invoiceId, buyerOps);
  await replicas.sm.joinInvoice(invoiceId, buyerOps);
  sellerOps = replicas.sd.ownContainer(invoiceId);
  const written = await replicas.bd.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 3 });
  firstOp = `${buyerOps}${written.op.id}`;
  await replicas.sd.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '2', taxRate: '21' });
});
afterAll(async () => {
  await pods?.stop();
});

const TURTLE = { 'content-type': 'text/turtle' };
const PATCH = `@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch; solid:inserts { <#op> <http://schema.org/text> "injected" }.`;

/** Every way to change a container or a member, with the status each got. */
async function attempts(fetchFn: typeof fetch, container: string, member: string): Promise<Record<string, number>> {
  const status = async (url: string, init: RequestInit) => {
    const response = await fetchFn(url, init);
    await response.arrayBuffer().catch(() => undefined);
    return response.status;
  };
  const fresh = `${container}${'e'.repeat(64)}`;
  return {
    'GET container': await status(container, { headers: { accept: 'text/turtle' } }),
    'GET member': await status(member, {}),
    'PUT new member': await status(fresh, { method: 'PUT', headers: { ...TURTLE, 'if-none-match': '*' }, body: '<#op> a <https://w3id.org/fedinvoice/ns#Comment>.' }),
    'PUT over member': await status(member, { method: 'PUT', headers: TURTLE, body: '<#op> a <https://w3id.org/fedinvoice/ns#Comment>.' }),
    'POST to container': await status(container, { method: 'POST', headers: TURTLE, body: '<#op> a <https://w3id.org/fedinvoice/ns#Comment>.' }),
    'PATCH member': await status(member, { method: 'PATCH', headers: { 'content-type': 'text/n3' }, body: PATCH }),
    'DELETE member': await status(member, { method: 'DELETE' }),
    'DELETE container': await status(container, { method: 'DELETE' }),
    'GET acl': await status(`${container.replace(/ops\/$/, '')}.acl`, {}),
    'PUT acl': await status(`${container.replace(/ops\/$/, '')}.acl`, { method: 'PUT', headers: TURTLE, body: '' }),
  };
}

describe("an invoice's op containers on real pods", () => {
  it('refuses anonymous requests everything, with 401', async () => {
    const result = await attempts(fetch, buyerOps, firstOp);
    for (const [what, status] of Object.entries(result)) expect([what, status]).toEqual([what, 401]);
  });

  it('refuses a stranger (a WebID with an account on the same server) everything, with 403', async () => {
    const result = await attempts(pods.stranger.devices.desktop.fetch, buyerOps, firstOp);
    for (const [what, status] of Object.entries(result)) expect([what, status]).toEqual([what, 403]);
    // Nor can it see which invoices exist, on either pod.
    expect((await pods.stranger.devices.desktop.fetch(`${pods.buyer.podRoot}invoices/`)).status).toBe(403);
    expect((await pods.stranger.devices.desktop.fetch(`${pods.seller.podRoot}invoices/`)).status).toBe(403);
  });

  it('lets the counterparty read my ops and nothing else: every write and the ACL are refused with 403', async () => {
    const result = await attempts(pods.seller.devices.desktop.fetch, buyerOps, firstOp);
    expect(result).toEqual({
      'GET container': 200,
      'GET member': 200,
      'PUT new member': 403,
      'PUT over member': 403,
      'POST to container': 403,
      'PATCH member': 403,
      'DELETE member': 403,
      'DELETE container': 403,
      'GET acl': 403,
      'PUT acl': 403,
    });
    // The same from the buyer into the seller's container, and into invoices it was never invited to.
    const mirrored = await attempts(pods.buyer.devices.mobile.fetch, sellerOps, `${sellerOps}${'0'.repeat(64)}`);
    expect(mirrored['PUT new member']).toBe(403);
    expect(mirrored['DELETE container']).toBe(403);
    expect((await pods.seller.devices.desktop.fetch(`${pods.buyer.podRoot}invoices/OTHER/ops/${'1'.repeat(64)}`, { method: 'PUT', headers: TURTLE, body: '' })).status).toBe(403);
    expect((await pods.seller.devices.desktop.fetch(`${pods.buyer.podRoot}invoices/`)).status).toBe(403);
    // And the op it tried to overwrite is unchanged: the buyer still folds 3 beans.
    expect((await replicas.sm.sync(invoiceId)).invoice.items[0]?.desired).toBe(3);
  });

  it("the owner's side can rewrite its own op: devices that read it keep the original, devices that had not refuse the rewrite", async () => {
    const before = (await replicas.sm.sync(invoiceId)).invoice;
    // The buyer's compromised device (or the buyer's pod operator) overwrites the op without If-None-Match.
    const rewritten = await pods.buyer.devices.desktop.fetch(firstOp, { method: 'PUT', headers: TURTLE, body: (await (await pods.buyer.devices.desktop.fetch(firstOp)).text()).replace('orderQuantity 3', 'orderQuantity 300') });
    await rewritten.arrayBuffer();
    expect(rewritten.status).toBe(205);
    // A device that had fetched it never fetches it again (ops are immutable): nothing changes there.
    const after = (await replicas.sm.sync(invoiceId)).invoice;
    expect(after.items).toEqual(before.items);
    // A device that had not: the content no longer hashes to its name, so it is refused, and said so.
    const late = await replicaOf(pods.seller, 'seller', 'mobile');
    const joined = await late.joinInvoice(invoiceId, buyerOps);
    const refused = joined.containers.flatMap((c) => c.refused);
    expect(refused.map((r) => r.url)).toEqual([firstOp]);
    expect(refused[0]!.reason).toMatch(/^its content hashes to [0-9a-f]{12}…, not to its name: it was altered after it was written$/);
    expect(joined.invoice.items[0]?.desired ?? 0).not.toBe(300);
  });
});

describe('secrets', () => {
  it('never prints a client secret, a password or an access token, in any CLI output, and never logs one', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-secrets-'));
    const secrets: string[] = [pods.buyer.password, pods.seller.password];
    const tokens = new Set<string>();
    const logged: string[] = [];
    const console_ = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
    try {
      for (const [party, side] of [[pods.buyer, 'buyer'], [pods.seller, 'seller']] as const) {
        const { id, secret } = await createClientCredentials(party.baseUrl, party.email, party.password, `secrets-${side}`, party.webId);
        secrets.push(secret);
        const profile: DeviceProfile = { name: `${side}-desktop`, device: 'desktop', webId: party.webId, podRoot: party.podRoot, oidcIssuer: party.baseUrl, clientId: id, clientSecret: secret };
        await writeFileAtomic(join(dataDir, 'profiles', `${side}-desktop.json`), JSON.stringify(profile));
      }
      // A profile whose secret is wrong: the login error must not carry it either.
      const wrong = `WRONG-SECRET-${Date.now()}`;
      secrets.push(wrong);
      await writeFileAtomic(join(dataDir, 'profiles', 'buyer-mobile.json'), JSON.stringify({ name: 'buyer-mobile', party: 'buyer', device: 'mobile', webId: pods.buyer.webId, podRoot: pods.buyer.podRoot, oidcIssuer: pods.buyer.baseUrl, clientId: 'nobody', clientSecret: wrong }));

      for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) console[level] = (...args: unknown[]) => void logged.push(args.map((a) => inspect(a, { depth: 8 })).join(' '));

      const outputs: string[] = [];
      const cli = async (...argv: string[]) => {
        await runCli(['--data', dataDir, ...argv], { stdout: (t) => outputs.push(t), stderr: (t) => outputs.push(t), env: {}, isTTY: false });
      };
      await cli('create', 'SEC-CLI', '--profile', 'buyer-desktop', '--with', 'seller-desktop', '--name', 'Michiel', '--counterparty-name', 'George', '--verbose');
      await cli('join', 'SEC-CLI', '--profile', 'seller-desktop', '--with', 'buyer-desktop', '--verbose', '--json');
      await cli('add-to-cart', 'SEC-CLI', 'beans', '3', '--profile', 'buyer-desktop', '--verbose', '--json');
      await cli('show', 'SEC-CLI', '--profile', 'seller-desktop', '--verbose', '--json');
      await cli('log', 'SEC-CLI', '--profile', 'seller-desktop', '--verbose');
      await cli('list', '--profile', 'buyer-desktop', '--verbose', '--json');
      await cli('show', 'SEC-CLI', '--profile', 'buyer-mobile', '--verbose');
      const directLogin = await loginDevice({ clientId: 'nobody', clientSecret: wrong, oidcIssuer: pods.buyer.baseUrl }).catch((e: unknown) => e);
      outputs.push(String(directLogin), inspect(directLogin, { depth: 12, showHidden: true }), JSON.stringify(directLogin));

      // The access tokens and DPoP keys the devices used, from where they keep them.
      for (const device of await readdir(join(dataDir, 'devices'))) {
        const kept = await readFile(join(dataDir, 'devices', device, 'session.json'), 'utf8').catch(() => null);
        if (kept === null) continue;
        const session = JSON.parse(kept) as { accessToken: string; privateJwk: { d: string } };
        tokens.add(session.accessToken).add(session.privateJwk.d);
      }
      expect(outputs.join('\n')).toMatch(/refused the device credentials/);
      expect(tokens.size).toBeGreaterThanOrEqual(4); // two devices logged in: a token and a key each
      const everything = [...outputs, ...logged].join('\n');
      for (const secret of [...secrets, ...tokens]) expect(everything.includes(secret), `a secret (${secret.slice(0, 6)}…) was printed or logged`).toBe(false);
    } finally {
      Object.assign(console, console_);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('leaves no seed file (account passwords) behind in the temp folder after a server starts', async () => {
    const leftovers = (await readdir(tmpdir())).filter((name) => name.startsWith(`fedinvoice-seed-${process.pid}-`));
    expect(leftovers).toEqual([]);
  });
});

describe('listening', () => {
  it('the pod servers and the viewer listen on 127.0.0.1 only', async () => {
    const viewer = await startViewer({ replica: replicas.bd, port: 0, notifications: false });
    try {
      const ports = [pods.buyer.server.address.port, pods.seller.server.address.port, viewer.port];
      expect(pods.buyer.server.address.address).toBe('127.0.0.1');
      expect(pods.seller.server.address.address).toBe('127.0.0.1');
      const external = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal)
        .map((a) => a!.address);
      for (const port of ports) {
        expect(await canConnect('127.0.0.1', port)).toBe(true);
        for (const address of external) expect([address, port, await canConnect(address, port)]).toEqual([address, port, false]);
      }
    } finally {
      await viewer.stop();
    }
  });
});
