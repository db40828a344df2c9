/**
 * The fast path of ingest. fedinvoice writes every op in one canonical Turtle form: the n3 Writer's output of
 * codec.ts (prefixes, then one statement per op, fields in the op table's order, list values sorted). This reads
 * exactly that form without a general Turtle parser: the layout of each node is compiled from the op table (the
 * predicates as the writer writes them, the value syntax by kind), and every value goes through the strict
 * reader's own value rules, counts and cross-field rules (codec.ts), so a field added to the table is read here
 * without an edit.
 *
 * It only ever accepts. Anything it does not recognise as the canonical form of a valid op (another layout,
 * a comment, an unknown escape, a relative IRI, a value the table refuses, a repeated value…) it leaves to the
 * strict reader (n3 + decodeOp), which gives the verdict and says why. test/rdf/agreement.test.ts proves that
 * what it accepts, the strict reader and SHACL accept too, as the same op.
 * PURE: no file system, no network.
 */
import type { Term } from '@rdfjs/types';
import { DataFactory, Writer } from 'n3';
import { isOpId, type OpId } from '../model/ids.ts';
import { opNodeFields, type NodeValue, type Value } from '../model/op-table.ts';
import { isOpType, type AnyOp, type OpType } from '../model/ops.ts';
import { endWriter, INVALID, NOT_A_DATE, opOfContent, planOf, type Plan, type Step } from './codec.ts';
import { FI, OP_FRAGMENT, PREFIXES, RDF_TYPE, XSD_DATE, XSD_DATETIME, XSD_DECIMAL, XSD_INTEGER, XSD_STRING } from './vocabulary.ts';

const { literal, namedNode } = DataFactory;

// ---------------------------------------------------------------------------------------------------
// The writer's spelling of terms, asked of the writer itself (one blank node `[ a <term> ]` per term).

const probe = new Writer({ prefixes: PREFIXES });
/** How the writer writes a term in object position. */
const writtenObject = (term: Term): string => probe.blank(namedNode(RDF_TYPE), term as never).id.slice('[ a '.length, -' ]'.length);
/** How the writer writes a predicate. */
const writtenPredicate = (iri: string): string => probe.blank(namedNode(iri), literal('')).id.slice('[ '.length, -' "" ]'.length);

/** What every document starts with: the prefixes and a blank line. */
const HEADER = endWriter(new Writer({ prefixes: PREFIXES }));
/** How op classes are written: the prefix of `fi:<OpType>`. */
const OP_CLASS_PREFIX = writtenObject(namedNode(`${FI}X`)).slice(0, -1);
/** The datatype suffix of a typed literal ("^^xsd:date"). */
const suffixOf = (datatype: string): string => writtenObject(literal('', namedNode(datatype))).slice('""'.length);
const DECIMAL_SUFFIX = suffixOf(XSD_DECIMAL);
const DATE_SUFFIX = suffixOf(XSD_DATE);
const INSTANT_SUFFIX = suffixOf(XSD_DATETIME);

// ---------------------------------------------------------------------------------------------------
// Terms as the strict reader's value rules take them (only the parts they look at)

const datatype = (iri: string) => ({ value: iri });
const STRING_TYPE = datatype(XSD_STRING);
const DECIMAL_TYPE = datatype(XSD_DECIMAL);
const DATE_TYPE = datatype(XSD_DATE);
const INSTANT_TYPE = datatype(XSD_DATETIME);
const INTEGER_TYPE = datatype(XSD_INTEGER);
const literalTerm = (value: string, type: { value: string }): Term => ({ termType: 'Literal', value, datatype: type, language: '' }) as never;
const iriTerm = (value: string): Term => ({ termType: 'NamedNode', value }) as never;
const BLANK: Term = { termType: 'BlankNode', value: 'b' } as never;

/** Returned when the text is not (or not certainly) the canonical form of a valid op: the strict reader decides. */
const DEFER = Symbol('defer');
type Read<T> = T | typeof DEFER;

// ---------------------------------------------------------------------------------------------------
// Reading the text

/** An IRI n3 reads as it is written: no escapes, no characters IRIs may not hold, absolute (so never resolved). */
const PLAIN_IRI = /<([^\x00-\x20<>\\"{}|^`]*)>/y;
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;
const INTEGER = /[+-]?[0-9]+/y;
const DECIMAL = /[+-]?[0-9]*\.[0-9]+/y;
const LOCAL_NAME = /[A-Za-z][A-Za-z0-9]*/y;
/** The escapes of a Turtle string (ECHAR) and what they stand for; \u and \U are read apart. */
const ESCAPES: Readonly<Record<string, string | undefined>> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', f: '\f', b: '\b' };

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  /** Moves past `expected` if the text continues with it. */
  take(expected: string): boolean {
    if (!this.text.startsWith(expected, this.pos)) return false;
    this.pos += expected.length;
    return true;
  }

  /** Moves past `first` and then `second` if the text continues with both; stays put otherwise. */
  takeBoth(first: string, second: string): boolean {
    const { text, pos } = this;
    if (!text.startsWith(first, pos) || !text.startsWith(second, pos + first.length)) return false;
    this.pos = pos + first.length + second.length;
    return true;
  }

  /** The match of a sticky expression here, moved past; null if it does not match. */
  match(pattern: RegExp): RegExpExecArray | null {
    pattern.lastIndex = this.pos;
    const found = pattern.exec(this.text);
    if (found) this.pos = pattern.lastIndex;
    return found;
  }

  /** A short string literal ("…") as n3 unescapes it; DEFER for a line break (n3 refuses it) or an unusual escape. */
  string(): Read<string> {
    const { text } = this;
    if (text.charCodeAt(this.pos) !== 0x22) return DEFER;
    let out = '';
    let start = this.pos + 1;
    for (let i = start; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        this.pos = i + 1;
        return out + text.slice(start, i);
      }
      if (code === 0x0a || code === 0x0d) return DEFER;
      if (code !== 0x5c) continue;
      const escaped = unescapeAt(text, i);
      if (escaped === null) return DEFER;
      out += text.slice(start, i) + escaped;
      i = escapeEnd - 1;
      start = escapeEnd;
    }
    return DEFER;
  }

  /** An IRI written `<…>` that n3 takes as it is. */
  iri(): Read<string> {
    const found = this.match(PLAIN_IRI);
    return found && ABSOLUTE.test(found[1]!) ? found[1]! : DEFER;
  }
}

/** Where the escape unescapeAt last read ends (a module variable: strings are read without allocating per escape). */
let escapeEnd = 0;

/** The escape at `at` (a backslash) as n3 reads it, or null where n3 would refuse or the form is unusual. */
function unescapeAt(text: string, at: number): string | null {
  const kind = text[at + 1];
  if (kind === undefined) return null;
  if (kind !== 'u' && kind !== 'U') {
    escapeEnd = at + 2;
    return ESCAPES[kind] ?? null;
  }
  const end = at + 2 + (kind === 'u' ? 4 : 8);
  if (end > text.length) return null;
  let code = 0;
  for (let i = at + 2; i < end; i++) {
    const digit = hexDigit(text.charCodeAt(i));
    if (digit < 0) return null;
    code = code * 16 + digit;
  }
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null;
  escapeEnd = end;
  return String.fromCodePoint(code);
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** The term of one value of kind `value`, read in the writer's spelling of that kind. */
function readTerm(cursor: Cursor, value: Value): Read<Term> {
  switch (value.kind) {
    case 'text':
    case 'choice': {
      const text = cursor.string();
      return text === DEFER ? DEFER : literalTerm(text, STRING_TYPE);
    }
    case 'integer': {
      const found = cursor.match(INTEGER);
      return found ? literalTerm(found[0], INTEGER_TYPE) : DEFER;
    }
    case 'decimal': {
      const bare = cursor.match(DECIMAL);
      if (bare) return literalTerm(bare[0], DECIMAL_TYPE);
      const text = cursor.string();
      return text !== DEFER && cursor.take(DECIMAL_SUFFIX) ? literalTerm(text, DECIMAL_TYPE) : DEFER;
    }
    case 'date':
    case 'instant': {
      const text = cursor.string();
      const [suffix, type] = value.kind === 'date' ? [DATE_SUFFIX, DATE_TYPE] : [INSTANT_SUFFIX, INSTANT_TYPE];
      return text !== DEFER && cursor.take(suffix) ? literalTerm(text, type) : DEFER;
    }
    case 'url':
    case 'opId': {
      const iri = cursor.iri();
      return iri === DEFER ? DEFER : iriTerm(iri);
    }
    case 'opType': {
      const local = cursor.take(OP_CLASS_PREFIX) ? cursor.match(LOCAL_NAME) : null;
      return local ? iriTerm(FI + local[0]) : DEFER;
    }
    case 'node':
      return BLANK;
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading nodes, as the op table lays them out

/** How a node's predicate groups are separated: before the first one, and before each later one. */
interface Layout {
  first: string;
  readonly next: string;
}
/** The op node's groups: `;\n    <predicate> <objects>`. */
const OP_NODE = (): Layout => ({ first: ';\n    ', next: ';\n    ' });
/** Deeper nesting than the op table has (a party's info holds its address: 3 levels below the op) is left to the strict reader. */
const MAX_DEPTH = 4;
/** Never in a document (what a node that can hold no more groups expects). */
const NOTHING = '\u0000';

const written = new WeakMap<Step, string>();
/** The text that starts a field's group: the predicate as the writer writes it, and a space. */
function groupStart(step: Step): string {
  let text = written.get(step);
  if (text === undefined) written.set(step, (text = `${writtenPredicate(step.field!.predicate)} `));
  return text;
}

const classes = new WeakMap<Step, string | null>();
/** How the writer writes the class of a nested node (`schema:PostalAddress`), or null for a node without one. */
function classOf(step: Step): string | null {
  let klass = classes.get(step);
  if (klass === undefined) {
    const { node } = step.field!.value as NodeValue;
    classes.set(step, (klass = node.class ? writtenObject(namedNode(node.class)) : null));
  }
  return klass;
}

class CanonicalReader {
  constructor(private readonly cursor: Cursor) {}

  /** Reads the groups of one node's steps (inline nodes' steps included) into `out`; false to defer. */
  steps(plan: Plan, layout: Layout, depth: number, out: Record<string, unknown>): boolean {
    for (const step of plan.steps) {
      if (step.inline !== null) {
        const inner: Record<string, unknown> = {};
        if (!this.steps(step.inline, layout, depth, inner)) return false;
        out[step.key] = inner;
        continue;
      }
      const values: unknown[] = [];
      if (this.cursor.takeBoth(layout.first, groupStart(step))) {
        layout.first = layout.next;
        do {
          const value = this.value(step, depth);
          if (value === DEFER) return false;
          values.push(value);
        } while (this.cursor.take(', '));
      }
      if (values.length < step.min || values.length > step.max) return false;
      if (step.list) {
        // Sorted and without repeats, as the writer writes a list and the strict reader gives it back (Array.sort's order).
        for (let i = 1; i < values.length; i++) if (!(String(values[i - 1]) < String(values[i]))) return false;
        out[step.key] = values;
      } else if (values.length === 1) out[step.key] = values[0];
    }
    return true;
  }

  private value(step: Step, depth: number): unknown {
    const term = readTerm(this.cursor, step.field!.value);
    if (term === DEFER) return DEFER;
    const json = step.read!(term);
    if (json === INVALID || json === NOT_A_DATE) return DEFER;
    if (step.nested === null) return json;
    // Nodes nest as the table nests them (a party's info, its postal address); the writer lays out every level alike.
    return depth < MAX_DEPTH ? this.blankNode(step.nested, classOf(step), depth + 1) : DEFER;
  }

  /** `[]`, `[ <predicate> <object> ]` or `[\n  <group>;\n  <group>\n]`, with the node's class first if it has one. */
  private blankNode(plan: Plan, klass: string | null, depth: number): Read<Record<string, unknown>> {
    const { cursor } = this;
    const out: Record<string, unknown> = {};
    let layout: Layout;
    let close: string;
    if (cursor.take('[]')) return klass === null && this.steps(plan, { first: NOTHING, next: NOTHING }, depth, out) ? out : DEFER;
    if (!cursor.take('[')) return DEFER;
    if (klass === null && cursor.take(' ')) [layout, close] = [{ first: '', next: NOTHING }, ' ]'];
    else [layout, close] = [{ first: '\n  ', next: ';\n  ' }, '\n]'];
    if (klass !== null) {
      if (!cursor.take(`${layout.first}a ${klass}`)) return DEFER;
      layout.first = layout.next;
    }
    return this.steps(plan, layout, depth, out) && cursor.take(close) ? out : DEFER;
  }

  /** One op statement: `<subject> a fi:<Type>` and its groups, up to the final `.\n`. */
  op(subject: string): Read<AnyOp> {
    const { cursor } = this;
    if (!cursor.take(`${subject} a ${OP_CLASS_PREFIX}`)) return DEFER;
    const local = cursor.match(LOCAL_NAME);
    if (!local || !isOpType(local[0])) return DEFER;
    const type: OpType = local[0];
    const plan = planOf(opNodeFields(type));
    const content: Record<string, unknown> = { type };
    if (!this.steps(plan, OP_NODE(), 0, content) || !cursor.take('.\n')) return DEFER;
    const result = opOfContent(type, plan, content);
    return result.ok ? result.op : DEFER;
  }
}

// ---------------------------------------------------------------------------------------------------
// Documents

/**
 * The op of a single-op resource in canonical form (subject `<#op>`), read and hashed; null when the text is not
 * certainly that: the strict reader then judges it.
 */
export function readCanonicalOp(turtle: string): AnyOp | null {
  const cursor = new Cursor(turtle);
  if (!cursor.take(HEADER)) return null;
  const op = new CanonicalReader(cursor).op(`<${OP_FRAGMENT}>`);
  return op !== DEFER && cursor.pos === turtle.length ? op : null;
}

/**
 * The ops of a pack in canonical form (subjects `<#<op id>>` in increasing order, each op valid), with the
 * resolved subject of each; null when the text is not certainly that (or holds more than `maxOps` ops).
 */
export function readCanonicalPack(turtle: string, baseIri: string, maxOps: number): Array<{ id: OpId; subject: string; op: AnyOp }> | null {
  if (baseIri.includes('#')) return null;
  const cursor = new Cursor(turtle);
  if (!cursor.take(HEADER)) return null;
  const ops: Array<{ id: OpId; subject: string; op: AnyOp }> = [];
  while (cursor.pos < turtle.length) {
    if (ops.length === maxOps || !cursor.take('<#')) return null;
    const id = turtle.slice(cursor.pos, cursor.pos + 64);
    if (!isOpId(id) || (ops.length > 0 && !(ops.at(-1)!.id < id))) return null;
    cursor.pos += 64;
    const op = new CanonicalReader(cursor).op('>');
    if (op === DEFER) return null;
    ops.push({ id, subject: `${baseIri}#${id}`, op });
  }
  return ops;
}
