import { describe, expect, it } from 'vitest';
import { acceptanceOf, makeOp, proposalOf } from '../../src/model/builder.ts';
import { fold } from '../../src/model/fold.ts';
import { asInvoiceId, type WebId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { AnyOp, OpType, PayloadByType, SourcedOp } from '../../src/model/ops.ts';
import type { PublishedKey } from '../../src/model/signatures.ts';
import { generateDeviceKey, opSigner, sharedVerifier } from '../../src/sync/device-key.ts';
import { verifyBundle, writeBundle } from '../../src/sync/evidence-bundle.ts';
import { generateNegotiation } from '../support/negotiation.ts';
import { BUYER, SELLER, createPayload } from '../support/sim.ts';

const T0 = 1_764_000_000_000;

// A bundle is checked offline, with no pod: it holds the ops and the keys that signed them. Any byte changed in an
// op's line makes it fail, naming that op.

/** A negotiation that reaches "received and paid", every op signed by a device key of its party. */
function signedDeal(): { ops: SourcedOp[]; keys: PublishedKey[] } {
  const n = generateNegotiation({ seed: 7, ops: 30, products: 2, statusFlow: 'end', syncRate: 0.4 });
  const keys: PublishedKey[] = [];
  const signers = new Map<string, ReturnType<typeof opSigner>>();
  const ops = n.ops.map(({ op, container }) => {
    const owner = container === BUYER.container ? BUYER.webId : SELLER.webId;
    const id = `${owner} ${op.device}`;
    let signer = signers.get(id);
    if (!signer) {
      signers.set(id, (signer = opSigner(generateDeviceKey())));
      keys.push({ key: signer.publicKeyMultibase, controller: owner, label: op.device, revoked: false });
    }
    return { op: signer.sign(op) as AnyOp, container };
  });
  return { ops, keys };
}

const { ops, keys } = signedDeal();
const invoice = fold(ops, { origin: BUYER.container, signatures: { keys, verify: sharedVerifier } });
const bundle = writeBundle(invoice, ops, BUYER.container, keys);

describe('an evidence bundle', () => {
  it('verifies offline: the agreed invoice, who signed each decision, the terms hash', () => {
    expect(invoice.status).toBe('received and paid');
    const verdict = verifyBundle(bundle);
    if (!verdict.ok) throw new Error(verdict.problem);
    expect(verdict.termsHash).toBe(invoice.agreement!.termsHash);
    expect(verdict.invoice.status).toBe('received and paid');
    expect(verdict.invoice.totals).toEqual(invoice.totals);
    const accept = verdict.decisions.find((decision) => decision.type === 'Accept' && decision.opId === invoice.agreement!.acceptOpId);
    expect(accept?.webId).toBe(invoice.agreement!.acceptedBy.webId);
    expect(verdict.decisions.map((decision) => decision.type)).toEqual(expect.arrayContaining(['Propose', 'Accept', 'MarkShipped', 'MarkPaid', 'MarkReceived']));
  });

  it('fails when any one byte of an op line changes, naming that op', () => {
    const lines = bundle.trimEnd().split('\n');
    let checked = 0;
    // Every line's every 7th byte (a different character at each place), and the last byte of every line.
    for (let l = 1; l < lines.length; l++) {
      const line = lines[l]!;
      const id = (JSON.parse(line) as AnyOp).id;
      for (let at = 0; at < line.length; at += line.length - at > 7 ? 7 : 1) {
        const changed = line.slice(0, at) + (line[at] === 'a' ? 'b' : 'a') + line.slice(at + 1);
        const tampered = [...lines.slice(0, l), changed, ...lines.slice(l + 1)].join('\n');
        const verdict = verifyBundle(tampered);
        expect(verdict.ok, `byte ${at} of line ${l + 1} changed`).toBe(false);
        if (!verdict.ok && verdict.opId !== id) {
          // A changed id names the op by the id the line now claims.
          expect(verdict.problem).toContain(`line ${l + 1}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(lines.length * 10);
  });

  it('fails when an op is left out, naming an op built on it', () => {
    const lines = bundle.trimEnd().split('\n');
    const acceptLine = lines.findIndex((line) => line.includes(`"id":"${invoice.agreement!.acceptOpId}"`));
    const verdict = verifyBundle([...lines.slice(0, acceptLine), ...lines.slice(acceptLine + 1)].join('\n'));
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.problem).toMatch(/^op [0-9a-f]{64} \(\w+\) cannot be placed: waits for op /);
  });

  it('says every key rests on its header when no op declares one (data of an earlier version)', () => {
    const verdict = verifyBundle(bundle);
    if (!verdict.ok) throw new Error(verdict.problem);
    expect(verdict.trust.map((one) => one.basis)).toEqual(keys.map(() => 'header'));
    expect(new Set(verdict.trust.map((one) => one.webId))).toEqual(new Set([BUYER.webId, SELLER.webId]));
  });

  it('fails when a key in its header is swapped for another', () => {
    const lines = bundle.trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { keys: PublishedKey[] };
    header.keys[0] = { ...header.keys[0]!, key: generateDeviceKey().publicKeyMultibase };
    const verdict = verifyBundle([JSON.stringify(header), ...lines.slice(1)].join('\n'));
    expect(verdict).toMatchObject({ ok: false, problem: expect.stringContaining('which the bundle does not list') });
  });
});

/** A deal whose devices declared their keys on their first ops, as signing replicas do: seller creates, buyer orders, agreed, shipped. */
function declaredDeal() {
  const device = (party: { webId: WebId }, label: string) => ({ party, label, signer: opSigner(generateDeviceKey()) });
  const seller = device(SELLER, 'desktop');
  const buyer = device(BUYER, 'mobile');
  const published = [seller, buyer].map((d) => ({ key: d.signer.publicKeyMultibase, controller: d.party.webId, label: d.label, revoked: false }));
  const policy = () => ({ keys: published, verify: sharedVerifier });
  const sourced: SourcedOp[] = [];
  const view = () => fold(sourced, { origin: SELLER.container, signatures: policy() });
  let at = T0;
  const write = <T extends OpType>(who: typeof seller, type: T, payload: PayloadByType[T] | ((v: FoldedInvoice) => PayloadByType[T]), declare = false): AnyOp => {
    const v = view();
    const signingKey = declare ? { signingKey: { controller: who.party.webId, key: who.signer.publicKeyMultibase } } : {};
    const content = typeof payload === 'function' ? payload(v) : payload;
    const deviceView = { invoiceId: asInvoiceId('INV-1'), device: who.label, heads: v.heads, latestClock: v.latestClock, ...signingKey };
    const op = who.signer.sign(makeOp(type, content, deviceView, (at += 1000))) as AnyOp;
    sourced.push({ op, container: who.party === SELLER ? SELLER.container : BUYER.container });
    return op;
  };
  write(seller, 'CreateInvoice', createPayload(), true);
  write(buyer, 'AddToCart', { product: 'beans', quantity: 2 }, true);
  write(seller, 'QuoteItem', { product: 'beans', unitPrice: '1.50', taxRate: '21' });
  write(seller, 'Propose', proposalOf);
  write(buyer, 'Accept', (v) => acceptanceOf(v, 'buyer'));
  write(seller, 'MarkShipped', {});
  const invoice = view();
  return { seller, buyer, sourced, invoice, bundle: writeBundle(invoice, sourced, SELLER.container, policy().keys) };
}

describe("an evidence bundle's trust", () => {
  const deal = declaredDeal();
  const keyOf = (d: typeof deal.buyer) => d.signer.publicKeyMultibase;

  it('names, per party, the keys it relied on and who vouched for each: the other party built on its declaration', () => {
    expect(deal.invoice.status).toBe('shipped');
    const verdict = verifyBundle(deal.bundle);
    if (!verdict.ok) throw new Error(verdict.problem);
    expect(verdict.trust).toEqual(
      [
        { webId: BUYER.webId, key: keyOf(deal.buyer), device: 'mobile', basis: 'vouched', vouchedBy: [SELLER.webId] },
        { webId: SELLER.webId, key: keyOf(deal.seller), device: 'desktop', basis: 'vouched', vouchedBy: [BUYER.webId] },
      ].sort((a, b) => (a.webId < b.webId ? -1 : 1)),
    );
    const pinned = verifyBundle(deal.bundle, { pins: [{ webId: BUYER.webId, key: keyOf(deal.buyer) }] });
    expect(pinned.ok && pinned.trust.find((one) => one.webId === BUYER.webId)?.basis).toBe('pinned');
  });

  it("lists and verifies a key gone from the writer's profiles, declared and vouched for by the other party", () => {
    const sellerOnly = [{ key: keyOf(deal.seller), controller: SELLER.webId, label: 'desktop', revoked: false }];
    const written = writeBundle(deal.invoice, deal.sourced, SELLER.container, sellerOnly);
    const header = JSON.parse(written.split('\n')[0]!) as { keys: PublishedKey[] };
    expect(header.keys.map((key) => key.key).sort()).toEqual([keyOf(deal.buyer), keyOf(deal.seller)].sort());
    const verdict = verifyBundle(written);
    expect(verdict.ok && verdict.invoice.status).toBe('shipped');
  });

  it("fails when a party's key in the header is swapped for an attacker's and its ops signed again: the declaration names the real key", () => {
    const attacker = opSigner(generateDeviceKey());
    const lines = deal.bundle.trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { keys: PublishedKey[] };
    header.keys = header.keys.map((key) => (key.key === keyOf(deal.buyer) ? { ...key, key: attacker.publicKeyMultibase } : key));
    const resigned = lines.slice(1).map((line) => {
      const op = JSON.parse(line) as AnyOp;
      return JSON.stringify(op.proof!.key === keyOf(deal.buyer) ? attacker.sign(op) : op);
    });
    const verdict = verifyBundle([JSON.stringify(header), ...resigned].join('\n'));
    const declaring = deal.sourced[1]!.op;
    expect(verdict).toMatchObject({ ok: false, opId: declaring.id, problem: expect.stringContaining('but is signed with key') });
  });

  it('fails, naming the key, when a header key of a pinned WebID is neither pinned nor vouched for by another party', () => {
    // The bundle without declarations: nothing but the header vouches for the buyer's keys.
    const buyerKeys = keys.filter((key) => key.controller === BUYER.webId);
    const wrongPin = { webId: BUYER.webId, key: generateDeviceKey().publicKeyMultibase };
    const verdict = verifyBundle(bundle, { pins: [wrongPin] });
    expect(verdict).toMatchObject({ ok: false, problem: expect.stringContaining(`you pinned other keys for ${BUYER.webId} (--trust)`) });
    expect(!verdict.ok && buyerKeys.some((key) => verdict.problem.includes(key.key.slice(0, 12)))).toBe(true);
    const rightPins = buyerKeys.map((key) => ({ webId: BUYER.webId, key: key.key }));
    expect(verifyBundle(bundle, { pins: rightPins }).ok).toBe(true);
  });

  it("with a pin, accepts a party's other key when the counterparty vouched for it inside the bundle", () => {
    const verdict = verifyBundle(deal.bundle, { pins: [{ webId: BUYER.webId, key: generateDeviceKey().publicKeyMultibase }] });
    expect(verdict.ok).toBe(true);
    expect(verdict.ok && verdict.trust.find((one) => one.webId === BUYER.webId)?.basis).toBe('vouched');
  });
});
