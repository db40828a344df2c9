import { describe, expect, it } from 'vitest';
import { CURRENCY_CODES } from '../../src/model/currencies.ts';
import { minorUnits } from '../../src/model/money.ts';

describe('minor units', () => {
  it("are ICU's for every accepted currency (the fixed table spares loading ICU's data at every command)", () => {
    const fromIcu = (code: string) => new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits;
    const differing = CURRENCY_CODES.filter((code) => minorUnits(code) !== fromIcu(code));
    expect(differing).toEqual([]);
    expect([minorUnits('EUR'), minorUnits('JPY'), minorUnits('BHD')]).toEqual([2, 0, 3]);
  });
});
