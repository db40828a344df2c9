import { describe, expect, it } from 'vitest';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { PayloadByType } from '../../src/model/ops.ts';
import { started, syncAll } from '../support/invoice-kit.ts';

// Money is exact decimal arithmetic: line total = qty × unit price rounded half-up to the currency's minor
// unit; extras add to and discounts subtract from the base of their VAT rate; VAT is computed per rate on
// the rounded base and rounded per rate; net = Σ bases, tax = Σ VAT, gross = net + tax. All amounts are
// decimal strings with exactly the currency's minor digits. Every expected value below is computed by hand.

interface Build {
  currency?: string;
  /** [product, quantity in the cart, unit price, VAT rate] */
  lines: Array<[string, number, string, string]>;
  /** Products the seller marks out of stock (shown with qty 0, not invoiced). */
  outOfStock?: string[];
  extras?: Array<PayloadByType['AddExtra']>;
  discounts?: Array<PayloadByType['AddDiscount']>;
}

function invoiceOf(build: Build): FoldedInvoice {
  const s = started(build.currency ?? 'EUR');
  for (const [product, quantity, unitPrice, taxRate] of build.lines) {
    s.bd.write('AddToCart', { product, quantity }, s.now());
    s.sd.write('QuoteItem', { product, unitPrice, taxRate }, s.now());
  }
  for (const product of build.outOfStock ?? []) s.sm.write('ItemOutOfStock', { product }, s.now());
  for (const extra of build.extras ?? []) s.bm.write('AddExtra', extra, s.now());
  for (const discount of build.discounts ?? []) s.sm.write('AddDiscount', discount, s.now());
  syncAll(s.all);
  const invoice = s.bd.view();
  expect(invoice.rejected).toEqual([]);
  for (const device of s.all) expect(JSON.stringify(device.view().totals)).toBe(JSON.stringify(invoice.totals));
  return invoice;
}

const lineTotals = (invoice: FoldedInvoice) => invoice.items.map((line) => [line.productCode, line.qty, line.lineTotal]);

describe('line totals: qty × unit price, rounded half-up to the minor unit', () => {
  it('EUR: 3 × 0.125 = 0.375 → 0.38; 1 × 0.005 → 0.01; 3 × 0.335 = 1.005 → 1.01', () => {
    const invoice = invoiceOf({ lines: [['a', 3, '0.125', '0'], ['b', 1, '0.005', '0'], ['c', 3, '0.335', '0']] });
    expect(lineTotals(invoice)).toEqual([
      ['a', 3, '0.38'],
      ['b', 1, '0.01'],
      ['c', 3, '1.01'],
    ]);
    // 0.38 + 0.01 + 1.01 = 1.40 at 0 %
    expect(invoice.totals).toEqual({ net: '1.40', tax: [{ category: 'Z', rate: '0', base: '1.40', amount: '0.00' }], taxTotal: '0.00', gross: '1.40' });
  });

  it('JPY has 0 minor digits: 3 × 12.5 = 37.5 → 38, VAT 10 % of 38 = 3.8 → 4', () => {
    const invoice = invoiceOf({ currency: 'JPY', lines: [['tea', 3, '12.5', '10']] });
    expect(invoice.currency).toBe('JPY');
    expect(lineTotals(invoice)).toEqual([['tea', 3, '38']]);
    expect(invoice.totals).toEqual({ net: '38', tax: [{ category: 'S', rate: '10', base: '38', amount: '4' }], taxTotal: '4', gross: '42' });
  });

  it('BHD has 3 minor digits: 1 × 1.2345 → 1.235, VAT 10 % = 0.1235 → 0.124', () => {
    const invoice = invoiceOf({ currency: 'BHD', lines: [['dates', 1, '1.2345', '10']] });
    expect(lineTotals(invoice)).toEqual([['dates', 1, '1.235']]);
    expect(invoice.totals).toEqual({ net: '1.235', tax: [{ category: 'S', rate: '10', base: '1.235', amount: '0.124' }], taxTotal: '0.124', gross: '1.359' });
  });

  it('amounts are exact decimal strings, never binary floats, even for huge amounts', () => {
    const small = invoiceOf({ lines: [['a', 3, '0.1', '0']] });
    expect(lineTotals(small)).toEqual([['a', 3, '0.30']]); // 3 × 0.1 in binary floating point is 0.30000000000000004
    const huge = invoiceOf({ lines: [['bulk', 1_000_000_000, '123456789012345.67', '21']] });
    // 1e9 × 123456789012345.67 = 123456789012345670000000.00; × 21 % = 25925925692592590700000.00
    expect(huge.totals).toEqual({
      net: '123456789012345670000000.00',
      tax: [{ category: 'S', rate: '21', base: '123456789012345670000000.00', amount: '25925925692592590700000.00' }],
      taxTotal: '25925925692592590700000.00',
      gross: '149382714704938260700000.00',
    });
    for (const value of [huge.totals.net, huge.totals.taxTotal, huge.totals.gross, huge.items[0]?.lineTotal]) expect(typeof value).toBe('string');
  });
});

describe('VAT per rate', () => {
  it('two rates: one line per rate base, VAT rounded per rate (not per line), rates in numeric order', () => {
    const invoice = invoiceOf({
      lines: [
        ['a', 1, '0.03', '21'],
        ['b', 1, '0.03', '21'],
        ['c', 3, '1.99', '9'],
      ],
    });
    // 21 %: base 0.03 + 0.03 = 0.06; VAT 0.0126 → 0.01 (rounding per line would give 0.01 + 0.01 = 0.02)
    //  9 %: base 3 × 1.99 = 5.97; VAT 0.5373 → 0.54
    // net 6.03, tax 0.55, gross 6.58
    expect(invoice.totals).toEqual({
      net: '6.03',
      tax: [
        { category: 'S', rate: '9', base: '5.97', amount: '0.54' },
        { category: 'S', rate: '21', base: '0.06', amount: '0.01' },
      ],
      taxTotal: '0.55',
      gross: '6.58',
    });
  });

  it('VAT is rounded half-up: 5 % of 0.50 = 0.025 → 0.03; fractional rates sort numerically', () => {
    const invoice = invoiceOf({ lines: [['a', 1, '0.50', '5'], ['b', 1, '10.00', '5.5'], ['c', 1, '1.00', '21.0']] });
    // 5 %: 0.025 → 0.03; 5.5 %: 0.55; 21 %: 0.21. net 11.50, tax 0.79, gross 12.29
    expect(invoice.totals).toEqual({
      net: '11.50',
      tax: [
        { category: 'S', rate: '5', base: '0.50', amount: '0.03' },
        { category: 'S', rate: '5.5', base: '10.00', amount: '0.55' },
        { category: 'S', rate: '21', base: '1.00', amount: '0.21' },
      ],
      taxTotal: '0.79',
      gross: '12.29',
    });
  });
});

describe('extras and discounts', () => {
  it('extras add to the base of their rate', () => {
    const invoice = invoiceOf({
      lines: [['chair', 2, '10.00', '21']],
      extras: [
        { key: 'shipping', description: 'Shipping', amount: '4.95', taxRate: '21' },
        { key: 'deposit', description: 'Pallet deposit', amount: '1', taxRate: '0' },
      ],
    });
    // 0 %: 1.00 → VAT 0.00; 21 %: 20.00 + 4.95 = 24.95 → VAT 5.2395 → 5.24. net 25.95, tax 5.24, gross 31.19
    expect(invoice.extras.map((e) => [e.key, e.amount, e.taxRate])).toEqual([
      ['deposit', '1.00', '0'],
      ['shipping', '4.95', '21'],
    ]);
    expect(invoice.totals).toEqual({
      net: '25.95',
      tax: [
        { category: 'Z', rate: '0', base: '1.00', amount: '0.00' },
        { category: 'S', rate: '21', base: '24.95', amount: '5.24' },
      ],
      taxTotal: '5.24',
      gross: '31.19',
    });
  });

  it('an amount discount subtracts from the base of its rate', () => {
    const invoice = invoiceOf({
      lines: [['chair', 2, '10.00', '21'], ['book', 1, '10.00', '9']],
      discounts: [{ key: 'promo', description: 'Promo', amount: '2.5', taxRate: '21' }],
    });
    // 9 %: 10.00 → 0.90; 21 %: 20.00 − 2.50 = 17.50 → 3.675 → 3.68. net 27.50, tax 4.58, gross 32.08
    expect(invoice.discounts.map((d) => [d.key, d.amount, d.taxRate, d.percent])).toEqual([['promo', '2.50', '21', null]]);
    expect(invoice.totals).toEqual({
      net: '27.50',
      tax: [
        { category: 'S', rate: '9', base: '10.00', amount: '0.90' },
        { category: 'S', rate: '21', base: '17.50', amount: '3.68' },
      ],
      taxTotal: '4.58',
      gross: '32.08',
    });
  });

  it('a percent discount cuts the base of every rate, each cut rounded to the minor unit', () => {
    const invoice = invoiceOf({
      lines: [['chair', 3, '3.35', '21'], ['book', 1, '10.00', '9']],
      discounts: [{ key: 'loyalty', description: 'Loyalty', percent: '5' }],
    });
    // 21 %: 3 × 3.35 = 10.05; 5 % = 0.5025 → 0.50; base 9.55; VAT 2.0055 → 2.01
    //  9 %: 10.00; 5 % = 0.50; base 9.50; VAT 0.855 → 0.86
    // discount shown as 0.50 + 0.50 = 1.00; net 19.05, tax 2.87, gross 21.92
    expect(invoice.discounts.map((d) => [d.key, d.amount, d.taxRate, d.percent])).toEqual([['loyalty', '1.00', null, '5']]);
    expect(invoice.totals).toEqual({
      net: '19.05',
      tax: [
        { category: 'S', rate: '9', base: '9.50', amount: '0.86' },
        { category: 'S', rate: '21', base: '9.55', amount: '2.01' },
      ],
      taxTotal: '2.87',
      gross: '21.92',
    });
  });

  it('a percent discount includes extras in the base, and amount discounts do not change what the percent comes to', () => {
    const invoice = invoiceOf({
      lines: [['chair', 1, '40.00', '21']],
      extras: [{ key: 'shipping', description: 'Shipping', amount: '10.00', taxRate: '21' }],
      discounts: [
        { key: 'a-fixed', description: 'Fixed', amount: '5.00', taxRate: '21' },
        { key: 'b-ten', description: 'Ten percent', percent: '10' },
      ],
    });
    // base 40.00 + 10.00 = 50.00; 10 % of 50.00 = 5.00 (percent of the undiscounted base, so the order of
    // discounts does not matter); − 5.00 fixed → 40.00; VAT 8.40. net 40.00, gross 48.40
    expect(invoice.discounts.map((d) => [d.key, d.amount])).toEqual([
      ['a-fixed', '5.00'],
      ['b-ten', '5.00'],
    ]);
    expect(invoice.totals).toEqual({ net: '40.00', tax: [{ category: 'S', rate: '21', base: '40.00', amount: '8.40' }], taxTotal: '8.40', gross: '48.40' });
  });
});

describe('lines with quantity 0', () => {
  it('a 0-quantity line is shown but not invoiced: not in any base, not in the totals', () => {
    const invoice = invoiceOf({
      lines: [['piano', 1, '100.00', '21'], ['book', 1, '5.00', '9']],
      outOfStock: ['piano'],
    });
    expect(invoice.items).toEqual([
      { productCode: 'book', desired: 1, available: null, qty: 1, unitPrice: '5', taxRate: '9', bid: null, lineTotal: '5.00' },
      { productCode: 'piano', desired: 1, available: 0, qty: 0, unitPrice: '100', taxRate: '21', bid: null, lineTotal: '0.00' },
    ]);
    // only 9 %: 5.00 → 0.45. net 5.00, tax 0.45, gross 5.45; no 21 % line at all
    expect(invoice.totals).toEqual({ net: '5.00', tax: [{ category: 'S', rate: '9', base: '5.00', amount: '0.45' }], taxTotal: '0.45', gross: '5.45' });
  });

  it('an invoice with nothing invoiced has zero totals in the currency', () => {
    const invoice = invoiceOf({ lines: [['piano', 1, '100.00', '21']], outOfStock: ['piano'] });
    expect(invoice.totals).toEqual({ net: '0.00', tax: [], taxTotal: '0.00', gross: '0.00' });
    expect(invoice.notProposable).toBe('nothing is invoiced yet');
  });
});
