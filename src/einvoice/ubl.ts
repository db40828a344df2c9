import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { vatCategoryOf } from '../model/content.ts';
import type { FoldedInvoice, InvoiceLine, TaxLine } from '../model/invoice.ts';
import type { PartyInfo, VatCategory } from '../model/ops.ts';
import { COUNTRY_CODES } from '../model/countries.ts';
import { Decimal, formatMoney } from '../model/money.ts';

/**
 * The agreed invoice as a UBL 2.1 Invoice for EN 16931 and Peppol BIS Billing 3.0. Pure: from the folded invoice
 * (whose content, once agreed, is the agreed terms) to XML text. Elements are written in the order the UBL XSD
 * fixes; every amount is the fold's, already rounded to the currency's minor unit. Callers check first that the
 * invoice is agreed and has no e-invoice gaps (`export.ts`).
 */

const NS = {
  '': 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2',
  cac: 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2',
  cbc: 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
} as const;
export const PEPPOL_CUSTOMIZATION = 'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0';
export const PEPPOL_PROFILE = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0';
/** UNCL 1001: a commercial invoice. */
const COMMERCIAL_INVOICE = '380';
/** UNCL 4461: credit transfer. */
const CREDIT_TRANSFER = '30';
/** UN/ECE Recommendation 20: "one" (a piece), for lines whose quote names no unit. */
export const DEFAULT_UNIT = 'C62';

/** Why a zero-rated category applies (EN 16931 asks for a reason on each of these in the VAT breakdown). */
const EXEMPTION: Partial<Record<VatCategory, { code?: string; text: string }>> = {
  E: { text: 'Exempt from VAT' },
  AE: { code: 'VATEX-EU-AE', text: 'Reverse charge' },
  K: { code: 'VATEX-EU-IC', text: 'Intra-community supply' },
  G: { code: 'VATEX-EU-G', text: 'Export outside the EU' },
  O: { code: 'VATEX-EU-O', text: 'Not subject to VAT' },
};

type Node = XMLBuilder;
type Prefixed = `cac:${string}` | `cbc:${string}`;

const add = (parent: Node, name: Prefixed, attributes?: Record<string, string>): Node =>
  parent.ele(NS[name.slice(0, 3) as 'cac' | 'cbc'], name, attributes);
/** A basic element with text; nothing when the value is absent (Peppol refuses empty elements). */
function text(parent: Node, name: Prefixed, value: string | null | undefined, attributes?: Record<string, string>): void {
  if (value !== null && value !== undefined && value !== '') add(parent, name, attributes).txt(value);
}

/** The document's UBL XML, pretty-printed. */
export function toUbl(invoice: FoldedInvoice): string {
  const currency = invoice.currency!;
  const doc = create({ version: '1.0', encoding: 'UTF-8' }).ele(NS[''], 'Invoice', { 'xmlns:cac': NS.cac, 'xmlns:cbc': NS.cbc });
  header(doc, invoice);
  const withoutVatIds = invoice.totals.tax.some((line) => line.category === 'O');
  party(add(add(doc, 'cac:AccountingSupplierParty'), 'cac:Party'), invoice.seller!.info, withoutVatIds);
  party(add(add(doc, 'cac:AccountingCustomerParty'), 'cac:Party'), invoice.buyer!.info, withoutVatIds);
  delivery(doc, invoice);
  payment(doc, invoice);
  allowancesAndCharges(doc, invoice, currency);
  taxTotal(doc, invoice.totals.tax, invoice.totals.taxTotal, currency);
  monetaryTotal(doc, invoice, currency);
  invoice.items.filter((line) => line.qty > 0).forEach((line, i) => invoiceLine(doc, line, i + 1, currency));
  return doc.end({ prettyPrint: true });
}

function header(doc: Node, invoice: FoldedInvoice): void {
  const details = invoice.invoiceDetails!;
  text(doc, 'cbc:CustomizationID', PEPPOL_CUSTOMIZATION);
  text(doc, 'cbc:ProfileID', PEPPOL_PROFILE);
  text(doc, 'cbc:ID', details.number);
  text(doc, 'cbc:IssueDate', details.issueDate);
  text(doc, 'cbc:DueDate', dueDateOf(invoice));
  text(doc, 'cbc:InvoiceTypeCode', COMMERCIAL_INVOICE);
  text(doc, 'cbc:Note', details.note);
  text(doc, 'cbc:DocumentCurrencyCode', invoice.currency);
  text(doc, 'cbc:BuyerReference', invoice.buyerReference?.reference);
  const order = invoice.buyerReference?.orderReference;
  if (order) text(add(doc, 'cac:OrderReference'), 'cbc:ID', order);
}

/** The issue date plus the payment terms' days, or null when the terms give no days. */
export function dueDateOf(invoice: Pick<FoldedInvoice, 'invoiceDetails' | 'paymentTerms'>): string | null {
  const days = invoice.paymentTerms?.dueDays;
  const issued = invoice.invoiceDetails?.issueDate;
  if (days === null || days === undefined || !issued) return null;
  const date = new Date(`${issued}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function party(node: Node, info: PartyInfo, withoutVatIds: boolean): void {
  if (info.endpoint) text(node, 'cbc:EndpointID', info.endpoint.id, { schemeID: info.endpoint.scheme });
  const address = info.postalAddress!;
  const postal = add(node, 'cac:PostalAddress');
  text(postal, 'cbc:StreetName', address.streetAddress);
  text(postal, 'cbc:CityName', address.addressLocality);
  text(postal, 'cbc:PostalZone', address.postalCode);
  text(add(postal, 'cac:Country'), 'cbc:IdentificationCode', address.countryCode);
  if (info.vatId && !withoutVatIds) {
    const scheme = add(node, 'cac:PartyTaxScheme');
    text(scheme, 'cbc:CompanyID', info.vatId);
    text(add(scheme, 'cac:TaxScheme'), 'cbc:ID', 'VAT');
  }
  const legal = add(node, 'cac:PartyLegalEntity');
  text(legal, 'cbc:RegistrationName', info.name);
  text(legal, 'cbc:CompanyID', info.legalId, info.legalIdScheme ? { schemeID: info.legalIdScheme } : undefined);
  if (info.contactName || info.phone || info.email) {
    const contact = add(node, 'cac:Contact');
    text(contact, 'cbc:Name', info.contactName);
    text(contact, 'cbc:Telephone', info.phone);
    text(contact, 'cbc:ElectronicMail', info.email);
  }
}

function delivery(doc: Node, invoice: FoldedInvoice): void {
  const { date, address } = invoice.delivery;
  const country = address && COUNTRY_CODES.includes(address.addressCountry) ? address.addressCountry : null;
  if (!date && !country) return;
  const node = add(doc, 'cac:Delivery');
  text(node, 'cbc:ActualDeliveryDate', date);
  if (!address || !country) return;
  const to = add(add(node, 'cac:DeliveryLocation'), 'cac:Address');
  text(to, 'cbc:StreetName', address.streetAddress);
  text(to, 'cbc:CityName', address.addressLocality);
  text(to, 'cbc:PostalZone', address.postalCode);
  text(add(to, 'cac:Country'), 'cbc:IdentificationCode', country);
}

function payment(doc: Node, invoice: FoldedInvoice): void {
  const terms = invoice.paymentTerms;
  if (terms?.iban) {
    const means = add(doc, 'cac:PaymentMeans');
    text(means, 'cbc:PaymentMeansCode', CREDIT_TRANSFER);
    text(means, 'cbc:PaymentID', terms.paymentReference);
    const account = add(means, 'cac:PayeeFinancialAccount');
    text(account, 'cbc:ID', terms.iban);
    if (terms.bic) text(add(account, 'cac:FinancialInstitutionBranch'), 'cbc:ID', terms.bic);
  }
  if (terms) text(add(doc, 'cac:PaymentTerms'), 'cbc:Note', terms.terms);
}

/** Extras are document-level charges; each discount is one allowance per VAT category and rate it comes off. */
function allowancesAndCharges(doc: Node, invoice: FoldedInvoice, currency: string): void {
  for (const extra of invoice.extras) {
    allowanceCharge(doc, true, extra.description, extra.amount, vatCategoryOf(extra.taxCategory, extra.taxRate), extra.taxRate, currency);
  }
  for (const discount of invoice.discounts) {
    for (const part of discount.parts) allowanceCharge(doc, false, discount.description, part.amount, part.category, part.rate, currency);
  }
}

type Tax = readonly [category: VatCategory, rate: string, currency: string];
function allowanceCharge(doc: Node, charge: boolean, reason: string, amount: string, ...[category, rate, currency]: Tax): void {
  const node = add(doc, 'cac:AllowanceCharge');
  text(node, 'cbc:ChargeIndicator', String(charge));
  text(node, 'cbc:AllowanceChargeReason', reason);
  text(node, 'cbc:Amount', amount, { currencyID: currency });
  taxCategory(node, 'cac:TaxCategory', category, rate, false);
}

function taxCategory(parent: Node, name: Prefixed, category: VatCategory, rate: string, withReason: boolean): void {
  const node = add(parent, name);
  text(node, 'cbc:ID', category);
  // Not subject to VAT (O) has no rate at all.
  if (category !== 'O') text(node, 'cbc:Percent', rate);
  const exemption = withReason ? EXEMPTION[category] : undefined;
  text(node, 'cbc:TaxExemptionReasonCode', exemption?.code);
  text(node, 'cbc:TaxExemptionReason', exemption?.text);
  text(add(node, 'cac:TaxScheme'), 'cbc:ID', 'VAT');
}

function taxTotal(doc: Node, lines: readonly TaxLine[], total: string, currency: string): void {
  const node = add(doc, 'cac:TaxTotal');
  text(node, 'cbc:TaxAmount', total, { currencyID: currency });
  for (const line of lines) {
    const subtotal = add(node, 'cac:TaxSubtotal');
    text(subtotal, 'cbc:TaxableAmount', line.base, { currencyID: currency });
    text(subtotal, 'cbc:TaxAmount', line.amount, { currencyID: currency });
    taxCategory(subtotal, 'cac:TaxCategory', line.category, line.rate, true);
  }
}

/** EN 16931's document totals (BT-106 to BT-115), from the fold's lines, extras, discounts and totals. */
export function documentTotals(invoice: FoldedInvoice): { lines: string; allowances: string; charges: string } {
  const sum = (amounts: readonly string[]) => amounts.reduce((a, b) => a.plus(b), new Decimal(0));
  const lines = sum(invoice.items.filter((line) => line.qty > 0).map((line) => line.lineTotal!));
  const allowances = sum(invoice.discounts.map((d) => d.amount));
  const charges = sum(invoice.extras.map((e) => e.amount));
  const currency = invoice.currency!;
  return { lines: formatMoney(lines, currency), allowances: formatMoney(allowances, currency), charges: formatMoney(charges, currency) };
}

function monetaryTotal(doc: Node, invoice: FoldedInvoice, currency: string): void {
  const { lines, allowances, charges } = documentTotals(invoice);
  const node = add(doc, 'cac:LegalMonetaryTotal');
  const amount = (name: Prefixed, value: string) => text(node, name, value, { currencyID: currency });
  amount('cbc:LineExtensionAmount', lines);
  amount('cbc:TaxExclusiveAmount', invoice.totals.net);
  amount('cbc:TaxInclusiveAmount', invoice.totals.gross);
  if (invoice.discounts.length > 0) amount('cbc:AllowanceTotalAmount', allowances);
  if (invoice.extras.length > 0) amount('cbc:ChargeTotalAmount', charges);
  amount('cbc:PayableAmount', invoice.totals.gross);
}

function invoiceLine(doc: Node, line: InvoiceLine, id: number, currency: string): void {
  const node = add(doc, 'cac:InvoiceLine');
  text(node, 'cbc:ID', String(id));
  text(node, 'cbc:InvoicedQuantity', String(line.qty), { unitCode: line.unitCode ?? DEFAULT_UNIT });
  text(node, 'cbc:LineExtensionAmount', line.lineTotal, { currencyID: currency });
  const item = add(node, 'cac:Item');
  text(item, 'cbc:Description', line.description);
  text(item, 'cbc:Name', line.name);
  text(add(item, 'cac:SellersItemIdentification'), 'cbc:ID', line.productCode);
  taxCategory(item, 'cac:ClassifiedTaxCategory', vatCategoryOf(line.taxCategory, line.taxRate!), line.taxRate!, false);
  text(add(node, 'cac:Price'), 'cbc:PriceAmount', line.unitPrice, { currencyID: currency });
}
