import { isOpId } from './ids.ts';
import {
  ENVELOPE,
  OP_TABLE,
  type ChoiceValue,
  type DecimalValue,
  type Field,
  type IntegerValue,
  type NodeSpec,
  type Pattern,
  type Rule,
  type TextValue,
  type UrlValue,
  type Value,
} from './op-table.ts';
import { isOpType, type OpType } from './ops.ts';
import * as patterns from './patterns.ts';

/**
 * Structural checks of one op, independent of any other op, derived from the op table (op-table.ts): the rules
 * the SHACL shapes state, applied to ops as JSON, because the fold is also called by embedders with ops that
 * never passed through Turtle. Every message names the field. Never throws.
 */

const compiled = new Map<string, RegExp>();
/** The RegExp of a pattern, compiled once. */
export function regexOf(source: string): RegExp {
  let regex = compiled.get(source);
  if (!regex) compiled.set(source, (regex = new RegExp(source)));
  return regex;
}

// Looked up for every text and URL read: by the pattern object (a source string built by concatenation costs more
// to look up by value).
const byPattern = new WeakMap<Pattern, RegExp>();
function patternRegex(pattern: Pattern): RegExp {
  let regex = byPattern.get(pattern);
  if (!regex) byPattern.set(pattern, (regex = regexOf(pattern.source)));
  return regex;
}

const CALENDAR_DATE = regexOf(patterns.CALENDAR_DATE);
const SURROGATE_OR_NOT_CHARACTER = /[\ud800-\udfff\ufffe\uffff]/;
const PLAIN_DECIMAL = /^-?[0-9]+([.][0-9]+)?$/;
const ZERO = 0x30;
const MINUS = 0x2d;

/** Characters (Unicode code points) in a string: what sh:minLength and sh:maxLength count. */
export function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length--;
        i++;
      }
    }
  }
  return length;
}

/** True for text an xsd:string can hold (no lone surrogate, no U+FFFE or U+FFFF). */
export function isXsdString(text: string): boolean {
  if (!SURROGATE_OR_NOT_CHARACTER.test(text)) return true;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0xfffe || unit === 0xffff || (unit >= 0xdc00 && unit <= 0xdfff)) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/**
 * Compares two decimals in canonical form (the table's bounds are, and values are by the time they are compared),
 * digit by digit: amounts are checked for every op read, so without parsing them or allocating.
 */
function compareCanonical(a: string, b: string): number {
  const negative = a.charCodeAt(0) === MINUS;
  if (negative !== (b.charCodeAt(0) === MINUS)) return negative ? -1 : 1;
  const sign = negative ? -1 : 1;
  const start = negative ? 1 : 0;
  const aPoint = a.includes('.') ? a.indexOf('.') : a.length;
  const bPoint = b.includes('.') ? b.indexOf('.') : b.length;
  if (aPoint !== bPoint) return sign * (aPoint - bPoint);
  const end = Math.max(a.length, b.length);
  for (let i = start; i < end; i++) {
    if (i === aPoint) continue; // the point, or where it would be
    const x = i < a.length ? a.charCodeAt(i) : ZERO;
    const y = i < b.length ? b.charCodeAt(i) : ZERO;
    if (x !== y) return sign * (x - y);
  }
  return 0;
}

const yearOf = (ms: number): number => new Date(ms).getUTCFullYear();
const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));
const lengthWords = (v: { minLength: number; maxLength: number }): string =>
  v.minLength === v.maxLength ? `${v.minLength} characters` : `${v.minLength}–${v.maxLength} characters`;

function checkText(v: TextValue, value: unknown, label: string): string | null {
  if (typeof value !== 'string') return `${label} must be a text, got ${show(value)}`;
  const quick = v.minLength <= 1 && value.length >= v.minLength && value.length <= v.maxLength;
  const length = quick ? value.length : codePointLength(value);
  if (length < v.minLength) return v.minLength === 1 ? `${label} must be a non-empty text` : `${label} must be ${lengthWords(v)}, got ${show(value)}`;
  if (length > v.maxLength) return `${label} is longer than ${v.maxLength} characters`;
  if (!isXsdString(value)) return `${label} holds a lone surrogate or U+FFFE/U+FFFF, which no text may contain`;
  if (v.pattern && !patternRegex(v.pattern).test(value)) return `${label} must be ${lengthWords(v)} ${v.pattern.says}, got ${show(value)}`;
  return null;
}

function checkChoice(v: ChoiceValue, value: unknown, label: string): string | null {
  if (typeof value === 'string' && v.choices.includes(value)) return null;
  return `${label} must be ${v.says ? `a valid ${v.says}` : `one of ${v.choices.join(', ')}`}, got ${show(value)}`;
}

function checkInteger(v: IntegerValue, value: unknown, label: string): string | null {
  const whole = typeof value === 'number' && Number.isSafeInteger(value);
  if (v.nonZero) {
    if (whole && value !== 0 && value >= v.min && value <= v.max) return null;
    return `${label} must be a non-zero whole number between ${v.min} and ${v.max}, got ${show(value)}`;
  }
  if (!whole) return `${label} must be a whole number, got ${show(value)}`;
  if (value < v.min) return `${label} must be ${v.min === 0 ? 'zero or more' : `at least ${v.min}`}, got ${value}`;
  if (value > v.max) return `${label} must be at most ${v.max}, got ${value}`;
  return null;
}

function checkDecimal(v: DecimalValue, value: unknown, label: string): string | null {
  if (typeof value !== 'string' || !PLAIN_DECIMAL.test(value)) return `${label} must be a decimal number like "12.50", got ${show(value)}`;
  const start = value.charCodeAt(0) === MINUS ? 1 : 0;
  const point = value.includes('.') ? value.indexOf('.') : value.length;
  const wholeDigits = point - start;
  const fractionDigits = Math.max(0, value.length - point - 1);
  const leadingZero = wholeDigits > 1 && value.charCodeAt(start) === ZERO;
  const trailingZero = fractionDigits > 0 && value.charCodeAt(value.length - 1) === ZERO;
  if (leadingZero || trailingZero || value === '-0') {
    return `${label} must be written in canonical form (no leading zeros, no trailing zeros after the point), got ${show(value)}`;
  }
  if (wholeDigits > v.digits.integer || fractionDigits > v.digits.fraction) {
    return `${label} may have at most ${v.digits.integer} digits before the point and ${v.digits.fraction} after, got ${show(value)}`;
  }
  const belowMin = compareCanonical(value, v.min);
  if (v.minExclusive && belowMin <= 0) return `${label} must be more than ${v.min}, got ${value}`;
  if (belowMin < 0) return `${label} must be at least ${v.min}, got ${value}`;
  if (v.max !== undefined && compareCanonical(value, v.max) > 0) return `${label} must be at most ${v.max}, got ${value}`;
  return null;
}

function checkUrl(v: UrlValue, value: unknown, label: string): string | null {
  if (typeof value === 'string' && value.length <= v.maxLength && patternRegex(v.pattern).test(value)) return null;
  const spelling = 'as a URL parser writes it (lower-case host, no default port, no "." segments)';
  return `${label} must be ${v.pattern.says} ${spelling}, at most ${v.maxLength} characters, got ${show(value)}`;
}

/**
 * Why a JSON value is not a valid value of this kind, or null. Nested nodes are checked field by field.
 * Shared with the strict Turtle reader, which checks every value it reads with exactly these rules.
 */
export function checkValue(v: Value, value: unknown, label: string): string | null {
  switch (v.kind) {
    case 'text':
      return checkText(v, value, label);
    case 'choice':
      return checkChoice(v, value, label);
    case 'integer':
      return checkInteger(v, value, label);
    case 'decimal':
      return checkDecimal(v, value, label);
    case 'date':
      return typeof value === 'string' && CALENDAR_DATE.test(value) ? null : `${label} must be a calendar date like 2026-12-01, got ${show(value)}`;
    case 'instant':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= v.min && value <= v.max
        ? null
        : `${label} must be a whole number of milliseconds from ${v.min} to ${v.max} (${yearOf(v.min)} to ${yearOf(v.max)}), got ${show(value)}`;
    case 'url':
      return checkUrl(v, value, label);
    case 'opId':
      return isOpId(value) ? null : `${label} must be 64 lowercase hex digits, got ${show(value)}`;
    case 'opType':
      return isOpType(value) ? null : `${label}: ${show(value)} is not an op type`;
    case 'node':
      return checkNode(v.node, value, label);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const join = (parent: string, label: string): string => (parent ? `${parent} ${label}` : label);

function checkList(field: Field & { count: { min: number; max: number } }, value: unknown, label: string): string | null {
  if (!Array.isArray(value)) return `${label} must be a list`;
  const { min, max } = field.count;
  if (value.length < min) return min === 1 ? `${label} must not be empty` : `${label} must have at least ${min} entries`;
  if (value.length > max) return `${label} lists ${value.length} entries, at most ${max} are allowed`;
  for (let i = 0; i < value.length; i++) {
    if (checkValue(field.value, value[i], label) !== null) return `${label} has an invalid entry ${JSON.stringify(value[i])}`;
    if (i > 0 && !((value[i - 1] as string) < (value[i] as string))) return `${label} must be sorted and without duplicates`;
  }
  return null;
}

/** Why this field of a JSON object is wrong (missing, or a bad value), or null. */
export function checkField(field: Field, container: Record<string, unknown>, parentLabel: string): string | null {
  const label = join(parentLabel, field.label);
  const value = container[field.key];
  if (typeof field.count === 'object') return checkList(field as Field & { count: { min: number; max: number } }, value, label);
  if (value === undefined) return field.count === 'one' ? `${label} is missing` : null;
  return checkValue(field.value, value, label);
}

function checkFields(fields: readonly Field[], container: Record<string, unknown>, label: string): string | null {
  for (const field of fields) {
    const problem = checkField(field, container, label);
    if (problem !== null) return problem;
  }
  return null;
}

function checkNode(node: NodeSpec, value: unknown, label: string): string | null {
  if (!isObject(value)) return `${label} must be an object`;
  return unexpectedField(node.fields, value, label) ?? checkFields(node.fields, value, label);
}

function unexpectedField(fields: readonly Field[], value: Record<string, unknown>, label: string): string | null {
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined && !fields.some((field) => field.key === key)) return `${label} has an unexpected field "${key}"`;
  }
  return null;
}

const valueAt = (payload: Record<string, unknown>, path: readonly string[]): unknown =>
  path.reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), payload);

/** The first rule relating several fields of the payload that it breaks, or null. */
export function brokenRule(type: OpType, payload: Record<string, unknown>): Rule | null {
  for (const rule of OP_TABLE[type].rules ?? ([] as readonly Rule[])) {
    if (rule.kind === 'different') {
      const [a, b] = rule.paths.map((path) => valueAt(payload, path));
      if (a !== undefined && a === b) return rule;
    } else {
      const present = (key: string) => payload[key] !== undefined;
      const complete = rule.groups.filter((group) => group.keys.every(present));
      const touched = rule.groups.filter((group) => group.keys.some(present));
      if (complete.length !== 1 || touched.length !== 1) return rule;
    }
  }
  return null;
}

function checkRules(type: OpType, payload: Record<string, unknown>): string | null {
  const rule = brokenRule(type, payload);
  if (rule === null) return null;
  return rule.kind === 'different' ? rule.says : oneGroupMessage(type, rule);
}

/** The fold's words for a oneGroup rule: "AddDiscount needs either a fixed amount (…) or a percentage (…), not both". */
function oneGroupMessage(type: OpType, rule: Extract<Rule, { kind: 'oneGroup' }>): string {
  const fields = OP_TABLE[type].fields;
  const labels = (keys: readonly string[]) => keys.map((key) => fields.find((field) => field.key === key)?.label ?? key).join(' with ');
  return `${type} needs either ${rule.groups.map((group) => `${group.name} (${labels(group.keys)})`).join(' or ')}, not both`;
}

/** Ops found well-formed by this process: immutable values, so checking them once is enough. */
const wellFormed = new WeakSet<object>();

/**
 * Records an op as well-formed without checking it again: for a reader that built it field by field with
 * checkValue and checked its rules (src/rdf/codec.ts; test/rdf/agreement.test.ts checks what it builds).
 */
export function markWellFormed(op: object): void {
  wellFormed.add(op);
}

/** Null when the op is well-formed, otherwise why not. Never throws, whatever it is given. */
export function validateOpStructure(op: unknown): string | null {
  if (typeof op === 'object' && op !== null && wellFormed.has(op)) return null;
  try {
    const problem = problemWith(op);
    if (problem === null) wellFormed.add(op as object);
    return problem;
  } catch (error) {
    return `op could not be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function problemWith(op: unknown): string | null {
  if (!isObject(op)) return 'op must be an object';
  if (!isOpId(op['id'])) return 'op id must be 64 hex characters';
  if (!isOpType(op['type'])) return `unknown op type ${show(op['type'])}`;
  // The envelope is not closed: fields outside the op's content (its id) are not hashed, and not checked.
  const envelope = checkFields(ENVELOPE, op, '');
  if (envelope !== null) return envelope;
  if ((op['deps'] as string[]).includes(op['id'])) return 'an op cannot depend on itself';
  const { fields } = OP_TABLE[op['type']];
  const payload = op['payload'];
  if (!isObject(payload)) return 'payload must be an object';
  return unexpectedField(fields, payload, `${op['type']} payload`) ?? checkFields(fields, payload, '') ?? checkRules(op['type'], payload);
}
