/**
 * fast-check arbitraries for VALID ops of every type: every op they produce conforms to shapes/ops.shacl.ttl
 * and survives op → Turtle → op unchanged (deps, allowedTypes and heads are sorted and unique, as the
 * canonical form requires; optional payload fields are absent rather than undefined).
 */
import fc from 'fast-check';
import { MAX_COUNTER, MAX_WALL_MS } from '../../src/model/clock.ts';
import { withId } from '../../src/model/hash.ts';
import type { ContainerUrl, InvoiceId, OpId, TermsHash, WebId } from '../../src/model/ids.ts';
import { OP_TYPES, PARTICIPANT_ROLES } from '../../src/model/ops.ts';
import type { AnyOp, Hlc, Op, OpType, PartyInfo, PartyRef, PayloadByType, PostalAddress } from '../../src/model/ops.ts';

/** fc.record, but always with Object.prototype (fast-check 4 may otherwise build null-prototype objects). */
function rec<R extends Record<string, unknown>>(model: { [K in keyof R]: fc.Arbitrary<R[K]> }): fc.Arbitrary<R>;
function rec<R extends Record<string, unknown>, K extends keyof R>(
  model: { [P in keyof R]: fc.Arbitrary<R[P]> },
  options: { requiredKeys: K[] },
): fc.Arbitrary<Partial<R> & Pick<R, K>>;
function rec(model: Record<string, fc.Arbitrary<unknown>>, options?: { requiredKeys: string[] }): fc.Arbitrary<unknown> {
  return options
    ? fc.record(model, { requiredKeys: options.requiredKeys, noNullPrototype: true })
    : fc.record(model, { noNullPrototype: true });
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text in every flavour fast-check has (ASCII, any grapheme, any code point), without lone surrogates. */
export function text(minLength: number, maxLength: number): fc.Arbitrary<string> {
  const maxUnits = Math.min(maxLength, 40);
  return fc
    .oneof(
      fc.string({ unit: 'grapheme-ascii', minLength, maxLength: maxUnits }),
      fc.string({ unit: 'grapheme', minLength, maxLength: maxUnits }),
      fc.string({ unit: 'binary', minLength, maxLength: maxUnits }),
    )
    .filter((s) => s.length >= minLength && s.length <= maxLength && !LONE_SURROGATE.test(s));
}

/** Product codes, keys, names, labels: 1–200 characters. */
export const shortText = (): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom('beans', 'pencils', 'desktop', 'mobile', 'shipping', 'Mr. Svarovsky Mobile'), text(1, 200));
/** Descriptions, comments, terms: at most 10000 characters. */
export const freeText = (): fc.Arbitrary<string> => fc.oneof(fc.constant(''), text(0, 10000));

const HEX = '0123456789abcdef'.split('');
export const hex64 = (): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 });
export const opId = (): fc.Arbitrary<OpId> => hex64().map((h) => h as OpId);
export const termsHash = (): fc.Arbitrary<TermsHash> => hex64().map((h) => h as TermsHash);
export const sortedOpIds = (maxLength: number): fc.Arbitrary<OpId[]> =>
  fc.uniqueArray(opId(), { maxLength }).map((ids) => [...ids].sort());

export const invoiceId = (): fc.Arbitrary<InvoiceId> =>
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/).map((s) => s as InvoiceId);

export const currency = (): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom('EUR', 'USD', 'GBP'), fc.stringMatching(/^[A-Z]{3}$/));

export const clock = (): fc.Arbitrary<Hlc> =>
  rec({
    wallMs: fc.oneof(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), fc.integer({ min: 0, max: MAX_WALL_MS })),
    counter: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: MAX_COUNTER })),
  });

// URLs: normalised (URL.href === value) http(s) URLs made of IRI-safe characters.
const segment = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,11}$/);
const origin = fc
  .tuple(fc.constantFrom('http', 'https'), fc.array(segment, { minLength: 1, maxLength: 3 }), fc.constantFrom('org', 'example', 'nl'))
  .map(([scheme, labels, tld]) => `${scheme}://${labels.join('.')}.${tld}`);
const path = fc.array(segment, { maxLength: 3 }).map((parts) => parts.map((p) => `/${p}`).join(''));
export const httpUrl = (): fc.Arbitrary<string> =>
  fc.tuple(origin, path, fc.option(segment, { nil: undefined })).map(([o, p, frag]) => new URL(`${o}${p}${frag ? `#${frag}` : ''}`).href);
export const webId = (): fc.Arbitrary<WebId> =>
  fc.oneof(fc.tuple(origin, path).map(([o, p]) => new URL(`${o}${p}/profile/card#me`).href), httpUrl()).map((u) => u as WebId);
export const containerUrl = (): fc.Arbitrary<ContainerUrl> =>
  fc.tuple(origin, path).map(([o, p]) => new URL(`${o}${p}/`).href as ContainerUrl);

/** Canonical non-negative decimal strings: "0", "21", "0.05", "1234.5" (no exponent, no trailing zeros). */
export const decimalString = (maxInteger = 1_000_000_000_000n): fc.Arbitrary<string> =>
  fc
    .tuple(fc.bigInt({ min: 0n, max: maxInteger }), fc.stringMatching(/^[0-9]{0,8}$/))
    .map(([whole, fraction]) => {
      const f = fraction.replace(/0+$/, '');
      return f ? `${whole}.${f}` : `${whole}`;
    });
export const taxRate = (): fc.Arbitrary<string> => fc.oneof(fc.constantFrom('0', '0.09', '0.21', '21'), decimalString(100n));
export const percent = (): fc.Arbitrary<string> =>
  decimalString(100n).filter((p) => Number(p) <= 100);

export const date = (): fc.Arbitrary<string> =>
  fc
    .date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T00:00:00.000Z'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));

export const partyInfo = (): fc.Arbitrary<PartyInfo> =>
  rec(
    { name: shortText(), vatId: shortText(), email: text(1, 320), address: text(1, 1000) },
    { requiredKeys: ['name'] },
  );
export const partyRef = (): fc.Arbitrary<PartyRef> =>
  rec({ webId: webId(), container: containerUrl(), info: partyInfo() });
export const postalAddress = (): fc.Arbitrary<PostalAddress> =>
  rec({ streetAddress: shortText(), postalCode: shortText(), addressLocality: shortText(), addressCountry: shortText() });

const QUANTITY_MAX = 1_000_000_000;
const product = shortText;

export const payloadArbitraries: { [T in OpType]: fc.Arbitrary<PayloadByType[T]> } = {
  CreateInvoice: rec({ currency: currency(), buyer: partyRef(), seller: partyRef() }),
  SetBuyerInfo: rec({ info: partyInfo() }),
  SetSellerInfo: rec({ info: partyInfo() }),
  AddToCart: rec({ product: product(), quantity: fc.integer({ min: 1, max: QUANTITY_MAX }) }),
  EditQuantity: rec({ product: product(), quantity: fc.integer({ min: 0, max: QUANTITY_MAX }) }),
  RemoveFromCart: rec({ product: product() }),
  SetProductStock: rec({ product: product(), quantity: fc.integer({ min: 0, max: QUANTITY_MAX }) }),
  AddProductStock: rec({
    product: product(),
    delta: fc.integer({ min: -QUANTITY_MAX, max: QUANTITY_MAX }).filter((d) => d !== 0),
  }),
  ItemOutOfStock: rec({ product: product() }),
  QuoteItem: rec({ product: product(), unitPrice: decimalString(), taxRate: taxRate() }),
  BidItem: rec({ product: product(), unitPrice: decimalString(), taxRate: taxRate() }),
  AddExtra: rec({ key: shortText(), description: freeText(), amount: decimalString(), taxRate: taxRate() }),
  RemoveExtra: rec({ key: shortText() }),
  AddDiscount: fc.oneof(
    rec({ key: shortText(), description: freeText(), amount: decimalString(), taxRate: taxRate() }),
    rec({ key: shortText(), description: freeText(), percent: percent() }),
  ),
  RemoveDiscount: rec({ key: shortText() }),
  ProposeDeliveryDate: rec({ date: date() }),
  RequestPostponedDelivery: rec({ date: date() }),
  ChooseDeliveryAddress: rec({ address: postalAddress() }),
  SetPaymentTerms: rec({ terms: freeText(), dueDays: fc.integer({ min: 0, max: 36500 }) }, { requiredKeys: ['terms'] }),
  SetTracking: rec({ carrier: shortText(), trackingId: shortText(), url: httpUrl() }, { requiredKeys: ['carrier', 'trackingId'] }),
  Comment: rec({ text: freeText() }),
  AddParticipant: rec(
    {
      role: fc.constantFrom(...PARTICIPANT_ROLES),
      webId: webId(),
      container: containerUrl(),
      allowedTypes: fc.uniqueArray(fc.constantFrom(...OP_TYPES)).map((types) => [...types].sort()),
      name: shortText(),
    },
    { requiredKeys: ['role', 'webId', 'container', 'allowedTypes'] },
  ),
  Propose: rec({ termsHash: termsHash(), heads: sortedOpIds(5) }),
  Accept: rec({ termsHash: termsHash() }),
  MarkShipped: fc.constant({}),
  MarkPaid: fc.constant({}),
  MarkReceived: fc.constant({}),
  Dispute: rec({ reason: freeText() }),
};

/** A valid op of the given type, with its id computed. */
export function arbitraryOpOf<T extends OpType>(type: T): fc.Arbitrary<Op<T>> {
  const payload = payloadArbitraries[type] as fc.Arbitrary<PayloadByType[T]>;
  return fc
    .record({ invoiceId: invoiceId(), payload, device: shortText(), clock: clock(), deps: sortedOpIds(4) })
    .map((content) => withId<T>({ ...content, type }));
}

export const opArbitraries = Object.fromEntries(OP_TYPES.map((type) => [type, arbitraryOpOf(type)])) as {
  [T in OpType]: fc.Arbitrary<Op<T>>;
};

/** A valid op of any type. */
export function arbitraryOp(): fc.Arbitrary<AnyOp> {
  return fc.oneof(...OP_TYPES.map((type) => opArbitraries[type] as fc.Arbitrary<AnyOp>));
}
