/**
 * fast-check arbitraries for VALID ops of every type, derived from the op table (src/model/op-table.ts): every
 * op they produce is well-formed for the fold, conforms to shapes/ops.shacl.ttl and survives op → Turtle → op
 * unchanged (lists sorted and unique, optional fields absent rather than undefined). Values reach their bounds
 * (shortest and longest texts, smallest and largest numbers) as well as ordinary values.
 */
import fc from 'fast-check';
import { withId } from '../../src/model/hash.ts';
import { ENVELOPE, OP_TABLE, type DecimalValue, type Field, type TextValue, type Value } from '../../src/model/op-table.ts';
import { OP_TYPES } from '../../src/model/ops.ts';
import type { AnyOp, Op, OpType, PayloadByType } from '../../src/model/ops.ts';
import * as patterns from '../../src/model/patterns.ts';
import { brokenRule, checkValue } from '../../src/model/validate.ts';

/** Characters of every flavour fast-check has: ASCII, any grapheme, any code point. */
const anyChars = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme-ascii', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
  );

/** A string of exactly `length` code points (mostly one repeated character, to reach long bounds cheaply). */
const ofLength = (length: number, chars: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(chars, chars).map(([a, b]) => (length === 0 ? '' : a + b.repeat(length - 1)));

function textArbitrary(v: TextValue): fc.Arbitrary<string> {
  const valid = (s: string) => checkValue(v, s, '') === null;
  if (v.pattern) {
    const matching = fc.stringMatching(new RegExp(v.pattern.source)).filter(valid);
    if (v.pattern.source !== patterns.CODE) return matching;
    const safe = fc.constantFrom('a', 'Z', '9', 'é', '🙂', '中');
    return fc.oneof(
      { arbitrary: matching, weight: 18 },
      { arbitrary: ofLength(v.minLength, safe), weight: 1 },
      { arbitrary: ofLength(v.maxLength, safe), weight: 1 },
    );
  }
  const plain = fc.constantFrom('x', ' ', '\n', 'é', '🙂', '中');
  return fc.oneof(
    { arbitrary: anyChars(40).filter(valid), weight: 18 },
    { arbitrary: ofLength(v.minLength, plain).filter(valid), weight: 1 },
    { arbitrary: ofLength(v.maxLength, plain).filter(valid), weight: 1 },
  );
}

/** Canonical decimals within the value's bounds and digits ("0", "21", "0.05"), its bounds included. */
function decimalArbitrary(v: DecimalValue): fc.Arbitrary<string> {
  const top = 10n ** BigInt(v.digits.integer) - 1n;
  const max = v.max === undefined ? top : BigInt(Math.floor(Number(v.max)));
  const fraction = fc.stringMatching(new RegExp(`^[0-9]{0,${v.digits.fraction}}$`)).map((f) => f.replace(/0+$/, ''));
  const any = fc.tuple(fc.oneof(fc.bigInt({ min: 0n, max: 100n }), fc.bigInt({ min: 0n, max })), fraction).map(([whole, f]) => (f ? `${whole}.${f}` : `${whole}`));
  const edges = [v.min, ...(v.max !== undefined ? [v.max] : [`${top}.${'9'.repeat(v.digits.fraction)}`]), `0.${'0'.repeat(v.digits.fraction - 1)}1`];
  return fc.oneof(any, fc.constantFrom(...edges)).filter((s) => checkValue(v, s, '') === null);
}

const url = (source: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('http://localhost:3000/buyer/', 'https://pod.example/seller/profile/card#me', 'http://127.0.0.1:8080/a/b/?q=1'),
    fc.stringMatching(new RegExp(source)),
  );

const HEX = fc.constantFrom(...'0123456789abcdef'.split(''));
export const hex64 = (): fc.Arbitrary<string> => fc.string({ unit: HEX, minLength: 64, maxLength: 64 });

/** A valid JSON value of this kind. */
export function valueArbitrary(v: Value): fc.Arbitrary<unknown> {
  const valid = (x: unknown) => checkValue(v, x, '') === null;
  switch (v.kind) {
    case 'text':
      return textArbitrary(v);
    case 'choice':
      return fc.constantFrom(...v.choices);
    case 'integer':
      return fc
        .oneof(fc.integer({ min: v.min, max: v.max }), fc.constantFrom(v.min, v.max, Math.max(v.min, Math.min(v.max, 1))))
        .filter(valid);
    case 'decimal':
      return decimalArbitrary(v);
    case 'date':
      return fc.date({ min: new Date('0000-01-01T00:00:00.000Z'), max: new Date('9999-12-31T00:00:00.000Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'instant':
      return fc.oneof(
        fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
        fc.integer({ min: v.min, max: v.max }),
        fc.constantFrom(v.min, v.max),
      );
    case 'url':
      return url(v.pattern.source).filter(valid);
    case 'opId':
      return hex64();
    case 'opType':
      return fc.constantFrom(...OP_TYPES);
    case 'node':
      return nodeArbitrary(v.node.fields);
  }
}

/** A valid value of a field: one value, maybe nothing (optional), or a sorted list without duplicates. */
export function fieldArbitrary(field: Field, maxListLength = 5): fc.Arbitrary<unknown> {
  const { count } = field;
  if (typeof count !== 'object') return valueArbitrary(field.value);
  return fc
    .uniqueArray(valueArbitrary(field.value) as fc.Arbitrary<string>, {
      minLength: count.min,
      maxLength: Math.min(count.max, Math.max(count.min, maxListLength)),
    })
    .map((values) => [...values].sort());
}

/** A JSON object with every required field and some optional ones. */
export function nodeArbitrary(fields: readonly Field[]): fc.Arbitrary<Record<string, unknown>> {
  const model = Object.fromEntries(fields.map((field) => [field.key, fieldArbitrary(field)]));
  const requiredKeys = fields.filter((field) => field.count !== 'optional').map((field) => field.key);
  return fc.record(model, { requiredKeys, noNullPrototype: true }) as fc.Arbitrary<Record<string, unknown>>;
}

/** A valid payload of the type: its fields, then its rules (a discount is an amount or a percentage, not both). */
export function payloadArbitrary<T extends OpType>(type: T): fc.Arbitrary<PayloadByType[T]> {
  const spec = OP_TABLE[type];
  let payload = nodeArbitrary(spec.fields);
  for (const rule of spec.rules ?? []) {
    if (rule.kind !== 'oneGroup') continue;
    // Choose a group, and drop the other groups' fields.
    const keys = rule.groups.flatMap((g) => g.keys);
    const values = keys.map((key) => fieldArbitrary(spec.fields.find((f) => f.key === key)!));
    payload = fc.tuple(payload, fc.constantFrom(...rule.groups), ...values).map(([p, group, ...chosen]) => {
      const out: Record<string, unknown> = {};
      for (const { key } of spec.fields) {
        const at = keys.indexOf(key);
        if (at < 0) {
          if (p[key] !== undefined) out[key] = p[key];
        } else if (group.keys.includes(key)) out[key] = chosen[at];
      }
      return out;
    });
  }
  return payload.filter((p) => brokenRule(type, p) === null) as unknown as fc.Arbitrary<PayloadByType[T]>;
}

/** A valid op of the given type, with its id computed. */
export function arbitraryOpOf<T extends OpType>(type: T): fc.Arbitrary<Op<T>> {
  return fc
    .tuple(nodeArbitrary(ENVELOPE), payloadArbitrary(type))
    .map(([envelope, payload]) => withId<T>({ ...(envelope as object), type, payload } as never));
}

export const opArbitraries = Object.fromEntries(OP_TYPES.map((type) => [type, arbitraryOpOf(type)])) as {
  [T in OpType]: fc.Arbitrary<Op<T>>;
};

/** A valid op of any type. */
export function arbitraryOp(): fc.Arbitrary<AnyOp> {
  return fc.oneof(...OP_TYPES.map((type) => opArbitraries[type] as fc.Arbitrary<AnyOp>));
}
