/**
 * Op ⇄ RDF, derived from the op table (src/model/op-table.ts). PURE: no file system, no network.
 *
 * Writing: one triple per field value, lists as repeated predicates (sorted), nested nodes as blank nodes.
 * Reading (`decodeOp`) is strict: every field has exactly the values its count allows, each of the right RDF
 * kind and datatype, in canonical form, within the table's bounds; the node has no other predicate (besides
 * rdf:type). A refusal names the field the way the SHACL shapes' messages do, with the same words, because both
 * come from the same table; test/rdf/agreement.test.ts checks that the two give the same verdicts.
 */
import type { Literal, NamedNode, Quad, Term } from '@rdfjs/types';
import { DataFactory, Writer } from 'n3';
import { hash } from 'node:crypto';
import { withIdOfCanonical } from '../model/hash.ts';
import { opNodeFields, OUTSIDE_ID, type Count, type Field, type Value } from '../model/op-table.ts';
import { isOpType, type AnyOp, type OpContent, type OpType } from '../model/ops.ts';
import * as patterns from '../model/patterns.ts';
import { brokenRule, checkValue, markWellFormed, regexOf } from '../model/validate.ts';
import { CALENDAR_MESSAGE, fieldMessage, ruleMessage } from './field-messages.ts';
import type { Edges } from './graph.ts';
import {
  compactIri,
  FI,
  OP_FRAGMENT,
  opIdToIri,
  OP_ID_IRI_PREFIX,
  opTypeIri,
  PREFIXES,
  RDF_TYPE,
  termForMessage,
  termKey,
  XSD_DATE,
  XSD_DATETIME,
  XSD_DECIMAL,
  XSD_INTEGER,
  XSD_STRING,
} from './vocabulary.ts';

const { namedNode, literal, quad } = DataFactory;

/** Ids of ops read in bulk are hashed natively: several times faster than the model's pure-JavaScript SHA-256. */
const nativeSha256 = (text: string): string => hash('sha256', text, 'hex');

// ---------------------------------------------------------------------------------------------------
// Writing

type PredicateObject = { predicate: NamedNode; object: Quad['object'] };

/** Milliseconds since the epoch as xsd:dateTime, UTC, millisecond precision ("2024-05-01T12:00:00.000Z"). */
function wallTimeLexical(wallMs: number): string {
  const date = new Date(wallMs);
  return Number.isNaN(date.getTime()) ? String(wallMs) : date.toISOString();
}

const DATATYPE: Partial<Record<Value['kind'], string>> = {
  text: XSD_STRING,
  choice: XSD_STRING,
  integer: XSD_INTEGER,
  decimal: XSD_DECIMAL,
  date: XSD_DATE,
};

/** The RDF term of one value. The writer writes what it is given, valid or not: the reader is the judge. */
function termOf(value: Value, v: unknown, writer: Writer): Quad['object'] {
  switch (value.kind) {
    case 'instant':
      return literal(wallTimeLexical(v as number), namedNode(XSD_DATETIME));
    case 'url':
      return namedNode(String(v));
    case 'opId':
      return namedNode(opIdToIri(v as never));
    case 'opType':
      return namedNode(opTypeIri(v as OpType));
    case 'node': {
      const typed = value.node.class ? [{ predicate: namedNode(RDF_TYPE), object: namedNode(value.node.class) }] : [];
      return writer.blank([...typed, ...predicateObjects(value.node.fields, v, writer)]);
    }
    default:
      return literal(String(v), namedNode(DATATYPE[value.kind]!));
  }
}

function predicateObjects(fields: readonly Field[], container: unknown, writer: Writer): PredicateObject[] {
  const out: PredicateObject[] = [];
  const record = (container ?? {}) as Record<string, unknown>;
  for (const field of fields) {
    const v = record[field.key];
    if (field.predicate === undefined) {
      if (field.value.kind === 'node') out.push(...predicateObjects(field.value.node.fields, v, writer));
      continue;
    }
    if (v === undefined) continue;
    const values = typeof field.count === 'object' && Array.isArray(v) ? [...new Set(v)].sort() : [v];
    for (const one of values) out.push({ predicate: namedNode(field.predicate), object: termOf(field.value, one, writer) });
  }
  return out;
}

/** Writes one op as the subject `subject`: its rdf:type, its envelope and its payload. */
export function writeOp(writer: Writer, subject: NamedNode, op: AnyOp): void {
  writer.addQuad(quad(subject, namedNode(RDF_TYPE), namedNode(opTypeIri(op.type))));
  for (const { predicate, object } of predicateObjects(opNodeFields(op.type), op, writer)) writer.addQuad(quad(subject, predicate, object));
}

export function endWriter(writer: Writer): string {
  let text = '';
  writer.end((error, result: string) => {
    if (error) throw error;
    text = result;
  });
  return text;
}

/**
 * The Turtle document for one op: subject `<#op>` (relative to the resource's own URL), typed `fi:<OpType>`.
 * The op's id is not written: it is the resource's name, and readers recompute it.
 */
export function opToTurtle(op: AnyOp): string {
  const writer = new Writer({ prefixes: PREFIXES });
  writeOp(writer, namedNode(OP_FRAGMENT), op);
  return endWriter(writer);
}

// ---------------------------------------------------------------------------------------------------
// Reading

export type ParseOpResult = { ok: true; op: AnyOp } | { ok: false; reason: string };

/** Thrown (and caught) inside decodeOp only: a message in the shapes' words. */
class Refusal extends Error {}

/** What a term reads as when it is not a valid value: the wrong kind of term, or outside the table's rules. */
export const INVALID = Symbol('invalid');
/** A date that is well written but does not exist (30 February): the shapes say so in a message of its own. */
export const NOT_A_DATE = Symbol('not a date');

const SYNTAX_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const UTC_INSTANT = regexOf(patterns.UTC_INSTANT);
const CALENDAR_DATE = regexOf(patterns.CALENDAR_DATE);
const HEX64 = regexOf(patterns.HEX64);

const isLiteralOf = (term: Term, datatype: string): term is Literal =>
  term.termType === 'Literal' && (term as Literal).datatype.value === datatype && (term as Literal).language === '';

/** term → its JSON value, INVALID or NOT_A_DATE: the datatype and lexical form, then the table's rules (checkValue). */
export type ValueReader = (term: Term) => unknown;

function valueReader(v: Value): ValueReader {
  const valid = (json: unknown): unknown => (checkValue(v, json, '') === null ? json : INVALID);
  switch (v.kind) {
    case 'text':
      return (term) => (isLiteralOf(term, XSD_STRING) ? valid(term.value) : INVALID);
    case 'choice': {
      const choices = new Set(v.choices);
      return (term) => (isLiteralOf(term, XSD_STRING) && choices.has(term.value) ? term.value : INVALID);
    }
    case 'integer': {
      const canonical = regexOf(patterns.integerPattern(v));
      return (term) => (isLiteralOf(term, XSD_INTEGER) && canonical.test(term.value) ? valid(Number(term.value)) : INVALID);
    }
    case 'decimal':
      return (term) => (isLiteralOf(term, XSD_DECIMAL) ? valid(term.value) : INVALID);
    case 'date':
      return (term) => {
        if (!isLiteralOf(term, XSD_DATE) || !SYNTAX_DATE.test(term.value)) return INVALID;
        return CALENDAR_DATE.test(term.value) ? term.value : NOT_A_DATE;
      };
    case 'instant':
      return (term) => (isLiteralOf(term, XSD_DATETIME) && UTC_INSTANT.test(term.value) ? valid(Date.parse(term.value)) : INVALID);
    case 'url':
      return (term) => (term.termType === 'NamedNode' ? valid(term.value) : INVALID);
    case 'opId':
      return (term) => {
        const hex = term.termType === 'NamedNode' && term.value.startsWith(OP_ID_IRI_PREFIX) ? term.value.slice(OP_ID_IRI_PREFIX.length) : '';
        return HEX64.test(hex) ? hex : INVALID;
      };
    case 'opType':
      return (term) => {
        const local = term.termType === 'NamedNode' && term.value.startsWith(FI) ? term.value.slice(FI.length) : '';
        return isOpType(local) ? local : INVALID;
      };
    case 'node':
      return (term) => (term.termType === 'BlankNode' ? term : INVALID);
  }
}

/**
 * How to read one step of a node, compiled once from the table: a field with a predicate (`read`; `nested` for a
 * blank node), or an inline node (`inline`) whose fields sit on the same RDF node.
 */
export interface Step {
  readonly key: string;
  readonly field: (Field & { readonly predicate: string }) | null;
  readonly min: number;
  readonly max: number;
  readonly list: boolean;
  readonly read: ValueReader | null;
  readonly nested: Plan | null;
  readonly inline: Plan | null;
}
/** How to read a node: its steps, the predicates it may have, and its steps in the order of their keys. */
export interface Plan {
  readonly allowed: ReadonlySet<string>;
  readonly steps: readonly Step[];
  readonly sorted: readonly Step[];
}

/** A node counts the predicates it reads to find one it may not have, so no two of its fields may share one. */
function allowOnce(allowed: Set<string>, predicate: string): void {
  if (allowed.has(predicate)) throw new Error(`the op table uses ${predicate} twice on one node`);
  allowed.add(predicate);
}

/** The fewest values a field takes. */
function fewestOf(count: Count): number {
  if (typeof count === 'object') return count.min;
  return count === 'one' ? 1 : 0;
}

const plans = new WeakMap<readonly Field[], Plan>();
export function planOf(fields: readonly Field[]): Plan {
  let plan = plans.get(fields);
  if (plan) return plan;
  const allowed = new Set<string>([RDF_TYPE]);
  const steps: Step[] = [];
  for (const field of fields) {
    const v = field.value;
    const step = { key: field.key, field: null, min: 0, max: 0, list: false, read: null, nested: null, inline: null };
    if (field.predicate === undefined) {
      if (v.kind !== 'node') continue;
      const inline = planOf(v.node.fields);
      for (const predicate of inline.allowed) if (predicate !== RDF_TYPE) allowOnce(allowed, predicate);
      steps.push({ ...step, inline });
      continue;
    }
    allowOnce(allowed, field.predicate);
    const { count } = field;
    const list = typeof count === 'object';
    const nested = v.kind === 'node' ? planOf(v.node.fields) : null;
    const min = fewestOf(count);
    const max = list ? count.max : 1;
    steps.push({ ...step, field: field as Step['field'], min, max, list, read: valueReader(v), nested });
  }
  const sorted = [...steps].sort((a, b) => (a.key < b.key ? -1 : 1));
  plans.set(fields, (plan = { allowed, steps, sorted }));
  return plan;
}

/**
 * The canonical JSON of what a plan read (RFC 8785, as canonicalJson writes it): its keys in sorted order, known
 * from the table, so no object's keys need listing and sorting. Values are strings, safe integers, sorted lists of
 * strings and nodes, which JSON.stringify writes canonically.
 */
function sortedView(plan: Plan, read: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const step of plan.sorted) {
    const value = read[step.key];
    if (value === undefined) continue;
    const nested = step.inline ?? step.nested;
    view[step.key] = nested === null ? value : sortedView(nested, value as Record<string, unknown>);
  }
  return view;
}

const sameTerm = (a: Term, b: Term): boolean =>
  a.termType === b.termType &&
  a.value === b.value &&
  (a.termType !== 'Literal' || ((a as Literal).datatype.value === (b as Literal).datatype.value && (a as Literal).language === (b as Literal).language));

const termId = (term: Term): string =>
  term.termType === 'Literal' ? `${term.value} ${(term as Literal).datatype.value} ${(term as Literal).language}` : `${term.termType} ${term.value}`;

/**
 * A node's values for a predicate, without duplicates (an RDF graph is a set: a triple stated twice is one).
 * Compared pairwise for the few values fields have, by key beyond that (a hostile list must not cost n²).
 */
function distinct(terms: readonly Term[]): readonly Term[] {
  if (terms.length > 16) {
    const unique = new Map(terms.map((term) => [termId(term), term]));
    return unique.size === terms.length ? terms : [...unique.values()];
  }
  const out: Term[] = [];
  for (const term of terms) if (!out.some((seen) => sameTerm(seen, term))) out.push(term);
  return out.length === terms.length ? terms : out;
}

/** Where a field sits, as the shapes' messages name it: "fi:buyer/fi:webId". */
const where = (path: readonly string[], predicate: string): string => [...path, predicate].map(compactIri).join('/');
const refusal = (field: NonNullable<Step['field']>, path: readonly string[], detail: string): Refusal =>
  new Refusal(`${where(path, field.predicate)} ${fieldMessage(field)}${detail}`);

class Reader {
  constructor(private readonly nodes: ReadonlyMap<string, Edges>) {}

  /** Reads one RDF node into `out`, refusing predicates its fields do not have; `path`: the predicates leading to it. */
  node(plan: Plan, edges: Edges, path: readonly string[], out: Record<string, unknown>): void {
    const read = this.steps(plan, edges, path, out) + (edges.has(RDF_TYPE) ? 1 : 0);
    if (read === edges.size) return;
    const unexpected = [...edges.keys()].find((predicate) => !plan.allowed.has(predicate))!;
    const value = termForMessage(edges.get(unexpected)![0]);
    throw new Refusal(`unexpected property ${where(path, unexpected)}: the shape is closed and does not allow it (value ${value})`);
  }

  /** Reads the steps of a node into `out`; returns how many of the node's predicates they read. */
  private steps(plan: Plan, edges: Edges, path: readonly string[], out: Record<string, unknown>): number {
    let read = 0;
    for (const step of plan.steps) {
      if (step.inline !== null) {
        const inner: Record<string, unknown> = {};
        read += this.steps(step.inline, edges, path, inner);
        out[step.key] = inner;
        continue;
      }
      const field = step.field!;
      let terms = edges.get(field.predicate);
      if (terms !== undefined && terms.length > 1) terms = distinct(terms) as Term[];
      const count = terms === undefined ? 0 : terms.length;
      if (count < step.min) throw refusal(field, path, ' (missing)');
      if (count > step.max) throw refusal(field, path, ' (found more than allowed)');
      if (count > 0) read++;
      if (step.list) out[step.key] = this.list(step, terms ?? [], path);
      else if (count === 1) out[step.key] = this.value(step, terms![0]!, path);
    }
    return read;
  }

  /** A list's values, sorted (RDF gives them in no particular order). */
  private list(step: Step, terms: readonly Term[], path: readonly string[]): string[] {
    const values: string[] = [];
    for (const term of terms) values.push(this.value(step, term, path) as string);
    return values.length > 1 ? values.sort() : values;
  }

  private value(step: Step, term: Term, path: readonly string[]): unknown {
    const field = step.field!;
    const json = step.read!(term);
    if (json === INVALID) throw refusal(field, path, ` (got ${termForMessage(term)})`);
    if (json === NOT_A_DATE) throw new Refusal(`${where(path, field.predicate)} ${CALENDAR_MESSAGE} (got ${termForMessage(term)})`);
    if (step.nested === null) return json;
    const inner: Record<string, unknown> = {};
    this.node(step.nested, this.nodes.get(termKey(term)) ?? new Map(), [...path, field.predicate], inner);
    return inner;
  }
}

/**
 * Reads the op node `edges` (of type `type`) of a parsed graph into an op, its id computed from its content, or
 * says why it is not a valid op: "does not conform to shape AddToCart: schema:orderQuantity must be …".
 * Never throws.
 */
export function decodeOp(type: OpType, edges: Edges, nodes: ReadonlyMap<string, Edges>): ParseOpResult {
  try {
    const plan = planOf(opNodeFields(type));
    const content: Record<string, unknown> = { type };
    new Reader(nodes).node(plan, edges, [], content);
    return opOfContent(type, plan, content);
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: `does not conform to shape ${type}: ${error.message}` };
    return { ok: false, reason: `could not read op: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The op of content whose every field a reader has checked against `plan` (the op node's): the rules that relate
 * several fields, then the id, hashed from the canonical JSON the plan's sorted keys give. Shared by the strict
 * reader and the canonical fast path (canonical.ts), so both end in the same op or the same refusal.
 */
export function opOfContent(type: OpType, plan: Plan, content: Record<string, unknown>): ParseOpResult {
  const rule = brokenRule(type, content['payload'] as Record<string, unknown>);
  if (rule) return { ok: false, reason: `does not conform to shape ${type}: ${ruleMessage(type, rule)}` };
  const view = sortedView(plan, content);
  for (const key of OUTSIDE_ID) delete view[key]; // a signature is not part of the op's id
  view['type'] = type; // sorts after every other key of the op's node ("clock" … "payload")
  const canonical = JSON.stringify(view);
  const op = withIdOfCanonical(content as unknown as OpContent, canonical, nativeSha256) as AnyOp;
  // Every field was checked as the fold checks it; what is left is what only the id can tell.
  if (op.deps.includes(op.id)) return { ok: false, reason: 'an op cannot depend on itself' };
  markWellFormed(op);
  return { ok: true, op };
}
