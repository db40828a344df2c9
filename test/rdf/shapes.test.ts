import fc from 'fast-check';
import { DataFactory, Parser, Writer } from 'n3';
import type { Quad } from '@rdfjs/types';
import { beforeAll, describe, expect, it } from 'vitest';
import { OP_TYPES } from '../../src/model/ops.ts';
import type { AnyOp, OpType } from '../../src/model/ops.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { parseOpTurtle } from '../../src/rdf/op-resource.ts';
import type { OpValidator } from '../../src/rdf/shacl.ts';
import { FI, SCHEMA } from '../../src/rdf/vocabulary.ts';
import { loadOpValidator } from '../../src/sync/shapes.ts';
import { fcParams, PROPERTY_RUNS } from '../support/fc.ts';
import { opArbitraries } from '../support/op-arbitraries.ts';

const { namedNode, literal, quad, blankNode } = DataFactory;
const XSD = 'http://www.w3.org/2001/XMLSchema#';
const BASE = 'https://buyer.example/invoices/inv-1/ops/op.ttl';
const OP = namedNode(`${BASE}#op`);

let validator: OpValidator;
beforeAll(async () => {
  validator = await loadOpValidator();
});

/** A valid op of the given type (deterministic), and the quads of its Turtle. */
function validOp<T extends OpType>(type: T, pick: (op: AnyOp) => boolean = () => true): AnyOp {
  const ops = fc.sample(opArbitraries[type] as fc.Arbitrary<AnyOp>, { numRuns: 200, seed: 7 });
  const op = ops.find(pick);
  if (!op) throw new Error(`no sample of ${type} matched`);
  return op;
}
const quadsOf = (op: AnyOp): Quad[] => new Parser({ baseIRI: BASE }).parse(opToTurtle(op));
const write = (quads: Quad[]): string => new Writer().quadsToString(quads);

/** Remove every triple with this predicate on the op, and the blank nodes they pointed to (and those point to). */
function drop(quads: Quad[], predicate: string): Quad[] {
  const gone = new Set(
    quads.filter((q) => q.subject.equals(OP) && q.predicate.value === predicate && q.object.termType === 'BlankNode').map((q) => q.object.value),
  );
  for (let size = -1; size !== gone.size; ) {
    size = gone.size;
    for (const q of quads) if (q.subject.termType === 'BlankNode' && gone.has(q.subject.value) && q.object.termType === 'BlankNode') gone.add(q.object.value);
  }
  return quads.filter(
    (q) => !(q.subject.equals(OP) && q.predicate.value === predicate) && !(q.subject.termType === 'BlankNode' && gone.has(q.subject.value)),
  );
}
/** Replace the object of the op's (only) triple with this predicate. */
function replace(quads: Quad[], predicate: string, object: Quad['object']): Quad[] {
  return quads.map((q) => (q.subject.equals(OP) && q.predicate.value === predicate ? quad(q.subject, q.predicate, object) : q));
}
const add = (quads: Quad[], predicate: string, object: Quad['object']): Quad[] => [...quads, quad(OP, namedNode(predicate), object)];

async function reasonFor(turtle: string): Promise<string> {
  const result = await parseOpTurtle(turtle, BASE, validator);
  if (result.ok) throw new Error(`expected a refusal, but it parsed as ${JSON.stringify(result.op)}`);
  return result.reason;
}

const s = (local: string): string => SCHEMA + local;
const f = (local: string): string => FI + local;

/** For each op type, a property the op cannot do without. */
const REQUIRED: { [T in OpType]: string } = {
  CreateInvoice: s('priceCurrency'),
  SetBuyerInfo: f('buyer'),
  SetSellerInfo: f('seller'),
  AddToCart: s('orderQuantity'),
  EditQuantity: s('orderQuantity'),
  RemoveFromCart: s('productID'),
  SetProductStock: f('stockQuantity'),
  AddProductStock: f('stockDelta'),
  ItemOutOfStock: s('productID'),
  QuoteItem: s('price'),
  BidItem: f('taxRate'),
  AddExtra: s('price'),
  RemoveExtra: f('key'),
  AddDiscount: s('description'),
  RemoveDiscount: f('key'),
  ProposeDeliveryDate: f('deliveryDate'),
  RequestPostponedDelivery: f('deliveryDate'),
  ChooseDeliveryAddress: s('address'),
  SetPaymentTerms: f('paymentTerms'),
  SetInvoiceDetails: f('issueDate'),
  SetBuyerReference: f('buyerReference'),
  SetTracking: s('trackingNumber'),
  Comment: s('text'),
  AddParticipant: f('role'),
  Propose: f('termsHash'),
  Accept: f('termsHash'),
  MarkShipped: f('wallTime'),
  MarkPaid: f('invoiceId'),
  MarkReceived: f('counter'),
  Dispute: f('reason'),
};

const compact = (iri: string): string => (iri.startsWith(FI) ? `fi:${iri.slice(FI.length)}` : `schema:${iri.slice(SCHEMA.length)}`);

describe('every op type', () => {
  for (const type of OP_TYPES) {
    it(`${type}: a valid op conforms`, async () => {
      const result = await parseOpTurtle(write(quadsOf(validOp(type))), BASE, validator);
      expect(result.ok ? 'ok' : result.reason).toBe('ok');
    });

    it(`${type}: refuses a missing ${compact(REQUIRED[type])}`, async () => {
      const reason = await reasonFor(write(drop(quadsOf(validOp(type)), REQUIRED[type])));
      expect(reason).toContain(`does not conform to shape ${type}:`);
      expect(reason).toContain(`${compact(REQUIRED[type])} must be`);
      expect(reason).toContain('(missing)');
    });

    it(`${type}: refuses a claimed author (closed shape)`, async () => {
      const quads = add(quadsOf(validOp(type)), s('author'), namedNode('https://mallory.example/profile/card#me'));
      const reason = await reasonFor(write(quads));
      expect(reason).toMatch(new RegExp(`^does not conform to shape ${type}: unexpected property schema:author: the shape is closed`));
    });
  }
});

describe('specific violations', () => {
  it('refuses a wrong datatype (quantity as a string)', async () => {
    const quads = replace(quadsOf(validOp('AddToCart')), s('orderQuantity'), literal('5'));
    const reason = await reasonFor(write(quads));
    expect(reason).toBe(
      'does not conform to shape AddToCart: schema:orderQuantity must be exactly one whole number > 0 and ≤ 1000000000 (got "5")',
    );
  });

  it('refuses AddToCart with quantity 0', async () => {
    const quads = replace(quadsOf(validOp('AddToCart')), s('orderQuantity'), literal('0', namedNode(XSD + 'integer')));
    expect(await reasonFor(write(quads))).toContain('schema:orderQuantity must be exactly one whole number > 0');
  });

  it('refuses a quantity over 1000000000', async () => {
    const quads = replace(quadsOf(validOp('SetProductStock')), f('stockQuantity'), literal('1000000001', namedNode(XSD + 'integer')));
    expect(await reasonFor(write(quads))).toContain('fi:stockQuantity must be exactly one whole number ≥ 0 and ≤ 1000000000');
  });

  it('refuses AddProductStock with delta 0 but accepts a negative delta', async () => {
    const op = validOp('AddProductStock');
    const zero = replace(quadsOf(op), f('stockDelta'), literal('0', namedNode(XSD + 'integer')));
    expect(await reasonFor(write(zero))).toContain('fi:stockDelta must be exactly one non-zero whole number');
    const negative = replace(quadsOf(op), f('stockDelta'), literal('-3', namedNode(XSD + 'integer')));
    const result = await parseOpTurtle(write(negative), BASE, validator);
    expect(result.ok && result.op.type === 'AddProductStock' && result.op.payload.delta).toBe(-3);
  });

  it('refuses a negative amount', async () => {
    const quads = replace(quadsOf(validOp('QuoteItem')), s('price'), literal('-1', namedNode(XSD + 'decimal')));
    const reason = await reasonFor(write(quads));
    expect(reason).toContain('schema:price must be exactly one xsd:decimal ≥ 0');
    expect(reason).toContain('(got "-1"^^xsd:decimal)');
  });

  it('refuses a negative extra amount and a negative tax rate', async () => {
    const amount = replace(quadsOf(validOp('AddExtra')), s('price'), literal('-0.5', namedNode(XSD + 'decimal')));
    expect(await reasonFor(write(amount))).toContain('schema:price must be exactly one xsd:decimal ≥ 0');
    const rate = replace(quadsOf(validOp('BidItem')), f('taxRate'), literal('-0.21', namedNode(XSD + 'decimal')));
    expect(await reasonFor(write(rate))).toContain('fi:taxRate must be exactly one tax rate');
  });

  it('refuses "NaN" as a decimal', async () => {
    const quads = replace(quadsOf(validOp('QuoteItem')), s('price'), literal('NaN', namedNode(XSD + 'decimal')));
    const reason = await reasonFor(write(quads));
    expect(reason).toContain('schema:price must be exactly one xsd:decimal');
    expect(reason).toContain('(got "NaN"^^xsd:decimal)');
  });

  it('refuses a non-canonical decimal ("0.50")', async () => {
    const quads = replace(quadsOf(validOp('BidItem')), s('price'), literal('0.50', namedNode(XSD + 'decimal')));
    expect(await reasonFor(write(quads))).toContain('in canonical form');
  });

  it('refuses a discount with both a fixed amount and a percentage', async () => {
    const op = validOp('AddDiscount', (o) => o.type === 'AddDiscount' && o.payload.percent !== undefined);
    const quads = add(add(quadsOf(op), s('discount'), literal('5', namedNode(XSD + 'decimal'))), f('taxRate'), literal('0.21', namedNode(XSD + 'decimal')));
    expect(await reasonFor(write(quads))).toContain('needs either a fixed amount (schema:discount with fi:taxRate) or a percentage');
  });

  it('refuses a lower-case currency', async () => {
    const quads = replace(quadsOf(validOp('CreateInvoice')), s('priceCurrency'), literal('eur'));
    expect(await reasonFor(write(quads))).toContain('schema:priceCurrency must be exactly one ISO 4217 currency code');
  });

  it('refuses a bad invoice id', async () => {
    const quads = replace(quadsOf(validOp('Comment')), f('invoiceId'), literal('../etc/passwd'));
    expect(await reasonFor(write(quads))).toContain('fi:invoiceId must be exactly one invoice id');
  });

  it('refuses a date that is not a date, and a day that does not exist', async () => {
    const op = validOp('ProposeDeliveryDate');
    const text = replace(quadsOf(op), f('deliveryDate'), literal('next week'));
    expect(await reasonFor(write(text))).toContain('fi:deliveryDate must be exactly one xsd:date');
    const feb30 = replace(quadsOf(op), f('deliveryDate'), literal('2021-02-30', namedNode(XSD + 'date')));
    expect(await reasonFor(write(feb30))).toContain('fi:deliveryDate must be a real calendar date');
  });

  it('refuses a wall time without milliseconds or outside UTC', async () => {
    const op = validOp('MarkPaid');
    const noMs = replace(quadsOf(op), f('wallTime'), literal('2021-06-14T14:05:53Z', namedNode(XSD + 'dateTime')));
    expect(await reasonFor(write(noMs))).toContain('fi:wallTime must be exactly one xsd:dateTime in UTC with milliseconds');
    const offset = replace(quadsOf(op), f('wallTime'), literal('2021-06-14T14:05:53.000+02:00', namedNode(XSD + 'dateTime')));
    expect(await reasonFor(write(offset))).toContain('fi:wallTime must be');
  });

  it('refuses a dep that is not a urn:hash IRI', async () => {
    const quads = add(quadsOf(validOp('Comment')), f('dep'), namedNode('https://example.org/some-op'));
    expect(await reasonFor(write(quads))).toContain('fi:dep must be op ids written as IRIs urn:hash::sha256:');
  });

  it('refuses a language-tagged string where a plain string is expected', async () => {
    const quads = replace(quadsOf(validOp('Comment')), s('text'), literal('hello', 'en'));
    expect(await reasonFor(write(quads))).toContain('schema:text must be exactly one text');
  });

  it('refuses an unknown participant role and a non-op allowed type', async () => {
    const op = validOp('AddParticipant');
    const role = replace(quadsOf(op), f('role'), literal('admin'));
    expect(await reasonFor(write(role))).toContain('fi:role must be exactly one of');
    const type = add(quadsOf(op), f('allowedType'), namedNode(f('Op')));
    expect(await reasonFor(write(type))).toContain('fi:allowedType must be op classes');
  });

  it('refuses a container that does not end in "/"', async () => {
    const quads = replace(quadsOf(validOp('AddParticipant')), f('container'), namedNode('https://carrier.example/c'));
    expect(await reasonFor(write(quads))).toContain("fi:container must be exactly one container: an http(s) IRI ending in '/'");
  });

  it('refuses an unexpected property inside a nested party node, naming the path', async () => {
    const quads = quadsOf(validOp('CreateInvoice'));
    const buyer = quads.find((q) => q.subject.equals(OP) && q.predicate.value === f('buyer'))?.object;
    if (!buyer || buyer.termType !== 'BlankNode') throw new Error('no buyer node');
    const reason = await reasonFor(write([...quads, quad(buyer, namedNode(s('author')), literal('me'))]));
    expect(reason).toContain('unexpected property fi:buyer/schema:author: the shape is closed');
  });

  it('refuses a missing WebID inside the buyer, naming the path', async () => {
    const quads = quadsOf(validOp('CreateInvoice')).filter((q) => !(q.subject.termType === 'BlankNode' && q.predicate.value === f('webId')));
    const reason = await reasonFor(write(quads));
    expect(reason).toContain('fi:buyer/fi:webId must be exactly one WebID: an http(s) IRI (missing)');
  });

  for (const [name, predicate] of [
    ['dct:creator', 'http://purl.org/dc/terms/creator'],
    ['fi:author', f('author')],
  ] as const) {
    it(`refuses a claimed author as ${name}`, async () => {
      const reason = await reasonFor(write(add(quadsOf(validOp('AddToCart')), predicate, namedNode('https://seller.example/card#me'))));
      expect(reason).toContain(`unexpected property ${name}: the shape is closed and does not allow it`);
    });
  }

  it('accepts characters outside the Basic Multilingual Plane (emoji) in text', async () => {
    const quads = replace(quadsOf(validOp('Comment')), s('text'), literal('Thanks 🙏 — 😀'));
    const result = await parseOpTurtle(write(quads), BASE, validator);
    expect(result.ok && result.op.type === 'Comment' && result.op.payload.text).toBe('Thanks 🙏 — 😀');
  });
});

describe('document structure', () => {
  it('refuses malformed Turtle with the parser message', async () => {
    const reason = await reasonFor('@prefix fi: <https://w3id.org/fedinvoice/ns#> .\n<#op> a fi:Comment ; fi:invoiceId "x" ');
    expect(reason).toMatch(/^malformed Turtle: .*line/);
  });

  it('refuses two op subjects', async () => {
    const first = quadsOf(validOp('Comment'));
    const other = namedNode(`${BASE}#op2`);
    const second = quadsOf(validOp('Dispute')).map((q) => (q.subject.equals(OP) ? quad(other, q.predicate, q.object) : q));
    expect(await reasonFor(write([...first, ...second]))).toMatch(/^expected exactly one op subject, found 2/);
  });

  it('refuses a resource with no op', async () => {
    expect(await reasonFor('<#x> <http://schema.org/name> "not an op" .')).toMatch(/^no op found/);
  });

  it('refuses an op with two op types', async () => {
    const quads = [...quadsOf(validOp('MarkPaid')), quad(OP, namedNode('http://www.w3.org/1999/02/22-rdf-syntax-ns#type'), namedNode(f('MarkShipped')))];
    expect(await reasonFor(write(quads))).toMatch(/^the op must have exactly one rdf:type/);
  });

  it('refuses triples about other subjects', async () => {
    const quads = [...quadsOf(validOp('MarkPaid')), quad(namedNode('https://buyer.example/profile/card#me'), namedNode(s('author')), OP)];
    expect(await reasonFor(write(quads))).toMatch(/^unexpected triple about <https:\/\/buyer\.example\/profile\/card#me>/);
  });

  it('refuses a blank-node op subject', async () => {
    const b = blankNode('op');
    const quads = quadsOf(validOp('MarkPaid')).map((q) => (q.subject.equals(OP) ? quad(b, q.predicate, q.object) : q));
    expect(await reasonFor(write(quads))).toMatch(/^the op subject must be an IRI/);
  });

  it('never throws, whatever the input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const result = await parseOpTurtle(text, BASE, validator);
        expect(typeof result.ok).toBe('boolean');
      }),
      fcParams(PROPERTY_RUNS),
    );
  });
});
