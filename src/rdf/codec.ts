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
import { withId } from '../model/hash.ts';
import { isOpId } from '../model/ids.ts';
import { opNodeFields, type Field, type Value } from '../model/op-table.ts';
import { isOpType, type AnyOp, type OpContent, type OpType } from '../model/ops.ts';
import * as patterns from '../model/patterns.ts';
import { brokenRule, checkValue, isXsdString, regexOf, validateOpStructure } from '../model/validate.ts';
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

// ---------------------------------------------------------------------------------------------------
// Writing

type PredicateObject = { predicate: NamedNode; object: Quad['object'] };

/** Milliseconds since the epoch as xsd:dateTime, UTC, millisecond precision ("2024-05-01T12:00:00.000Z"). */
export function wallTimeLexical(wallMs: number): string {
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

const SYNTAX_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const UTC_INSTANT = regexOf(patterns.UTC_INSTANT);

/** A node's values for a predicate, without duplicates (an RDF graph is a set: a triple stated twice is one). */
function distinct(terms: readonly Term[] | undefined): readonly Term[] {
  if (!terms || terms.length < 2) return terms ?? [];
  const seen = new Map<string, Term>();
  for (const term of terms) {
    const literal = term.termType === 'Literal' ? (term as Literal) : undefined;
    seen.set(`${term.termType} ${term.value} ${literal?.datatype.value ?? ''} ${literal?.language ?? ''}`, term);
  }
  return [...seen.values()];
}

const isLiteralOf = (term: Term, datatype: string): term is Literal =>
  term.termType === 'Literal' && (term as Literal).datatype.value === datatype && (term as Literal).language === '';

/** The JSON value an RDF term stands for, or undefined when it is the wrong kind of term or not in canonical form. */
function jsonOf(value: Value, term: Term): unknown {
  switch (value.kind) {
    case 'text':
    case 'choice':
      return isLiteralOf(term, XSD_STRING) && isXsdString(term.value) ? term.value : undefined;
    case 'integer':
      return isLiteralOf(term, XSD_INTEGER) && regexOf(patterns.integerPattern(value)).test(term.value) ? Number(term.value) : undefined;
    case 'decimal':
      return isLiteralOf(term, XSD_DECIMAL) ? term.value : undefined;
    case 'date':
      return isLiteralOf(term, XSD_DATE) && SYNTAX_DATE.test(term.value) ? term.value : undefined;
    case 'instant':
      return isLiteralOf(term, XSD_DATETIME) && UTC_INSTANT.test(term.value) ? Date.parse(term.value) : undefined;
    case 'url':
      return term.termType === 'NamedNode' ? term.value : undefined;
    case 'opId': {
      const hex = term.termType === 'NamedNode' && term.value.startsWith(OP_ID_IRI_PREFIX) ? term.value.slice(OP_ID_IRI_PREFIX.length) : '';
      return isOpId(hex) ? hex : undefined;
    }
    case 'opType': {
      const local = term.termType === 'NamedNode' && term.value.startsWith(FI) ? term.value.slice(FI.length) : '';
      return isOpType(local) ? local : undefined;
    }
    case 'node':
      return term.termType === 'BlankNode' ? term : undefined;
  }
}

/** The predicates a node may have: its fields' (inline nodes' included) and rdf:type. */
const allowedCache = new WeakMap<readonly Field[], ReadonlySet<string>>();
function allowedPredicates(fields: readonly Field[]): ReadonlySet<string> {
  let allowed = allowedCache.get(fields);
  if (!allowed) {
    const set = new Set<string>([RDF_TYPE]);
    const add = (list: readonly Field[]): void => {
      for (const field of list) {
        if (field.predicate !== undefined) set.add(field.predicate);
        else if (field.value.kind === 'node') add(field.value.node.fields);
      }
    };
    add(fields);
    allowedCache.set(fields, (allowed = set));
  }
  return allowed;
}

class Reader {
  constructor(private readonly nodes: ReadonlyMap<string, Edges>) {}

  /** Reads the fields of one RDF node (refusing predicates no field has) into `out`. */
  node(fields: readonly Field[], edges: Edges, path: string, out: Record<string, unknown>): void {
    const allowed = allowedPredicates(fields);
    for (const [predicate, objects] of edges) {
      if (!allowed.has(predicate)) {
        throw new Refusal(`unexpected property ${path}${compactIri(predicate)}: the shape is closed and does not allow it (value ${termForMessage(objects[0])})`);
      }
    }
    this.fields(fields, edges, path, out);
  }

  private fields(fields: readonly Field[], edges: Edges, path: string, out: Record<string, unknown>): void {
    for (const field of fields) {
      if (field.predicate === undefined) {
        const inner: Record<string, unknown> = {};
        if (field.value.kind === 'node') this.fields(field.value.node.fields, edges, path, inner);
        out[field.key] = inner;
        continue;
      }
      const value = this.field(field, distinct(edges.get(field.predicate)), `${path}${compactIri(field.predicate)}`);
      if (value !== undefined) out[field.key] = value;
    }
  }

  private field(field: Field, terms: readonly Term[], where: string): unknown {
    const refuse = (suffix: string): never => {
      throw new Refusal(`${where} ${fieldMessage(field)}${suffix}`);
    };
    const { count } = field;
    const min = count === 'one' ? 1 : typeof count === 'object' ? count.min : 0;
    const max = typeof count === 'object' ? count.max : 1;
    if (terms.length < min) refuse(' (missing)');
    if (terms.length > max) refuse(' (found more than allowed)');
    const values = terms.map((term) => this.value(field, term, where, refuse));
    if (typeof count === 'object') return (values as string[]).sort();
    return values[0];
  }

  private value(field: Field, term: Term, where: string, refuse: (suffix: string) => never): unknown {
    const kind = field.value;
    const json = jsonOf(kind, term);
    if (json === undefined) refuse(` (got ${termForMessage(term)})`);
    if (kind.kind === 'node') {
      const inner: Record<string, unknown> = {};
      this.node(kind.node.fields, this.nodes.get(termKey(term)) ?? new Map(), `${where}/`, inner);
      return inner;
    }
    if (checkValue(kind, json, '') !== null) {
      if (kind.kind === 'date') throw new Refusal(`${where} ${CALENDAR_MESSAGE} (got ${termForMessage(term)})`);
      refuse(` (got ${termForMessage(term)})`);
    }
    return json;
  }
}

/**
 * Reads the op node `edges` (of type `type`) of a parsed graph into an op, its id computed from its content, or
 * says why it is not a valid op: "does not conform to shape AddToCart: schema:orderQuantity must be …".
 * Never throws.
 */
export function decodeOp(type: OpType, edges: Edges, nodes: ReadonlyMap<string, Edges>): ParseOpResult {
  try {
    const content: Record<string, unknown> = { type };
    new Reader(nodes).node(opNodeFields(type), edges, '', content);
    const rule = brokenRule(type, content['payload'] as Record<string, unknown>);
    if (rule) throw new Refusal(ruleMessage(type, rule));
    const op = withId(content as unknown as OpContent) as AnyOp;
    const problem = validateOpStructure(op);
    return problem === null ? { ok: true, op } : { ok: false, reason: `could not read op: ${problem}` };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: `does not conform to shape ${type}: ${error.message}` };
    return { ok: false, reason: `could not read op: ${error instanceof Error ? error.message : String(error)}` };
  }
}
