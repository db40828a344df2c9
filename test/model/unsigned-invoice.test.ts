import { describe, expect, it } from 'vitest';
import { makeOp } from '../../src/model/builder.ts';
import { fold } from '../../src/model/fold.ts';
import { asContainerUrl, asInvoiceId, asWebId } from '../../src/model/ids.ts';
import type { AnyOp, SourcedOp } from '../../src/model/ops.ts';
import type { PublishedKey } from '../../src/model/signatures.ts';
import { cachedVerifier, generateDeviceKey, opSigner } from '../../src/sync/device-key.ts';

// An invoice made before signatures (every op unsigned, the CreateInvoice included) is judged by where its ops live,
// even by a device that requires signatures; one signed CreateInvoice makes every op of the invoice need a signature.
const buyer = asWebId('https://buyer.example/profile/card#me');
const seller = asWebId('https://seller.example/profile/card#me');
const buyerOps = asContainerUrl('https://buyer.example/invoices/OLD-1/ops/');
const sellerOps = asContainerUrl('https://seller.example/invoices/OLD-1/ops/');
const invoiceId = asInvoiceId('OLD-1');
const key = generateDeviceKey();
const signer = opSigner(key);
const keys: PublishedKey[] = [{ key: key.publicKeyMultibase, controller: buyer, label: 'desktop', revoked: false }];
const policy = { signatures: { keys, verify: cachedVerifier() } };

function negotiation(signCreate: boolean): SourcedOp[] {
  const context = { invoiceId, device: 'desktop', latestClock: { wallMs: 0, counter: 0 } };
  const payload = {
    currency: 'EUR',
    buyer: { webId: buyer, container: buyerOps, info: { name: 'Michiel' } },
    seller: { webId: seller, container: sellerOps, info: { name: 'George' } },
  };
  const created = makeOp('CreateInvoice', payload, { ...context, heads: [] }, 1_000);
  const create: AnyOp = signCreate ? signer.sign(created) : created;
  const add = makeOp('AddToCart', { product: 'beans', quantity: 3 }, { ...context, heads: [create.id], latestClock: create.clock }, 2_000);
  return [{ op: create, container: buyerOps }, { op: add, container: buyerOps }];
}

describe('signatures and invoices made before them', () => {
  it('folds an unsigned invoice by where its ops live, with or without a signature policy', () => {
    const ops = negotiation(false);
    const plain = fold(ops);
    const required = fold(ops, policy);
    expect(required.rejected).toEqual([]);
    expect(required.items).toEqual(plain.items);
    expect(required.items.map((item) => [item.productCode, item.desired])).toEqual([['beans', 3]]);
  });

  it('rejects an unsigned op of an invoice whose CreateInvoice is signed, naming the missing signature', () => {
    const required = fold(negotiation(true), policy);
    expect(required.items).toEqual([]);
    expect(required.rejected.map((entry) => entry.type)).toEqual(['AddToCart']);
    expect(required.rejected[0]!.reason).toMatch(/sign/i);
  });
});
