import { FedinvoiceError } from '../model/errors.ts';
import { asContainerUrl, asWebId } from '../model/ids.ts';
import { PARTICIPANT_ROLES, isOpType, type OpType, type ParticipantRole, type PayloadByType, type PartyInfo } from '../model/ops.ts';

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
const INFO_OPTIONS = [
  { flags: '--name <name>', description: 'name on the invoice (required)' },
  { flags: '--vat-id <id>', description: 'VAT identification number' },
  { flags: '--email <email>', description: 'e-mail address' },
  { flags: '--address <text>', description: 'postal address as one line' },
];

export function partyInfoFrom(options: Record<string, string | undefined>): PartyInfo {
  const info: { name: string; vatId?: string; email?: string; address?: string } = { name: required(options, 'name', '--name') };
  if (options['vatId']) info.vatId = options['vatId'];
  if (options['email']) info.email = options['email'];
  if (options['address']) info.address = options['address'];
  return info;
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
  command({ type: 'QuoteItem', args: ['product', 'unitPrice'], options: [TAX], summary: 'quote a unit price; the lowest quote is the price (seller)', payload: ([product, price], o) => ({ product: product!, unitPrice: price!, taxRate: o['tax'] ?? '0' }) }),
  command({ type: 'BidItem', args: ['product', 'unitPrice'], options: [TAX], summary: 'bid a unit price, shown beside the quote (buyer)', payload: ([product, price], o) => ({ product: product!, unitPrice: price!, taxRate: o['tax'] ?? '0' }) }),
  command({
    type: 'AddExtra',
    args: ['key', 'amount'],
    options: [TAX, { flags: '--description <text>', description: 'what the extra is (default: the key)' }],
    summary: 'add an extra charge such as shipping (buyer or seller)',
    payload: ([key, amount], o) => ({ key: key!, description: o['description'] ?? key!, amount: amount!, taxRate: o['tax'] ?? '0' }),
  }),
  command({ type: 'RemoveExtra', args: ['key'], summary: 'remove an extra (seller; buyer only its own)', payload: ([key]) => ({ key: key! }) }),
  command({
    type: 'AddDiscount',
    args: ['key'],
    options: [
      { flags: '--amount <amount>', description: 'discount amount (with --tax)' },
      { flags: '--percent <percent>', description: 'discount in percent of every line and extra' },
      TAX,
      { flags: '--description <text>', description: 'what the discount is (default: the key)' },
    ],
    summary: 'add a discount (seller)',
    payload: ([key], o) => {
      const description = o['description'] ?? key!;
      if (o['percent'] !== undefined) return { key: key!, description, percent: o['percent'] };
      return { key: key!, description, amount: required(o, 'amount', '--amount or --percent'), taxRate: o['tax'] ?? '0' };
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
    options: [{ flags: '--due-days <days>', description: 'days until payment is due' }],
    summary: 'set the payment terms (seller)',
    payload: ([terms], o) => (o['dueDays'] !== undefined ? { terms: terms!, dueDays: wholeNumber(o['dueDays'], 'days until due') } : { terms: terms! }),
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
