import { Parser, Writer } from 'n3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOp } from '../../src/model/builder.ts';
import type { InvoiceId } from '../../src/model/ids.ts';
import { invoiceKeyOf } from '../../src/model/invoice-key.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { AnyOp, KeyBinding } from '../../src/model/ops.ts';
import { readPublishedKeys, revokeDeviceKey } from '../../src/pod/device-keys.ts';
import { listContainer, putImmutable } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { generateDeviceKey, opSigner, type OpSigner } from '../../src/sync/device-key.ts';
import { verifyBundle } from '../../src/sync/evidence-bundle.ts';
import { evidenceContainerOf, opsContainerOf } from '../../src/sync/invoice-folder.ts';
import { KEY_TTL_MS } from '../../src/sync/participant-keys.ts';
import type { Replica } from '../../src/sync/replica.ts';
import { loginNewDevice, startTestPods, type TestPods } from '../support/pods.ts';
import { signingReplica } from '../support/signing.ts';

// Non-repudiation on two real Community Solid Servers: every op signed by its device, checked against the keys the
// businesses publish with their WebIDs, and evidence copies that outlive a party deleting its own ops.
let pods: TestPods;

beforeAll(async () => {
  pods = await startTestPods();
}, 300_000);

afterAll(async () => {
  await pods?.stop();
});

/** The devices' clock: moved ahead by the tests that need the keys' time to live (KEY_TTL_MS) to pass. */
let clockAhead = 0;
const clock = () => Date.now() + clockAhead;

interface Devices {
  bd: Replica;
  bm: Replica;
  sd: Replica;
  sm: Replica;
  signers: { bd: OpSigner; sd: OpSigner };
}

/** Four signing devices on an invoice the seller created, with a priced line every device has seen. */
async function pricedInvoice(number: string): Promise<{ invoiceId: InvoiceId; devices: Devices }> {
  const make = (who: 'buyer' | 'seller', device: 'desktop' | 'mobile') => {
    const { replica, key } = signingReplica(pods[who], pods[who].devices[device], device, clock);
    return { replica, signer: opSigner(key) };
  };
  const [bd, bm, sd, sm] = [make('buyer', 'desktop'), make('buyer', 'mobile'), make('seller', 'desktop'), make('seller', 'mobile')];
  const invoiceId = invoiceKeyOf(pods.seller.podRoot, number);
  await sd.replica.createInvoice(number, {
    as: 'seller',
    currency: 'EUR',
    counterparty: { webId: pods.buyer.webId, podRoot: pods.buyer.podRoot },
    ownInfo: { name: 'George' },
    counterpartyInfo: { name: 'Michiel' },
  });
  for (const device of [bd, bm, sm]) await device.replica.joinInvoice(invoiceId, sd.replica.ownContainer(invoiceId));
  await bd.replica.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 2 });
  await sd.replica.sync(invoiceId);
  await sd.replica.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '1.50', taxRate: '21' });
  const devices = { bd: bd.replica, bm: bm.replica, sd: sd.replica, sm: sm.replica, signers: { bd: bd.signer, sd: sd.signer } };
  for (const device of [bd, bm, sd, sm]) expect((await device.replica.sync(invoiceId)).invoice.totals.gross).toBe('3.63');
  return { invoiceId, devices };
}

/** Deletes every device key from a WebID profile (the key nodes and the WebID's links to them): not a revocation. */
async function removeDeviceKeys(fetchFn: typeof fetch, webId: string): Promise<void> {
  const url = webId.split('#')[0]!;
  const quads = new Parser({ baseIRI: url }).parse(await (await fetchFn(url, { headers: { accept: 'text/turtle' } })).text());
  const doomed = quads.filter((q) => q.subject.value.includes('#device-key-') || q.predicate.value === 'https://w3id.org/security#assertionMethod');
  const triples = new Writer({ format: 'N-Triples' }).quadsToString(doomed);
  const body = `@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:patch a solid:InsertDeletePatch; solid:deletes {\n${triples}\n}.\n`;
  const response = await fetchFn(url, { method: 'PATCH', headers: { 'content-type': 'text/n3' }, body });
  expect(response.ok).toBe(true);
}

const entryOf = (invoice: FoldedInvoice, op: AnyOp) => invoice.log.find((entry) => entry.opId === op.id);

/** A Comment built on `view`, as a device would make it, not yet signed. */
const commentOn = (view: FoldedInvoice, invoiceId: InvoiceId, text: string, device = 'desktop', signingKey?: KeyBinding): AnyOp =>
  makeOp('Comment', { text }, { invoiceId, device, heads: view.heads, latestClock: view.latestClock, ...(signingKey ? { signingKey } : {}) }, Date.now()) as AnyOp;

describe('device keys published with the WebID', () => {
  it("every device's key is in its business's WebID profile, as a Multikey with the device's label", async () => {
    const { invoiceId, devices } = await pricedInvoice('INV-SIG-KEYS');
    const buyerKeys = await readPublishedKeys(fetch, pods.buyer.webId);
    expect([...new Set(buyerKeys.map((key) => key.label))].sort()).toEqual(['desktop', 'mobile']);
    expect(buyerKeys.every((key) => key.controller === pods.buyer.webId && key.key.startsWith('z6Mk') && !key.revoked)).toBe(true);
    const view = await devices.sd.view(invoiceId);
    expect(view.rejected).toEqual([]);
    expect(view.log.every((entry) => entry.state === 'accepted')).toBe(true);
  });
});

describe("ops in a party's container that its devices did not sign", () => {
  it('are rejected with their reasons: unsigned, signed with an unknown key (declared by the op itself or not), signed with the counterparty key', async () => {
    const { invoiceId, devices } = await pricedInvoice('INV-SIG-FORGED');
    const buyerContainer = opsContainerOf(pods.buyer.podRoot, invoiceId);
    const view = await devices.bd.view(invoiceId);
    const unsigned = commentOn(view, invoiceId, 'written with the pod credentials, not signed');
    const stranger = opSigner(generateDeviceKey()).sign(commentOn(view, invoiceId, 'signed with a key nobody published')) as AnyOp;
    const counterparty = devices.signers.sd.sign(commentOn(view, invoiceId, "signed with the seller's key")) as AnyOp;
    const fresh = opSigner(generateDeviceKey());
    const declaring = fresh.sign(commentOn(view, invoiceId, 'a fresh key declared as the buyer key', 'desktop', { controller: pods.buyer.webId, key: fresh.publicKeyMultibase })) as AnyOp;
    for (const op of [unsigned, stranger, counterparty, declaring]) {
      expect(await putImmutable(pods.buyer.devices.desktop.fetch, `${buyerContainer}${op.id}`, opToTurtle(op))).toBe('created');
    }
    for (const device of [devices.sd, devices.bm]) {
      const { invoice } = await device.sync(invoiceId);
      expect(entryOf(invoice, unsigned)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('it is not signed') });
      expect(entryOf(invoice, stranger)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('no participant has published with its WebID (unknown key)') });
      expect(entryOf(invoice, declaring)).toMatchObject({
        state: 'rejected',
        reason: expect.stringContaining('(unknown key), declared by the op itself but vouched for by no participant whose word this device takes'),
      });
      expect(entryOf(invoice, counterparty)).toMatchObject({
        state: 'rejected',
        reason: expect.stringContaining(`signed with a key of ${pods.seller.webId} (device desktop) but was read from the op container of ${pods.buyer.webId}`),
      });
      expect(invoice.comments).toEqual([]);
    }
  });
});

describe('a revoked device', () => {
  it('keeps the ops its business had built on; its later ops are rejected with the reason', async () => {
    const { invoiceId, devices } = await pricedInvoice('INV-SIG-REVOKE');
    const earlier = (await devices.bm.write(invoiceId, 'AddToCart', { product: 'tea', quantity: 1 })).op;
    await devices.bd.sync(invoiceId);
    await devices.bd.write(invoiceId, 'Comment', { text: 'tea added from the mobile, seen here' });
    const revoked = await revokeDeviceKey(pods.buyer.devices.desktop.fetch, pods.buyer.webId, 'mobile');
    // Every key labelled "mobile" (this file's earlier invoices made some too) is revoked.
    expect(revoked.length).toBeGreaterThan(0);
    expect(revoked.every((key) => key.label === 'mobile' && key.revoked)).toBe(true);
    // A device reads a profile it has read before once the keys' time to live is over: a revocation takes that long.
    clockAhead += KEY_TTL_MS;
    // The stolen mobile has not heard of the revocation: it writes as before, and its own fold accepts it.
    const later = (await devices.bm.write(invoiceId, 'AddToCart', { product: 'gold', quantity: 100 })).op;
    for (const device of [devices.sd, devices.bd]) {
      const { invoice } = await device.sync(invoiceId);
      expect(entryOf(invoice, earlier)?.state).toBe('accepted');
      expect(entryOf(invoice, later)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('signed with the revoked key') });
      expect(invoice.items.map((item) => item.productCode).sort()).toEqual(['beans', 'tea']);
    }
    await expect(devices.bm.sync(invoiceId).then(() => devices.bm.write(invoiceId, 'Comment', { text: 'still here' }))).rejects.toThrow(/revoked key/);
  });
});

describe('evidence outlives deletion', () => {
  it(`after the seller shipped, the buyer deletes its Accept, then all its ops and its device keys from its profile: every seller device, new ones and a tax authority still fold "shipped"; a third party that never saw its keys does not take the seller's word for them`, async () => {
    const { invoiceId, devices } = await pricedInvoice('INV-SIG-EVIDENCE');
    await devices.sd.propose(invoiceId);
    await devices.bd.sync(invoiceId);
    const accept = (await devices.bd.accept(invoiceId)).op;
    await devices.sd.sync(invoiceId);
    await devices.sd.write(invoiceId, 'MarkShipped', {});
    const taxContainer = opsContainerOf(pods.stranger.podRoot, invoiceId);
    await devices.sd.write(invoiceId, 'AddParticipant', { role: 'tax-authority', webId: pods.stranger.webId, container: taxContainer, allowedTypes: ['Comment'] });
    const before = (await devices.sd.sync(invoiceId)).invoice;
    expect(before.status).toBe('shipped');
    expect(before.agreement?.acceptOpId).toBe(accept.id);

    const evidence = await listContainer(pods.seller.devices.desktop.fetch, evidenceContainerOf(devices.sd.ownContainer(invoiceId)));
    expect(evidence.notModified ? [] : evidence.members.length).toBeGreaterThan(0);

    const buyerContainer = devices.bd.ownContainer(invoiceId);
    const deleteFromBuyerPod = async (url: string) => {
      const response = await pods.buyer.devices.desktop.fetch(url, { method: 'DELETE' });
      expect(response.ok).toBe(true);
    };
    await deleteFromBuyerPod(`${buyerContainer}${accept.id}`);
    const afterAccept = await devices.sm.sync(invoiceId);
    expect(afterAccept.invoice.status).toBe('shipped');
    const listing = await listContainer(pods.buyer.devices.desktop.fetch, buyerContainer);
    for (const member of listing.notModified ? [] : listing.members) await deleteFromBuyerPod(member);
    const emptied = await listContainer(pods.buyer.devices.desktop.fetch, buyerContainer);
    expect(emptied.notModified ? -1 : emptied.members.length).toBe(0);
    // A new seller device and a tax authority join now, the buyer's ops gone: they fold "shipped" from the evidence.
    const login = (party: typeof pods.seller, label: string) =>
      loginNewDevice(party.server, { email: party.email, password: party.password, podName: party.podName }, label);
    const tablet = signingReplica(pods.seller, await login(pods.seller, 'seller-tablet'), 'tablet').replica;
    const taxOffice = signingReplica(pods.stranger, pods.stranger.devices.desktop, 'auditor').replica;
    const expectShipped = (view: FoldedInvoice) => {
      expect(view.rejected).toEqual([]);
      expect(view.status).toBe('shipped');
      expect(view.agreement?.acceptOpId).toBe(accept.id);
      expect(view.agreement?.termsHash).toBe(before.agreement?.termsHash);
      expect(view.agreement?.acceptedBy.webId).toBe(pods.buyer.webId);
      expect(view.items).toEqual(before.items);
      expect(view.totals).toEqual(before.totals);
    };
    expectShipped((await tablet.joinInvoice(invoiceId, devices.sd.ownContainer(invoiceId))).invoice);
    expectShipped((await taxOffice.joinInvoice(invoiceId, devices.sd.ownContainer(invoiceId))).invoice);

    // Not a revocation: the keys are gone from the profile, as if never published. Every device that saw them keeps
    // them; a new device of the seller counts them because its own business built on the buyer's declaration.
    await removeDeviceKeys(pods.buyer.devices.desktop.fetch, pods.buyer.webId);
    expect(await readPublishedKeys(fetch, pods.buyer.webId)).toEqual([]);
    clockAhead += KEY_TTL_MS; // every device reads the emptied profile
    const laptop = signingReplica(pods.seller, await login(pods.seller, 'seller-laptop'), 'laptop').replica;
    for (const device of [devices.sd, devices.sm, tablet, taxOffice]) expectShipped((await device.sync(invoiceId)).invoice);
    expectShipped((await laptop.joinInvoice(invoiceId, devices.sd.ownContainer(invoiceId))).invoice);
    // A third party that never saw the buyer's keys has only the seller's word for them: it does not take it.
    const newAuditor = signingReplica(pods.stranger, await login(pods.stranger, 'auditor-2'), 'auditor-2').replica;
    // Everything the buyer signed rests on that word, and so does what was built on it: the seller's admission of the
    // tax authority included. The new device says so instead of joining.
    await expect(newAuditor.joinInvoice(invoiceId, devices.sd.ownContainer(invoiceId))).rejects.toThrow(/rejected on this device, the first because .*vouched for by no participant whose word this device takes/);
    // The seller's evidence bundle still lists the buyer's (deleted) keys, and a third party verifies it offline.
    const verdict = verifyBundle(await devices.sd.evidenceBundle(invoiceId));
    expect(verdict.ok && verdict.invoice.status).toBe('shipped');
    expect(verdict.ok && verdict.trust.filter((one) => one.webId === pods.buyer.webId).every((one) => one.basis === 'vouched')).toBe(true);
  });
});
