import { isValidClock } from './clock.ts';
import { isContainerUrl, isHttpUrl, isInvoiceId, isOpId, isTermsHash, isWebId } from './ids.ts';
import { isCurrencyCode, isDecimalString, toDecimal } from './money.ts';
import { isOpType, PARTICIPANT_ROLES, type AnyOp, type OpType, type PartyInfo, type PostalAddress } from './ops.ts';

/**
 * Structural checks of one op, independent of any other op: the same rules the SHACL shapes state, applied
 * again here because the fold is also called by embedders with ops that never passed through Turtle.
 * Returns a reason a person can read, or null when the op is well-formed.
 */
export const MAX_QUANTITY = 1_000_000_000;
export const MAX_DEPS = 256;
const MAX_TEXT = 10_000;
const MAX_NAME = 200;
const DEVICE_LABEL = /^[A-Za-z0-9._-]{1,64}$/;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

class Invalid extends Error {}
const fail = (reason: string): never => {
  throw new Invalid(reason);
};

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(`${what} has an unexpected field "${key}"`);
}

function text(value: unknown, what: string, max = MAX_TEXT): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${what} must be a non-empty text`);
  if ((value as string).length > max) fail(`${what} is longer than ${max} characters`);
  return value as string;
}

function code(value: unknown, what: string): string {
  const result = text(value, what, MAX_NAME);
  if (CONTROL_CHARS.test(result) || result.trim() !== result) fail(`${what} must not contain control characters or surrounding spaces`);
  return result;
}

function optional<T>(value: unknown, check: (v: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}

function quantity(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(`${what} must be a whole number, got ${String(value)}`);
  const n = value as number;
  if (n < min) fail(`${what} must be ${min === 0 ? 'zero or more' : `at least ${min}`}, got ${n}`);
  if (n > MAX_QUANTITY) fail(`${what} must be at most ${MAX_QUANTITY}, got ${n}`);
  return n;
}

function decimal(value: unknown, what: string, range: { min?: string; max?: string; positive?: boolean } = {}): string {
  if (!isDecimalString(value)) fail(`${what} must be a decimal number like "12.50", got ${JSON.stringify(value)}`);
  const amount = toDecimal(value as string);
  if (range.positive && amount.lte(0)) fail(`${what} must be more than 0, got ${value as string}`);
  if (range.min !== undefined && amount.lt(range.min)) fail(`${what} must be at least ${range.min}, got ${value as string}`);
  if (range.max !== undefined && amount.gt(range.max)) fail(`${what} must be at most ${range.max}, got ${value as string}`);
  return value as string;
}

const taxRate = (value: unknown, what = 'tax rate'): string => decimal(value, what, { min: '0', max: '100' });

function date(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) fail(`${what} must be a date like 2026-12-01`);
  const parsed = new Date(`${value as string}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value) fail(`${what} ${value as string} is not a calendar date`);
  return value as string;
}

function sortedUnique(values: unknown, what: string, isItem: (v: unknown) => boolean, max: number, min = 0): void {
  if (!Array.isArray(values)) fail(`${what} must be a list`);
  const list = values as unknown[];
  if (list.length < min) fail(`${what} must not be empty`);
  if (list.length > max) fail(`${what} lists ${list.length} entries, at most ${max} are allowed`);
  for (let i = 0; i < list.length; i++) {
    if (!isItem(list[i])) fail(`${what} has an invalid entry ${JSON.stringify(list[i])}`);
    if (i > 0 && !((list[i - 1] as string) < (list[i] as string))) fail(`${what} must be sorted and without duplicates`);
  }
}

function partyInfo(value: unknown, what: string): PartyInfo {
  const info = record(value, what);
  onlyKeys(info, ['name', 'vatId', 'email', 'address'], what);
  text(info['name'], `${what} name`, MAX_NAME);
  optional(info['vatId'], (v) => code(v, `${what} VAT id`));
  optional(info['email'], (v) => code(v, `${what} email`));
  optional(info['address'], (v) => text(v, `${what} address`, 1000));
  return info as unknown as PartyInfo;
}

function postalAddress(value: unknown): PostalAddress {
  const address = record(value, 'address');
  onlyKeys(address, ['streetAddress', 'postalCode', 'addressLocality', 'addressCountry'], 'address');
  text(address['streetAddress'], 'street address', 1000);
  text(address['postalCode'], 'postal code', 50);
  text(address['addressLocality'], 'locality', MAX_NAME);
  text(address['addressCountry'], 'country', MAX_NAME);
  return address as unknown as PostalAddress;
}

function partyRef(value: unknown, what: string): void {
  const ref = record(value, what);
  onlyKeys(ref, ['webId', 'container', 'info'], what);
  if (!isWebId(ref['webId'])) fail(`${what} WebID must be an http(s) URL`);
  if (!isContainerUrl(ref['container'])) fail(`${what} op container must be an http(s) URL ending in "/"`);
  partyInfo(ref['info'], `${what} info`);
}

const PAYLOAD_KEYS: Record<OpType, readonly string[]> = {
  CreateInvoice: ['currency', 'buyer', 'seller'],
  SetBuyerInfo: ['info'],
  SetSellerInfo: ['info'],
  AddToCart: ['product', 'quantity'],
  EditQuantity: ['product', 'quantity'],
  RemoveFromCart: ['product'],
  SetProductStock: ['product', 'quantity'],
  AddProductStock: ['product', 'delta'],
  ItemOutOfStock: ['product'],
  QuoteItem: ['product', 'unitPrice', 'taxRate'],
  BidItem: ['product', 'unitPrice', 'taxRate'],
  AddExtra: ['key', 'description', 'amount', 'taxRate'],
  RemoveExtra: ['key'],
  AddDiscount: ['key', 'description', 'amount', 'taxRate', 'percent'],
  RemoveDiscount: ['key'],
  ProposeDeliveryDate: ['date'],
  RequestPostponedDelivery: ['date'],
  ChooseDeliveryAddress: ['address'],
  SetPaymentTerms: ['terms', 'dueDays'],
  SetTracking: ['carrier', 'trackingId', 'url'],
  Comment: ['text'],
  AddParticipant: ['role', 'webId', 'container', 'allowedTypes', 'name'],
  Propose: ['termsHash', 'heads'],
  Accept: ['termsHash'],
  MarkShipped: [],
  MarkPaid: [],
  MarkReceived: [],
  Dispute: ['reason'],
};

function checkPayload(op: AnyOp): void {
  const p = record(op.payload, 'payload') as never as Record<string, unknown>;
  onlyKeys(p, PAYLOAD_KEYS[op.type], `${op.type} payload`);
  switch (op.type) {
    case 'CreateInvoice':
      if (!isCurrencyCode(p['currency'])) fail(`currency ${JSON.stringify(p['currency'])} is not an ISO 4217 code`);
      partyRef(p['buyer'], 'buyer');
      partyRef(p['seller'], 'seller');
      {
        const buyer = p['buyer'] as { webId: string; container: string };
        const seller = p['seller'] as { webId: string; container: string };
        if (buyer.webId === seller.webId) fail('buyer and seller must have different WebIDs');
        if (buyer.container === seller.container) fail('buyer and seller must have different op containers');
      }
      return;
    case 'SetBuyerInfo':
    case 'SetSellerInfo':
      partyInfo(p['info'], 'info');
      return;
    case 'AddToCart':
      code(p['product'], 'product code');
      quantity(p['quantity'], 'quantity', 1);
      return;
    case 'EditQuantity':
    case 'SetProductStock':
      code(p['product'], 'product code');
      quantity(p['quantity'], 'quantity', 0);
      return;
    case 'RemoveFromCart':
    case 'ItemOutOfStock':
      code(p['product'], 'product code');
      return;
    case 'AddProductStock': {
      code(p['product'], 'product code');
      const delta = p['delta'];
      if (typeof delta !== 'number' || !Number.isSafeInteger(delta) || delta === 0 || Math.abs(delta) > MAX_QUANTITY)
        fail(`stock change must be a non-zero whole number between -${MAX_QUANTITY} and ${MAX_QUANTITY}, got ${String(delta)}`);
      return;
    }
    case 'QuoteItem':
    case 'BidItem':
      code(p['product'], 'product code');
      decimal(p['unitPrice'], 'unit price', { min: '0' });
      taxRate(p['taxRate']);
      return;
    case 'AddExtra':
      code(p['key'], 'extra key');
      text(p['description'], 'description', 1000);
      decimal(p['amount'], 'amount', { min: '0' });
      taxRate(p['taxRate']);
      return;
    case 'RemoveExtra':
    case 'RemoveDiscount':
      code(p['key'], 'key');
      return;
    case 'AddDiscount':
      code(p['key'], 'discount key');
      text(p['description'], 'description', 1000);
      if (p['percent'] !== undefined) {
        if (p['amount'] !== undefined || p['taxRate'] !== undefined) fail('a discount is either a percent or an amount with a tax rate, not both');
        decimal(p['percent'], 'discount percent', { positive: true, max: '100' });
      } else {
        decimal(p['amount'], 'discount amount', { positive: true });
        taxRate(p['taxRate'], 'discount tax rate');
      }
      return;
    case 'ProposeDeliveryDate':
    case 'RequestPostponedDelivery':
      date(p['date'], 'delivery date');
      return;
    case 'ChooseDeliveryAddress':
      postalAddress(p['address']);
      return;
    case 'SetPaymentTerms':
      text(p['terms'], 'payment terms', 1000);
      optional(p['dueDays'], (v) => quantity(v, 'days until due', 0));
      return;
    case 'SetTracking':
      text(p['carrier'], 'carrier', MAX_NAME);
      code(p['trackingId'], 'tracking id');
      optional(p['url'], (v) => (isHttpUrl(v) ? v : fail('tracking URL must be an http(s) URL')));
      return;
    case 'Comment':
      text(p['text'], 'comment');
      return;
    case 'AddParticipant':
      if (!(PARTICIPANT_ROLES as readonly unknown[]).includes(p['role'])) fail(`participant role must be one of ${PARTICIPANT_ROLES.join(', ')}`);
      if (!isWebId(p['webId'])) fail('participant WebID must be an http(s) URL');
      if (!isContainerUrl(p['container'])) fail('participant op container must be an http(s) URL ending in "/"');
      sortedUnique(p['allowedTypes'], 'allowed op types', isOpType, 64, 1);
      optional(p['name'], (v) => text(v, 'participant name', MAX_NAME));
      return;
    case 'Propose':
      if (!isTermsHash(p['termsHash'])) fail('terms hash must be 64 hex characters');
      sortedUnique(p['heads'], 'proposal heads', isOpId, MAX_DEPS, 1);
      return;
    case 'Accept':
      if (!isTermsHash(p['termsHash'])) fail('terms hash must be 64 hex characters');
      return;
    case 'MarkShipped':
    case 'MarkPaid':
    case 'MarkReceived':
      return;
    case 'Dispute':
      text(p['reason'], 'dispute reason');
      return;
  }
}

/** Ops found well-formed by this process: immutable values, so checking them once is enough. */
const wellFormed = new WeakSet<object>();

/** Null when the op is well-formed, otherwise why not. Never throws, whatever it is given. */
export function validateOpStructure(op: unknown): string | null {
  if (typeof op === 'object' && op !== null && wellFormed.has(op)) return null;
  try {
    const o = record(op, 'op');
    if (!isOpId(o['id'])) fail('op id must be 64 hex characters');
    if (!isInvoiceId(o['invoiceId'])) fail(`invoice id ${JSON.stringify(o['invoiceId'])} is not a valid invoice id`);
    if (!isOpType(o['type'])) fail(`unknown op type ${JSON.stringify(o['type'])}`);
    if (typeof o['device'] !== 'string' || !DEVICE_LABEL.test(o['device'])) fail('device label must be 1-64 letters, digits, ".", "_" or "-"');
    const clock = record(o['clock'], 'clock');
    if (!isValidClock(clock as never)) fail('clock must hold a wall time between 1970 and 9999 and a non-negative counter');
    sortedUnique(o['deps'], 'deps', isOpId, MAX_DEPS);
    if ((o['deps'] as string[]).includes(o['id'] as string)) fail('an op cannot depend on itself');
    checkPayload(o as unknown as AnyOp);
    wellFormed.add(o);
    return null;
  } catch (error) {
    if (error instanceof Invalid) return error.message;
    return `op could not be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}
