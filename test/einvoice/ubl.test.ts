import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_BEANS_QUOTE } from '../../src/cli/demo-legal.ts';
import { ExportRefusedError, exportInvoice } from '../../src/einvoice/export.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import { EINVOICE_DIR, validateUbl, type Verdict } from '../support/einvoice-rules.ts';
import { agree, amountsIn, giveLegalData, within } from '../support/einvoice-kit.ts';
import { started, syncAll } from '../support/invoice-kit.ts';

// The official rules run from ../shared/einvoice/ (loaded once for this file): CEN's EN 16931 schematron, Peppol
// BIS Billing 3.0, and the UBL 2.1 XSD. A fatal failed assert is a defect of the export.

const ids = (verdict: Verdict) => ({
  cen: verdict.fatal.cen.map((a) => `${a.id}: ${a.text}`),
  peppol: verdict.fatal.peppol.map((a) => `${a.id}: ${a.text}`),
  xsd: verdict.xsd,
});
const VALID = { cen: [], peppol: [], xsd: [] };

/** Every amount of the UBL against the fold's agreed invoice. */
function expectAmountsOfFold(xml: string, invoice: FoldedInvoice): void {
  const totals = within(xml, 'LegalMonetaryTotal');
  expect(amountsIn(totals, 'TaxExclusiveAmount')).toEqual([invoice.agreement!.totals.net]);
  expect(amountsIn(totals, 'TaxInclusiveAmount')).toEqual([invoice.agreement!.totals.gross]);
  expect(amountsIn(totals, 'PayableAmount')).toEqual([invoice.agreement!.totals.gross]);
  const taxTotal = within(xml, 'TaxTotal');
  expect(amountsIn(taxTotal, 'TaxableAmount')).toEqual(invoice.agreement!.totals.tax.map((line) => line.base));
  expect(amountsIn(taxTotal, 'TaxAmount')).toEqual([invoice.agreement!.totals.taxTotal, ...invoice.agreement!.totals.tax.map((line) => line.amount)]);
  const lines = invoice.items.filter((line) => line.qty > 0);
  expect(amountsIn(xml, 'PriceAmount')).toEqual(lines.map((line) => line.unitPrice));
}

describe('the rules run here', () => {
  it('find the two defects of the broken official example', async () => {
    const xml = await readFile(path.join(EINVOICE_DIR, 'examples', 'broken-BR-CO-16-BR-CL-01.xml'), 'utf8');
    const verdict = await validateUbl(xml, { xsd: false });
    expect(verdict.fatal.cen.map((a) => a.id).sort()).toEqual(['BR-CL-01', 'BR-CO-16']);
  });
});

describe('UBL export of the agreed demo invoice', () => {
  it('passes CEN, Peppol and the XSD, with the fold’s amounts', async () => {
    const s = started('EUR');
    s.bd.write('AddToCart', { product: 'beans', quantity: 520 }, s.now());
    s.sm.write('QuoteItem', { product: 'beans', unitPrice: '0.05', taxRate: '0' }, s.now());
    s.sd.write('SetProductStock', { product: 'beans', quantity: 1000 }, s.now());
    syncAll(s.all);
    expect(s.bd.view().eInvoiceGaps.seller).toContain('line beans has no item name (quote-item --name)');
    s.sm.write('QuoteItem', DEMO_BEANS_QUOTE, s.now());
    giveLegalData(s);
    const invoice = agree(s);
    expect(invoice.status).toBe('agreed');
    expect(invoice.eInvoiceGaps).toEqual({ seller: [], buyer: [] });
    const xml = exportInvoice(invoice, 'ubl');
    expect(ids(await validateUbl(xml))).toEqual(VALID);
    expect(invoice.agreement!.totals).toEqual({ net: '26.00', tax: [{ category: 'Z', rate: '0', base: '26.00', amount: '0.00' }], taxTotal: '0.00', gross: '26.00' });
    expectAmountsOfFold(xml, invoice);
    expect(xml).toContain('<cbc:DueDate>2021-07-14</cbc:DueDate>');
  });
});

describe('UBL export of a hand-checked invoice: several VAT rates, a zero-rated line, an extra, an amount and a percent discount', () => {
  const s = started('EUR');
  const quote = (product: string, qty: number, unitPrice: string, taxRate: string, name: string) => {
    s.bd.write('AddToCart', { product, quantity: qty }, s.now());
    s.sd.write('QuoteItem', { product, unitPrice, taxRate, name }, s.now());
  };
  quote('coffee', 3, '12.49', '9', 'Coffee, 1 kg');
  quote('mugs', 2, '7.95', '21', 'Mug');
  quote('book', 1, '20.00', '0', 'Book on brewing');
  s.sm.write('AddExtra', { key: 'shipping', description: 'Shipping', amount: '5.95', taxRate: '21' }, s.now());
  s.sm.write('AddDiscount', { key: 'loyal', description: 'Loyalty 10%', percent: '10' }, s.now());
  s.sm.write('AddDiscount', { key: 'voucher', description: 'Voucher', amount: '3.00', taxRate: '21' }, s.now());
  giveLegalData(s);
  const invoice = agree(s);

  it('has the totals computed by hand', () => {
    // Per category and rate: S 9 % 37.47; S 21 % 15.90 + 5.95 = 21.85; Z 0 % 20.00. 10 % off each: 3.747 → 3.75,
    // 2.185 → 2.19, 2.00 (7.94 in all); the voucher 3.00 off S 21 %. Bases 33.72, 16.66, 18.00; VAT 3.0348 → 3.03,
    // 3.4986 → 3.50, 0. Net 68.38, VAT 6.53, gross 74.91.
    expect(invoice.agreement!.totals).toEqual({
      net: '68.38',
      tax: [
        { category: 'Z', rate: '0', base: '18.00', amount: '0.00' },
        { category: 'S', rate: '9', base: '33.72', amount: '3.03' },
        { category: 'S', rate: '21', base: '16.66', amount: '3.50' },
      ],
      taxTotal: '6.53',
      gross: '74.91',
    });
    expect(invoice.discounts.map((d) => [d.key, d.amount, d.parts])).toEqual([
      ['loyal', '7.94', [{ category: 'Z', rate: '0', amount: '2.00' }, { category: 'S', rate: '9', amount: '3.75' }, { category: 'S', rate: '21', amount: '2.19' }]],
      ['voucher', '3.00', [{ category: 'S', rate: '21', amount: '3.00' }]],
    ]);
  });

  it('passes CEN, Peppol and the XSD; every amount is the fold’s; the percent discount is one allowance per rate', async () => {
    const xml = exportInvoice(invoice, 'ubl');
    expect(ids(await validateUbl(xml))).toEqual(VALID);
    expectAmountsOfFold(xml, invoice);
    const totals = within(xml, 'LegalMonetaryTotal');
    expect(amountsIn(totals, 'LineExtensionAmount')).toEqual(['73.37']);
    expect(amountsIn(totals, 'AllowanceTotalAmount')).toEqual(['10.94']);
    expect(amountsIn(totals, 'ChargeTotalAmount')).toEqual(['5.95']);
    const charges = [...xml.matchAll(/<cac:AllowanceCharge>([\s\S]*?)<\/cac:AllowanceCharge>/g)].map((m) => [
      /<cbc:ChargeIndicator>(\w+)</.exec(m[1]!)![1],
      amountsIn(m[1]!, 'Amount')[0],
      /<cbc:ID>(\w+)<\/cbc:ID>\s*<cbc:Percent>([\d.]+)</.exec(m[1]!)!.slice(1).join(' '),
    ]);
    expect(charges).toEqual([
      ['true', '5.95', 'S 21'],
      ['false', '2.00', 'Z 0'],
      ['false', '3.75', 'S 9'],
      ['false', '2.19', 'S 21'],
      ['false', '3.00', 'S 21'],
    ]);
    expect(amountsIn(xml, 'LineExtensionAmount')).toEqual(['73.37', '20.00', '37.47', '15.90']);
  });
});

describe('refusals', () => {
  it('refuses an invoice that is not agreed, saying so', () => {
    const s = started('EUR');
    s.bd.write('AddToCart', { product: 'beans', quantity: 1 }, s.now());
    syncAll(s.all);
    expect(() => exportInvoice(s.bd.view(), 'ubl')).toThrow(/invoice INV-1 is not agreed \(it is draft\)/);
    expect(() => exportInvoice(s.bd.view(), 'json')).toThrow(ExportRefusedError);
  });

  it('refuses an agreed invoice without legal data, listing each gap; its JSON is still exported', () => {
    const s = started('EUR');
    s.bd.write('AddToCart', { product: 'beans', quantity: 2 }, s.now());
    s.sd.write('QuoteItem', { product: 'beans', unitPrice: '1.50', taxRate: '21' }, s.now());
    const invoice = agree(s);
    let refusal: ExportRefusedError | undefined;
    try {
      exportInvoice(invoice, 'ubl');
    } catch (error) {
      refusal = error as ExportRefusedError;
    }
    expect(refusal).toBeInstanceOf(ExportRefusedError);
    expect(refusal!.missing).toEqual([
      'the seller has not given a postal address with its country',
      'the seller has not given an electronic address (Peppol endpoint and scheme)',
      'the seller has given neither a VAT identifier nor a legal registration identifier',
      'the seller has not given a VAT identifier',
      'the seller has not given the invoice number and issue date (set-invoice-details)',
      'the seller has not given payment terms (set-payment-terms)',
      'line beans has no item name (quote-item --name)',
      'the buyer has not given a postal address with its country',
      'the buyer has not given an electronic address (Peppol endpoint and scheme)',
      'the buyer has not given its reference or purchase order (set-buyer-reference)',
    ]);
    for (const gap of refusal!.missing) expect(refusal!.message).toContain(`  - ${gap}`);
    expect(JSON.parse(exportInvoice(invoice, 'json'))).toEqual(JSON.parse(JSON.stringify(invoice)));
  });

  it('refuses a currency with more than 2 decimals (EN 16931 allows 2), and a yen line that does not round to whole yen', () => {
    const bhd = started('BHD');
    bhd.bd.write('AddToCart', { product: 'beans', quantity: 2 }, bhd.now());
    bhd.sd.write('QuoteItem', { product: 'beans', unitPrice: '1.500', taxRate: '10', name: 'Beans' }, bhd.now());
    giveLegalData(bhd);
    expect(() => exportInvoice(agree(bhd), 'ubl')).toThrow(/EN 16931 allows amounts with at most 2 decimals, and BHD has 3: invoice in another currency/);
    const jpy = started('JPY');
    jpy.bd.write('AddToCart', { product: 'beans', quantity: 3 }, jpy.now());
    jpy.sd.write('QuoteItem', { product: 'beans', unitPrice: '0.5', taxRate: '10', name: 'Beans' }, jpy.now());
    giveLegalData(jpy);
    expect(() => exportInvoice(agree(jpy), 'ubl')).toThrow(/line beans: 3 × 0.5 does not round to whole JPY minor units within 0.02/);
  });

  it('shows later changes as changes, and exports the agreed terms only', async () => {
    const s = started('EUR');
    s.bd.write('AddToCart', { product: 'beans', quantity: 520 }, s.now());
    s.sm.write('QuoteItem', DEMO_BEANS_QUOTE, s.now());
    giveLegalData(s);
    const agreed = agree(s);
    s.bd.write('AddToCart', { product: 'beans', quantity: 480 }, s.now());
    syncAll(s.all);
    const later = s.bd.view();
    expect(later.agreement!.changesAfter).toHaveLength(1);
    expect(exportInvoice(later, 'ubl')).toBe(exportInvoice(agreed, 'ubl'));
    expect(exportInvoice(later, 'ubl')).toContain('<cbc:InvoicedQuantity unitCode="C62">520</cbc:InvoicedQuantity>');
  });
});
