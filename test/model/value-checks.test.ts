/**
 * The value checks the fold and the reader share (src/model/validate.ts) are written for speed (decimals compared
 * digit by digit, texts scanned by hand); here they are compared with the obvious, slower way of saying the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../src/model/money.ts';
import type { DecimalValue } from '../../src/model/op-table.ts';
import { checkValue, codePointLength, isXsdString } from '../../src/model/validate.ts';
import { fcParams } from '../support/fc.ts';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('decimal bounds', () => {
  const canonical = fc
    .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.stringMatching(/^[0-9]{0,11}$/))
    .map(([negative, whole, digits]) => {
      const fraction = digits.replace(/0+$/, '');
      const text = fraction ? `${whole}.${fraction}` : `${whole}`;
      return negative && text !== '0' ? `-${text}` : text;
    });
  const bounds = fc.record({
    min: fc.constantFrom('0', '-5', '0.5', '100', '21.125'),
    max: fc.option(fc.constantFrom('100', '0.5', '1000000', '21.125'), { nil: undefined }),
    minExclusive: fc.boolean(),
  });

  it('accept exactly what decimal.js says is within them, with at most 15 + 10 digits', () => {
    let accepted = 0;
    fc.assert(
      fc.property(canonical, bounds, (value, { min, max, minExclusive }) => {
        const v: DecimalValue = { kind: 'decimal', min, ...(minExclusive ? { minExclusive } : {}), ...(max ? { max } : {}), digits: { integer: 15, fraction: 10 } };
        const amount = new Decimal(value);
        const [whole = '', fraction = ''] = value.replace('-', '').split('.');
        const within = (minExclusive ? amount.gt(min) : amount.gte(min)) && (max === undefined || amount.lte(max));
        const expected = whole.length <= 15 && fraction.length <= 10 && within;
        if (expected) accepted++;
        expect(checkValue(v, value, 'x') === null).toBe(expected);
      }),
      fcParams(5000),
    );
    expect(accepted).toBeGreaterThan(100);
  });
});

describe('texts', () => {
  const anyText = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('a', '\ud83d', '\ude00', '\ufffe', '\uffff', 'é') }));

  it('count characters as code points', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(codePointLength(text)).toBe([...text].length);
      }),
      fcParams(2000),
    );
  });

  it('are xsd:strings unless they hold a lone surrogate, U+FFFE or U+FFFF', () => {
    let refused = 0;
    fc.assert(
      fc.property(anyText, (text) => {
        const expected = !LONE_SURROGATE.test(text) && !/[\ufffe\uffff]/.test(text);
        if (!expected) refused++;
        expect(isXsdString(text)).toBe(expected);
      }),
      fcParams(2000),
    );
    expect(refused).toBeGreaterThan(0);
  });
});
