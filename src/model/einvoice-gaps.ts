import { vatCategoryOf, type ContentState } from './content.ts';
import type { EInvoiceGaps } from './invoice.ts';
import { minorUnits, toDecimal } from './money.ts';
import type { PartyInfo, VatCategory } from './ops.ts';
import type { Side } from './roles.ts';

/**
 * What an e-invoice (EN 16931 with Peppol BIS Billing 3.0) of these terms would still lack, per party that can
 * give it: the seller's and the buyer's legal data, the seller's invoice number and lines, the VAT categories'
 * own conditions. Empty lists mean the terms can be exported. Pure: the fold calls it for the current terms, the
 * export for the agreed ones.
 */
export function eInvoiceGaps(content: ContentState, currency: string): EInvoiceGaps {
  const gaps: Record<Side, string[]> = { seller: [], buyer: [] };
  const categories = categoriesUsed(content, gaps);
  const vatRequired = [...categories].some((category) => category !== 'O');
  partyGaps('seller', content.sellerInfo, vatRequired, gaps.seller);
  partyGaps('buyer', content.buyerInfo, vatRequired && needsBuyerVat(categories), gaps.buyer);
  if (categories.has('O') && categories.size > 1) gaps.seller.push('VAT category O (not subject to VAT) cannot be combined with other categories on one invoice');
  if (categories.has('K') && content.delivery.date === null) gaps.seller.push('an intra-community supply (VAT category K) needs a delivery date');
  if (minorUnits(currency) > 2) gaps.seller.push(`EN 16931 allows amounts with at most 2 decimals, and ${currency} has ${minorUnits(currency)}: invoice in another currency`);
  if (content.invoiceDetails === null) gaps.seller.push('the seller has not given the invoice number and issue date (set-invoice-details)');
  if (content.paymentTerms === null) gaps.seller.push('the seller has not given payment terms (set-payment-terms)');
  for (const line of content.items) {
    if (line.qty > 0 && line.name === undefined) gaps.seller.push(`line ${line.productCode} has no item name (quote-item --name)`);
  }
  if (content.buyerReference === null) gaps.buyer.push('the buyer has not given its reference or purchase order (set-buyer-reference)');
  return gaps;
}

/** AE (reverse charge) and K (intra-community supply) name the buyer's VAT identifier. */
const needsBuyerVat = (categories: ReadonlySet<VatCategory>): boolean => categories.has('AE') || categories.has('K');

function partyGaps(side: Side, info: PartyInfo, vatRequired: boolean, out: string[]): void {
  const the = `the ${side}`;
  if (info.postalAddress === undefined) out.push(`${the} has not given a postal address with its country`);
  if (info.endpoint === undefined) out.push(`${the} has not given an electronic address (Peppol endpoint and scheme)`);
  if (side === 'seller' && info.vatId === undefined && info.legalId === undefined) {
    out.push(`${the} has given neither a VAT identifier nor a legal registration identifier`);
  }
  if (vatRequired && info.vatId === undefined) out.push(`${the} has not given a VAT identifier`);
  if (info.vatId !== undefined && !/^[A-Z]{2}/.test(info.vatId)) out.push(`${the}'s VAT identifier must start with its country code (like NL)`);
}

const ZERO_RATED: ReadonlySet<VatCategory> = new Set(['Z', 'E', 'AE', 'K', 'G', 'O']);

/** Every VAT category the terms use; a rate its category does not allow is a gap of whoever wrote it. */
function categoriesUsed(content: ContentState, gaps: Record<Side, string[]>): Set<VatCategory> {
  const used = new Set<VatCategory>();
  const check = (side: Side, what: string, category: VatCategory | undefined, rate: string) => {
    const effective = vatCategoryOf(category, rate);
    used.add(effective);
    const zero = toDecimal(rate).isZero();
    if (ZERO_RATED.has(effective) && !zero) gaps[side].push(`${what} is in VAT category ${effective}, whose rate must be 0, not ${rate}`);
    if (effective === 'S' && zero) gaps[side].push(`${what} is in VAT category S (standard rate), whose rate must be above 0`);
  };
  for (const line of content.items) if (line.qty > 0 && line.taxRate !== null) check('seller', `line ${line.productCode}`, line.taxCategory, line.taxRate);
  for (const extra of content.extras) check(extra.addedBy.role.startsWith('buyer') ? 'buyer' : 'seller', `extra ${extra.key}`, extra.taxCategory, extra.taxRate);
  for (const discount of content.discounts) for (const part of discount.parts) check('seller', `discount ${discount.key}`, part.category, part.rate);
  return used;
}
