import fc from 'fast-check';
import { Parser } from 'n3';
import { beforeAll, describe, expect, it } from 'vitest';
import { withId } from '../../src/model/hash.ts';
import { OP_TYPES } from '../../src/model/ops.ts';
import type { AnyOp, OpContent, OpType, PayloadByType } from '../../src/model/ops.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { parseOpTurtle } from '../../src/rdf/op-resource.ts';
import type { OpValidator } from '../../src/rdf/shacl.ts';
import { FI } from '../../src/rdf/vocabulary.ts';
import { loadOpValidator } from '../../src/sync/shapes.ts';
import { fcParams, PROPERTY_RUNS } from '../support/fc.ts';
import { arbitraryOp, opArbitraries } from '../support/op-arbitraries.ts';

const BASE = 'https://seller.example/invoices/inv-1/ops/';
const resourceOf = (op: AnyOp): string => `${BASE}${op.id}.ttl`;

let validator: OpValidator;
beforeAll(async () => {
  validator = await loadOpValidator();
});

async function roundTrip(op: AnyOp): Promise<AnyOp> {
  const result = await parseOpTurtle(opToTurtle(op), resourceOf(op), validator);
  if (!result.ok) throw new Error(`${op.type} did not parse back: ${result.reason}\n${opToTurtle(op)}`);
  return result.op;
}

describe('op → Turtle → op', () => {
  it('is lossless for every valid op, and the recomputed id matches', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryOp(), async (op) => {
        const back = await roundTrip(op);
        expect(back).toStrictEqual(op);
        expect(back.id).toBe(op.id);
      }),
      fcParams(PROPERTY_RUNS),
    );
  });

  for (const type of OP_TYPES) {
    it(`round-trips a generated ${type}`, async () => {
      const samples = fc.sample(opArbitraries[type] as fc.Arbitrary<AnyOp>, { numRuns: 5, seed: 42 });
      for (const op of samples) {
        expect(op.type).toBe(type);
        expect(await roundTrip(op)).toStrictEqual(op);
      }
    });
  }

  it('writes the op as <#op>, typed fi:<OpType>, with deps as urn:hash IRIs and exact decimals', () => {
    const op = withId({
      invoiceId: 'inv-1',
      type: 'QuoteItem',
      payload: { product: 'beans', unitPrice: '0.05', taxRate: '0.21' },
      device: 'mobile',
      clock: { wallMs: 1623679553837, counter: 3 },
      deps: ['b'.repeat(64), 'a'.repeat(64)],
    } as unknown as OpContent<'QuoteItem'>) as AnyOp;
    const quads = new Parser({ baseIRI: 'https://pod.example/x.ttl' }).parse(opToTurtle(op));
    const objectOf = (p: string): string[] => quads.filter((q) => q.predicate.value === p).map((q) => q.object.value);
    expect(new Set(quads.map((q) => q.subject.value))).toEqual(new Set(['https://pod.example/x.ttl#op']));
    expect(objectOf('http://www.w3.org/1999/02/22-rdf-syntax-ns#type')).toEqual([`${FI}QuoteItem`]);
    expect(objectOf(`${FI}wallTime`)).toEqual(['2021-06-14T14:05:53.837Z']);
    expect(objectOf(`${FI}dep`)).toEqual([`urn:hash::sha256:${'a'.repeat(64)}`, `urn:hash::sha256:${'b'.repeat(64)}`]);
    const price = quads.find((q) => q.predicate.value === 'http://schema.org/price');
    expect(price?.object.value).toBe('0.05');
    expect(price?.object.termType === 'Literal' && price.object.datatype.value).toBe('http://www.w3.org/2001/XMLSchema#decimal');
  });

  it('writes no triple for an absent optional field', () => {
    const op = withId({
      invoiceId: 'inv-1',
      type: 'SetPaymentTerms',
      payload: { terms: 'net 30' },
      device: 'desktop',
      clock: { wallMs: 0, counter: 0 },
      deps: [],
    } as unknown as OpContent<'SetPaymentTerms'>) as AnyOp;
    const turtle = opToTurtle(op);
    expect(turtle).not.toContain('dueDays');
    expect(turtle).not.toContain('fi:dep');
  });

  it('sorts and de-duplicates unordered RDF lists (deps, heads, allowed types) when reading', async () => {
    const h = (c: string): string => `<urn:hash::sha256:${c.repeat(64)}>`;
    const turtle = `@prefix fi: <${FI}> .
      <#op> a fi:Propose ; fi:invoiceId "inv-1" ; fi:device "d" ;
        fi:wallTime "2024-01-01T00:00:00.000Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> ; fi:counter 0 ;
        fi:dep ${h('c')}, ${h('a')} ; fi:termsHash "${'f'.repeat(64)}" ; fi:head ${h('e')}, ${h('d')}, ${h('e')} .`;
    const result = await parseOpTurtle(turtle, BASE + 'x', validator);
    // Fails loudly rather than returning early: an early return would turn the expectations below into a pass.
    if (!result.ok) expect.fail(`the Propose did not parse: ${result.reason}`);
    if (result.op.type !== 'Propose') expect.fail(`parsed as ${result.op.type}, not Propose`);
    expect(result.op.deps).toEqual(['a'.repeat(64), 'c'.repeat(64)]);
    expect(result.op.payload.heads).toEqual(['d'.repeat(64), 'e'.repeat(64)]);
  });
});

// ---------------------------------------------------------------------------------------------------
// One hand-written Turtle example per op type, as another implementation might write it.

const HEAD = `@prefix fi: <${FI}> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
`;
const ENVELOPE = `fi:invoiceId "0001-03" ; fi:device "desktop" ;
  fi:wallTime "2021-06-14T14:05:53.837Z"^^xsd:dateTime ; fi:counter 1 ;
  fi:dep <urn:hash::sha256:${'0'.repeat(64)}>`;
const doc = (type: OpType, body: string): string => `${HEAD}<#op> a fi:${type} ; ${ENVELOPE}${body ? ` ;\n  ${body}` : ''} .\n`;

const WEBID_B = 'https://buyer.example/profile/card#me';
const WEBID_S = 'https://seller.example/profile/card#me';
const CONT_B = 'https://buyer.example/invoices/0001-03/';
const CONT_S = 'https://seller.example/invoices/0001-03/';
const HASH = '9'.repeat(64);

const EXAMPLES: { [T in OpType]: { body: string; payload: PayloadByType[T] } } = {
  CreateInvoice: {
    body: `schema:priceCurrency "EUR" ;
      fi:buyer [ fi:webId <${WEBID_B}> ; fi:container <${CONT_B}> ; schema:name "Michiel" ] ;
      fi:seller [ fi:webId <${WEBID_S}> ; fi:container <${CONT_S}> ; schema:name "George" ; schema:vatID "NL0001" ;
                  schema:email "george@example.org" ; schema:address "Main St 1, Amsterdam" ]`,
    payload: {
      currency: 'EUR',
      buyer: { webId: WEBID_B, container: CONT_B, info: { name: 'Michiel' } },
      seller: {
        webId: WEBID_S,
        container: CONT_S,
        info: { name: 'George', vatId: 'NL0001', email: 'george@example.org', address: 'Main St 1, Amsterdam' },
      },
    } as PayloadByType['CreateInvoice'],
  },
  SetBuyerInfo: { body: `fi:buyer [ schema:name "Michiel de Jong" ]`, payload: { info: { name: 'Michiel de Jong' } } },
  SetSellerInfo: {
    body: `fi:seller [ schema:name "Mr. Svarovsky Mobile" ; schema:email "g@example.org" ]`,
    payload: { info: { name: 'Mr. Svarovsky Mobile', email: 'g@example.org' } },
  },
  AddToCart: { body: `schema:productID "beans" ; schema:orderQuantity 520`, payload: { product: 'beans', quantity: 520 } },
  EditQuantity: { body: `schema:productID "beans" ; schema:orderQuantity 0`, payload: { product: 'beans', quantity: 0 } },
  RemoveFromCart: { body: `schema:productID "beans"`, payload: { product: 'beans' } },
  SetProductStock: { body: `schema:productID "beans" ; fi:stockQuantity 1000`, payload: { product: 'beans', quantity: 1000 } },
  AddProductStock: { body: `schema:productID "beans" ; fi:stockDelta -3`, payload: { product: 'beans', delta: -3 } },
  ItemOutOfStock: { body: `schema:productID "pencils"`, payload: { product: 'pencils' } },
  QuoteItem: {
    body: `schema:productID "beans" ; schema:price 0.05 ; fi:taxRate "0.21"^^xsd:decimal`,
    payload: { product: 'beans', unitPrice: '0.05', taxRate: '0.21' },
  },
  BidItem: {
    body: `schema:productID "beans" ; schema:price 0.04 ; fi:taxRate 0.21`,
    payload: { product: 'beans', unitPrice: '0.04', taxRate: '0.21' },
  },
  AddExtra: {
    body: `fi:key "shipping" ; schema:description "Express shipping" ; schema:price 12.5 ; fi:taxRate 0.21`,
    payload: { key: 'shipping', description: 'Express shipping', amount: '12.5', taxRate: '0.21' },
  },
  RemoveExtra: { body: `fi:key "shipping"`, payload: { key: 'shipping' } },
  AddDiscount: {
    body: `fi:key "loyal" ; schema:description "Loyal customer" ; fi:discountPercent "5"^^xsd:decimal`,
    payload: { key: 'loyal', description: 'Loyal customer', percent: '5' },
  },
  RemoveDiscount: { body: `fi:key "loyal"`, payload: { key: 'loyal' } },
  ProposeDeliveryDate: { body: `fi:deliveryDate "2021-07-01"^^xsd:date`, payload: { date: '2021-07-01' } },
  RequestPostponedDelivery: { body: `fi:deliveryDate "2021-07-15"^^xsd:date`, payload: { date: '2021-07-15' } },
  ChooseDeliveryAddress: {
    body: `schema:address [ a schema:PostalAddress ; schema:streetAddress "Keizersgracht 1" ; schema:postalCode "1015 CJ" ;
      schema:addressLocality "Amsterdam" ; schema:addressCountry "NL" ]`,
    payload: { address: { streetAddress: 'Keizersgracht 1', postalCode: '1015 CJ', addressLocality: 'Amsterdam', addressCountry: 'NL' } },
  },
  SetPaymentTerms: { body: `fi:paymentTerms "Net 30 days" ; fi:dueDays 30`, payload: { terms: 'Net 30 days', dueDays: 30 } },
  SetInvoiceDetails: {
    body: `fi:legalNumber "2026-0042" ; fi:issueDate "2026-12-01"^^xsd:date ; schema:description "Thank you"`,
    payload: { number: '2026-0042', issueDate: '2026-12-01', note: 'Thank you' },
  },
  SetBuyerReference: { body: `fi:buyerReference "Dept 7" ; fi:orderReference "PO-9"`, payload: { reference: 'Dept 7', orderReference: 'PO-9' } },
  SetTracking: {
    body: `schema:provider "PostNL" ; schema:trackingNumber "3SABC123" ; schema:trackingUrl <https://track.example/3SABC123>`,
    payload: { carrier: 'PostNL', trackingId: '3SABC123', url: 'https://track.example/3SABC123' },
  },
  Comment: { body: `schema:text """Please deliver
before noon 🙂"""`, payload: { text: 'Please deliver\nbefore noon 🙂' } },
  AddParticipant: {
    body: `fi:role "carrier" ; fi:webId <https://carrier.example/card#me> ; fi:container <https://carrier.example/c/0001-03/> ;
      fi:allowedType fi:SetTracking, fi:Comment, fi:MarkShipped ; schema:name "PostNL"`,
    payload: {
      role: 'carrier',
      webId: 'https://carrier.example/card#me',
      container: 'https://carrier.example/c/0001-03/',
      allowedTypes: ['Comment', 'MarkShipped', 'SetTracking'],
      name: 'PostNL',
    } as PayloadByType['AddParticipant'],
  },
  Propose: {
    body: `fi:termsHash "${HASH}" ; fi:head <urn:hash::sha256:${'2'.repeat(64)}>, <urn:hash::sha256:${'1'.repeat(64)}>`,
    payload: { termsHash: HASH, heads: ['1'.repeat(64), '2'.repeat(64)] } as PayloadByType['Propose'],
  },
  Accept: { body: `fi:termsHash "${HASH}"`, payload: { termsHash: HASH } as PayloadByType['Accept'] },
  MarkShipped: { body: '', payload: {} },
  MarkPaid: { body: '', payload: {} },
  MarkReceived: { body: '', payload: {} },
  Dispute: { body: `fi:reason "Goods arrived damaged"`, payload: { reason: 'Goods arrived damaged' } },
};

describe('hand-written Turtle', () => {
  for (const type of OP_TYPES) {
    it(`parses a hand-written ${type}`, async () => {
      const example = EXAMPLES[type];
      const result = await parseOpTurtle(doc(type, example.body), `${BASE}some-op.ttl`, validator);
      if (!result.ok) expect.fail(result.reason);
      const expected = withId({
        invoiceId: '0001-03',
        type,
        payload: example.payload,
        device: 'desktop',
        clock: { wallMs: Date.parse('2021-06-14T14:05:53.837Z'), counter: 1 },
        deps: ['0'.repeat(64)],
      } as unknown as OpContent);
      expect(result.op).toStrictEqual(expected);
      // and it is written back to Turtle that reads as the same op
      expect(await roundTrip(result.op)).toStrictEqual(expected);
    });
  }
});
