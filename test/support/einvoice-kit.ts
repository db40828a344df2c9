import { acceptanceOf, proposalOf } from '../../src/model/builder.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { PayloadByType } from '../../src/model/ops.ts';
import {
  DEMO_BUYER_INFO,
  DEMO_BUYER_REFERENCE,
  DEMO_INVOICE_DETAILS,
  DEMO_PAYMENT_TERMS,
  DEMO_SELLER_INFO,
} from '../../src/cli/demo-legal.ts';
import { syncAll, type Started } from './invoice-kit.ts';

/** What both parties state for an e-invoice; by default the demo's Dutch businesses. */
export interface LegalData {
  readonly seller: PayloadByType['SetSellerInfo'];
  readonly buyer: PayloadByType['SetBuyerInfo'];
  readonly details: PayloadByType['SetInvoiceDetails'];
  readonly terms: PayloadByType['SetPaymentTerms'];
  readonly reference: PayloadByType['SetBuyerReference'];
}
export const DEMO_LEGAL: LegalData = {
  seller: DEMO_SELLER_INFO,
  buyer: DEMO_BUYER_INFO,
  details: DEMO_INVOICE_DETAILS,
  terms: DEMO_PAYMENT_TERMS,
  reference: DEMO_BUYER_REFERENCE,
};

/** Each side writes its own legal data, from its own devices. */
export function giveLegalData(s: Started, legal: LegalData = DEMO_LEGAL): void {
  s.sd.write('SetSellerInfo', legal.seller, s.now());
  s.sm.write('SetInvoiceDetails', legal.details, s.now());
  s.sd.write('SetPaymentTerms', legal.terms, s.now());
  s.bd.write('SetBuyerInfo', legal.buyer, s.now());
  s.bm.write('SetBuyerReference', legal.reference, s.now());
  syncAll(s.all);
}

/** The seller proposes what it sees, the buyer accepts; every device has seen it. Returns the buyer's fold. */
export function agree(s: Started): FoldedInvoice {
  syncAll(s.all);
  s.sd.write('Propose', proposalOf(s.sd.view()), s.now());
  syncAll(s.all);
  s.bd.write('Accept', acceptanceOf(s.bd.view(), 'buyer'), s.now());
  syncAll(s.all);
  return s.bd.view();
}

/** The amounts of a UBL document by element name (in document order), read back as text. */
export function amountsIn(xml: string, element: string): string[] {
  return [...xml.matchAll(new RegExp(`<cbc:${element} currencyID="[A-Z]{3}">([^<]*)</cbc:${element}>`, 'g'))].map((m) => m[1]!);
}

/** The text of the one `<cac:parent>…<cbc:element>` in a document (first match). */
export function within(xml: string, parent: string): string {
  return new RegExp(`<cac:${parent}>([\\s\\S]*?)</cac:${parent}>`).exec(xml)?.[1] ?? '';
}
