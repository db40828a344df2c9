import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CURRENCY_CODES } from '../../src/model/currencies.ts';
import { minorUnits } from '../../src/model/money.ts';
import { money, unitPrice } from '../../src/present/money.ts';
import { fcParams } from '../support/fc.ts';

// The amounts people read are written without Intl (a short command must not load ICU); they must stay exactly what
// Intl.NumberFormat('en') writes, for every currency an invoice may be in.
const intl = (amount: string, currency: string) => {
  const digits = amount.split('.')[1]?.length ?? 0;
  return new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(amount as unknown as number);
};

const decimal = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.option(fc.stringMatching(/^\d{1,4}$/), { nil: undefined }))
  .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}`);

describe('amounts for people', () => {
  it('money() writes every currency and amount as Intl.NumberFormat("en") does', () => {
    const shapes = { grouped: 0, negative: 0, fraction: 0, symbol: 0, code: 0 };
    fc.assert(
      fc.property(decimal, fc.constantFrom(...CURRENCY_CODES), (amount, currency) => {
        expect(money(amount, currency)).toBe(intl(amount, currency));
        const written = money(amount, currency);
        if (written.includes(',')) shapes.grouped++;
        if (amount.startsWith('-')) shapes.negative++;
        if (amount.includes('.')) shapes.fraction++;
        if (written.includes(`${currency}\u00a0`)) shapes.code++;
        else shapes.symbol++;
      }),
      fcParams(2000),
    );
    // The generator reaches every shape the formatter distinguishes.
    for (const [shape, count] of Object.entries(shapes)) expect(count, shape).toBeGreaterThan(20);
  });

  it('every currency code: its prefix and its minor digits are the ones Intl gives', () => {
    for (const currency of CURRENCY_CODES) {
      expect(money('1234.5', currency)).toBe(intl('1234.5', currency));
      const intlMinor = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().minimumFractionDigits;
      expect(minorUnits(currency), currency).toBe(intlMinor);
    }
    expect([money('26.00', 'EUR'), money('-0.00', 'EUR'), money(null, 'EUR'), money('5', null)]).toEqual(['€26.00', '-€0.00', '—', '5']);
    expect([unitPrice('2.5', 'EUR'), unitPrice('0.045', 'EUR'), unitPrice('7', 'JPY'), unitPrice('1', 'BHD')]).toEqual(['€2.50', '€0.045', '¥7', 'BHD\u00a01.000']);
  });
});
