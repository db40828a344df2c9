import { MAX_COUNTER, MAX_WALL_MS } from './clock.ts';
import { COUNTRY_CODES } from './countries.ts';
import { CURRENCY_CODES } from './currencies.ts';
import { MAX_URL_LENGTH } from './ids.ts';
import { OP_TYPES, PARTICIPANT_ROLES, type OpType, type PayloadByType } from './ops.ts';
import * as patterns from './patterns.ts';

/**
 * The op table: every field of every op type, written once. The fold's structural checks (validate.ts), the
 * Turtle writer and strict reader (src/rdf/codec.ts) and the published SHACL shapes (shapes/ops.shacl.ttl,
 * written by `npm run shapes`) are all derived from it, so a field added or a bound changed here changes all
 * of them, and they cannot disagree about what an op may say.
 *
 * A field maps a JSON key of the op to an RDF predicate of the op's node. Its value has a kind (text, whole
 * number, decimal, date, URL, a nested node…) with bounds, and a count: exactly one, optional, or a list (an
 * unordered set in RDF, a sorted list without duplicates in JSON). A field without a predicate is inline: its
 * JSON object's fields sit on the same RDF node (the clock on the op node, a party's info on the party node).
 */

export const FI = 'https://w3id.org/fedinvoice/ns#';
export const SCHEMA = 'http://schema.org/';
const fi = (local: string): string => FI + local;
const schema = (local: string): string => SCHEMA + local;

/** A regular expression (see patterns.ts) and how the shapes' messages say it. */
export interface Pattern {
  readonly source: string;
  readonly says: string;
}

/** A string (xsd:string) of minLength–maxLength characters (Unicode code points), optionally matching a pattern. */
export interface TextValue {
  readonly kind: 'text';
  readonly minLength: number;
  readonly maxLength: number;
  readonly pattern?: Pattern;
}
/** One of a fixed list of strings (xsd:string). */
export interface ChoiceValue {
  readonly kind: 'choice';
  readonly choices: readonly string[];
  /** What the shapes' messages call a value, when listing every choice would be too long. */
  readonly says?: string;
}
/** A whole number (a safe integer in JSON, a canonical xsd:integer in RDF) from min to max. */
export interface IntegerValue {
  readonly kind: 'integer';
  readonly min: number;
  readonly max: number;
  readonly nonZero?: true;
}
/** An exact amount: a decimal string in canonical form, in JSON and as xsd:decimal alike. */
export interface DecimalValue {
  readonly kind: 'decimal';
  readonly min: string;
  /** The value must be more than min, not equal to it. */
  readonly minExclusive?: true;
  readonly max?: string;
  /** At most this many digits before and after the decimal point. */
  readonly digits: { readonly integer: number; readonly fraction: number };
}
/** A calendar date, YYYY-MM-DD (xsd:date without a time zone). */
export interface DateValue {
  readonly kind: 'date';
}
/** Milliseconds since 1970 in JSON, a UTC xsd:dateTime with milliseconds in RDF. */
export interface InstantValue {
  readonly kind: 'instant';
  readonly min: number;
  readonly max: number;
}
/** An http(s) URL: a string in JSON, an IRI in RDF. */
export interface UrlValue {
  readonly kind: 'url';
  readonly pattern: Pattern;
  readonly maxLength: number;
}
/** An op id: 64 hex digits in JSON, the IRI urn:hash::sha256:<id> in RDF. */
export interface OpIdValue {
  readonly kind: 'opId';
}
/** An op type: its name in JSON, the class fi:<name> in RDF. */
export interface OpTypeValue {
  readonly kind: 'opType';
}
/** A nested object in JSON: a blank node in RDF, or (inline) more predicates on the same node. */
export interface NodeValue {
  readonly kind: 'node';
  readonly node: NodeSpec;
}

export type Value =
  | TextValue
  | ChoiceValue
  | IntegerValue
  | DecimalValue
  | DateValue
  | InstantValue
  | UrlValue
  | OpIdValue
  | OpTypeValue
  | NodeValue;

export type Count = 'one' | 'optional' | { readonly min: number; readonly max: number };

export interface Field {
  /** The JSON key. */
  readonly key: string;
  /** The RDF predicate; absent for an inline node. */
  readonly predicate?: string;
  /** What the fold's messages call it ("quantity", "product code"); a nested field's label follows its parent's. */
  readonly label: string;
  /** What the shapes' messages call one value ("tax rate"), when the kind alone does not say enough. */
  readonly noun?: string;
  readonly count: Count;
  readonly value: Value;
}

export interface NodeSpec {
  /** The shape's name in shapes/ops.shacl.ttl (fis:<name>Shape). */
  readonly name: string;
  readonly comment: string;
  /** An rdf:type the writer gives the node (readers ignore a nested node's types). */
  readonly class?: string;
  readonly fields: readonly Field[];
}

/** Rules that relate several fields of one op. */
export type Rule =
  /** Exactly one group's fields are all present, and no field of another group is. */
  | { readonly kind: 'oneGroup'; readonly groups: ReadonlyArray<{ readonly name: string; readonly keys: readonly string[] }> }
  /** The values at two paths (JSON keys from the payload) differ. */
  | { readonly kind: 'different'; readonly paths: readonly [readonly string[], readonly string[]]; readonly says: string };

export interface OpSpec<T extends OpType = OpType> {
  readonly fields: ReadonlyArray<Field & { readonly key: keyof PayloadByType[T] & string }>;
  /** The op changes what buyer and seller agree on: after an agreement, it is listed as a change and not applied. */
  readonly changesTerms: boolean;
  readonly rules?: readonly Rule[];
}

// ---------------------------------------------------------------------------------------------------
// Values used by several fields

export const MAX_QUANTITY = 1_000_000_000;
export const MAX_DEPS = 256;

const text = (minLength: number, maxLength: number, pattern?: Pattern): TextValue => ({ kind: 'text', minLength, maxLength, ...(pattern ? { pattern } : {}) });
const CODE: Pattern = { source: patterns.CODE, says: 'without control characters or surrounding spaces' };
const SHORT_CODE = text(1, 200, CODE);
const NAME = text(1, 200);
const LONG_TEXT = text(1, 1000);
const FREE_TEXT = text(1, 10_000);
const HASH = text(64, 64, { source: patterns.HEX64, says: 'of lowercase hex digits (0–9, a–f)' });

const quantity = (min: number): IntegerValue => ({ kind: 'integer', min, max: MAX_QUANTITY });
const DIGITS = { integer: 15, fraction: 10 };
const AMOUNT: DecimalValue = { kind: 'decimal', min: '0', digits: DIGITS };
const POSITIVE_AMOUNT: DecimalValue = { kind: 'decimal', min: '0', minExclusive: true, digits: DIGITS };
const TAX_RATE: DecimalValue = { kind: 'decimal', min: '0', max: '100', digits: DIGITS };
const PERCENT: DecimalValue = { kind: 'decimal', min: '0', minExclusive: true, max: '100', digits: DIGITS };

const WEB_URL: UrlValue = {
  kind: 'url',
  pattern: { source: patterns.HTTP_URL, says: 'an http(s) IRI' },
  maxLength: MAX_URL_LENGTH,
};
const CONTAINER: UrlValue = {
  kind: 'url',
  pattern: { source: patterns.CONTAINER_URL, says: "an http(s) IRI ending in '/', without query or fragment" },
  maxLength: MAX_URL_LENGTH,
};

type Keyed<K extends string> = Field & { readonly key: K };
/** A field with exactly one value. */
const one = <K extends string>(key: K, predicate: string, label: string, value: Value, noun?: string): Keyed<K> => ({
  key,
  predicate,
  label,
  count: 'one',
  value,
  ...(noun ? { noun } : {}),
});
/** A field with at most one value. */
const optional = <K extends string>(key: K, predicate: string, label: string, value: Value, noun?: string): Keyed<K> => ({
  ...one(key, predicate, label, value, noun),
  count: 'optional',
});

// ---------------------------------------------------------------------------------------------------
// Nested nodes

const node = (node: NodeSpec): NodeValue => ({ kind: 'node', node });

/** The VAT categories of EN 16931 (UNCL 5305, the subset the standard allows). */
export const VAT_CATEGORIES = ['S', 'Z', 'E', 'AE', 'K', 'G', 'O', 'L', 'M'] as const;
const VAT_CATEGORY: ChoiceValue = { kind: 'choice', choices: VAT_CATEGORIES, says: 'VAT category code (S, Z, E, AE, K, G, O, L or M)' };
const COUNTRY: ChoiceValue = { kind: 'choice', choices: COUNTRY_CODES, says: 'ISO 3166-1 country code (like NL)' };
/** A unit of measure: a UN/ECE Recommendation 20 (or 21) code such as C62 (one), KGM, HUR. */
const UNIT_CODE = text(1, 3, { source: patterns.UNIT_CODE, says: 'of capital letters and digits (UN/ECE Recommendation 20, like C62)' });

export const PARTY_ADDRESS: NodeSpec = {
  name: 'PartyAddress',
  comment: "A party's postal address, as an e-invoice states it.",
  fields: [
    one('streetAddress', schema('streetAddress'), 'street', LONG_TEXT, 'street address'),
    one('addressLocality', schema('addressLocality'), 'city', NAME, 'city'),
    optional('postalCode', schema('postalCode'), 'postal code', text(1, 50), 'postal code'),
    one('countryCode', schema('addressCountry'), 'country code', COUNTRY),
  ],
};

export const ENDPOINT: NodeSpec = {
  name: 'Endpoint',
  comment: "A party's electronic address (its Peppol endpoint) and the scheme it is in.",
  fields: [
    one('scheme', fi('endpointScheme'), 'scheme', text(2, 4, { source: patterns.ENDPOINT_SCHEME, says: 'an EAS code like 0088 or 9930' }), 'scheme'),
    one('id', fi('endpointId'), 'id', SHORT_CODE, 'identifier'),
  ],
};

export const PARTY_INFO: NodeSpec = {
  name: 'PartyInfo',
  comment: "A buyer's or seller's party information.",
  fields: [
    one('name', schema('name'), 'name', NAME, 'name'),
    optional('vatId', schema('vatID'), 'VAT id', SHORT_CODE, 'VAT id'),
    optional('email', schema('email'), 'email', SHORT_CODE, 'e-mail address'),
    optional('address', schema('address'), 'address', LONG_TEXT, 'address as text'),
    optional('postalAddress', fi('postalAddress'), 'postal address', node(PARTY_ADDRESS)),
    optional('legalId', fi('legalId'), 'legal registration id', SHORT_CODE, 'registration id'),
    optional('legalIdScheme', fi('legalIdScheme'), 'legal registration id scheme', text(4, 4, { source: patterns.ICD, says: 'an ICD code of four digits like 0106' }), 'scheme'),
    optional('endpoint', fi('endpoint'), 'electronic address', node(ENDPOINT)),
    optional('contactName', fi('contactName'), 'contact name', NAME, 'name'),
    optional('phone', schema('telephone'), 'phone', text(1, 50, CODE), 'phone number'),
  ],
};

export const PARTY_REF: NodeSpec = {
  name: 'PartyRef',
  comment: 'A buyer or seller on CreateInvoice: WebID, op container and party information.',
  fields: [
    one('webId', fi('webId'), 'WebID', WEB_URL, 'WebID'),
    one('container', fi('container'), 'op container', CONTAINER, 'container'),
    { key: 'info', label: 'info', count: 'one', value: { kind: 'node', node: PARTY_INFO } },
  ],
};

export const POSTAL_ADDRESS: NodeSpec = {
  name: 'PostalAddress',
  comment: 'A delivery address.',
  class: schema('PostalAddress'),
  fields: [
    one('streetAddress', schema('streetAddress'), 'street', LONG_TEXT, 'street address'),
    one('postalCode', schema('postalCode'), 'postal code', text(1, 50), 'postal code'),
    one('addressLocality', schema('addressLocality'), 'locality', NAME, 'locality'),
    one('addressCountry', schema('addressCountry'), 'country', NAME, 'country'),
  ],
};

// ---------------------------------------------------------------------------------------------------
// The envelope: what every op says besides its payload (its id is the resource's name, its type the rdf:type).

export const CLOCK: NodeSpec = {
  name: 'Clock',
  comment: "The op's hybrid logical clock.",
  fields: [
    one('wallMs', fi('wallTime'), 'wall time', { kind: 'instant', min: 0, max: MAX_WALL_MS }),
    one('counter', fi('counter'), 'counter', { kind: 'integer', min: 0, max: MAX_COUNTER }),
  ],
};

const INVOICE_ID: Pattern = { source: patterns.INVOICE_ID, says: 'from A–Z a–z 0–9 . _ -, starting with a letter or digit' };

// ---------------------------------------------------------------------------------------------------
// Signatures: which device key signed the op, and the signature over its id (src/model/signatures.ts). Outside the
// op's identity: the id is the hash of the content alone, so an op has one name however it is signed.

export const SEC = 'https://w3id.org/security#';
const MULTIBASE = (says: string, maxLength: number): TextValue => text(2, maxLength, { source: patterns.MULTIBASE_BASE58, says });

export const PROOF: NodeSpec = {
  name: 'Proof',
  comment: "The signing device's Ed25519 public key (a Multikey) and its signature over the op's id.",
  fields: [
    one('key', SEC + 'publicKeyMultibase', 'signing key', MULTIBASE('a base58btc multibase key (z…)', 100), 'public key'),
    one('value', SEC + 'proofValue', 'signature', MULTIBASE('a base58btc multibase signature (z…)', 200), 'signature'),
  ],
};

export const SIGNATURE_FIELDS: readonly Field[] = [optional('proof', SEC + 'proof', 'signature', node(PROOF))];

/**
 * The key that signs the op and the WebID that controls it, declared INSIDE the op's id (unlike the proof): a
 * device puts it on its first op of each invoice, so the key keeps verifying that device's ops after it is gone
 * from the profile, once another participant's signed ops have built on the declaration (src/model/signatures.ts).
 */
export const KEY_BINDING: NodeSpec = {
  name: 'KeyBinding',
  comment: 'The public key (a Multikey) that signs this op, and the WebID that controls it.',
  fields: [
    one('controller', SEC + 'controller', 'key controller', WEB_URL, 'WebID'),
    one('key', SEC + 'publicKeyMultibase', 'declared key', MULTIBASE('a base58btc multibase key (z…)', 100), 'public key'),
  ],
};

/** Envelope keys that are not part of an op's id (computeOpId and the reader's canonical form leave them out). */
export const OUTSIDE_ID: ReadonlySet<string> = new Set(SIGNATURE_FIELDS.map((field) => field.key));

export const ENVELOPE: readonly Field[] = [
  one('invoiceId', fi('invoiceId'), 'invoice id', text(1, 64, INVOICE_ID), 'invoice id'),
  one('device', fi('device'), 'device label', text(1, 64, { source: patterns.DEVICE_LABEL, says: 'from A–Z a–z 0–9 . _ -' }), 'device label'),
  { key: 'clock', label: 'clock', count: 'one', value: node(CLOCK) },
  { key: 'deps', predicate: fi('dep'), label: 'deps', count: { min: 0, max: MAX_DEPS }, value: { kind: 'opId' } },
  optional('signingKey', fi('signingKey'), 'declared signing key', node(KEY_BINDING)),
  ...SIGNATURE_FIELDS,
];

// ---------------------------------------------------------------------------------------------------
// Every op type

const product = one('product', schema('productID'), 'product code', SHORT_CODE, 'product code');
const deliveryDate = one('date', fi('deliveryDate'), 'delivery date', { kind: 'date' });
const termsHash = one('termsHash', fi('termsHash'), 'terms hash', HASH, 'terms hash');
const unitPrice = one('unitPrice', schema('price'), 'unit price', AMOUNT);
const taxRate = one('taxRate', fi('taxRate'), 'tax rate', TAX_RATE, 'tax rate');

export const OP_TABLE: { readonly [T in OpType]: OpSpec<T> } = {
  CreateInvoice: {
    changesTerms: false,
    fields: [
      one('currency', schema('priceCurrency'), 'currency', { kind: 'choice', choices: CURRENCY_CODES, says: 'ISO 4217 currency code (like EUR)' }),
      one('buyer', fi('buyer'), 'buyer', node(PARTY_REF)),
      one('seller', fi('seller'), 'seller', node(PARTY_REF)),
    ],
    rules: [
      { kind: 'different', paths: [['buyer', 'webId'], ['seller', 'webId']], says: 'buyer and seller must have different WebIDs' },
      { kind: 'different', paths: [['buyer', 'container'], ['seller', 'container']], says: 'buyer and seller must have different op containers' },
    ],
  },
  SetBuyerInfo: { changesTerms: true, fields: [one('info', fi('buyer'), 'buyer info', node(PARTY_INFO))] },
  SetSellerInfo: { changesTerms: true, fields: [one('info', fi('seller'), 'seller info', node(PARTY_INFO))] },
  AddToCart: { changesTerms: true, fields: [product, one('quantity', schema('orderQuantity'), 'quantity', quantity(1))] },
  EditQuantity: { changesTerms: true, fields: [product, one('quantity', schema('orderQuantity'), 'quantity', quantity(0))] },
  RemoveFromCart: { changesTerms: true, fields: [product] },
  SetProductStock: { changesTerms: true, fields: [product, one('quantity', fi('stockQuantity'), 'quantity', quantity(0))] },
  AddProductStock: {
    changesTerms: true,
    fields: [product, one('delta', fi('stockDelta'), 'stock change', { kind: 'integer', min: -MAX_QUANTITY, max: MAX_QUANTITY, nonZero: true })],
  },
  ItemOutOfStock: { changesTerms: true, fields: [product] },
  QuoteItem: {
    changesTerms: true,
    fields: [
      product,
      unitPrice,
      taxRate,
      optional('name', schema('name'), 'item name', NAME, 'name'),
      optional('description', schema('description'), 'item description', LONG_TEXT, 'description'),
      optional('unitCode', schema('unitCode'), 'unit of measure', UNIT_CODE, 'unit code'),
      optional('taxCategory', fi('taxCategory'), 'VAT category', VAT_CATEGORY),
    ],
  },
  BidItem: { changesTerms: false, fields: [product, unitPrice, taxRate] },
  AddExtra: {
    changesTerms: true,
    fields: [
      one('key', fi('key'), 'extra key', SHORT_CODE, 'key'),
      one('description', schema('description'), 'description', LONG_TEXT, 'description'),
      one('amount', schema('price'), 'amount', AMOUNT),
      taxRate,
      optional('taxCategory', fi('taxCategory'), 'VAT category', VAT_CATEGORY),
    ],
  },
  RemoveExtra: { changesTerms: true, fields: [one('key', fi('key'), 'key', SHORT_CODE, 'key')] },
  AddDiscount: {
    changesTerms: true,
    fields: [
      one('key', fi('key'), 'discount key', SHORT_CODE, 'key'),
      one('description', schema('description'), 'description', LONG_TEXT, 'description'),
      optional('amount', schema('discount'), 'discount amount', POSITIVE_AMOUNT, 'amount'),
      optional('taxRate', fi('taxRate'), 'discount tax rate', TAX_RATE, 'tax rate'),
      optional('percent', fi('discountPercent'), 'discount percent', PERCENT, 'percentage'),
      optional('taxCategory', fi('taxCategory'), 'VAT category', VAT_CATEGORY),
    ],
    rules: [
      {
        kind: 'oneGroup',
        groups: [
          { name: 'a fixed amount', keys: ['amount', 'taxRate'] },
          { name: 'a percentage', keys: ['percent'] },
        ],
      },
    ],
  },
  RemoveDiscount: { changesTerms: true, fields: [one('key', fi('key'), 'key', SHORT_CODE, 'key')] },
  ProposeDeliveryDate: { changesTerms: true, fields: [deliveryDate] },
  RequestPostponedDelivery: { changesTerms: false, fields: [deliveryDate] },
  ChooseDeliveryAddress: { changesTerms: true, fields: [one('address', schema('address'), 'delivery address', node(POSTAL_ADDRESS))] },
  SetPaymentTerms: {
    changesTerms: true,
    fields: [
      one('terms', fi('paymentTerms'), 'payment terms', LONG_TEXT, 'text'),
      optional('dueDays', fi('dueDays'), 'days until due', { kind: 'integer', min: 0, max: 36_500 }, 'number of days'),
      optional('iban', fi('iban'), 'IBAN', text(5, 34, { source: patterns.IBAN, says: 'capital letters and digits, starting with a country code' }), 'IBAN'),
      optional('bic', fi('bic'), 'BIC', text(8, 11, { source: patterns.BIC, says: '8 or 11 capital letters and digits' }), 'BIC'),
      optional('paymentReference', fi('paymentReference'), 'payment reference', SHORT_CODE, 'reference'),
    ],
  },
  SetInvoiceDetails: {
    changesTerms: true,
    fields: [
      one('number', fi('legalNumber'), 'invoice number', SHORT_CODE, 'invoice number'),
      one('issueDate', fi('issueDate'), 'issue date', { kind: 'date' }),
      optional('note', schema('description'), 'note', LONG_TEXT, 'note'),
    ],
  },
  SetBuyerReference: {
    changesTerms: true,
    fields: [
      one('reference', fi('buyerReference'), 'buyer reference', SHORT_CODE, 'reference'),
      optional('orderReference', fi('orderReference'), 'order reference', SHORT_CODE, 'order reference'),
    ],
  },
  SetTracking: {
    changesTerms: false,
    fields: [
      one('carrier', schema('provider'), 'carrier', NAME, 'carrier name'),
      one('trackingId', schema('trackingNumber'), 'tracking id', SHORT_CODE, 'tracking number'),
      optional('url', schema('trackingUrl'), 'tracking URL', WEB_URL, 'tracking URL'),
    ],
  },
  Comment: { changesTerms: false, fields: [one('text', schema('text'), 'comment', FREE_TEXT, 'text')] },
  AddParticipant: {
    changesTerms: false,
    fields: [
      one('role', fi('role'), 'participant role', { kind: 'choice', choices: PARTICIPANT_ROLES }),
      one('webId', fi('webId'), 'participant WebID', WEB_URL, 'WebID'),
      one('container', fi('container'), 'participant op container', CONTAINER, 'container'),
      { key: 'allowedTypes', predicate: fi('allowedType'), label: 'allowed op types', count: { min: 1, max: OP_TYPES.length }, value: { kind: 'opType' } },
      optional('name', schema('name'), 'participant name', NAME, 'name'),
    ],
  },
  Propose: {
    changesTerms: false,
    fields: [termsHash, { key: 'heads', predicate: fi('head'), label: 'proposal heads', count: { min: 1, max: MAX_DEPS }, value: { kind: 'opId' } }],
  },
  Accept: { changesTerms: false, fields: [termsHash] },
  MarkShipped: { changesTerms: false, fields: [] },
  MarkPaid: { changesTerms: false, fields: [] },
  MarkReceived: { changesTerms: false, fields: [] },
  Dispute: { changesTerms: false, fields: [one('reason', fi('reason'), 'dispute reason', FREE_TEXT, 'reason')] },
};

/** Whether a field must be present (an optional field or a list with no minimum may be left out). */
export const isRequired = (field: Field): boolean =>
  field.count === 'one' || (typeof field.count === 'object' && field.count.min > 0);

const opNodes = new Map<OpType, readonly Field[]>();
/** Every field on an op's RDF node: the envelope's, then the payload's (the payload is inline: its fields sit on the op node). */
export function opNodeFields(type: OpType): readonly Field[] {
  let fields = opNodes.get(type);
  if (!fields) {
    const payload: NodeSpec = { name: type, comment: `The payload of ${type}.`, fields: OP_TABLE[type].fields };
    opNodes.set(type, (fields = [...ENVELOPE, { key: 'payload', label: 'payload', count: 'one', value: { kind: 'node', node: payload } }]));
  }
  return fields;
}
