/**
 * Third parties end to end, on real pods through the CLI: the seller admits a carrier that sets the tracking and a
 * department of its own that may set stock and nothing else; the buyer admits a tax authority that reads both
 * parties' ops and comments. Each has its own pod and WebID, is invited through its inbox, reads every participant's
 * ops, is refused locally what its role does not allow, and is refused by the fold when it writes it anyway; every
 * device of every participant shows the same invoice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withId } from '../../src/model/hash.ts';
import type { InvoiceId, WebId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { AnyOp, OpType, PayloadByType } from '../../src/model/ops.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { startPodServer, type PodServer, type SeedAccount } from '../../src/pod/server.ts';
import type { DeviceSession } from '../../src/pod/session.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { opsContainerOf } from '../../src/sync/invoice-folder.ts';
import { cliKit, type Business } from '../support/cli-kit.ts';
import { freePort, loginNewDevice } from '../support/pods.ts';

type Name = 'buyer' | 'seller' | 'carrier' | 'tax' | 'warehouse';
const PASSWORD = 'test-password-not-secret';
const seedOf = (podName: Name): SeedAccount => ({ email: `${podName}@example.test`, password: PASSWORD, podName });
/** The buyer and its tax authority on one server; the seller, its carrier and its warehouse department on the other. */
const SERVERS: ReadonlyArray<readonly Name[]> = [['buyer', 'tax'], ['seller', 'carrier', 'warehouse']];

let servers: PodServer[] = [];
const businesses = {} as Record<Name, Business & { server: PodServer; seed: SeedAccount; webId: WebId }>;
const sessions: DeviceSession[] = [];
let dataDir: string;
let cli: ReturnType<typeof cliKit>['run'];
let key: InvoiceId;

const show = async (profile: string): Promise<FoldedInvoice> => {
  const shown = await cli('show', 'SHIP-1', '--json', '--profile', profile);
  expect(shown.code, shown.err).toBe(0);
  return JSON.parse(shown.out) as FoldedInvoice;
};

beforeAll(async () => {
  servers = await Promise.all(SERVERS.map(async (names) => startPodServer({ port: await freePort(), storage: 'memory', seedAccounts: names.map(seedOf) })));
  SERVERS.forEach((names, i) => {
    const server = servers[i]!;
    for (const name of names) {
      const podRoot = `${server.baseUrl}${name}/`;
      businesses[name] = { server, seed: seedOf(name), baseUrl: server.baseUrl, email: seedOf(name).email, password: PASSWORD, webId: `${podRoot}profile/card#me` as WebId, podRoot };
    }
  });
  dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-third-parties-'));
  const kit = cliKit(dataDir);
  cli = kit.run;
  // One after the other: concurrent credential updates to one CSS account can lose one.
  for (const [name, device] of [['buyer', 'desktop'], ['buyer', 'mobile'], ['seller', 'desktop'], ['carrier', 'desktop'], ['tax', 'desktop'], ['warehouse', 'tablet']] as const) {
    await kit.profile(businesses[name], name, device);
  }
});

afterAll(async () => {
  await Promise.all(sessions.map((session) => session.logout()));
  await Promise.all(servers.map((server) => server.stop()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('third parties end to end', () => {
  it('each business has an inbox; the seller creates, the buyer joins from its invitation', async () => {
    for (const profile of ['buyer-desktop', 'seller-desktop', 'carrier-desktop', 'tax-desktop', 'warehouse-tablet']) {
      expect((await cli('invitations', '--profile', profile)).out).toMatch(/^no invitations wait in your inbox /);
    }
    const created = await cli('create', 'SHIP-1', '--as', 'seller', '--profile', 'seller-desktop', '--with', 'buyer-desktop', '--name', 'George', '--counterparty-name', 'Michiel');
    expect(created.code, created.err).toBe(0);
    expect(created.err).toContain(`invited ${businesses.buyer.webId} through its inbox`);
    expect((await cli('join', 'SHIP-1', '--profile', 'buyer-desktop')).code).toBe(0);
    expect((await cli('join', 'SHIP-1', '--profile', 'buyer-mobile', '--with', 'seller-desktop')).code).toBe(0);
    key = (await show('buyer-desktop')).invoiceId!;
    expect((await cli('add-to-cart', 'SHIP-1', 'beans', '10', '--profile', 'buyer-mobile')).code).toBe(0);
    expect((await cli('quote-item', 'SHIP-1', 'beans', '2.50', '--tax', '21', '--profile', 'seller-desktop')).code).toBe(0);
  });

  it('the seller admits a carrier and its department, the buyer a tax authority, each invited through its inbox', async () => {
    const admissions: Array<[string, string, Name, string]> = [
      ['seller-desktop', 'carrier', 'carrier', 'SetTracking,Comment'],
      ['seller-desktop', 'seller-department', 'warehouse', 'SetProductStock'],
      ['buyer-desktop', 'tax-authority', 'tax', 'Comment'],
    ];
    for (const [admitter, role, name, allow] of admissions) {
      const { webId, podRoot } = businesses[name];
      const admitted = await cli('add-participant', 'SHIP-1', role, webId, podRoot, '--allow', allow, '--name', name, '--profile', admitter);
      expect(admitted.code, admitted.err).toBe(0);
      expect(admitted.err).toContain(`invited ${webId} through its inbox`);
    }
    // The other party grants each newcomer read on its ops at its next sync.
    for (const profile of ['buyer-desktop', 'seller-desktop']) expect((await cli('sync', 'SHIP-1', '--profile', profile)).code).toBe(0);
    for (const [profile, name] of [['carrier-desktop', 'carrier'], ['tax-desktop', 'tax'], ['warehouse-tablet', 'warehouse']] as const) {
      const listed = await cli('invitations', '--profile', profile);
      expect(listed.out).toContain(`SHIP-1  from ${name === 'tax' ? businesses.buyer.webId : businesses.seller.webId} (claimed; checked when you join), admits you`);
      const joined = await cli('join', 'SHIP-1', '--profile', profile);
      expect(joined.code, joined.err).toBe(0);
      // Both parties' ops are readable at once; a participant that has not joined yet has no readable folder until it does.
      expect(joined.err).not.toMatch(new RegExp(`stale: (${businesses.buyer.podRoot}|${businesses.seller.podRoot})`));
      expect((await cli('invitations', '--profile', profile)).out).toMatch(/^no invitations wait/);
    }
    const participants = (await show('tax-desktop')).participants.map((p) => [p.role, p.webId, p.container]);
    expect(participants).toEqual(
      expect.arrayContaining((['carrier', 'warehouse', 'tax'] as const).map((name) => [expect.any(String), businesses[name].webId, opsContainerOf(businesses[name].podRoot, key)])),
    );
  });

  it('each writes what its role allows and is refused locally the rest', async () => {
    expect((await cli('set-tracking', 'SHIP-1', 'ParcelCo', 'PC-123', '--profile', 'carrier-desktop')).code).toBe(0);
    expect((await cli('comment', 'SHIP-1', 'VAT rates checked', '--profile', 'tax-desktop')).code).toBe(0);
    expect((await cli('set-product-stock', 'SHIP-1', 'beans', '6', '--profile', 'warehouse-tablet')).code).toBe(0);
    const refused: Array<[string, string[]]> = [
      ['carrier-desktop', ['quote-item', 'SHIP-1', 'beans', '0.01']],
      ['tax-desktop', ['set-tracking', 'SHIP-1', 'Evil', 'X-1']],
      ['warehouse-tablet', ['quote-item', 'SHIP-1', 'beans', '0.01']],
      ['warehouse-tablet', ['add-product-stock', 'SHIP-1', 'beans', '100']],
    ];
    for (const [profile, argv] of refused) {
      const run = await cli(...argv, '--profile', profile);
      expect(run.code, `${profile} ${argv[0]}`).toBe(1);
      expect(run.err).toMatch(/^fedinvoice: \w+ was not written: /);
    }
  });

  it('what a third party writes beyond its role anyway is rejected by the fold on every device, and all show the same invoice', async () => {
    const forgeries: Array<[Name, OpType, PayloadByType[OpType]]> = [
      ['carrier', 'QuoteItem', { product: 'beans', unitPrice: '0.01', taxRate: '0' }],
      ['tax', 'SetTracking', { carrier: 'Evil', trackingId: 'X-1' }],
      ['warehouse', 'AddProductStock', { product: 'beans', delta: 100 }],
    ];
    const forged: string[] = [];
    for (const [name, type, payload] of forgeries) {
      const view = await show(name === 'warehouse' ? 'warehouse-tablet' : `${name}-desktop`);
      const op = withId({ invoiceId: key, type, payload, device: 'forger', clock: { wallMs: view.latestClock.wallMs + 1, counter: 0 }, deps: [...view.heads].sort() }) as AnyOp;
      const session = await loginNewDevice(businesses[name].server, businesses[name].seed, `${name}-forger`);
      sessions.push(session);
      await putImmutable(session.fetch, `${opsContainerOf(businesses[name].podRoot, key)}${op.id}`, opToTurtle(op));
      forged.push(op.id);
    }
    const profiles = ['buyer-desktop', 'buyer-mobile', 'seller-desktop', 'carrier-desktop', 'tax-desktop', 'warehouse-tablet'];
    // The first round grants every participant read on every folder; in the second, every device reads every container.
    for (const profile of profiles) expect((await cli('sync', 'SHIP-1', '--profile', profile)).code).toBe(0);
    for (const profile of profiles) {
      const synced = await cli('sync', 'SHIP-1', '--profile', profile);
      expect(synced.code).toBe(0);
      expect(synced.err, profile).not.toContain('stale');
    }
    const views = await Promise.all(profiles.map((profile) => show(profile)));
    for (const view of views) expect(view).toEqual(views[0]);
    const [view] = views as [FoldedInvoice];
    expect(view.rejected.map((entry) => entry.opId).sort()).toEqual([...forged].sort());
    expect(view.tracking).toMatchObject({ carrier: 'ParcelCo', trackingId: 'PC-123' });
    expect(view.items).toEqual([{ productCode: 'beans', desired: 10, available: 6, qty: 6, unitPrice: '2.5', taxRate: '21', bid: null, lineTotal: '15.00' }]);
    const authors = new Set(view.log.filter((entry) => entry.state === 'accepted').map((entry) => entry.author?.webId));
    expect([...authors].sort()).toEqual((['buyer', 'carrier', 'seller', 'tax', 'warehouse'] as const).map((name) => businesses[name].webId).sort());
    expect(view.log.find((entry) => entry.type === 'Comment')?.author?.webId).toBe(businesses.tax.webId);
  });
});
