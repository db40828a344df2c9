/**
 * Invitations through the Solid inbox, on real pods through the CLI: the inbox made on first use, the round trip
 * (create posts, invitations lists, join accepts and removes), and the refusals: a forged sender, an invitation
 * pointing at a folder another invoice uses, an oversized and a malformed one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withId } from '../../src/model/hash.ts';
import { asContainerUrl, asInvoiceId, type InvoiceId, type WebId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { setInvoiceAccess } from '../../src/pod/acl.ts';
import { findInbox, listInbox, profileDocumentOf, removeInboxMember } from '../../src/pod/inbox.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { invitationJson, readInvitation, type Invitation } from '../../src/sync/invitation.ts';
import { claimInvoiceFolder, opsContainerOf } from '../../src/sync/invoice-folder.ts';
import { openDevice } from '../../src/sync/device.ts';
import { startViewer } from '../../src/viewer/server.ts';
import { cliKit } from '../support/cli-kit.ts';
import { startTestPods, type TestPods } from '../support/pods.ts';

let pods: TestPods;
let dataDir: string;
let cli: ReturnType<typeof cliKit>['run'];
let sellerInbox: string;

const sellerFetch = () => pods.seller.devices.desktop.fetch;
const strangerFetch = () => pods.stranger.devices.desktop.fetch;

async function post(body: string, contentType = 'application/ld+json'): Promise<Response> {
  return strangerFetch()(sellerInbox, { method: 'POST', headers: { 'content-type': contentType }, body });
}

beforeAll(async () => {
  pods = await startTestPods();
  dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-invitations-'));
  const kit = cliKit(dataDir);
  cli = kit.run;
  await kit.profile(pods.buyer, 'buyer', 'desktop');
  await kit.profile(pods.seller, 'seller', 'desktop');
  await kit.profile(pods.stranger, 'stranger', 'desktop');
});

afterAll(async () => {
  await pods?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the inbox', () => {
  it('is made on first use, advertised by ldp:inbox, and lets others post but not read', async () => {
    expect(await findInbox(sellerFetch(), pods.seller.webId)).toBeNull();
    const first = await cli('invitations', '--profile', 'seller-desktop');
    expect(first.code).toBe(0);
    sellerInbox = `${pods.seller.podRoot}inbox/`;
    expect(first.out).toBe(`no invitations wait in your inbox ${sellerInbox}`);
    expect(await findInbox(fetch, pods.seller.webId)).toBe(sellerInbox);
    // The rest of the profile is untouched: it still names its WebID's OIDC issuer.
    expect(await (await fetch(profileDocumentOf(pods.seller.webId))).text()).toContain('oidcIssuer');

    const posted = await post('{}', 'application/json');
    expect(posted.status).toBe(201);
    const member = new URL(posted.headers.get('location')!, sellerInbox).href;
    expect((await strangerFetch()(sellerInbox)).status).toBe(403);
    expect((await strangerFetch()(member)).status).toBe(403);
    expect((await strangerFetch()(member, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '[]' })).status).toBe(403);
    expect((await fetch(sellerInbox, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    await removeInboxMember(sellerFetch(), member);
    expect(await listInbox(sellerFetch(), sellerInbox)).toEqual([]);
    const again = await cli('invitations', '--profile', 'seller-desktop');
    expect(again.out).toBe(`no invitations wait in your inbox ${sellerInbox}`);
  });
});

describe('an invitation', () => {
  it('goes from create to the counterparty, who lists it, joins from it, and finds it removed', async () => {
    const created = await cli('create', 'INV-1', '--profile', 'buyer-desktop', '--with', 'seller-desktop', '--name', 'Michiel', '--counterparty-name', 'George');
    expect(created.code).toBe(0);
    expect(created.err).toMatch(new RegExp(`^invited ${pods.seller.webId} through its inbox \\(${sellerInbox}[^)]+\\)$`));

    const listed = await cli('invitations', '--profile', 'seller-desktop', '--json');
    const { invitations } = JSON.parse(listed.out) as { invitations: Invitation[] };
    expect(invitations).toHaveLength(1);
    const key = invitations[0]!.invoiceId;
    expect(invitations[0]).toMatchObject({ sender: pods.buyer.webId, recipient: pods.seller.webId, origin: opsContainerOf(pods.buyer.podRoot, key) });
    expect((await cli('invitations', '--profile', 'seller-desktop')).out).toContain(`INV-1  from ${pods.buyer.webId} (claimed; checked when you join), names you`);

    // The viewer lists it too, and removes nothing.
    const device = await openDevice(dataDir, 'seller-desktop');
    const viewer = await startViewer({ replica: device.replica, port: 0, defaultProfile: 'seller-desktop', notifications: false });
    try {
      const page = await (await fetch(viewer.url)).text();
      expect(page).toContain('Invitations in your inbox');
      expect(page).toContain(`accept with <code>npx fedinvoice join INV-1 --profile seller-desktop</code>`);
      expect(page).toContain(pods.buyer.webId);
    } finally {
      await viewer.stop();
      await device.close();
    }
    expect(await listInbox(sellerFetch(), sellerInbox)).toHaveLength(1);

    const joined = await cli('join', 'INV-1', '--profile', 'seller-desktop');
    expect(joined.code).toBe(0);
    expect(joined.out).toMatch(/^joined INV-1/);
    expect(await listInbox(sellerFetch(), sellerInbox)).toEqual([]);
    const shown = JSON.parse((await cli('show', 'INV-1', '--json', '--profile', 'seller-desktop')).out) as FoldedInvoice;
    expect([shown.buyer?.webId, shown.seller?.webId]).toEqual([pods.buyer.webId, pods.seller.webId]);
    const again = await cli('join', 'INV-1', '--profile', 'seller-desktop');
    expect(again.code).toBe(1);
    expect(again.err).toContain('no invitation to INV-1 waits in your inbox');
  });

  it('whose claimed sender did not create the invoice is refused with the reason, removed, and nothing is claimed', async () => {
    const created = await cli('create', 'F-1', '--profile', 'stranger-desktop', '--counterparty-webid', pods.seller.webId, '--counterparty-pod', pods.seller.podRoot, '--name', 'Mallory', '--counterparty-name', 'George', '--json');
    expect(created.code).toBe(0);
    const { op } = JSON.parse(created.out) as { op: AnyOp };
    // The genuine invitation (from the stranger) goes; a forged one says the buyer, whom the seller knows, sent it.
    for (const member of await listInbox(sellerFetch(), sellerInbox)) await removeInboxMember(sellerFetch(), member);
    const origin = opsContainerOf(pods.stranger.podRoot, op.invoiceId);
    const forged: Invitation = { sender: pods.buyer.webId, recipient: pods.seller.webId, invoiceId: op.invoiceId, origin, createInvoice: `${origin}${op.id}`, published: new Date().toISOString() };
    expect((await post(invitationJson(forged))).status).toBe(201);

    const refused = await cli('join', 'F-1', '--profile', 'seller-desktop');
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      `fedinvoice: refusing the invitation to F-1 from ${pods.buyer.webId}: the invoice was created by ${pods.stranger.webId}, not by the claimed sender (an inbox does not record who posted)`,
    );
    expect(await listInbox(sellerFetch(), sellerInbox)).toEqual([]);
    expect((await sellerFetch()(`${pods.seller.podRoot}invoices/${op.invoiceId}/`)).status).toBe(404);
  });

  it('that points at a folder another invoice uses is refused with the reason', async () => {
    // An invoice of the earlier layout (a key without a hash) on the stranger's pod, whose folder on the seller's pod
    // already holds another invoice.
    const invoiceId = asInvoiceId('OLD-7') as InvoiceId;
    const origin = asContainerUrl(`${pods.stranger.podRoot}invoices/OLD-7/ops/`);
    const party = (who: { webId: WebId; podRoot: string }, name: string) => ({ webId: who.webId, container: asContainerUrl(`${who.podRoot}invoices/OLD-7/ops/`), info: { name } });
    const create = withId({
      invoiceId,
      type: 'CreateInvoice',
      payload: { currency: 'EUR', buyer: party(pods.stranger, 'Mallory'), seller: party(pods.seller, 'George') },
      device: 'desktop',
      clock: { wallMs: Date.now(), counter: 0 },
      deps: [],
    }) as AnyOp;
    await putImmutable(strangerFetch(), `${origin}${create.id}`, opToTurtle(create));
    await setInvoiceAccess(strangerFetch(), `${pods.stranger.podRoot}invoices/OLD-7/`, pods.stranger.webId, [pods.seller.webId]);
    await claimInvoiceFolder(sellerFetch(), pods.seller.podRoot, invoiceId, asContainerUrl(`${pods.buyer.podRoot}invoices/OLD-7/ops/`));
    const invitation: Invitation = { sender: pods.stranger.webId, recipient: pods.seller.webId, invoiceId, origin, createInvoice: `${origin}${create.id}`, published: new Date().toISOString() };
    expect((await post(invitationJson(invitation))).status).toBe(201);

    const refused = await cli('join', 'OLD-7', '--profile', 'seller-desktop');
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      `fedinvoice: refusing the invitation to OLD-7 from ${pods.stranger.webId}: your folder ${pods.seller.podRoot}invoices/OLD-7/ already holds another invoice (created at ${pods.buyer.podRoot}invoices/OLD-7/ops/)`,
    );
    expect(await listInbox(sellerFetch(), sellerInbox)).toEqual([]);
  });

  it('that is oversized or malformed is refused unread or with the reason, and removed', async () => {
    const valid = JSON.parse(invitationJson({ sender: pods.buyer.webId, recipient: pods.seller.webId, invoiceId: asInvoiceId('X-1'), origin: asContainerUrl(`${pods.buyer.podRoot}invoices/X-1/ops/`), createInvoice: `${pods.buyer.podRoot}invoices/X-1/ops/${'a'.repeat(64)}`, published: '2026-11-29T08:00:00Z' })) as Record<string, unknown>;
    const cases: Array<[string, string, RegExp]> = [
      ['oversized', JSON.stringify({ ...valid, padding: 'x'.repeat(100_000) }), /is larger than 8192 bytes; fedinvoice refuses to read it/],
      ['malformed JSON', '{"type": "Invite", "actor": ', /not a fedinvoice invitation: it is not JSON/],
      ['an extra key', JSON.stringify({ ...valid, instrument: 'http://evil.example/' }), /not a fedinvoice invitation: unexpected keys instrument/],
      ['another context', JSON.stringify({ ...valid, '@context': 'https://www.w3.org/ns/activitystreams' }), /not a fedinvoice invitation: its @context is not fedinvoice's/],
    ];
    for (const [, body] of cases) expect((await post(body, 'application/json')).status).toBe(201);
    expect((await post('{"@context": "https://www.w3.org/ns/activitystreams", "type": "Invite", "actor": ', 'text/plain')).status).toBe(201);
    const listed = await cli('invitations', '--profile', 'seller-desktop', '--json');
    expect(listed.code).toBe(0);
    const { invitations, removed } = JSON.parse(listed.out) as { invitations: Invitation[]; removed: Array<{ refused: string }> };
    expect(invitations).toEqual([]);
    expect(removed).toHaveLength(cases.length + 1);
    for (const [what, , reason] of cases) expect(removed.some((entry) => reason.test(entry.refused)), what).toBe(true);
    expect(await listInbox(sellerFetch(), sellerInbox)).toEqual([]);
  });
});

describe('reading an invitation', () => {
  it('reads back exactly what was built, and refuses each claim of the wrong kind', () => {
    const base: Invitation = { sender: 'https://a.example/card#me' as WebId, recipient: 'https://b.example/card#me' as WebId, invoiceId: asInvoiceId('N-1'), origin: asContainerUrl('https://a.example/invoices/N-1/ops/'), createInvoice: `https://a.example/invoices/N-1/ops/${'b'.repeat(64)}`, published: '2026-11-29T08:00:00.000Z' };
    expect(readInvitation(invitationJson(base))).toEqual({ ok: true, invitation: base });
    const admitted = { ...base, addParticipant: `https://c.example/invoices/N-1/ops/${'c'.repeat(64)}` };
    expect(readInvitation(invitationJson(admitted))).toEqual({ ok: true, invitation: admitted });
    const broken: Array<[Partial<Invitation>, string]> = [
      [{ sender: 'mailto:a@example' as WebId }, 'its actor is not a WebID'],
      [{ origin: asContainerUrl('https://a.example/invoices/N-1/ops') }, 'its origin is not a container URL'],
      [{ createInvoice: `https://elsewhere.example/ops/${'b'.repeat(64)}` }, 'its CreateInvoice is not an op in its origin'],
      [{ createInvoice: 'https://a.example/invoices/N-1/ops/not-an-op' }, 'its CreateInvoice is not an op in its origin'],
      [{ invoiceId: asInvoiceId('../x') }, 'its invoice key is not one'],
      [{ published: 'yesterday' }, 'its published time is not an ISO instant'],
      [{ addParticipant: 'https://c.example/x' }, 'its AddParticipant is not an op URL'],
    ];
    for (const [change, reason] of broken) expect(readInvitation(invitationJson({ ...base, ...change }))).toEqual({ ok: false, reason });
  });
});
