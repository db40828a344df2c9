import { vatCategoryOf, type ContentState } from './content.ts';
import { COUNTRY_CODES } from './countries.ts';
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
  if (categories.has('K') && !COUNTRY_CODES.includes(content.delivery.address?.addressCountry ?? '')) {
    gaps.buyer.push('an intra-community supply (VAT category K) needs a delivery address whose country is an ISO 3166-1 code (like DE)');
  }
  if (minorUnits(currency) > 2) gaps.seller.push(`EN 16931 allows amounts with at most 2 decimals, and ${currency} has ${minorUnits(currency)}: invoice in another currency`);
  nationalGaps(content, gaps);
  if (content.invoiceDetails === null) gaps.seller.push('the seller has not given the invoice number and issue date (set-invoice-details)');
  if (content.paymentTerms === null) gaps.seller.push('the seller has not given payment terms (set-payment-terms)');
  for (const line of content.items) {
    if (line.qty === 0) continue;
    if (line.name === undefined) gaps.seller.push(`line ${line.productCode} has no item name (quote-item --name)`);
    const exact = line.unitPrice === null ? null : toDecimal(line.unitPrice).times(line.qty);
    if (exact !== null && line.lineTotal !== null && toDecimal(line.lineTotal).minus(exact).abs().gt(MAX_LINE_ROUNDING)) {
      gaps.seller.push(`line ${line.productCode}: ${line.qty} × ${line.unitPrice} does not round to whole ${currency} minor units within ${MAX_LINE_ROUNDING}, as EN 16931 (Peppol) requires; quote another unit price`);
    }
  }
  if (content.buyerReference === null) gaps.buyer.push('the buyer has not given its reference or purchase order (set-buyer-reference)');
  return gaps;
}

/** How far Peppol lets a line's net amount be from quantity × price (so a fraction of a yen on a line cannot be rounded away). */
const MAX_LINE_ROUNDING = '0.02';

/** AE (reverse charge) and K (intra-community supply) name the buyer's VAT identifier. */
const needsBuyerVat = (categories: ReadonlySet<VatCategory>): boolean => categories.has('AE') || categories.has('K');

function partyGaps(side: Side, info: PartyInfo, vatRequired: boolean, out: string[]): void {
  const the = `the ${side}`;
  if (info.postalAddress === undefined) out.push(`${the} has not given a postal address with its country`);
  if (info.endpoint === undefined) out.push(`${the} has not given an electronic address (Peppol endpoint and scheme)`);
  else if (info.endpoint.scheme === GLN_SCHEME && !isGln(info.endpoint.id)) out.push(`${the}'s electronic address is not a valid GLN (scheme 0088): 13 digits with a GS1 check digit`);
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

/** Dutch legal entity schemes Peppol's NL rules accept: the chamber of commerce (KvK) and OIN. */
const DUTCH_SCHEMES = ['0106', '0190'];
/** Countries whose Peppol national rules fedinvoice does not cover yet (it covers the Netherlands'). */
const UNCOVERED_COUNTRIES = ['DE', 'DK', 'GR', 'IS', 'IT', 'NO', 'SE'];

/** Peppol's national rules for the seller's country (the Netherlands'), and the countries not covered. */
function nationalGaps(content: ContentState, gaps: Record<Side, string[]>): void {
  const sellerCountry = content.sellerInfo.postalAddress?.countryCode;
  if (sellerCountry !== undefined && UNCOVERED_COUNTRIES.includes(sellerCountry)) {
    gaps.seller.push(`fedinvoice does not yet export for sellers in ${sellerCountry}: Peppol's national rules there are not covered`);
  }
  if (sellerCountry !== 'NL') return;
  const dutch = (side: Side, info: PartyInfo) => {
    if (info.postalAddress && info.postalAddress.postalCode === undefined) gaps[side].push(`the ${side} is in the Netherlands and has not given a postal code`);
    if (info.legalId === undefined || !DUTCH_SCHEMES.includes(info.legalIdScheme ?? '')) {
      gaps[side].push(`the ${side} is in the Netherlands and has not given its KvK (scheme 0106) or OIN (0190) number as legal registration id`);
    }
  };
  dutch('seller', content.sellerInfo);
  if (content.buyerInfo.postalAddress?.countryCode === 'NL') dutch('buyer', content.buyerInfo);
  if (!content.paymentTerms?.iban) gaps.seller.push('the seller is in the Netherlands and has not given the account to pay into (set-payment-terms --iban)');
}

const GLN_SCHEME = '0088';

/** A GS1 Global Location Number: 13 digits, the last a check digit (weights 3 and 1 from the right). */
export function isGln(id: string): boolean {
  if (!/^[0-9]{13}$/.test(id)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(id[11 - i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10 === Number(id[12]);
}
