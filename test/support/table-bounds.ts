/**
 * Every bound of the op table, as mutations of a valid op: for each op type and each field (nested ones included),
 * values at the bound (which every judge must accept) and across it (which every judge must refuse). Enumerated
 * from the table itself, so a field or bound added to the table gets its cases without editing this file.
 */
import fc from 'fast-check';
import { ENVELOPE, OP_TABLE, type DecimalValue, type Field, type TextValue, type UrlValue, type Value } from '../../src/model/op-table.ts';
import { OP_TYPES, type OpType } from '../../src/model/ops.ts';
import * as patterns from '../../src/model/patterns.ts';
import { valueArbitrary } from './op-arbitraries.ts';

type Json = Record<string, unknown>;

export interface BoundCase {
  /** "<type> <JSON path> <bound> at|across", unique. */
  readonly id: string;
  readonly type: OpType;
  /** The JSON path of the field from the op's root ("payload.buyer.webId"), or the rule's name. */
  readonly where: string;
  /** True: at the bound (valid); false: across it (invalid). */
  readonly valid: boolean;
  /** Changes a deep copy of a valid op of `type`. */
  readonly mutate: (op: Json) => void;
}

/** Values that break a pattern while keeping the length within bounds. */
const PATTERN_BREAKERS: Readonly<Record<string, readonly string[]>> = {
  [patterns.CODE]: [' a', 'a ', 'a\u0007b', '\u3000a', 'a\u2028'],
  [patterns.INVOICE_ID]: ['.a', 'a/b', 'é'],
  [patterns.DEVICE_LABEL]: ["mallory's phone", 'a b', '🙂'],
  [patterns.HEX64]: ['A'.repeat(64), 'g'.repeat(64)],
  [patterns.HTTP_URL]: ['http://A.example/x', 'http://a.example:80/x', 'https://a.example:443/x', 'ftp://a.example/x', 'http://a.example/./x', 'http://a.example', 'http://a.example/a b'],
  [patterns.CONTAINER_URL]: ['http://a.example/c', 'http://a.example/c/?q=/', 'http://a.example/c/#/', 'http://a.example/../'],
  [patterns.UNIT_CODE]: ['c62', 'C 6'],
  [patterns.ENDPOINT_SCHEME]: ['008A', 'em', '0 88'],
  [patterns.IBAN]: ['nl91ABNA', '9L91ABNA', 'NL9AABNA', 'NL91 ABNA'],
  [patterns.BIC]: ['abnanl2a', 'ABNA1L2A', 'ABNANL2A1'],
  [patterns.ICD]: ['01a6', '01 6'],
  [patterns.MULTIBASE_BASE58]: ['z0', 'zO', 'zI', 'zl', 'Mab', 'zab c'],
};

/** A text of `length` characters that matches the pattern whenever the pattern allows that length ('a's without one). */
const FILLERS: Readonly<Record<string, (length: number) => string>> = {
  [patterns.UNIT_CODE]: (n) => 'C'.repeat(n),
  [patterns.ENDPOINT_SCHEME]: (n) => (n === 2 ? 'EM' : '0'.repeat(n)),
  [patterns.IBAN]: (n) => 'NL91'.slice(0, n) + 'A'.repeat(Math.max(0, n - 4)),
  [patterns.BIC]: (n) => 'A'.repeat(n),
  [patterns.ICD]: (n) => '0'.repeat(n),
  [patterns.MULTIBASE_BASE58]: (n) => (n > 0 ? `z${'a'.repeat(n - 1)}` : ''),
};

/** A URL of exactly `length` characters that matches the pattern (a container ends in "/"). */
function urlOfLength(v: UrlValue, length: number): string {
  const head = 'http://a.example/';
  const tail = v.pattern.source === patterns.CONTAINER_URL ? '/' : '';
  return head + 'x'.repeat(length - head.length - tail.length) + tail;
}

const get = (root: Json, path: readonly string[]): unknown => path.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], root);
function set(root: Json, path: readonly string[], value: unknown): void {
  const parent = get(root, path.slice(0, -1)) as Json;
  if (value === undefined) delete parent[path.at(-1)!];
  else parent[path.at(-1)!] = value;
}

interface Bound {
  readonly bound: string;
  readonly valid: boolean;
  readonly value: unknown;
}

const seeded = <T>(arbitrary: fc.Arbitrary<T>, seed: number): T => fc.sample(arbitrary, { numRuns: 1, seed })[0]!;

function textBounds(v: TextValue): Bound[] {
  const fill = (v.pattern && FILLERS[v.pattern.source]) ?? ((n: number) => 'a'.repeat(n));
  const out: Bound[] = [
    { bound: 'minLength', valid: true, value: fill(v.minLength) },
    { bound: 'minLength', valid: false, value: fill(v.minLength - 1) },
    { bound: 'maxLength', valid: true, value: fill(v.maxLength) },
    { bound: 'maxLength', valid: false, value: fill(v.maxLength + 1) },
    { bound: 'xsd:string', valid: false, value: `a\ud800b`.slice(0, Math.max(2, v.minLength)).padEnd(v.minLength, 'a') },
  ];
  // Lengths count characters, not UTF-16 units: the longest text of emoji fits if the pattern allows emoji.
  if (!v.pattern || new RegExp(v.pattern.source).test('🙂')) {
    out.push({ bound: 'maxLength in characters', valid: true, value: '🙂'.repeat(v.maxLength) });
    out.push({ bound: 'maxLength in characters', valid: false, value: '🙂'.repeat(v.maxLength + 1) });
  }
  for (const value of v.pattern ? PATTERN_BREAKERS[v.pattern.source] ?? [] : []) out.push({ bound: `pattern ${JSON.stringify(value)}`, valid: false, value: value.length < v.minLength ? value.padEnd(v.minLength, 'a') : value });
  return out;
}

function decimalBounds(v: DecimalValue): Bound[] {
  const step = `0.${'0'.repeat(v.digits.fraction - 1)}1`;
  const tooFine = `0.${'0'.repeat(v.digits.fraction)}1`;
  const widest = '9'.repeat(v.digits.integer);
  const out: Bound[] = [
    v.minExclusive ? { bound: 'min', valid: false, value: v.min } : { bound: 'min', valid: true, value: v.min },
    v.minExclusive ? { bound: 'min', valid: true, value: step } : { bound: 'min', valid: false, value: `-${step}` },
    { bound: 'fraction digits', valid: true, value: step },
    { bound: 'fraction digits', valid: false, value: tooFine },
    { bound: 'integer digits', valid: false, value: `1${widest}` },
    { bound: 'canonical form', valid: false, value: '1.0' },
    { bound: 'canonical form', valid: false, value: '01' },
    { bound: 'canonical form', valid: false, value: '+1' },
    { bound: 'canonical form', valid: false, value: '1e2' },
  ];
  if (v.max === undefined) out.push({ bound: 'integer digits', valid: true, value: `${widest}.${'9'.repeat(v.digits.fraction)}` });
  else out.push({ bound: 'max', valid: true, value: v.max }, { bound: 'max', valid: false, value: `${v.max}.${'0'.repeat(v.digits.fraction - 1)}1` });
  return out;
}

/** The values at and across each bound of one value kind. */
function valueBounds(v: Value): Bound[] {
  switch (v.kind) {
    case 'text':
      return textBounds(v);
    case 'choice':
      return [
        { bound: 'choices', valid: true, value: v.choices[0] },
        { bound: 'choices', valid: true, value: v.choices.at(-1) },
        { bound: 'choices', valid: false, value: 'not-one-of-them' },
      ];
    case 'integer':
      return [
        { bound: 'min', valid: true, value: v.nonZero && v.min === 0 ? 1 : v.min },
        { bound: 'min', valid: false, value: v.min - 1 },
        { bound: 'max', valid: true, value: v.max },
        { bound: 'max', valid: false, value: v.max + 1 },
        { bound: 'whole', valid: false, value: Math.max(v.min, Math.min(v.max - 1, 1)) + 0.5 },
        ...(v.nonZero ? [{ bound: 'non-zero', valid: false, value: 0 }] : []),
      ];
    case 'decimal':
      return decimalBounds(v);
    case 'date':
      return [
        ...['2024-02-29', '2000-02-29', '0000-01-01', '9999-12-31'].map((value) => ({ bound: 'calendar', valid: true, value })),
        ...['2023-02-29', '1900-02-29', '2021-04-31', '2021-13-01', '2021-1-01', '2021-01-01Z'].map((value) => ({ bound: 'calendar', valid: false, value })),
      ];
    case 'instant':
      return [
        { bound: 'min', valid: true, value: v.min },
        { bound: 'min', valid: false, value: v.min - 1 },
        { bound: 'max', valid: true, value: v.max },
        { bound: 'max', valid: false, value: v.max + 1 },
      ];
    case 'url':
      return [
        { bound: 'maxLength', valid: true, value: urlOfLength(v, v.maxLength) },
        { bound: 'maxLength', valid: false, value: urlOfLength(v, v.maxLength + 1) },
        ...(PATTERN_BREAKERS[v.pattern.source] ?? []).map((value) => ({ bound: `pattern ${value}`, valid: false, value })),
      ];
    case 'opId':
      return [{ bound: 'hex', valid: false, value: 'g'.repeat(64) }, { bound: 'hex', valid: false, value: 'a'.repeat(63) }];
    case 'opType':
      return [{ bound: 'op types', valid: false, value: 'Op' }];
    case 'node':
      return [];
  }
}

/** A sorted list of `length` distinct valid values of the field (seeded, so cases are reproducible). */
function listOf(field: Field, length: number): unknown[] {
  if (field.value.kind === 'opType') return [...OP_TYPES].sort().slice(0, length);
  const values = fc.uniqueArray(valueArbitrary(field.value) as fc.Arbitrary<string>, { minLength: length, maxLength: length });
  return seeded(values, length).sort();
}

const ABSENT = undefined;

/** The bounds of one field: its count's (the whole value), then its value kind's (for a list: one entry's). */
function fieldBounds(field: Field, grouped: boolean): Array<Bound & { whole: boolean }> {
  const { count } = field;
  const out: Array<Bound & { whole: boolean }> = [];
  const whole = (bound: string, valid: boolean, value: unknown) => out.push({ bound, valid, value, whole: true });
  if (count === 'one') whole('count: present', false, ABSENT);
  // An optional field of a group is left out by the rule's own cases.
  else if (count === 'optional' && !grouped) whole('count: optional', true, ABSENT);
  else if (typeof count === 'object') {
    whole('count: min', true, listOf(field, count.min));
    if (count.min > 0) whole('count: min', false, listOf(field, count.min - 1));
    whole('count: max', true, listOf(field, count.max));
    // A list of op types cannot hold more distinct entries than there are op types.
    if (field.value.kind !== 'opType') whole('count: max', false, listOf(field, count.max + 1));
  }
  for (const bound of valueBounds(field.value)) out.push({ ...bound, whole: false });
  return out;
}

/** Every field of an op type, with its JSON path from the op's root and the fields it is nested in (and itself). */
export function* fieldsOf(type: OpType): Generator<{ field: Field; path: string[]; chain: Field[] }> {
  function* visit(field: Field, parent: string[], above: Field[]): Generator<{ field: Field; path: string[]; chain: Field[] }> {
    const path = [...parent, field.key];
    const chain = [...above, field];
    yield { field, path, chain };
    if (field.value.kind === 'node') for (const child of field.value.node.fields) yield* visit(child, path, chain);
  }
  for (const field of ENVELOPE) yield* visit(field, [], []);
  for (const field of OP_TABLE[type].fields) yield* visit(field, ['payload'], []);
}

/** Gives the optional nodes a nested field sits in (a party's postal address) a valid value when the sample has none. */
function fillOptionalNodes(op: Json, path: readonly string[], chain: readonly Field[]): void {
  for (let i = 0; i < chain.length - 1; i++) {
    const at = path.slice(0, path.length - chain.length + i + 1);
    if (get(op, at) === undefined) set(op, at, seeded(valueArbitrary(chain[i]!.value), i + 1));
  }
}

type OneGroup = Extract<NonNullable<(typeof OP_TABLE)[OpType]['rules']>[number], { kind: 'oneGroup' }>;
const groupOf = (type: OpType, key: string): OneGroup | undefined =>
  OP_TABLE[type].rules?.find((rule): rule is OneGroup => rule.kind === 'oneGroup' && rule.groups.some((g) => g.keys.includes(key)));

/** Makes the payload use exactly these keys of a oneGroup rule (valid values for them, the others left out). */
function useGroupKeys(type: OpType, op: Json, rule: OneGroup, keys: readonly string[]): void {
  const payload = op['payload'] as Json;
  for (const key of rule.groups.flatMap((g) => g.keys)) {
    const field = OP_TABLE[type].fields.find((f) => f.key === key)!;
    if (!keys.includes(key)) delete payload[key];
    else if (payload[key] === undefined) payload[key] = seeded(valueArbitrary(field.value), key.length);
  }
}

function ruleCases(type: OpType): Array<Omit<BoundCase, 'id'> & { bound: string }> {
  const out: Array<Omit<BoundCase, 'id'> & { bound: string }> = [];
  for (const rule of OP_TABLE[type].rules ?? []) {
    if (rule.kind === 'different') {
      const [a, b] = rule.paths.map((path) => ['payload', ...path]) as [string[], string[]];
      out.push({ type, where: `${a.join('.')} vs ${b.join('.')}`, bound: 'different', valid: false, mutate: (op) => set(op, b, get(op, a)) });
      continue;
    }
    const all = rule.groups.flatMap((g) => g.keys);
    const add = (bound: string, valid: boolean, keys: readonly string[]) =>
      out.push({ type, where: 'payload', bound, valid, mutate: (op) => useGroupKeys(type, op, rule, keys) });
    for (const group of rule.groups) {
      add(`one group: ${group.name}`, true, group.keys);
      if (group.keys.length > 1) add(`one group: ${group.name}, part of it`, false, group.keys.slice(0, 1));
    }
    add('one group: all of them', false, all);
    add('one group: none', false, []);
  }
  return out;
}

/** Every case of the table: each bound of each field of each op type, at and across, and each rule's. */
export function boundCases(): BoundCase[] {
  const cases: BoundCase[] = [];
  const ids = new Set<string>();
  const push = (c: Omit<BoundCase, 'id'> & { bound: string }) => {
    const base = `${c.type} ${c.where} ${c.bound} ${c.valid ? 'at' : 'across'}`;
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base} #${n}`;
    ids.add(id);
    cases.push({ id, type: c.type, where: c.where, valid: c.valid, mutate: c.mutate });
  };
  for (const type of OP_TYPES) {
    for (const { field, path, chain } of fieldsOf(type)) {
      const rule = path[0] === 'payload' && path.length === 2 ? groupOf(type, field.key) : undefined;
      for (const { bound, valid, value, whole } of fieldBounds(field, rule !== undefined)) {
        const list = typeof field.count === 'object';
        const mutate = (op: Json): void => {
          if (rule) useGroupKeys(type, op, rule, rule.groups.find((g) => g.keys.includes(field.key))!.keys);
          fillOptionalNodes(op, path, chain);
          const entries = list ? listOf(field, Math.max((field.count as { min: number }).min, 1) - 1) : [];
          set(op, path, whole || !list ? value : [...entries, value].sort());
        };
        push({ type, where: path.join('.'), bound, valid, mutate });
      }
    }
    for (const c of ruleCases(type)) push(c);
  }
  return cases;
}
