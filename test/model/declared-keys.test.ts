import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeOp } from '../../src/model/builder.ts';
import { fold } from '../../src/model/fold.ts';
import { asInvoiceId, type ContainerUrl, type OpId, type WebId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { AnyOp, KeyBinding, OpType, PayloadByType, SourcedOp } from '../../src/model/ops.ts';
import { namedContainers, trustedKeys, type PublishedKey } from '../../src/model/signatures.ts';
import { cachedVerifier, generateDeviceKey, opSigner, type OpSigner } from '../../src/sync/device-key.ts';
import { evidenceContainerOf } from '../../src/sync/invoice-folder.ts';
import { fcParams } from '../support/fc.ts';
import { BUYER, SELLER, createPayload } from '../support/sim.ts';

// Keys that outlive the profile: a device declares its key on its first op of an invoice, and the declaration counts
// once another participant's signed ops have built on it, whatever the profile says later.

const invoiceId = asInvoiceId('INV-1');
const verify = cachedVerifier();
const T0 = 1_764_000_000_000;

interface Device {
  readonly signer: OpSigner;
  readonly webId: WebId;
  readonly container: ContainerUrl;
  readonly label: string;
}
const deviceOf = (party: { webId: WebId; container: ContainerUrl }, label: string): Device => ({ signer: opSigner(generateDeviceKey()), ...party, label });
const published = (device: Device, revoked = false): PublishedKey => ({ key: device.signer.publicKeyMultibase, controller: device.webId, label: device.label, revoked });
const bindingOf = (device: Device, controller = device.webId): KeyBinding => ({ controller, key: device.signer.publicKeyMultibase });

/** An op `device` signs, built on `deps`, declaring `declare` when given; read from `container` (its own by default). */
function signed<T extends OpType>(
  device: Device,
  type: T,
  payload: PayloadByType[T],
  deps: readonly AnyOp[],
  at: number,
  extra: { declare?: KeyBinding; container?: ContainerUrl } = {},
): SourcedOp {
  const heads = deps.map((op) => op.id as OpId);
  const view = { invoiceId, device: device.label, heads, latestClock: { wallMs: T0 + at - 1, counter: 0 }, ...(extra.declare ? { signingKey: extra.declare } : {}) };
  const op = device.signer.sign(makeOp(type, payload, view, T0 + at)) as AnyOp;
  return { op, container: extra.container ?? device.container };
}

const foldWith = (ops: readonly SourcedOp[], keys: readonly PublishedKey[]): FoldedInvoice =>
  fold(ops, { invoiceId, origin: SELLER.container, signatures: { keys, verify } });
const entry = (invoice: FoldedInvoice, sourced: SourcedOp) => invoice.log.find((one) => one.opId === sourced.op.id);

/** The seller creates (declaring its key), the buyer's first op declares the buyer's key, the seller quotes on it, the buyer comments. */
function negotiation() {
  const seller = deviceOf(SELLER, 'desktop');
  const buyer = deviceOf(BUYER, 'mobile');
  const create = signed(seller, 'CreateInvoice', createPayload(), [], 1, { declare: bindingOf(seller) });
  const cart = signed(buyer, 'AddToCart', { product: 'beans', quantity: 2 }, [create.op], 2, { declare: bindingOf(buyer) });
  const quote = signed(seller, 'QuoteItem', { product: 'beans', unitPrice: '1.50', taxRate: '21' }, [cart.op], 3);
  const later = signed(buyer, 'Comment', { text: 'made after the quote' }, [quote.op], 4);
  return { seller, buyer, create, cart, quote, later, ops: [create, cart, quote, later] };
}

describe('a key declared by its first op', () => {
  it('keeps verifying every op it signed after it is deleted from the profile, once the other party built on it', () => {
    const n = negotiation();
    const withProfile = foldWith(n.ops, [published(n.seller), published(n.buyer)]);
    const deleted = foldWith(n.ops, [published(n.seller)]);
    expect(withProfile.rejected).toEqual([]);
    expect(deleted.rejected).toEqual([]);
    expect(JSON.stringify(deleted)).toBe(JSON.stringify(withProfile));
    expect(deleted.comments.map((c) => c.text)).toEqual(['made after the quote']);
    const trust = trustedKeys(n.ops.map((s) => s.op), { keys: [published(n.seller)], verify }, new Set([BUYER.webId, SELLER.webId]));
    expect(trust.keys.get(n.buyer.signer.publicKeyMultibase)).toEqual({ ...published(n.buyer), vouchedBy: SELLER.webId });
  });

  it('keeps its id unchanged when absent: an op that declares nothing hashes as before the field existed', () => {
    const n = negotiation();
    expect(n.quote.op.signingKey).toBeUndefined();
    expect(JSON.stringify(n.quote.op)).not.toContain('signingKey');
    expect(n.cart.op.signingKey).toEqual(bindingOf(n.buyer));
  });

  it('does not count while only its own party built on it: deleted from the profile before anyone else saw it', () => {
    const n = negotiation();
    const ownOnly = [n.create, n.cart, signed(n.buyer, 'Comment', { text: 'the buyer builds on itself' }, [n.cart.op], 3)];
    const invoice = foldWith(ownOnly, [published(n.seller)]);
    expect(entry(invoice, n.cart)).toMatchObject({
      state: 'rejected',
      reason: expect.stringContaining('(unknown key), declared by the op itself but vouched for by no other participant'),
    });
    expect(entry(invoice, ownOnly[2]!)).toMatchObject({ reason: expect.stringContaining(`declared by op ${n.cart.op.id.slice(0, 12)}…`) });
  });

  it('is rejected when whoever runs a party pod writes an op with a fresh key declaring it as the party key', () => {
    const n = negotiation();
    const mallory = deviceOf(BUYER, 'desktop'); // a key nobody of the buyer made, written with the buyer's pod credentials
    const forged = signed(mallory, 'AddToCart', { product: 'gold', quantity: 100 }, [n.later.op], 5, { declare: bindingOf(mallory) });
    const invoice = foldWith([...n.ops, forged], [published(n.seller), published(n.buyer)]);
    expect(entry(invoice, forged)).toMatchObject({
      state: 'rejected',
      reason: expect.stringContaining('(unknown key), declared by the op itself but vouched for by no other participant'),
    });
    expect(invoice.items.map((item) => item.productCode)).toEqual(['beans']);
  });

  it('counts only through another participant: the party vouching for its own fresh key changes nothing', () => {
    const n = negotiation();
    const fresh = deviceOf(BUYER, 'laptop');
    const declaring = signed(fresh, 'Comment', { text: 'a new key' }, [n.later.op], 5, { declare: bindingOf(fresh) });
    const ownVouch = signed(n.buyer, 'Comment', { text: 'the buyer vouches for itself' }, [declaring.op], 6);
    const alone = foldWith([...n.ops, declaring, ownVouch], [published(n.seller), published(n.buyer)]);
    expect(entry(alone, declaring)?.state).toBe('rejected');
    const sellerVouch = signed(n.seller, 'Comment', { text: 'seen by the seller' }, [declaring.op], 6);
    const vouched = foldWith([...n.ops, declaring, sellerVouch], [published(n.seller), published(n.buyer)]);
    expect(entry(vouched, declaring)?.state).toBe('accepted');
  });

  it("takes only its own business's word for a key only declared: a key the seller makes up in the buyer's name counts for nobody else", () => {
    const n = negotiation();
    const madeUp = deviceOf(BUYER, 'phone'); // made by the seller, declared as the buyer's, kept in the seller's evidence
    const forged = signed(madeUp, 'AddToCart', { product: 'gold', quantity: 100 }, [n.later.op], 5, {
      declare: bindingOf(madeUp),
      container: evidenceContainerOf(SELLER.container),
    });
    const sellerVouch = signed(n.seller, 'Comment', { text: 'the seller builds on its own forgery' }, [forged.op], 6);
    const ops = [...n.ops, forged, sellerVouch];
    const keys = [published(n.seller), published(n.buyer)];
    const viewOf = (reader: WebId) => fold(ops, { invoiceId, origin: SELLER.container, signatures: { keys, verify, vouchers: new Set([reader]) } });
    const TAX_OFFICE = 'https://tax.example/profile/card#me' as WebId;
    for (const reader of [BUYER.webId, TAX_OFFICE]) {
      const view = viewOf(reader);
      expect(entry(view, forged)).toMatchObject({ state: 'rejected', reason: expect.stringContaining(`vouched for by no participant whose word this device takes (${reader})`) });
      expect(view.items.map((item) => item.productCode)).toEqual(['beans']);
    }
    // The seller's own devices take their business's word (what it built on, it verified then): the forgery fools only the forger.
    expect(entry(viewOf(SELLER.webId), forged)?.state).toBe('accepted');
  });

  it('chains: a key vouched for by a key that is itself only vouched for counts (a fixpoint)', () => {
    const n = negotiation();
    // Neither the buyer's nor the seller's key is published any more; a tax authority's is. The tax authority built on
    // the seller's CreateInvoice only (not on the buyer's op), so the buyer's key counts through the seller's, in a second round.
    const tax = deviceOf({ webId: 'https://tax.example/profile/card#me' as WebId, container: 'https://tax.example/invoices/INV/ops/' as ContainerUrl }, 'auditor');
    const admit = signed(n.seller, 'AddParticipant', { role: 'tax-authority', webId: tax.webId, container: tax.container, allowedTypes: ['Comment'] }, [n.create.op], 2);
    const taxNote = signed(tax, 'Comment', { text: 'audited' }, [admit.op], 3, { declare: bindingOf(tax) });
    const ops = [...n.ops, admit, taxNote];
    const trust = trustedKeys(ops.map((s) => s.op), { keys: [published(tax)], verify }, new Set([BUYER.webId, SELLER.webId, tax.webId]));
    expect(trust.keys.get(n.seller.signer.publicKeyMultibase)?.vouchedBy).toBe(tax.webId);
    expect(trust.keys.get(n.buyer.signer.publicKeyMultibase)?.vouchedBy).toBe(SELLER.webId);
    const invoice = foldWith(ops, [published(tax)]);
    expect(invoice.rejected).toEqual([]);
    expect(invoice.comments.map((c) => c.text).sort()).toEqual(['audited', 'made after the quote']);
    // Without the tax authority's word nothing anchors the chain: every key is only declared.
    expect(foldWith(n.ops, []).log.every((one) => one.state === 'rejected')).toBe(true);
  });

  it('is rejected when it contradicts a known binding: a key of the seller declared as the buyer key', () => {
    const n = negotiation();
    const lying = signed(n.seller, 'Comment', { text: 'my key is the buyer key' }, [n.later.op], 5, { declare: bindingOf(n.seller, BUYER.webId) });
    const invoice = foldWith([...n.ops, lying], [published(n.seller), published(n.buyer)]);
    expect(entry(invoice, lying)).toMatchObject({
      state: 'rejected',
      reason: expect.stringContaining(`as a key of ${BUYER.webId}, but it is a key of ${SELLER.webId}`),
    });
  });

  it('is rejected when it names a key other than the one that signed the op, or one key for two WebIDs', () => {
    const n = negotiation();
    const other = deviceOf(BUYER, 'tablet');
    const mismatch = signed(n.buyer, 'Comment', { text: 'declares another key' }, [n.later.op], 5, { declare: bindingOf(other) });
    const twice = deviceOf(BUYER, 'phone');
    const asBuyer = signed(twice, 'Comment', { text: 'as the buyer' }, [n.later.op], 5, { declare: bindingOf(twice) });
    const asSeller = signed(twice, 'Comment', { text: 'as the seller' }, [n.later.op], 5, { declare: bindingOf(twice, SELLER.webId) });
    const vouch = signed(n.seller, 'Comment', { text: 'built on both' }, [asBuyer.op, asSeller.op], 6);
    const invoice = foldWith([...n.ops, mismatch, asBuyer, asSeller, vouch], [published(n.seller), published(n.buyer)]);
    expect(entry(invoice, mismatch)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('a declaration names the key that signs it') });
    for (const op of [asBuyer, asSeller]) {
      expect(entry(invoice, op)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('declared as the key of several WebIDs') });
    }
  });

  it('yields to a revocation in the profile: the revoked key ops nobody of its business built on stay rejected', () => {
    const n = negotiation();
    const invoice = foldWith(n.ops, [published(n.seller), published(n.buyer, true)]);
    expect(entry(invoice, n.later)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('signed with the revoked key') });
  });

  it('gives the same invoice in any order, with evidence copies in the set, with or without the profile', () => {
    const n = negotiation();
    const copies = n.ops.filter((s) => s.container === BUYER.container).map((s) => ({ ...s, container: evidenceContainerOf(SELLER.container) }));
    const set = [...n.ops, ...copies];
    const expected = JSON.stringify(foldWith(set, [published(n.seller), published(n.buyer)]));
    let runs = 0;
    let deletedRuns = 0;
    fc.assert(
      fc.property(fc.shuffledSubarray(set, { minLength: set.length, maxLength: set.length }), fc.boolean(), (order, deleted) => {
        runs++;
        if (deleted) deletedRuns++;
        const keys = deleted ? [published(n.seller)] : [published(n.buyer), published(n.seller)];
        expect(JSON.stringify(foldWith(order, keys))).toBe(expected);
      }),
      fcParams(200),
    );
    expect(deletedRuns).toBeGreaterThan(runs / 5);
    expect(namedContainers(set.map((s) => s.op)).byWebId.size).toBe(2);
  });
});
