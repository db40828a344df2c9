/**
 * One table, three judges: the fold's structural check (on the op as JSON), SHACL with the generated shapes (on
 * its Turtle), and the table-driven reader the crawler uses (on the same Turtle) give the same verdict, for
 * generated ops and for ops mutated at and across every bound of the op table. This is what lets the crawler skip
 * SHACL: the shapes stay the published contract, and the reader is proven to say what they say.
 *
 * The reader has two paths: the canonical fast path (src/rdf/canonical.ts), which only ever accepts, and n3 with
 * the strict reader for everything else. Each is judged on its own here: the fast path must accept exactly the
 * valid ops the writer writes, as the op the strict path reads, and text mutated anyhow it either reads as the
 * strict path does or leaves to it.
 */
import type { Quad } from '@rdfjs/types';
import fc from 'fast-check';
import { DataFactory, Parser, Writer } from 'n3';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeOpId } from '../../src/model/hash.ts';
import { OP_TABLE, type Field } from '../../src/model/op-table.ts';
import { OP_TYPES, type AnyOp, type OpType } from '../../src/model/ops.ts';
import { validateOpStructure } from '../../src/model/validate.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { parseTurtle } from '../../src/rdf/graph.ts';
import { readCanonicalOp, readCanonicalPack } from '../../src/rdf/canonical.ts';
import { decodeOpTurtle, decodeOpTurtleStrict } from '../../src/rdf/op-resource.ts';
import { opsToPackTurtle, parseOpPack, parseOpPackStrict } from '../../src/rdf/pack.ts';
import { QuadIndex } from '../../src/rdf/quad-index.ts';
import type { OpValidator } from '../../src/rdf/shacl.ts';
import { compactIri, FI, RDF_TYPE, XSD } from '../../src/rdf/vocabulary.ts';
import { loadOpValidator } from '../../src/sync/shapes.ts';
import { fcParams, PROPERTY_RUNS } from '../support/fc.ts';
import { arbitraryOp, hex64, opArbitraries, valueArbitrary } from '../support/op-arbitraries.ts';
import { boundCases, fieldsOf, type BoundCase } from '../support/table-bounds.ts';

const { namedNode, literal, quad } = DataFactory;
const BASE = 'https://seller.example/invoices/INV-1/ops/op';
const SUBJECT = namedNode(`${BASE}#op`);

let validator: OpValidator;
beforeAll(async () => {
  validator = await loadOpValidator();
});

interface Verdicts {
  readonly fold: boolean;
  readonly shacl: boolean;
  /** What the crawler's reader says: the fast path, or the strict one when the fast path leaves it the text. */
  readonly reader: boolean;
  /** n3 and the strict reader alone. */
  readonly strict: boolean;
  /** Whether the fast path accepted the text (it never refuses: it leaves the text to the strict reader). */
  readonly fast: boolean;
  readonly readerReason: string | null;
}

/**
 * The fast path's result on a single-op text: null (left to the strict reader), or exactly the op the strict
 * reader reads from it.
 */
function fastRead(turtle: string): AnyOp | null {
  const fast = readCanonicalOp(turtle);
  if (fast !== null) {
    const strict = decodeOpTurtleStrict(turtle, BASE);
    expect(strict.ok ? strict.op : strict.reason).toStrictEqual(fast);
    // Key order too, all the way down: what a store writes of the op is the same bytes whichever path read it.
    expect(JSON.stringify(fast)).toBe(JSON.stringify((strict as { op: AnyOp }).op));
  }
  return fast;
}

/** SHACL's verdict on a document; a document that is not Turtle (the writer wrote an IRI with a space) conforms to nothing. */
async function shaclConforms(turtle: string): Promise<boolean> {
  let quads: Quad[];
  try {
    quads = parseTurtle(turtle, BASE);
  } catch {
    return false;
  }
  return (await validator.validate(new QuadIndex(quads), SUBJECT)).conforms;
}

/** The three verdicts on an op given as JSON: the fold's on it, SHACL's and the reader's on its Turtle. */
async function verdictsOn(op: Record<string, unknown>): Promise<Verdicts> {
  const turtle = opToTurtle(op as unknown as AnyOp);
  const read = decodeOpTurtle(turtle, BASE);
  return {
    fold: validateOpStructure(op) === null,
    shacl: await shaclConforms(turtle),
    reader: read.ok,
    strict: decodeOpTurtleStrict(turtle, BASE).ok,
    fast: fastRead(turtle) !== null,
    readerReason: read.ok ? null : read.reason,
  };
}

/** The first op the generator of `type` gives with `seed`. */
const sampleOp = (type: OpType, seed: number): AnyOp => fc.sample(opArbitraries[type] as fc.Arbitrary<AnyOp>, { numRuns: 1, seed })[0]!;

/** The same op as a JSON object of its own, free to mutate. */
const mutableSample = (type: OpType, seed: number) => structuredClone(sampleOp(type, seed)) as unknown as Record<string, unknown>;

/** An op with an id the fold accepts as an id (the structural check does not hash; the reader computes its own). */
function withSomeId(op: Record<string, unknown>): Record<string, unknown> {
  let id: string;
  try {
    id = computeOpId(op as never);
  } catch {
    id = 'f'.repeat(64);
  }
  return { ...op, id };
}

describe('the fold, SHACL and the table-driven reader agree', () => {
  it('on generated ops: all three accept (the reader on its fast path), and the reader gives back the op', async () => {
    const reached = { declaringKey: 0, signed: 0, runs: 0 };
    await fc.assert(
      fc.asyncProperty(arbitraryOp(), async (op) => {
        reached.runs++;
        if (op.signingKey !== undefined) reached.declaringKey++;
        if (op.proof !== undefined) reached.signed++;
        expect(await verdictsOn(op as never)).toEqual({ fold: true, shacl: true, reader: true, strict: true, fast: true, readerReason: null });
        const read = decodeOpTurtle(opToTurtle(op), BASE);
        expect(read.ok && read.op).toStrictEqual(op);
      }),
      fcParams(PROPERTY_RUNS),
    );
    // The optional envelope fields (a declared key inside the id, a signature outside it) are generated often enough to matter.
    expect(reached.declaringKey).toBeGreaterThan(reached.runs / 10);
    expect(reached.signed).toBeGreaterThan(reached.runs / 10);
  });

  const cases = boundCases();

  it('the bound cases cover every field of every op type, each at and across its bounds', () => {
    for (const type of OP_TYPES) {
      for (const { path, field } of fieldsOf(type)) {
        const where = path.join('.');
        const of = cases.filter((c) => c.type === type && c.where === where);
        if (field.value.kind !== 'node') expect(of.some((c) => c.valid), `${type} ${where} at a bound`).toBe(true);
        expect(of.some((c) => !c.valid) || field.count === 'optional', `${type} ${where} across a bound`).toBe(true);
      }
      for (const rule of OP_TABLE[type].rules ?? []) expect(cases.some((c) => c.type === type && (c.where.includes(' vs ') || rule.kind === 'oneGroup') && !c.valid)).toBe(true);
    }
    expect(cases.length).toBeGreaterThan(500);
  });

  it('includes the bounds the hand-written shapes used to leave open (they accepted what the fold refused)', () => {
    const ids = new Set(cases.map((c) => c.id));
    for (const id of [
      'Comment device pattern "mallory\'s phone" across',
      'QuoteItem payload.taxRate max across',
      'AddExtra payload.description maxLength across',
      'ChooseDeliveryAddress payload.address.postalCode maxLength across',
      'SetPaymentTerms payload.dueDays max across',
      'AddDiscount payload.amount min across',
      'Propose payload.heads count: min across',
      'AddParticipant payload.allowedTypes count: min across',
      'CreateInvoice payload.buyer.webId vs payload.seller.webId different across',
    ]) {
      expect(ids.has(id), id).toBe(true);
    }
  });

  it('on ops mutated at and across every bound of the table: valid at the bound, refused across it, by all three', async () => {
    const reached = new Set<string>();
    const run = async (c: BoundCase, base: AnyOp): Promise<void> => {
      const op = structuredClone(base) as unknown as Record<string, unknown>;
      c.mutate(op);
      const verdicts = await verdictsOn(withSomeId(op));
      // The fast path accepts the valid ones and leaves the others to the strict reader.
      expect({ case: c.id, fold: verdicts.fold, shacl: verdicts.shacl, reader: verdicts.reader, strict: verdicts.strict, fast: verdicts.fast }).toEqual({
        case: c.id,
        fold: c.valid,
        shacl: c.valid,
        reader: c.valid,
        strict: c.valid,
        fast: c.valid,
      });
      reached.add(c.id);
    };
    // Every case once, on a generated op of its type, then random cases on random ops.
    const params = fcParams(PROPERTY_RUNS);
    for (const [i, c] of cases.entries()) await run(c, sampleOp(c.type, params.seed + i));
    const caseAndOp = fc
      .nat(cases.length - 1)
      .chain((i) => fc.tuple(fc.constant(cases[i]!), opArbitraries[cases[i]!.type] as fc.Arbitrary<AnyOp>));
    await fc.assert(fc.asyncProperty(caseAndOp, ([c, op]) => run(c, op)), params);
    expect([...reached].sort()).toEqual(cases.map((c) => c.id).sort());
  }, 600_000);

  it('reads a pack the same way, SHACL first or the reader alone, with valid and mutated ops side by side', async () => {
    // Each run reads packs through SHACL (about a hundred times the reader's cost per op): 100 runs, said in ARCHITECTURE.md.
    const params = fcParams(100);
    let refused = 0;
    let fastPacks = 0;
    const validCases = cases.flatMap((c, i) => (c.valid ? [i] : []));
    const picks = fc.oneof(
      fc.array(fc.nat(cases.length - 1), { minLength: 1, maxLength: 12 }),
      // Packs of valid ops alone, which the fast path reads: left to chance, some seeds drew none in 100 runs.
      fc.array(fc.constantFrom(...validCases), { minLength: 1, maxLength: 12 }),
    );
    await fc.assert(
      fc.asyncProperty(picks, fc.integer(), async (picked, seed) => {
        const ops = picked.map((i, k) => {
          const c = cases[i]!;
          const op = mutableSample(c.type, seed + k);
          c.mutate(op);
          return withSomeId(op) as unknown as AnyOp;
        });
        let turtle: string;
        try {
          turtle = opsToPackTurtle(ops);
          parseTurtle(turtle, BASE);
        } catch {
          return; // a mutation the writer cannot even write as Turtle (an IRI with a space)
        }
        const [withShacl, alone] = [await parseOpPack(turtle, BASE, { validator }), await parseOpPack(turtle, BASE)];
        if (!withShacl.ok || !alone.ok) throw new Error('the pack was refused whole');
        expect(alone.entries.map((e) => [e.subject, e.result.ok])).toEqual(withShacl.entries.map((e) => [e.subject, e.result.ok]));
        expect(alone.entries.map((e) => e.result.ok && e.result.op)).toStrictEqual(withShacl.entries.map((e) => e.result.ok && e.result.op));
        // The fast path reads a pack whose every op is valid, and leaves any other to the strict reader.
        const fast = readCanonicalPack(turtle, BASE, 100);
        expect(fast !== null).toBe(alone.entries.every((e) => e.result.ok));
        if (fast) fastPacks++;
        for (const entry of alone.entries) if (!entry.result.ok) refused++;
      }),
      params,
    );
    expect(refused).toBeGreaterThan(0);
    expect(fastPacks).toBeGreaterThan(0);
  }, 600_000);

  it('the reader names the field it refuses, in the shapes words', async () => {
    let named = 0;
    for (const c of cases.filter((x) => !x.valid && !x.where.includes(' vs ') && x.where !== 'payload')) {
      const op = mutableSample(c.type, 1);
      c.mutate(op);
      const read = decodeOpTurtle(opToTurtle(op as unknown as AnyOp), BASE);
      // An IRI with a space cannot even be written as Turtle: that refusal is the parser's.
      if (read.ok || read.reason.startsWith('malformed Turtle')) continue;
      const { chain } = [...fieldsOf(c.type)].find(({ path }) => path.join('.') === c.where)!;
      // A nested node's field is named with its path ("fi:buyer/fi:webId"); an inline node's by its fields'.
      const predicates = chain.filter((f) => f.predicate !== undefined).map((f) => compactIri(f.predicate!));
      expect(read.reason, c.id).toMatch(new RegExp(`^does not conform to shape ${c.type}: `));
      if (chain.at(-1)!.predicate !== undefined) expect(read.reason, c.id).toContain(predicates.join('/'));
      named++;
    }
    expect(named).toBeGreaterThan(300);
  }, 600_000);
});

// ---------------------------------------------------------------------------------------------------
// What JSON cannot say: the Turtle itself mutated (datatypes, term kinds, lexical forms, repeated values).

const XSD_STRING = namedNode(`${XSD}string`);
const quadsOf = (op: AnyOp): Quad[] => new Parser({ baseIRI: BASE }).parse(opToTurtle(op));
const write = (quads: Quad[]): string => new Writer().quadsToString(quads);

/** The node a field's triples hang on: the op, or the blank node a nested field sits in. */
function holderOf(quads: Quad[], path: readonly Field[]): Quad['subject'] | undefined {
  let subject: Quad['subject'] = SUBJECT;
  for (const step of path) {
    if (step.predicate === undefined) continue;
    const next = quads.find((q) => q.subject.equals(subject) && q.predicate.value === step.predicate)?.object;
    if (!next || next.termType !== 'BlankNode') return undefined;
    subject = next;
  }
  return subject;
}

interface TurtleMutation {
  readonly name: string;
  readonly valid: boolean;
  /** The changed quads, or null when the mutation does not apply to this field. */
  readonly apply: (quads: Quad[], at: Quad, field: Field) => Quad[] | null;
}

const replaceObject = (quads: Quad[], at: Quad, object: Quad['object']): Quad[] => quads.map((q) => (q === at ? quad(q.subject, q.predicate, object) : q));
const isLiteral = (at: Quad) => at.object.termType === 'Literal';

const NON_CANONICAL: Readonly<Partial<Record<Field['value']['kind'], (lexical: string) => string>>> = {
  integer: (v) => (v.startsWith('-') ? `-0${v.slice(1)}` : `+${v}`),
  decimal: (v) => (v.includes('.') ? `${v}0` : `${v}.0`),
  instant: (v) => v.replace(/\.\d{3}Z$/, 'Z'),
  date: (v) => `${v}Z`,
};

const TURTLE_MUTATIONS: readonly TurtleMutation[] = [
  { name: 'the same triple twice (a graph is a set)', valid: true, apply: (quads, at) => [...quads, quad(at.subject, at.predicate, at.object)] },
  {
    name: 'a string datatype where another is expected, or xsd:normalizedString for a string',
    valid: false,
    apply: (quads, at) => {
      if (!isLiteral(at)) return null;
      const datatype = (at.object as { datatype: { value: string } }).datatype.value;
      return replaceObject(quads, at, literal(at.object.value, datatype === XSD_STRING.value ? namedNode(`${XSD}normalizedString`) : XSD_STRING));
    },
  },
  { name: 'a language-tagged string', valid: false, apply: (quads, at) => (isLiteral(at) ? replaceObject(quads, at, literal(at.object.value, 'en')) : null) },
  { name: 'an IRI where a literal is expected', valid: false, apply: (quads, at) => (isLiteral(at) ? replaceObject(quads, at, namedNode('https://x.example/v')) : null) },
  { name: 'a literal where an IRI is expected', valid: false, apply: (quads, at) => (at.object.termType === 'NamedNode' ? replaceObject(quads, at, literal(at.object.value)) : null) },
  { name: 'an IRI where a blank node is expected', valid: false, apply: (quads, at) => (at.object.termType === 'BlankNode' ? replaceObject(quads, at, namedNode('https://x.example/node')) : null) },
  {
    name: 'a non-canonical lexical form',
    valid: false,
    apply: (quads, at, field) => {
      const change = NON_CANONICAL[field.value.kind];
      if (!change || !isLiteral(at)) return null;
      return replaceObject(quads, at, literal(change(at.object.value), (at.object as { datatype: Quad['predicate'] }).datatype as never));
    },
  },
  {
    name: 'a second, different value for a field of at most one',
    valid: false,
    apply: (quads, at, field) => {
      if (typeof field.count === 'object' || field.value.kind === 'node') return null;
      const other = fc
        .sample(valueArbitrary(field.value), { numRuns: 20, seed: 3 })
        .map((v) => termFor(field, v))
        .find((t) => t && !t.equals(at.object));
      return other ? [...quads, quad(at.subject, at.predicate, other)] : null;
    },
  },
];

/** The term of a JSON value, as the writer writes it (for the few kinds the mutations above need). */
function termFor(field: Field, value: unknown): Quad['object'] | undefined {
  const v = field.value;
  if (v.kind === 'url') return namedNode(String(value));
  const datatype = { text: 'string', choice: 'string', integer: 'integer', decimal: 'decimal', date: 'date' }[v.kind as 'text'];
  if (datatype) return literal(String(value), namedNode(`${XSD}${datatype}`));
  if (v.kind === 'instant') return literal(new Date(value as number).toISOString(), namedNode(`${XSD}dateTime`));
  return undefined;
}

/** Fields of a type that have a predicate, with the fields above them (to find the node they sit on). */
function* fieldPaths(type: OpType): Generator<Field[]> {
  for (const { field, chain } of fieldsOf(type)) if (field.predicate !== undefined) yield chain;
}

describe('SHACL and the reader agree on Turtle no JSON op can produce', () => {
  it('for every field: repeated triples, wrong datatypes and term kinds, non-canonical forms, extra values', async () => {
    const reached = new Set<string>();
    for (const type of OP_TYPES) {
      const op = sampleOp(type, 11);
      const quads = quadsOf(op);
      for (const path of fieldPaths(type)) {
        const field = path.at(-1)!;
        const holder = holderOf(quads, path.slice(0, -1));
        const at = holder && quads.find((q) => q.subject.equals(holder) && q.predicate.value === field.predicate);
        if (!at) continue;
        for (const mutation of TURTLE_MUTATIONS) {
          const changed = mutation.apply(quads, at, field);
          if (!changed) continue;
          const turtle = write(changed);
          const read = decodeOpTurtle(turtle, BASE);
          const where = `${type} ${compactIri(field.predicate!)}: ${mutation.name}`;
          expect({ where, shacl: await shaclConforms(turtle), reader: read.ok }).toEqual({
            where,
            shacl: mutation.valid,
            reader: mutation.valid,
          });
          if (read.ok) expect(validateOpStructure(read.op), where).toBeNull();
          reached.add(mutation.name);
        }
      }
    }
    expect([...reached].sort()).toEqual(TURTLE_MUTATIONS.map((m) => m.name).sort());
  }, 600_000);

  it('a long list stated with repeated values is the set of them, and a long list of more than its maximum is refused', async () => {
    const op = sampleOp('Propose', 17);
    const heads = fc.sample(hex64(), { numRuns: 300, seed: 5 });
    const withHeads = (count: number, times: number): string => {
      const quads = quadsOf(op).filter((q) => q.predicate.value !== `${FI}head`);
      for (let t = 0; t < times; t++) for (const head of heads.slice(0, count)) quads.push(quad(SUBJECT, namedNode(`${FI}head`), namedNode(`urn:hash::sha256:${head}`)));
      return write(quads);
    };
    const repeated = withHeads(40, 3);
    const read = decodeOpTurtle(repeated, BASE);
    expect({ shacl: await shaclConforms(repeated), reader: read.ok }).toEqual({ shacl: true, reader: true });
    expect(read.ok && read.op.type === 'Propose' && read.op.payload.heads).toEqual([...new Set(heads.slice(0, 40))].sort());
    const tooMany = withHeads(257, 2);
    expect({ shacl: await shaclConforms(tooMany), reader: decodeOpTurtle(tooMany, BASE).ok }).toEqual({ shacl: false, reader: false });
  });

  it('for every node: a property no field has is refused; a nested node may say its rdf:type', async () => {
    for (const type of OP_TYPES) {
      const op = sampleOp(type, 13);
      const quads = quadsOf(op);
      const blanks = [...new Set(quads.filter((q) => q.object.termType === 'BlankNode').map((q) => q.object))];
      for (const node of [SUBJECT, ...blanks]) {
        const extra = write([...quads, quad(node as never, namedNode('http://schema.org/author'), literal('mallory'))]);
        const verdicts = { type, node: node.value, shacl: await shaclConforms(extra), reader: decodeOpTurtle(extra, BASE).ok };
        expect(verdicts).toEqual({ type, node: node.value, shacl: false, reader: false });
      }
      for (const node of blanks) {
        const typed = write([...quads, quad(node as never, namedNode(RDF_TYPE), namedNode('https://x.example/Anything'))]);
        const verdicts = { type, shacl: await shaclConforms(typed), reader: decodeOpTurtle(typed, BASE).ok };
        expect(verdicts).toEqual({ type, shacl: true, reader: true });
      }
    }
  }, 600_000);
});

// ---------------------------------------------------------------------------------------------------
// The fast path on text mutated anyhow: it reads what the strict reader reads, or leaves the text to it.

/** Characters and pieces that mean something in Turtle or in the canonical layout, and some that mean nothing. */
const PIECES = [
  '"', '\\', '<', '>', ';', '.', ',', '[', ']', '(', ' ', '\n', '\t', '\r', ':', '^', '@', '#', '_', '-', '+', "'", '0', '1', '9', 'a', 'e', 'E',
  'u', 'U', 'F', 'x', 'é', '\u0000', '\u001f', '\u007f', '\ud83d', '\ude00', '\u2028', '\ufeff', '🙂', 'fi:', 'xsd:', 'schema:', '\\u0041', '\\U0001F642',
  '\\"', '\\n', '\\\\', '\\u00', '\\uD800', '\\U00110000', '\\x', '"^^xsd:decimal', '^^xsd:integer', '^^xsd:string', '@en', ' ]', '[ ', '\n]', '[]',
  ';\n    ', ';\n  ', ', ', '.\n', '<#op>', 'a ', '"""', '# c\n', '<http://a.example/x>', '<rel>', '12.50', '.5', '1e3', '-0', '007',
];

type Edit =
  | { readonly kind: 'insert' | 'replace'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'duplicate line' | 'delete line' | 'swap lines'; readonly at: number };

const pieceArb = fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 2 }));
/** Characters that often keep a text canonical and its op valid (inside a string, an IRI, a number): the fast path's share. */
const retouchArb = fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.constantFrom('a', 'Z', '0', '7', 'é', '\\u00e9', '\\U0001F642') });
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { arbitrary: retouchArb, weight: 3 },
  fc.record({ kind: fc.constantFrom('insert' as const, 'replace' as const), at: fc.nat(), text: pieceArb }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constantFrom('duplicate line' as const, 'delete line' as const, 'swap lines' as const), at: fc.nat() }),
);

function applyEdit(text: string, edit: Edit): string {
  const at = edit.at % (text.length + 1);
  if (edit.kind === 'insert') return text.slice(0, at) + edit.text + text.slice(at);
  if (edit.kind === 'replace') return text.slice(0, at) + edit.text + text.slice(at + Math.max(1, edit.text.length));
  if (edit.kind === 'delete') return text.slice(0, at) + text.slice(at + edit.length);
  const lines = text.split('\n');
  const i = edit.at % lines.length;
  if (edit.kind === 'duplicate line') lines.splice(i, 0, lines[i]!);
  else if (edit.kind === 'delete line') lines.splice(i, 1);
  else if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
  return lines.join('\n');
}

/** What a pack read says, to compare: every entry's subject, id and op (or that it was refused), and any problems. */
const packOutcome = (entries: ReadonlyArray<{ subject: string; id: string | null; op: AnyOp | false }>, problems: number) => ({ entries, problems });

describe('the canonical fast path gives the strict reader\'s result or leaves the text to it', () => {
  it('on single ops and packs whose canonical text is mutated anyhow (characters, escapes, layout, lines)', async () => {
    const counts = { singleAccepted: 0, singleChanged: 0, singleLeft: 0, strictRefused: 0, packAccepted: 0, packChanged: 0, packLeft: 0 };
    const docArb = fc.record({
      ops: fc.array(arbitraryOp(), { minLength: 1, maxLength: 4 }),
      pack: fc.boolean(),
      edits: fc.array(editArb, { minLength: 1, maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(docArb, async ({ ops, pack, edits }) => {
        const original = pack ? opsToPackTurtle(ops) : opToTurtle(ops[0]!);
        const text = edits.reduce(applyEdit, original);
        if (!pack) {
          const strict = decodeOpTurtleStrict(text, BASE);
          const fast = readCanonicalOp(text);
          if (!strict.ok) counts.strictRefused++;
          if (fast === null) return void counts.singleLeft++;
          expect(strict.ok ? strict.op : strict.reason).toStrictEqual(fast);
          expect(JSON.stringify(fast)).toBe(JSON.stringify((strict as { op: AnyOp }).op));
          counts.singleAccepted++;
          if (fast.id !== ops[0]!.id) counts.singleChanged++;
          return;
        }
        const fast = readCanonicalPack(text, BASE, 100);
        if (fast === null) return void counts.packLeft++;
        const strict = await parseOpPackStrict(text, BASE, { maxOps: 100 });
        if (!strict.ok) throw new Error(`the strict reader refused a pack the fast path read: ${strict.reason}`);
        expect(packOutcome(fast.map((e) => ({ subject: e.subject, id: e.id, op: e.op })), 0)).toStrictEqual(
          packOutcome(strict.entries.map((e) => ({ subject: e.subject, id: e.id, op: e.result.ok && e.result.op })), strict.problems.length),
        );
        counts.packAccepted++;
        if (fast.map((e) => e.op.id).join() !== [...new Set(ops.map((op) => op.id))].sort().join()) counts.packChanged++;
      }),
      fcParams(PROPERTY_RUNS),
    );
    console.info('fast path on mutated text:', counts);
    // The generator reaches every state the property is about: mutants the fast path reads (some as another op than
    // the original), mutants it leaves to the strict reader, and mutants the strict reader refuses.
    for (const [state, count] of Object.entries(counts)) expect(count, state).toBeGreaterThan(0);
  }, 600_000);
});
