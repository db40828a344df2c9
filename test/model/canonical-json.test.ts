import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/model/hash.ts';
import { fcParams } from '../support/fc.ts';
import { arbitraryOp } from '../support/op-arbitraries.ts';

// The reference implementation of RFC 8785 that op ids were computed with before canonicalJson wrote it itself.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

describe('canonicalJson', () => {
  it('writes what the reference RFC 8785 implementation writes, for any JSON value (array-index keys and unicode included)', () => {
    const keys = fc.oneof(fc.string(), fc.constantFrom('0', '1', '10', '9', '4294967294', '4294967295', '01', '-1', 'a', 'B', 'é', '🙂'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(keys, tie('value'), { maxKeys: 5 })),
    })).value;
    let indexKeys = 0;
    fc.assert(
      fc.property(json, (value) => {
        if (JSON.stringify(value).match(/"(0|[1-9][0-9]*)":/)) indexKeys++;
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      fcParams(2000),
    );
    expect(indexKeys).toBeGreaterThan(0);
  });

  it('gives every generated op the canonical form the reference gives it', () => {
    fc.assert(
      fc.property(arbitraryOp(), (op) => {
        expect(canonicalJson(op)).toBe(canonicalize(op));
      }),
      fcParams(500),
    );
  });

  it('refuses what has no canonical form', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow('NaN is not allowed');
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow('Infinity is not allowed');
    expect(() => canonicalJson(undefined)).toThrow('value has no canonical JSON form');
  });
});
