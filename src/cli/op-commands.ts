import { FedinvoiceError } from '../model/errors.ts';
import { asContainerUrl, asWebId } from '../model/ids.ts';
import { PARTICIPANT_ROLES, isOpType, type OpType, type ParticipantRole, type PayloadByType, type PartyInfo, type VatCategory } from '../model/ops.ts';

/**
 * One CLI subcommand per op type, named by the type in kebab-case. Each entry says which words follow the
 * invoice id, which options it takes, and how they become the op's payload. Status ops whose payload the
 * device computes from its own view (Propose, Accept) are handled by the program itself.
 */
export interface OpCommand<T extends OpType = OpType> {
  readonly type: T;
  readonly args: readonly string[];
  readonly options?: ReadonlyArray<{ readonly flags: string; readonly description: string }>;
  readonly summary: string;
  readonly payload: (args: string[], options: Record<string, string | undefined>) => PayloadByType[T];
}

export const kebab = (type: OpType): string => type.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

function wholeNumber(text: string, what: string): number {
  if (!/^-?\d+$/.test(text)) throw new FedinvoiceError(`${what} must be a whole number, got "${text}"`);
  return Number(text);
}

function required(options: Record<string, string | undefined>, key: string, flag: string): string {
  const value = options[key];
  if (value === undefined || value === '') throw new FedinvoiceError(`${flag} is required`);
  return value;
}

const TAX = { flags: '--tax <rate>', description: 'VAT rate in percent, e.g. 21 (default 0)' };
const CATEGORY = { flags: '--category <code>', description: 'EN 16931 VAT category: S, Z, E, AE, K, G, O, L or M (default S, or Z at rate 0)' };
const INFO_OPTIONS = [
  { flags: '--name <name>', description: 'legal name on the invoice (required)' },
  { flags: '--vat-id <id>', description: 'VAT identifier, starting with the country code (NL001234567B01)' },
  { flags: '--email <email>', description: 'e-mail address' },
  { flags: '--address <text>', description: 'postal address as one line (shown only; the e-invoice uses --street, --city, --country)' },
  { flags: '--street <street>', description: 'street and number of the postal address' },
  { flags: '--city <city>', description: 'city of the postal address' },
  { flags: '--postal-code <code>', description: 'postal code' },
  { flags: '--country <code>', description: 'ISO 3166-1 country code, e.g. NL' },
  { flags: '--legal-id <id>', description: 'legal registration identifier (company register number)' },
  { flags: '--legal-id-scheme <icd>', description: 'its ISO 6523 scheme, e.g. 0106 for a Dutch KvK number' },
  { flags: '--endpoint <scheme:id>', description: 'electronic address (Peppol endpoint), e.g. 0106:12345678' },
  { flags: '--contact <name>', description: 'contact person' },
  { flags: '--phone <number>', description: 'contact phone number' },
];

type Options = Record<string, string | undefined>;
/** `{ key: value }` when the option was given, else nothing: ops leave out what is not said. */
const given = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> =>
  value ? ({ [key]: value } as Record<K, string>) : {};

function postalAddressFrom(o: Options): PartyInfo['postalAddress'] {
  if (!o['street'] && !o['city'] && !o['country'] && !o['postalCode']) return undefined;
  return {
    streetAddress: required(o, 'street', '--street (with --city and --country)'),
    addressLocality: required(o, 'city', '--city (with --street and --country)'),
    countryCode: required(o, 'country', '--country (with --street and --city)'),
    ...given('postalCode', o['postalCode']),
  };
}

function endpointFrom(text: string | undefined): PartyInfo['endpoint'] {
  if (!text) return undefined;
  const at = text.indexOf(':');
  if (at < 1) throw new FedinvoiceError(`--endpoint must be <scheme>:<id>, like 0106:12345678, got "${text}"`);
  return { scheme: text.slice(0, at), id: text.slice(at + 1) };
}

export function partyInfoFrom(options: Options): PartyInfo {
  const postalAddress = postalAddressFrom(options);
  const endpoint = endpointFrom(options['endpoint']);
  return {
    name: required(options, 'name', '--name'),
    ...given('vatId', options['vatId']),
    ...given('email', options['email']),
    ...given('address', options['address']),
    ...(postalAddress ? { postalAddress } : {}),
    ...given('legalId', options['legalId']),
    ...given('legalIdScheme', options['legalIdScheme']),
    ...(endpoint ? { endpoint } : {}),
    ...given('contactName', options['contact']),
    ...given('phone', options['phone']),
  };
}

function quoteFrom([product, price]: string[], o: Options): PayloadByType['QuoteItem'] {
  return {
    product: product!,
    unitPrice: price!,
    taxRate: o['tax'] ?? '0',
    ...given('name', o['name']),
    ...given('description', o['description']),
    ...given('unitCode', o['unit']),
    ...(o['category'] ? { taxCategory: o['category'] as VatCategory } : {}),
  };
}

const command = <T extends OpType>(entry: OpCommand<T>): OpCommand => entry as unknown as OpCommand;

export const OP_COMMANDS: readonly OpCommand[] = [
  command({ type: 'SetBuyerInfo', args: [], options: INFO_OPTIONS, summary: "set the buyer's name and details (buyer)", payload: (_, o) => ({ info: partyInfoFrom(o) }) }),
  command({ type: 'SetSellerInfo', args: [], options: INFO_OPTIONS, summary: "set the seller's name and details (seller)", payload: (_, o) => ({ info: partyInfoFrom(o) }) }),
  command({ type: 'AddToCart', args: ['product', 'quantity'], summary: 'ask for more of a product (buyer)', payload: ([product, n]) => ({ product: product!, quantity: wholeNumber(n!, 'quantity') }) }),
  command({ type: 'EditQuantity', args: ['product', 'quantity'], summary: 'set the quantity asked for (buyer)', payload: ([product, n]) => ({ product: product!, quantity: wholeNumber(n!, 'quantity') }) }),
  command({ type: 'RemoveFromCart', args: ['product'], summary: 'remove a product from the cart (buyer)', payload: ([product]) => ({ product: product! }) }),
  command({ type: 'SetProductStock', args: ['product', 'quantity'], summary: 'set the stock available (seller)', payload: ([product, n]) => ({ product: product!, quantity: wholeNumber(n!, 'quantity') }) }),
  command({ type: 'AddProductStock', args: ['product', 'delta'], summary: 'add to (or, negative, take from) the stock (seller)', payload: ([product, n]) => ({ product: product!, delta: wholeNumber(n!, 'stock change') }) }),
  command({ type: 'ItemOutOfStock', args: ['product'], summary: 'mark a product out of stock (seller)', payload: ([product]) => ({ product: product! }) }),
  command({
    type: 'QuoteItem',
    args: ['product', 'unitPrice'],
    options: [
      TAX,
      CATEGORY,
      { flags: '--name <name>', description: 'item name on the invoice' },
      { flags: '--description <text>', description: 'item description' },
      { flags: '--unit <code>', description: 'UN/ECE Recommendation 20 unit, e.g. KGM (default C62, one)' },
    ],
    summary: 'quote a unit price; the lowest quote is the price (seller)',
    payload: quoteFrom,
  }),
  command({ type: 'BidItem', args: ['product', 'unitPrice'], options: [TAX], summary: 'bid a unit price, shown beside the quote (buyer)', payload: ([product, price], o) => ({ product: product!, unitPrice: price!, taxRate: o['tax'] ?? '0' }) }),
  command({
    type: 'AddExtra',
    args: ['key', 'amount'],
    options: [TAX, CATEGORY, { flags: '--description <text>', description: 'what the extra is (default: the key)' }],
    summary: 'add an extra charge such as shipping (buyer or seller)',
    payload: ([key, amount], o) => ({
      key: key!,
      description: o['description'] ?? key!,
      amount: amount!,
      taxRate: o['tax'] ?? '0',
      ...(o['category'] ? { taxCategory: o['category'] as VatCategory } : {}),
    }),
  }),
  command({ type: 'RemoveExtra', args: ['key'], summary: 'remove an extra (seller; buyer only its own)', payload: ([key]) => ({ key: key! }) }),
  command({
    type: 'AddDiscount',
    args: ['key'],
    options: [
      { flags: '--amount <amount>', description: 'discount amount (with --tax)' },
      { flags: '--percent <percent>', description: 'discount in percent of every line and extra' },
      TAX,
      CATEGORY,
      { flags: '--description <text>', description: 'what the discount is (default: the key)' },
    ],
    summary: 'add a discount (seller)',
    payload: ([key], o) => {
      const description = o['description'] ?? key!;
      if (o['percent'] !== undefined) return { key: key!, description, percent: o['percent'] };
      const category = o['category'] ? { taxCategory: o['category'] as VatCategory } : {};
      return { key: key!, description, amount: required(o, 'amount', '--amount or --percent'), taxRate: o['tax'] ?? '0', ...category };
    },
  }),
  command({ type: 'RemoveDiscount', args: ['key'], summary: 'remove a discount (seller)', payload: ([key]) => ({ key: key! }) }),
  command({ type: 'ProposeDeliveryDate', args: ['date'], summary: 'propose the delivery date, YYYY-MM-DD (seller)', payload: ([date]) => ({ date: date! }) }),
  command({ type: 'RequestPostponedDelivery', args: ['date'], summary: 'ask for a later delivery date (buyer)', payload: ([date]) => ({ date: date! }) }),
  command({
    type: 'ChooseDeliveryAddress',
    args: [],
    options: [
      { flags: '--street <street>', description: 'street and number (required)' },
      { flags: '--postal-code <code>', description: 'postal code (required)' },
      { flags: '--locality <city>', description: 'city (required)' },
      { flags: '--country <country>', description: 'country (required)' },
    ],
    summary: 'choose where the goods go (buyer)',
    payload: (_, o) => ({
      address: {
        streetAddress: required(o, 'street', '--street'),
        postalCode: required(o, 'postalCode', '--postal-code'),
        addressLocality: required(o, 'locality', '--locality'),
        addressCountry: required(o, 'country', '--country'),
      },
    }),
  }),
  command({
    type: 'SetPaymentTerms',
    args: ['terms'],
    options: [
      { flags: '--due-days <days>', description: 'days until payment is due (the due date counts from the issue date)' },
      { flags: '--iban <iban>', description: 'the account to pay into' },
      { flags: '--bic <bic>', description: "the bank's BIC" },
      { flags: '--payment-reference <text>', description: 'what the buyer quotes when paying' },
    ],
    summary: 'set the payment terms and account (seller)',
    payload: ([terms], o) => ({
      terms: terms!,
      ...(o['dueDays'] !== undefined ? { dueDays: wholeNumber(o['dueDays'], 'days until due') } : {}),
      ...given('iban', o['iban']),
      ...given('bic', o['bic']),
      ...given('paymentReference', o['paymentReference']),
    }),
  }),
  command({
    type: 'SetInvoiceDetails',
    args: ['number', 'issueDate'],
    options: [{ flags: '--note <text>', description: 'a note on the invoice' }],
    summary: "set the seller's legal invoice number and the issue date, YYYY-MM-DD (seller)",
    payload: ([number, issueDate], o) => ({ number: number!, issueDate: issueDate!, ...given('note', o['note']) }),
  }),
  command({
    type: 'SetBuyerReference',
    args: ['reference'],
    options: [{ flags: '--order <reference>', description: 'your purchase order reference' }],
    summary: "set the buyer's reference for the invoice (buyer)",
    payload: ([reference], o) => ({ reference: reference!, ...given('orderReference', o['order']) }),
  }),
  command({
    type: 'SetTracking',
    args: ['carrier', 'trackingId'],
    options: [{ flags: '--url <url>', description: 'where to follow the parcel' }],
    summary: 'set the shipment tracking (seller or carrier)',
    payload: ([carrier, trackingId], o) => (o['url'] ? { carrier: carrier!, trackingId: trackingId!, url: o['url'] } : { carrier: carrier!, trackingId: trackingId! }),
  }),
  command({ type: 'Comment', args: ['text'], summary: 'add a comment (anyone taking part)', payload: ([text]) => ({ text: text! }) }),
  command({
    type: 'AddParticipant',
    args: ['role', 'webId', 'container'],
    options: [
      { flags: '--allow <types>', description: 'comma-separated op types it may write, e.g. SetTracking,Comment (required)' },
      { flags: '--name <name>', description: 'who it is' },
    ],
    summary: `admit a ${PARTICIPANT_ROLES.join(' / ')}; <container> is its op container or its pod root; it is invited through its inbox`,
    payload: ([role, webId, container], o) => {
      if (!(PARTICIPANT_ROLES as readonly string[]).includes(role!)) throw new FedinvoiceError(`role must be one of ${PARTICIPANT_ROLES.join(', ')}`);
      const allowedTypes = required(o, 'allow', '--allow').split(',').map((type) => type.trim());
      const unknown = allowedTypes.filter((type) => !isOpType(type));
      if (unknown.length) throw new FedinvoiceError(`unknown op types: ${unknown.join(', ')}`);
      const payload: PayloadByType['AddParticipant'] = { role: role as ParticipantRole, webId: asWebId(webId!), container: asContainerUrl(container!), allowedTypes: allowedTypes as OpType[] };
      return o['name'] ? { ...payload, name: o['name'] } : payload;
    },
  }),
  command({ type: 'MarkShipped', args: [], summary: 'mark the agreed goods shipped (seller)', payload: () => ({}) }),
  command({ type: 'MarkPaid', args: [], summary: 'mark the agreed invoice paid (seller)', payload: () => ({}) }),
  command({ type: 'MarkReceived', args: [], summary: 'mark the shipped goods received (buyer)', payload: () => ({}) }),
  command({ type: 'Dispute', args: ['reason'], summary: 'disagree, from any state (buyer or seller)', payload: ([reason]) => ({ reason: reason! }) }),
];
