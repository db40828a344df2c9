/**
 * Ops as Turtle: one op per resource, subject `<#op>`, typed `fi:<OpType>`.
 *
 * PURE: no file system, no network. Writing is `opToTurtle`; reading is `parseOpTurtle`, which parses,
 * checks the graph's structure, validates it with the SHACL shapes (shapes/ops.shacl.ttl, compiled once by
 * `createOpValidator`), rebuilds the op and computes its id. The caller compares that id with the name of
 * the resource it read: the RDF never carries the id, so an op cannot lie about it.
 */
import rdfDataModel from '@rdfjs/data-model';
import { DataFactory, Parser, Store, Writer } from 'n3';
import type { DatasetCore, Literal, NamedNode, Quad, Term } from '@rdfjs/types';
import { Validator } from 'shacl-engine';
import type { ShaclCompiler, ShaclContext, ShaclResult, ShaclShape } from 'shacl-engine';
import { MAX_COUNTER, MAX_WALL_MS } from '../model/clock.ts';
import { withId } from '../model/hash.ts';
import { isContainerUrl, isInvoiceId, isOpId, isTermsHash, isWebId } from '../model/ids.ts';
import type { ContainerUrl, InvoiceId, OpId, TermsHash, WebId } from '../model/ids.ts';
import { PARTICIPANT_ROLES, isOpType } from '../model/ops.ts';
import type {
  AnyOp,
  Hlc,
  OpContent,
  OpType,
  ParticipantRole,
  PartyInfo,
  PartyRef,
  PayloadByType,
  PostalAddress,
} from '../model/ops.ts';

const { namedNode, literal, quad } = DataFactory;

// ---------------------------------------------------------------------------------------------------
// Namespaces and terms

export const FI = 'https://w3id.org/fedinvoice/ns#';
export const FI_SHAPES = 'https://w3id.org/fedinvoice/shapes#';
export const SCHEMA = 'http://schema.org/';
export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
export const XSD = 'http://www.w3.org/2001/XMLSchema#';
export const SH = 'http://www.w3.org/ns/shacl#';

/** The op's subject, relative to the URL of the resource that holds it. */
export const OP_FRAGMENT = '#op';
/** Op ids (and graph heads) are written as `urn:hash::sha256:<hex>` IRIs. */
export const OP_ID_IRI_PREFIX = 'urn:hash::sha256:';

export const opIdToIri = (id: OpId): string => OP_ID_IRI_PREFIX + id;
export function iriToOpId(iri: string): OpId | undefined {
  if (!iri.startsWith(OP_ID_IRI_PREFIX)) return undefined;
  const hex = iri.slice(OP_ID_IRI_PREFIX.length);
  return isOpId(hex) ? hex : undefined;
}
export const opTypeIri = (type: OpType): string => FI + type;

const PREFIXES: Readonly<Record<string, string>> = {
  fi: FI,
  schema: SCHEMA,
  xsd: XSD,
  rdf: RDF,
};
/** Extra prefixes used only to make validation messages readable. */
const MESSAGE_PREFIXES: Readonly<Record<string, string>> = {
  ...PREFIXES,
  fis: FI_SHAPES,
  sh: SH,
  dct: 'http://purl.org/dc/terms/',
  dc: 'http://purl.org/dc/elements/1.1/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  prov: 'http://www.w3.org/ns/prov#',
  as: 'https://www.w3.org/ns/activitystreams#',
};

const fi = (local: string): NamedNode => namedNode(FI + local);
const schema = (local: string): NamedNode => namedNode(SCHEMA + local);
const xsd = (local: string): NamedNode => namedNode(XSD + local);

const RDF_TYPE = namedNode(RDF + 'type');

/** A map key for a subject: IRIs by value, blank nodes prefixed so they cannot collide with IRIs. */
const termKey = (term: Term): string => (term.termType === 'BlankNode' ? `_:${term.value}` : term.value);
const XSD_STRING = xsd('string');
const XSD_DECIMAL = xsd('decimal');
const XSD_INTEGER = xsd('integer');
const XSD_DATE = xsd('date');
const XSD_DATETIME = xsd('dateTime');

/** Every predicate an op resource may use, by the op field it carries. This is the RDF mapping. */
export const P = {
  // envelope
  invoiceId: fi('invoiceId'),
  device: fi('device'),
  wallTime: fi('wallTime'),
  counter: fi('counter'),
  dep: fi('dep'),
  // parties (CreateInvoice, SetBuyerInfo, SetSellerInfo)
  buyer: fi('buyer'),
  seller: fi('seller'),
  webId: fi('webId'),
  container: fi('container'),
  name: schema('name'),
  vatId: schema('vatID'),
  email: schema('email'),
  address: schema('address'),
  // CreateInvoice
  currency: schema('priceCurrency'),
  // items
  product: schema('productID'),
  quantity: schema('orderQuantity'),
  stockQuantity: fi('stockQuantity'),
  stockDelta: fi('stockDelta'),
  price: schema('price'),
  taxRate: fi('taxRate'),
  // extras and discounts
  key: fi('key'),
  description: schema('description'),
  discount: schema('discount'),
  discountPercent: fi('discountPercent'),
  // delivery
  deliveryDate: fi('deliveryDate'),
  streetAddress: schema('streetAddress'),
  postalCode: schema('postalCode'),
  addressLocality: schema('addressLocality'),
  addressCountry: schema('addressCountry'),
  // payment, tracking, comments
  paymentTerms: fi('paymentTerms'),
  dueDays: fi('dueDays'),
  carrier: schema('provider'),
  trackingId: schema('trackingNumber'),
  trackingUrl: schema('trackingUrl'),
  text: schema('text'),
  // participants, proposals, disputes
  role: fi('role'),
  allowedType: fi('allowedType'),
  termsHash: fi('termsHash'),
  head: fi('head'),
  reason: fi('reason'),
} as const;

const POSTAL_ADDRESS_CLASS = schema('PostalAddress');

// ---------------------------------------------------------------------------------------------------
// Writing

type Obj = Quad['object'];
interface PO {
  readonly predicate: NamedNode;
  readonly object: Obj;
}

const str = (value: string): Literal => literal(value, XSD_STRING);
const dec = (value: string): Literal => literal(value, XSD_DECIMAL);
const int = (value: number): Literal => literal(String(value), XSD_INTEGER);
const iri = (value: string): NamedNode => namedNode(value);

/** Milliseconds since the epoch as xsd:dateTime, UTC, millisecond precision ("2024-05-01T12:00:00.000Z"). */
export const wallTimeLexical = (wallMs: number): string => new Date(wallMs).toISOString();

function partyInfoPOs(info: PartyInfo): PO[] {
  const out: PO[] = [{ predicate: P.name, object: str(info.name) }];
  if (info.vatId !== undefined) out.push({ predicate: P.vatId, object: str(info.vatId) });
  if (info.email !== undefined) out.push({ predicate: P.email, object: str(info.email) });
  if (info.address !== undefined) out.push({ predicate: P.address, object: str(info.address) });
  return out;
}

function partyRefPOs(party: PartyRef): PO[] {
  return [
    { predicate: P.webId, object: iri(party.webId) },
    { predicate: P.container, object: iri(party.container) },
    ...partyInfoPOs(party.info),
  ];
}

function postalAddressPOs(address: PostalAddress): PO[] {
  return [
    { predicate: RDF_TYPE, object: POSTAL_ADDRESS_CLASS },
    { predicate: P.streetAddress, object: str(address.streetAddress) },
    { predicate: P.postalCode, object: str(address.postalCode) },
    { predicate: P.addressLocality, object: str(address.addressLocality) },
    { predicate: P.addressCountry, object: str(address.addressCountry) },
  ];
}

/** A payload field whose value is a nested node. */
interface Nested {
  readonly predicate: NamedNode;
  readonly nested: PO[];
}

function payloadPOs(op: AnyOp): Array<PO | Nested> {
  switch (op.type) {
    case 'CreateInvoice':
      return [
        { predicate: P.currency, object: str(op.payload.currency) },
        { predicate: P.buyer, nested: partyRefPOs(op.payload.buyer) },
        { predicate: P.seller, nested: partyRefPOs(op.payload.seller) },
      ];
    case 'SetBuyerInfo':
      return [{ predicate: P.buyer, nested: partyInfoPOs(op.payload.info) }];
    case 'SetSellerInfo':
      return [{ predicate: P.seller, nested: partyInfoPOs(op.payload.info) }];
    case 'AddToCart':
    case 'EditQuantity':
      return [
        { predicate: P.product, object: str(op.payload.product) },
        { predicate: P.quantity, object: int(op.payload.quantity) },
      ];
    case 'RemoveFromCart':
    case 'ItemOutOfStock':
      return [{ predicate: P.product, object: str(op.payload.product) }];
    case 'SetProductStock':
      return [
        { predicate: P.product, object: str(op.payload.product) },
        { predicate: P.stockQuantity, object: int(op.payload.quantity) },
      ];
    case 'AddProductStock':
      return [
        { predicate: P.product, object: str(op.payload.product) },
        { predicate: P.stockDelta, object: int(op.payload.delta) },
      ];
    case 'QuoteItem':
    case 'BidItem':
      return [
        { predicate: P.product, object: str(op.payload.product) },
        { predicate: P.price, object: dec(op.payload.unitPrice) },
        { predicate: P.taxRate, object: dec(op.payload.taxRate) },
      ];
    case 'AddExtra':
      return [
        { predicate: P.key, object: str(op.payload.key) },
        { predicate: P.description, object: str(op.payload.description) },
        { predicate: P.price, object: dec(op.payload.amount) },
        { predicate: P.taxRate, object: dec(op.payload.taxRate) },
      ];
    case 'RemoveExtra':
    case 'RemoveDiscount':
      return [{ predicate: P.key, object: str(op.payload.key) }];
    case 'AddDiscount': {
      const out: PO[] = [
        { predicate: P.key, object: str(op.payload.key) },
        { predicate: P.description, object: str(op.payload.description) },
      ];
      if (op.payload.amount !== undefined) out.push({ predicate: P.discount, object: dec(op.payload.amount) });
      if (op.payload.taxRate !== undefined) out.push({ predicate: P.taxRate, object: dec(op.payload.taxRate) });
      if (op.payload.percent !== undefined) out.push({ predicate: P.discountPercent, object: dec(op.payload.percent) });
      return out;
    }
    case 'ProposeDeliveryDate':
    case 'RequestPostponedDelivery':
      return [{ predicate: P.deliveryDate, object: literal(op.payload.date, XSD_DATE) }];
    case 'ChooseDeliveryAddress':
      return [{ predicate: P.address, nested: postalAddressPOs(op.payload.address) }];
    case 'SetPaymentTerms': {
      const out: PO[] = [{ predicate: P.paymentTerms, object: str(op.payload.terms) }];
      if (op.payload.dueDays !== undefined) out.push({ predicate: P.dueDays, object: int(op.payload.dueDays) });
      return out;
    }
    case 'SetTracking': {
      const out: PO[] = [
        { predicate: P.carrier, object: str(op.payload.carrier) },
        { predicate: P.trackingId, object: str(op.payload.trackingId) },
      ];
      if (op.payload.url !== undefined) out.push({ predicate: P.trackingUrl, object: iri(op.payload.url) });
      return out;
    }
    case 'Comment':
      return [{ predicate: P.text, object: str(op.payload.text) }];
    case 'AddParticipant': {
      const out: PO[] = [
        { predicate: P.role, object: str(op.payload.role) },
        { predicate: P.webId, object: iri(op.payload.webId) },
        { predicate: P.container, object: iri(op.payload.container) },
      ];
      for (const type of sortedUnique(op.payload.allowedTypes)) {
        out.push({ predicate: P.allowedType, object: iri(opTypeIri(type)) });
      }
      if (op.payload.name !== undefined) out.push({ predicate: P.name, object: str(op.payload.name) });
      return out;
    }
    case 'Propose': {
      const out: PO[] = [{ predicate: P.termsHash, object: str(op.payload.termsHash) }];
      for (const head of sortedUnique(op.payload.heads)) out.push({ predicate: P.head, object: iri(opIdToIri(head)) });
      return out;
    }
    case 'Accept':
      return [{ predicate: P.termsHash, object: str(op.payload.termsHash) }];
    case 'MarkShipped':
    case 'MarkPaid':
    case 'MarkReceived':
      return [];
    case 'Dispute':
      return [{ predicate: P.reason, object: str(op.payload.reason) }];
  }
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

function writeOp(writer: Writer, subject: NamedNode, op: AnyOp): void {
  const add = (predicate: NamedNode, object: Obj): void => writer.addQuad(quad(subject, predicate, object));
  add(RDF_TYPE, iri(opTypeIri(op.type)));
  add(P.invoiceId, str(op.invoiceId));
  add(P.device, str(op.device));
  add(P.wallTime, literal(wallTimeLexical(op.clock.wallMs), XSD_DATETIME));
  add(P.counter, int(op.clock.counter));
  for (const dep of sortedUnique(op.deps)) add(P.dep, iri(opIdToIri(dep)));
  for (const field of payloadPOs(op)) {
    if ('nested' in field) add(field.predicate, writer.blank(field.nested.map((po) => ({ ...po }))));
    else add(field.predicate, field.object);
  }
}

function endWriter(writer: Writer): string {
  let text = '';
  writer.end((error, result: string) => {
    if (error) throw error;
    text = result;
  });
  return text;
}

/**
 * The Turtle document for several ops (a pack): each op is the subject `<#<op id>>`, relative to the pack's own
 * URL, so every op in it stays addressable (`<pack URL>#<op id>`) and verifiable (its content must hash to that
 * id). Ops are written sorted by id, so the same set of ops always gives the same bytes.
 */
export function opsToPackTurtle(ops: readonly AnyOp[]): string {
  const writer = new Writer({ prefixes: PREFIXES });
  const unique = new Map<string, AnyOp>();
  for (const op of ops) unique.set(op.id, op);
  for (const id of [...unique.keys()].sort()) writeOp(writer, namedNode(`#${id}`), unique.get(id)!);
  return endWriter(writer);
}

function sortedUnique<T extends string>(values: readonly T[]): T[] {
  return [...new Set(values)].sort();
}

// ---------------------------------------------------------------------------------------------------
// Validation

export interface ValidationOutcome {
  readonly conforms: boolean;
  /** One readable line per violation, e.g. "schema:orderQuantity must be exactly one whole number > 0 … (got "0")". */
  readonly messages: string[];
}

export interface OpValidator {
  /**
   * Validates op data against the op shapes. With `focus`, only that node is validated, against the shapes
   * of its rdf:type(s) (fast path used by parseOpTurtle); without it, every node targeted by a shape is.
   */
  validate(data: DatasetCore | Iterable<Quad>, focus?: Term): Promise<ValidationOutcome>;
  /**
   * Validates several op nodes of one dataset (a pack), each against the shapes of its rdf:type, in one pass
   * per op type: one outcome per focus, in the order given.
   */
  validateEach(data: DatasetCore, foci: readonly Term[]): Promise<ValidationOutcome[]>;
  /** The NodeShapes that target each op class. */
  readonly shapesByType: ReadonlyMap<OpType, readonly Term[]>;
}

const SH_CLOSED = SH + 'ClosedConstraintComponent';
const SH_NODE = SH + 'NodeConstraintComponent';
const SH_VIOLATION = SH + 'Violation';

/** Compact an IRI with a known prefix for messages; anything else is shown in angle brackets. */
export function compactIri(value: string): string {
  for (const [prefix, ns] of Object.entries(MESSAGE_PREFIXES)) {
    if (value.startsWith(ns) && /^[A-Za-z_][\w.-]*$/.test(value.slice(ns.length))) return `${prefix}:${value.slice(ns.length)}`;
  }
  return `<${value}>`;
}

function termForMessage(term: Term | undefined): string {
  if (!term) return '';
  if (term.termType === 'NamedNode') return compactIri(term.value);
  if (term.termType === 'BlankNode') return 'a blank node';
  if (term.termType === 'Literal') {
    const shown = term.value.length > 60 ? `${term.value.slice(0, 57)}…` : term.value;
    const lit = term as Literal;
    const suffix = lit.language
      ? `@${lit.language}`
      : lit.datatype.value === XSD + 'string'
        ? ''
        : `^^${compactIri(lit.datatype.value)}`;
    return `${JSON.stringify(shown)}${suffix}`;
  }
  return term.value;
}

function pathForMessage(result: ShaclResult): string {
  if (!result.path || result.path.length === 0) return '';
  return result.path
    .map((step) => {
      const names = step.predicates.map((p) => compactIri(p.value)).join('|');
      return step.start === 'object' ? `^${names}` : names;
    })
    .join('/');
}

function describeResults(results: readonly ShaclResult[], prefix: string, out: string[]): void {
  for (const result of results) {
    if (result.severity.value !== SH_VIOLATION) continue;
    const path = pathForMessage(result);
    const fullPath = prefix && path ? `${prefix}/${path}` : prefix || path;
    if (result.constraintComponent.value === SH_CLOSED) {
      out.push(
        `unexpected property ${fullPath}: the shape is closed and does not allow it` +
          (result.value?.term ? ` (value ${termForMessage(result.value.term)})` : ''),
      );
      continue;
    }
    if (result.constraintComponent.value === SH_NODE && result.results.length > 0) {
      describeResults(result.results, fullPath, out);
      continue;
    }
    const message = result.message.map((m) => m.value).join(' ') || 'violates a constraint';
    const component = result.constraintComponent.value;
    const value =
      component === SH + 'MinCountConstraintComponent'
        ? ' (missing)'
        : component === SH + 'MaxCountConstraintComponent'
          ? ' (found more than allowed)'
          : result.value?.term
            ? ` (got ${termForMessage(result.value.term)})`
            : '';
    out.push(`${fullPath ? `${fullPath} ` : ''}${message}${value}`);
  }
}

/** Turn a shacl-engine report into readable lines, without duplicates (one property shape may fail twice). */
export function reportMessages(results: readonly ShaclResult[]): string[] {
  const out: string[] = [];
  describeResults(results, '', out);
  return [...new Set(out)];
}

// Lexical checks for sh:datatype. shacl-engine's own (from rdf-validation) rejects every string containing a
// character outside the BMP (its xsd:string regex lacks the `u` flag), so an emoji in a comment would fail.
// This replacement checks the datatype IRI and, for the datatypes the shapes use, the lexical form.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LEXICAL: Readonly<Record<string, (value: string) => boolean>> = {
  [XSD + 'string']: (v) => !LONE_SURROGATE.test(v) && !/[\ufffe\uffff]/.test(v),
  [XSD + 'decimal']: (v) => /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(v),
  [XSD + 'integer']: (v) => /^[+-]?[0-9]+$/.test(v),
  [XSD + 'nonNegativeInteger']: (v) => /^(\+?[0-9]+|-0+)$/.test(v),
  [XSD + 'date']: (v) => /^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$/.test(v),
  [XSD + 'dateTime']: (v) =>
    /^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$/.test(v),
  [XSD + 'boolean']: (v) => /^(true|false|1|0)$/.test(v),
};

const compileDatatype: ShaclCompiler = (shape: ShaclShape) => {
  const datatype = shape.ptr.out([namedNode(SH + 'datatype')]).term;
  if (!datatype) return null;
  const lexical = LEXICAL[datatype.value];
  const component = namedNode(SH + 'DatatypeConstraintComponent');
  return {
    generic: (context: ShaclContext) => {
      const term = context.valueOrNode.term;
      const ok =
        term.termType === 'Literal' &&
        (term as Literal).datatype.equals(datatype) &&
        (lexical === undefined || lexical(term.value));
      context.test(ok, component, {
        args: { datatype },
        message: [context.factory.literal('Value does not have datatype {$datatype}')],
        value: context.valueOrNode,
      });
    },
  };
};

/**
 * A minimal read-mostly DatasetCore over the few quads of one op resource. SHACL validation asks almost only
 * "what does subject S say with predicate P", so quads are grouped by subject (lazily) and filtered; building
 * it costs next to nothing, where an n3 Store's three indexes cost more than the validation of a small op.
 */
export class QuadIndex implements DatasetCore {
  private bySubject: Map<string, Quad[]> | undefined;
  constructor(private readonly quads: Quad[] = []) {}

  get size(): number {
    return this.quads.length;
  }
  [Symbol.iterator](): Iterator<Quad> {
    return this.quads[Symbol.iterator]();
  }
  add(q: Quad): this {
    if (!this.has(q)) {
      this.quads.push(q);
      if (this.bySubject) this.index(q);
    }
    return this;
  }
  delete(q: Quad): this {
    const at = this.quads.findIndex((x) => x.equals(q));
    if (at >= 0) {
      this.quads.splice(at, 1);
      this.bySubject = undefined;
    }
    return this;
  }
  has(q: Quad): boolean {
    return this.candidates(q.subject).some((x) => x.equals(q));
  }
  match(subject?: Term | null, predicate?: Term | null, object?: Term | null, graph?: Term | null): QuadIndex {
    const out: Quad[] = [];
    for (const q of subject ? this.candidates(subject) : this.quads) {
      if (predicate && !predicate.equals(q.predicate)) continue;
      if (object && !object.equals(q.object)) continue;
      if (graph && !graph.equals(q.graph)) continue;
      if (subject && !subject.equals(q.subject)) continue;
      out.push(q);
    }
    return new QuadIndex(out);
  }
  private candidates(subject: Term): Quad[] {
    if (!this.bySubject) {
      this.bySubject = new Map();
      for (const q of this.quads) this.index(q);
    }
    return this.bySubject.get(termKey(subject)) ?? [];
  }
  private index(q: Quad): void {
    const key = termKey(q.subject);
    const list = this.bySubject?.get(key);
    if (list) list.push(q);
    else this.bySubject?.set(key, [q]);
  }
}

/** shacl-engine builds report datasets with `factory.dataset()`; n3's Store is a DatasetCore. */
const SHACL_FACTORY = {
  namedNode: rdfDataModel.namedNode.bind(rdfDataModel),
  blankNode: rdfDataModel.blankNode.bind(rdfDataModel),
  literal: rdfDataModel.literal.bind(rdfDataModel),
  variable: rdfDataModel.variable?.bind(rdfDataModel),
  defaultGraph: rdfDataModel.defaultGraph.bind(rdfDataModel),
  quad: rdfDataModel.quad.bind(rdfDataModel),
  dataset: (quads?: Quad[]) => new QuadIndex(quads ? [...quads] : []),
};

/** Parse Turtle into plain RDF/JS terms (cheaper to read repeatedly than n3's string-backed terms). */
function parseTurtle(turtle: string, baseIri?: string): Quad[] {
  return new Parser({ format: 'text/turtle', factory: rdfDataModel, ...(baseIri !== undefined ? { baseIRI: baseIri } : {}) }).parse(turtle);
}

const isDatasetCore = (data: DatasetCore | Iterable<Quad>): data is DatasetCore =>
  typeof (data as DatasetCore).match === 'function' && typeof (data as DatasetCore).has === 'function';

/**
 * Compile the op shapes once (Turtle text of shapes/ops.shacl.ttl); the returned validator is reused for
 * every op. Throws if the shapes themselves are not valid Turtle: that is a packaging bug, not bad input.
 */
export function createOpValidator(shapesTurtle: string): OpValidator {
  const shapes = new Store(parseTurtle(shapesTurtle));
  const engine = new Validator(shapes, {
    factory: SHACL_FACTORY,
    validations: [[namedNode(SH + 'datatype'), compileDatatype]],
  });

  const byClass = new Map<string, Term[]>();
  for (const q of shapes.match(null, namedNode(SH + 'targetClass'), null)) {
    const list = byClass.get(q.object.value) ?? [];
    list.push(q.subject);
    byClass.set(q.object.value, list);
  }
  const shapesByType = new Map<OpType, readonly Term[]>();
  for (const [cls, terms] of byClass) {
    if (cls.startsWith(FI) && isOpType(cls.slice(FI.length))) shapesByType.set(cls.slice(FI.length) as OpType, terms);
  }
  const allShapes = [...byClass.values()].flat().map((term) => ({ terms: [term] }));

  return {
    shapesByType,
    async validateEach(dataset, foci) {
      const outcomes: ValidationOutcome[] = foci.map(() => ({ conforms: true, messages: [] }));
      const groups = new Map<string, { shapes: Term[]; at: number[] }>();
      foci.forEach((focus, at) => {
        const shapeTerms = [...dataset.match(focus, RDF_TYPE, null)].flatMap((q) => byClass.get(q.object.value) ?? []);
        if (shapeTerms.length === 0) {
          outcomes[at] = { conforms: false, messages: [`${termForMessage(focus)} has no rdf:type that an op shape targets`] };
          return;
        }
        const key = shapeTerms.map((term) => term.value).join(' ');
        const group = groups.get(key) ?? { shapes: shapeTerms, at: [] };
        group.at.push(at);
        groups.set(key, group);
      });
      for (const { shapes: shapeTerms, at } of groups.values()) {
        const report = await engine.validate({ dataset, terms: at.map((i) => foci[i]!) }, shapeTerms.map((term) => ({ terms: [term] })));
        if (report.conforms) continue;
        const byFocus = new Map<string, ShaclResult[]>();
        for (const result of report.results) {
          const term = result.focusNode?.term;
          const key = term ? termKey(term) : '';
          const list = byFocus.get(key) ?? [];
          list.push(result);
          byFocus.set(key, list);
        }
        for (const i of at) {
          const results = byFocus.get(termKey(foci[i]!));
          if (!results) continue;
          const messages = reportMessages(results);
          if (messages.length) outcomes[i] = { conforms: false, messages };
        }
        // A violation not attributed to any focus node must not let every op pass.
        const attributed = at.some((i) => byFocus.has(termKey(foci[i]!)));
        if (!attributed) for (const i of at) outcomes[i] = { conforms: false, messages: reportMessages(report.results) };
      }
      return outcomes;
    },
    async validate(data, focus) {
      const dataset: DatasetCore = isDatasetCore(data) ? data : new QuadIndex([...data]);
      let report;
      if (focus) {
        const shapeTerms = [...dataset.match(focus, RDF_TYPE, null)].flatMap(
          (q) => byClass.get(q.object.value) ?? [],
        );
        if (shapeTerms.length === 0) {
          return { conforms: false, messages: [`${termForMessage(focus)} has no rdf:type that an op shape targets`] };
        }
        report = await engine.validate({ dataset, terms: [focus] }, shapeTerms.map((term) => ({ terms: [term] })));
      } else {
        report = await engine.validate({ dataset }, allShapes);
      }
      return { conforms: report.conforms, messages: report.conforms ? [] : reportMessages(report.results) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Reading

export type ParseOpResult = { ok: true; op: AnyOp } | { ok: false; reason: string };

/** Thrown (and caught) inside parseOpTurtle only. */
class Refusal extends Error {}


/** Outgoing edges of one node, by predicate IRI. */
type Edges = Map<string, Term[]>;

/** The triples by subject and predicate, and the subjects typed with an op class (with every op type they claim). */
function indexGraph(
  quads: readonly Quad[],
  what: string,
): { graph: Map<string, Edges>; opSubjects: Map<string, { term: Term; types: OpType[] }> } | { reason: string } {
  const graph = new Map<string, Edges>();
  const opSubjects = new Map<string, { term: Term; types: OpType[] }>();
  for (const q of quads) {
    if (q.graph.termType !== 'DefaultGraph') return { reason: `${what} must not contain named graphs` };
    const key = termKey(q.subject);
    let edges = graph.get(key);
    if (!edges) graph.set(key, (edges = new Map()));
    const list = edges.get(q.predicate.value);
    if (list) list.push(q.object);
    else edges.set(q.predicate.value, [q.object]);
    if (q.predicate.equals(RDF_TYPE) && q.object.termType === 'NamedNode' && q.object.value.startsWith(FI)) {
      const local = q.object.value.slice(FI.length);
      if (isOpType(local)) {
        let entry = opSubjects.get(key);
        if (!entry) opSubjects.set(key, (entry = { term: q.subject, types: [] }));
        entry.types.push(local);
      }
    }
  }
  return { graph, opSubjects };
}

class Node {
  constructor(
    readonly label: string,
    private readonly edges: Edges,
    private readonly graph: Map<string, Edges>,
  ) {}

  all(predicate: NamedNode): Term[] {
    return this.edges.get(predicate.value) ?? [];
  }

  private one(predicate: NamedNode, required: boolean): Term | undefined {
    const values = this.all(predicate);
    if (values.length > 1) throw new Refusal(`${this.label}${compactIri(predicate.value)} has ${values.length} values, expected one`);
    if (values.length === 0 && required) throw new Refusal(`${this.label}${compactIri(predicate.value)} is missing`);
    return values[0];
  }

  literal(predicate: NamedNode, datatype: NamedNode): string;
  literal(predicate: NamedNode, datatype: NamedNode, optional: true): string | undefined;
  literal(predicate: NamedNode, datatype: NamedNode, optional = false): string | undefined {
    const term = this.one(predicate, !optional);
    if (term === undefined) return undefined;
    if (term.termType !== 'Literal' || !(term as Literal).datatype.equals(datatype)) {
      throw new Refusal(`${this.label}${compactIri(predicate.value)} must be a ${compactIri(datatype.value)} literal`);
    }
    return term.value;
  }

  integer(predicate: NamedNode): number;
  integer(predicate: NamedNode, optional: true): number | undefined;
  integer(predicate: NamedNode, optional = false): number | undefined {
    const lexical = optional ? this.literal(predicate, XSD_INTEGER, true) : this.literal(predicate, XSD_INTEGER);
    if (lexical === undefined) return undefined;
    const value = Number(lexical);
    if (!/^-?(0|[1-9][0-9]*)$/.test(lexical) || !Number.isSafeInteger(value)) {
      throw new Refusal(`${this.label}${compactIri(predicate.value)} must be a whole number in canonical form (got ${JSON.stringify(lexical)})`);
    }
    return value;
  }

  iri(predicate: NamedNode): string;
  iri(predicate: NamedNode, optional: true): string | undefined;
  iri(predicate: NamedNode, optional = false): string | undefined {
    const term = this.one(predicate, !optional);
    if (term === undefined) return undefined;
    if (term.termType !== 'NamedNode') throw new Refusal(`${this.label}${compactIri(predicate.value)} must be an IRI`);
    return term.value;
  }

  iris(predicate: NamedNode): string[] {
    return this.all(predicate).map((term) => {
      if (term.termType !== 'NamedNode') throw new Refusal(`${this.label}${compactIri(predicate.value)} values must be IRIs`);
      return term.value;
    });
  }

  nested(predicate: NamedNode): Node {
    const term = this.one(predicate, true);
    if (!term || term.termType !== 'BlankNode') throw new Refusal(`${this.label}${compactIri(predicate.value)} must be a blank node`);
    return new Node(`${this.label}${compactIri(predicate.value)}/`, this.graph.get(termKey(term)) ?? new Map(), this.graph);
  }
}

const ALLOWED_DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/;
function decimal(node: Node, predicate: NamedNode): string;
function decimal(node: Node, predicate: NamedNode, optional: true): string | undefined;
function decimal(node: Node, predicate: NamedNode, optional = false): string | undefined {
  const lexical = optional ? node.literal(predicate, XSD_DECIMAL, true) : node.literal(predicate, XSD_DECIMAL);
  if (lexical !== undefined && !ALLOWED_DECIMAL.test(lexical)) {
    throw new Refusal(`${node.label}${compactIri(predicate.value)} must be a decimal in canonical form (got ${JSON.stringify(lexical)})`);
  }
  return lexical;
}

function webIdOf(node: Node, predicate: NamedNode = P.webId): WebId {
  const value = node.iri(predicate);
  if (!isWebId(value)) throw new Refusal(`${node.label}${compactIri(predicate.value)} must be a normalised http(s) URL (got <${value}>)`);
  return value;
}

function containerOf(node: Node): ContainerUrl {
  const value = node.iri(P.container);
  if (!isContainerUrl(value)) {
    throw new Refusal(`${node.label}fi:container must be a normalised http(s) URL ending in '/' (got <${value}>)`);
  }
  return value;
}

function partyInfoOf(node: Node): PartyInfo {
  const vatId = node.literal(P.vatId, XSD_STRING, true);
  const email = node.literal(P.email, XSD_STRING, true);
  const address = node.literal(P.address, XSD_STRING, true);
  return {
    name: node.literal(P.name, XSD_STRING),
    ...(vatId !== undefined ? { vatId } : {}),
    ...(email !== undefined ? { email } : {}),
    ...(address !== undefined ? { address } : {}),
  };
}

function partyRefOf(node: Node): PartyRef {
  return { webId: webIdOf(node), container: containerOf(node), info: partyInfoOf(node) };
}

function dateOf(node: Node, predicate: NamedNode): string {
  const value = node.literal(predicate, XSD_DATE);
  const time = Date.parse(`${value}T00:00:00.000Z`);
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value) || Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== value) {
    throw new Refusal(`${node.label}${compactIri(predicate.value)} must be a real calendar date YYYY-MM-DD (got ${JSON.stringify(value)})`);
  }
  return value;
}

function opIds(node: Node, predicate: NamedNode): OpId[] {
  const ids = node.iris(predicate).map((value) => {
    const id = iriToOpId(value);
    if (!id) throw new Refusal(`${node.label}${compactIri(predicate.value)} must be urn:hash::sha256:<64 hex> IRIs (got <${value}>)`);
    return id;
  });
  return sortedUnique(ids);
}

function termsHashOf(node: Node): TermsHash {
  const value = node.literal(P.termsHash, XSD_STRING);
  if (!isTermsHash(value)) throw new Refusal(`fi:termsHash must be 64 lowercase hex digits`);
  return value;
}

function payloadOf(type: OpType, op: Node): PayloadByType[OpType] {
  switch (type) {
    case 'CreateInvoice':
      return {
        currency: op.literal(P.currency, XSD_STRING),
        buyer: partyRefOf(op.nested(P.buyer)),
        seller: partyRefOf(op.nested(P.seller)),
      } satisfies PayloadByType['CreateInvoice'];
    case 'SetBuyerInfo':
      return { info: partyInfoOf(op.nested(P.buyer)) } satisfies PayloadByType['SetBuyerInfo'];
    case 'SetSellerInfo':
      return { info: partyInfoOf(op.nested(P.seller)) } satisfies PayloadByType['SetSellerInfo'];
    case 'AddToCart':
    case 'EditQuantity':
      return { product: op.literal(P.product, XSD_STRING), quantity: op.integer(P.quantity) };
    case 'RemoveFromCart':
    case 'ItemOutOfStock':
      return { product: op.literal(P.product, XSD_STRING) };
    case 'SetProductStock':
      return { product: op.literal(P.product, XSD_STRING), quantity: op.integer(P.stockQuantity) };
    case 'AddProductStock':
      return { product: op.literal(P.product, XSD_STRING), delta: op.integer(P.stockDelta) };
    case 'QuoteItem':
    case 'BidItem':
      return {
        product: op.literal(P.product, XSD_STRING),
        unitPrice: decimal(op, P.price),
        taxRate: decimal(op, P.taxRate),
      } satisfies PayloadByType['QuoteItem'];
    case 'AddExtra':
      return {
        key: op.literal(P.key, XSD_STRING),
        description: op.literal(P.description, XSD_STRING),
        amount: decimal(op, P.price),
        taxRate: decimal(op, P.taxRate),
      } satisfies PayloadByType['AddExtra'];
    case 'RemoveExtra':
    case 'RemoveDiscount':
      return { key: op.literal(P.key, XSD_STRING) };
    case 'AddDiscount': {
      const amount = decimal(op, P.discount, true);
      const taxRate = decimal(op, P.taxRate, true);
      const percent = decimal(op, P.discountPercent, true);
      const fixed = amount !== undefined && taxRate !== undefined && percent === undefined;
      const relative = percent !== undefined && amount === undefined && taxRate === undefined;
      if (!fixed && !relative) {
        throw new Refusal('AddDiscount needs either schema:discount with fi:taxRate, or fi:discountPercent, not both');
      }
      return {
        key: op.literal(P.key, XSD_STRING),
        description: op.literal(P.description, XSD_STRING),
        ...(amount !== undefined ? { amount } : {}),
        ...(taxRate !== undefined ? { taxRate } : {}),
        ...(percent !== undefined ? { percent } : {}),
      } satisfies PayloadByType['AddDiscount'];
    }
    case 'ProposeDeliveryDate':
    case 'RequestPostponedDelivery':
      return { date: dateOf(op, P.deliveryDate) };
    case 'ChooseDeliveryAddress': {
      const address = op.nested(P.address);
      return {
        address: {
          streetAddress: address.literal(P.streetAddress, XSD_STRING),
          postalCode: address.literal(P.postalCode, XSD_STRING),
          addressLocality: address.literal(P.addressLocality, XSD_STRING),
          addressCountry: address.literal(P.addressCountry, XSD_STRING),
        },
      } satisfies PayloadByType['ChooseDeliveryAddress'];
    }
    case 'SetPaymentTerms': {
      const dueDays = op.integer(P.dueDays, true);
      return {
        terms: op.literal(P.paymentTerms, XSD_STRING),
        ...(dueDays !== undefined ? { dueDays } : {}),
      } satisfies PayloadByType['SetPaymentTerms'];
    }
    case 'SetTracking': {
      const url = op.iri(P.trackingUrl, true);
      return {
        carrier: op.literal(P.carrier, XSD_STRING),
        trackingId: op.literal(P.trackingId, XSD_STRING),
        ...(url !== undefined ? { url } : {}),
      } satisfies PayloadByType['SetTracking'];
    }
    case 'Comment':
      return { text: op.literal(P.text, XSD_STRING) };
    case 'AddParticipant': {
      const role = op.literal(P.role, XSD_STRING);
      if (!(PARTICIPANT_ROLES as readonly string[]).includes(role)) throw new Refusal(`fi:role ${JSON.stringify(role)} is not a participant role`);
      const allowedTypes = sortedUnique(
        op.iris(P.allowedType).map((value) => {
          const local = value.startsWith(FI) ? value.slice(FI.length) : '';
          if (!isOpType(local)) throw new Refusal(`fi:allowedType <${value}> is not an op class`);
          return local;
        }),
      );
      const name = op.literal(P.name, XSD_STRING, true);
      return {
        role: role as ParticipantRole,
        webId: webIdOf(op),
        container: containerOf(op),
        allowedTypes,
        ...(name !== undefined ? { name } : {}),
      } satisfies PayloadByType['AddParticipant'];
    }
    case 'Propose':
      return { termsHash: termsHashOf(op), heads: opIds(op, P.head) } satisfies PayloadByType['Propose'];
    case 'Accept':
      return { termsHash: termsHashOf(op) } satisfies PayloadByType['Accept'];
    case 'MarkShipped':
    case 'MarkPaid':
    case 'MarkReceived':
      return {};
    case 'Dispute':
      return { reason: op.literal(P.reason, XSD_STRING) };
  }
}

function clockOf(op: Node): Hlc {
  const lexical = op.literal(P.wallTime, XSD_DATETIME);
  const wallMs = Date.parse(lexical);
  if (Number.isNaN(wallMs) || wallMs < 0 || wallMs > MAX_WALL_MS || wallTimeLexical(wallMs) !== lexical) {
    throw new Refusal(`fi:wallTime must be a UTC instant YYYY-MM-DDThh:mm:ss.sssZ between 1970 and 9999 (got ${JSON.stringify(lexical)})`);
  }
  const counter = op.integer(P.counter);
  if (counter < 0 || counter > MAX_COUNTER) throw new Refusal(`fi:counter must be from 0 to ${MAX_COUNTER}`);
  return { wallMs, counter };
}

/**
 * Parse, check, validate and rebuild one op resource. Never throws: every refusal is `{ ok: false, reason }`.
 * `baseIri` is the URL the resource was read from (relative IRIs, `<#op>` included, resolve against it).
 * The returned op's id is computed from its content; the caller compares it with the resource's name.
 */
export async function parseOpTurtle(turtle: string, baseIri: string, validator: OpValidator): Promise<ParseOpResult> {
  const prepared = prepareOp(turtle, baseIri);
  if (!prepared.ok) return prepared;
  return finishOp(prepared, await validator.validate(new QuadIndex(prepared.quads), prepared.subject));
}

/**
 * Parses many single-op resources at once, with the same result for each as `parseOpTurtle`, but SHACL-validates
 * them in one pass per op type (cheaper per op, as for a pack). Ops whose subject IRI another document of the
 * batch also uses are validated on their own, so that no document's triples can affect another's verdict.
 */
export async function parseOpTurtles(documents: ReadonlyArray<{ turtle: string; baseIri: string }>, validator: OpValidator): Promise<ParseOpResult[]> {
  const prepared = documents.map(({ turtle, baseIri }) => prepareOp(turtle, baseIri));
  const results: Array<ParseOpResult | undefined> = prepared.map((p) => (p.ok ? undefined : p));
  const subjectCount = new Map<string, number>();
  for (const p of prepared) if (p.ok) subjectCount.set(termKey(p.subject), (subjectCount.get(termKey(p.subject)) ?? 0) + 1);
  const together: number[] = [];
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i]!;
    if (!p.ok) continue;
    if (subjectCount.get(termKey(p.subject)) === 1) together.push(i);
    else results[i] = finishOp(p, await validator.validate(new QuadIndex(p.quads), p.subject));
  }
  if (together.length > 0) {
    const items = together.map((i) => prepared[i] as PreparedOp);
    const outcomes = await validator.validateEach(new QuadIndex(items.flatMap((item) => item.quads)), items.map((item) => item.subject));
    together.forEach((i, k) => (results[i] = finishOp(items[k]!, outcomes[k]!)));
  }
  return results as ParseOpResult[];
}

interface PreparedOp {
  readonly ok: true;
  readonly quads: Quad[];
  readonly subject: Term;
  readonly type: OpType;
  readonly opEdges: Edges;
  readonly graph: Map<string, Edges>;
}

/** Everything short of SHACL: parse, find the one op subject, and check the resource describes nothing else. */
function prepareOp(turtle: string, baseIri: string): PreparedOp | { ok: false; reason: string } {
  try {
    let quads: Quad[];
    try {
      quads = parseTurtle(turtle, baseIri);
    } catch (error) {
      return { ok: false, reason: `malformed Turtle: ${error instanceof Error ? error.message : String(error)}` };
    }

    // Index the graph and find the op subject: the one node typed with an op class.
    const indexed = indexGraph(quads, 'an op resource');
    if ('reason' in indexed) return { ok: false, reason: indexed.reason };
    const { graph, opSubjects } = indexed;
    if (opSubjects.size === 0) return { ok: false, reason: 'no op found: expected one subject typed with an op class (fi:AddToCart, …)' };
    if (opSubjects.size > 1) {
      const names = [...opSubjects.values()].map((s) => termForMessage(s.term)).join(', ');
      return { ok: false, reason: `expected exactly one op subject, found ${opSubjects.size}: ${names}` };
    }
    const [{ term: subject, types }] = [...opSubjects.values()] as [{ term: Term; types: OpType[] }];
    if (subject.termType !== 'NamedNode') return { ok: false, reason: 'the op subject must be an IRI (<#op>), not a blank node' };
    const opEdges = graph.get(termKey(subject)) ?? new Map<string, Term[]>();
    const allTypes = opEdges.get(RDF_TYPE.value) ?? [];
    if (types.length !== 1 || allTypes.length !== 1) {
      return { ok: false, reason: `the op must have exactly one rdf:type, found ${allTypes.map(termForMessage).join(', ')}` };
    }
    const type = types[0] as OpType;

    // Everything in the resource must be about the op: its own triples, or blank nodes it points to.
    const reachable = new Set<string>([termKey(subject)]);
    for (const objects of opEdges.values()) for (const o of objects) if (o.termType === 'BlankNode') reachable.add(termKey(o));
    for (const key of graph.keys()) {
      if (!reachable.has(key)) {
        const q = quads.find((x) => termKey(x.subject) === key) as Quad;
        return {
          ok: false,
          reason: `unexpected triple about ${termForMessage(q.subject)} (${compactIri(q.predicate.value)}): an op resource may only describe the op and the blank nodes it points to`,
        };
      }
    }
    return { ok: true, quads, subject, type, opEdges, graph };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.message };
    return { ok: false, reason: `could not read op: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The verdict on a prepared op given its SHACL outcome: the shape's messages, or the op rebuilt and hashed. */
function finishOp(prepared: PreparedOp, outcome: ValidationOutcome): ParseOpResult {
  try {
    if (!outcome.conforms) {
      const shown = outcome.messages.slice(0, 3).join('; ');
      const more = outcome.messages.length > 3 ? ` (and ${outcome.messages.length - 3} more)` : '';
      return { ok: false, reason: `does not conform to shape ${prepared.type}: ${shown}${more}` };
    }
    return rebuildOp(prepared.type, prepared.opEdges, prepared.graph);
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.message };
    return { ok: false, reason: `could not read op: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Rebuilds a validated op node into an op (its id computed from its content). Throws Refusal. */
function rebuildOp(type: OpType, opEdges: Edges, graph: Map<string, Edges>): ParseOpResult {
  const op = new Node('', opEdges, graph);
  const invoiceId = op.literal(P.invoiceId, XSD_STRING);
  if (!isInvoiceId(invoiceId)) return { ok: false, reason: `fi:invoiceId ${JSON.stringify(invoiceId)} is not a valid invoice id` };
  const content = {
    invoiceId: invoiceId as InvoiceId,
    type,
    payload: payloadOf(type, op),
    device: op.literal(P.device, XSD_STRING),
    clock: clockOf(op),
    deps: opIds(op, P.dep),
  } as OpContent;
  return { ok: true, op: withId(content) as AnyOp };
}

/** One op of a pack: the id its subject names (`<#<id>>`), and the op read from it or why it was refused. */
export interface PackEntry {
  /** The id named by the op's subject, or null when the subject does not name one. */
  readonly id: OpId | null;
  /** The op's subject as written, for reports. */
  readonly subject: string;
  readonly result: ParseOpResult;
}

export type ParsePackResult =
  | {
      readonly ok: true;
      /** Every op subject of the pack, sorted by subject; bad ops are refused one by one, never the whole pack. */
      readonly entries: PackEntry[];
      /** Triples that describe no op (ignored): reported, since a fedinvoice writer never writes them. */
      readonly problems: string[];
    }
  | { readonly ok: false; readonly reason: string };

export interface ParsePackOptions {
  /** Most op subjects read from one pack; a pack with more is refused whole (untrusted input is capped). */
  readonly maxOps?: number;
}

/**
 * Parses a pack (the Turtle of `opsToPackTurtle`): one parse for the whole document, then every op subject is
 * checked like a single op resource (exactly one op type, only its own triples and the blank nodes it points to),
 * SHACL-validated (one validation pass per op type for the whole pack), rebuilt and hashed. Never throws.
 * The caller compares each entry's rebuilt id with `entry.id`, the id the pack names it by.
 */
export async function parseOpPack(turtle: string, baseIri: string, validator: OpValidator, options: ParsePackOptions = {}): Promise<ParsePackResult> {
  let quads: Quad[];
  try {
    quads = parseTurtle(turtle, baseIri);
  } catch (error) {
    return { ok: false, reason: `malformed Turtle: ${error instanceof Error ? error.message : String(error)}` };
  }
  const indexed = indexGraph(quads, 'a pack');
  if ('reason' in indexed) return { ok: false, reason: indexed.reason };
  const { graph, opSubjects } = indexed;
  const maxOps = options.maxOps ?? 100_000;
  if (opSubjects.size > maxOps) return { ok: false, reason: `it holds ${opSubjects.size} ops, more than the ${maxOps} a pack may hold` };

  // Which op each blank node belongs to; a blank node pointed to by two ops belongs to neither.
  const owner = new Map<string, string | null>();
  for (const key of opSubjects.keys()) {
    for (const objects of graph.get(key)!.values()) {
      for (const o of objects) {
        if (o.termType !== 'BlankNode') continue;
        const blank = termKey(o);
        owner.set(blank, owner.has(blank) && owner.get(blank) !== key ? null : key);
      }
    }
  }
  const problems: string[] = [];
  for (const key of graph.keys()) {
    if (opSubjects.has(key) || owner.has(key)) continue;
    problems.push(`triples about ${key.startsWith('_:') ? 'a blank node' : compactIri(key)} that describe no op were ignored`);
  }

  const prefix = `${baseIri}#`;
  const entries: PackEntry[] = [];
  const toValidate: Array<{ entry: number; term: Term; type: OpType; edges: Edges }> = [];
  for (const [key, { term, types }] of [...opSubjects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const named = term.termType === 'NamedNode' && key.startsWith(prefix) ? key.slice(prefix.length) : '';
    const id = isOpId(named) ? named : null;
    const refuse = (reason: string) => entries.push({ id, subject: key, result: { ok: false, reason } });
    if (id === null) {
      refuse(`its subject ${term.termType === 'NamedNode' ? `<${key}>` : 'is a blank node and'} does not name an op id (<#<64 hex>> in the pack)`);
      continue;
    }
    const edges = graph.get(key)!;
    const allTypes = edges.get(RDF_TYPE.value) ?? [];
    if (types.length !== 1 || allTypes.length !== 1) {
      refuse(`the op must have exactly one rdf:type, found ${allTypes.map(termForMessage).join(', ')}`);
      continue;
    }
    const shared = [...edges.values()].flat().find((o) => o.termType === 'BlankNode' && owner.get(termKey(o)) === null);
    if (shared) {
      refuse('it shares a blank node with another op of the pack');
      continue;
    }
    toValidate.push({ entry: entries.length, term, type: types[0]!, edges });
    entries.push({ id, subject: key, result: { ok: false, reason: 'not validated' } });
  }

  let outcomes: ValidationOutcome[];
  try {
    outcomes = await validator.validateEach(new QuadIndex(quads), toValidate.map((item) => item.term));
  } catch (error) {
    return { ok: false, reason: `could not validate the pack: ${error instanceof Error ? error.message : String(error)}` };
  }
  toValidate.forEach((item, i) => {
    const outcome = outcomes[i]!;
    const entry = entries[item.entry]!;
    let result: ParseOpResult;
    if (!outcome.conforms) {
      const shown = outcome.messages.slice(0, 3).join('; ');
      const more = outcome.messages.length > 3 ? ` (and ${outcome.messages.length - 3} more)` : '';
      result = { ok: false, reason: `does not conform to shape ${item.type}: ${shown}${more}` };
    } else {
      try {
        result = rebuildOp(item.type, item.edges, graph);
      } catch (error) {
        result = { ok: false, reason: error instanceof Refusal ? error.message : `could not read op: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    entries[item.entry] = { ...entry, result };
  });
  return { ok: true, entries, problems };
}

/** The quads of an op's Turtle, for callers that want to validate or inspect them directly. */
export function turtleToQuads(turtle: string, baseIri: string): Quad[] {
  return parseTurtle(turtle, baseIri);
}

