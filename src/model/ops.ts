import type { ContainerUrl, InvoiceId, OpId, TermsHash, WebId } from './ids.ts';

/**
 * Amounts are decimal strings ("0.05", "-3", "21"), never JS numbers: money must be exact, and a string
 * survives JSON, Turtle and hashing unchanged. Quantities are whole units (safe integers).
 */
export type DecimalString = string;
/** A calendar date, YYYY-MM-DD. */
export type DateString = string;

/** Hybrid logical clock reading: wall-clock milliseconds plus a counter that orders ops within one millisecond. */
export interface Hlc {
  readonly wallMs: number;
  readonly counter: number;
}

export interface PartyInfo {
  readonly name: string;
  readonly vatId?: string;
  readonly email?: string;
  readonly address?: string;
  readonly postalAddress?: PartyAddress;
  /** The legal registration identifier (company register number). */
  readonly legalId?: string;
  /** The ISO 6523 ICD scheme of `legalId` (0106 for a Dutch KvK number). */
  readonly legalIdScheme?: string;
  /** The party's electronic address (Peppol endpoint) in an EAS scheme. */
  readonly endpoint?: { readonly scheme: string; readonly id: string };
  readonly contactName?: string;
  readonly phone?: string;
}

/** A party's postal address as an e-invoice states it; the country is an ISO 3166-1 code. */
export interface PartyAddress {
  readonly streetAddress: string;
  readonly addressLocality: string;
  readonly postalCode?: string;
  readonly countryCode: string;
}

/** EN 16931's VAT category codes (UNCL 5305). */
export type VatCategory = 'S' | 'Z' | 'E' | 'AE' | 'K' | 'G' | 'O' | 'L' | 'M';

export interface PostalAddress {
  readonly streetAddress: string;
  readonly postalCode: string;
  readonly addressLocality: string;
  readonly addressCountry: string;
}

export interface PartyRef {
  readonly webId: WebId;
  /** The container where this party's ops for this invoice live. */
  readonly container: ContainerUrl;
  readonly info: PartyInfo;
}

export const PARTICIPANT_ROLES = ['buyer-department', 'seller-department', 'carrier', 'tax-authority'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

/** Every op type with its payload. The key is the type name used in RDF, the CLI and JSON. */
export interface PayloadByType {
  CreateInvoice: { currency: string; buyer: PartyRef; seller: PartyRef };
  SetBuyerInfo: { info: PartyInfo };
  SetSellerInfo: { info: PartyInfo };
  AddToCart: { product: string; quantity: number };
  EditQuantity: { product: string; quantity: number };
  RemoveFromCart: { product: string };
  SetProductStock: { product: string; quantity: number };
  AddProductStock: { product: string; delta: number };
  ItemOutOfStock: { product: string };
  QuoteItem: {
    product: string;
    unitPrice: DecimalString;
    taxRate: DecimalString;
    name?: string;
    description?: string;
    unitCode?: string;
    taxCategory?: VatCategory;
  };
  BidItem: { product: string; unitPrice: DecimalString; taxRate: DecimalString };
  AddExtra: { key: string; description: string; amount: DecimalString; taxRate: DecimalString; taxCategory?: VatCategory };
  RemoveExtra: { key: string };
  /** Exactly one of `amount` (with its `taxRate`) or `percent` (applies to every VAT rate's base). */
  AddDiscount: {
    key: string;
    description: string;
    amount?: DecimalString;
    taxRate?: DecimalString;
    percent?: DecimalString;
    /** For an amount discount; a percent discount takes each VAT category's own. */
    taxCategory?: VatCategory;
  };
  RemoveDiscount: { key: string };
  ProposeDeliveryDate: { date: DateString };
  RequestPostponedDelivery: { date: DateString };
  ChooseDeliveryAddress: { address: PostalAddress };
  SetPaymentTerms: { terms: string; dueDays?: number; iban?: string; bic?: string; paymentReference?: string };
  /** The seller's legal invoice number, the issue date, and a note on the invoice. */
  SetInvoiceDetails: { number: string; issueDate: DateString; note?: string };
  /** The buyer's reference (EN 16931 BT-10) and its purchase order. */
  SetBuyerReference: { reference: string; orderReference?: string };
  SetTracking: { carrier: string; trackingId: string; url?: string };
  Comment: { text: string };
  AddParticipant: { role: ParticipantRole; webId: WebId; container: ContainerUrl; allowedTypes: OpType[]; name?: string };
  Propose: { termsHash: TermsHash; heads: OpId[] };
  Accept: { termsHash: TermsHash };
  MarkShipped: Record<string, never>;
  MarkPaid: Record<string, never>;
  MarkReceived: Record<string, never>;
  Dispute: { reason: string };
}

export type OpType = keyof PayloadByType;

export const OP_TYPES: readonly OpType[] = [
  'CreateInvoice',
  'SetBuyerInfo',
  'SetSellerInfo',
  'AddToCart',
  'EditQuantity',
  'RemoveFromCart',
  'SetProductStock',
  'AddProductStock',
  'ItemOutOfStock',
  'QuoteItem',
  'BidItem',
  'AddExtra',
  'RemoveExtra',
  'AddDiscount',
  'RemoveDiscount',
  'ProposeDeliveryDate',
  'RequestPostponedDelivery',
  'ChooseDeliveryAddress',
  'SetPaymentTerms',
  'SetInvoiceDetails',
  'SetBuyerReference',
  'SetTracking',
  'Comment',
  'AddParticipant',
  'Propose',
  'Accept',
  'MarkShipped',
  'MarkPaid',
  'MarkReceived',
  'Dispute',
];

const OP_TYPE_NAMES: ReadonlySet<string> = new Set(OP_TYPES);
export const isOpType = (value: unknown): value is OpType => typeof value === 'string' && OP_TYPE_NAMES.has(value);

/** What an op says, before its id is computed. The id is the hash of exactly these fields. */
export interface OpContent<T extends OpType = OpType> {
  readonly invoiceId: InvoiceId;
  readonly type: T;
  readonly payload: PayloadByType[T];
  /** A label for the device that made the op ("desktop", "mobile"): informational, never trusted for authorship. */
  readonly device: string;
  readonly clock: Hlc;
  /** The heads of the op graph the device had seen when it made this op, sorted, without duplicates. */
  readonly deps: readonly OpId[];
  /** The key that signs this op, declared by its device's first op of an invoice (src/model/signatures.ts); usually absent. */
  readonly signingKey?: KeyBinding;
}

/** A device key and the WebID that controls it, as an op declares them. */
export interface KeyBinding {
  readonly controller: WebId;
  readonly key: string;
}

/**
 * A device's signature of an op (src/model/signatures.ts): its Ed25519 public key as a Multikey and the signature
 * over the op's id, both base58btc multibase. Not part of the op's content: the id does not change when it is signed.
 */
export interface Proof {
  readonly key: string;
  readonly value: string;
}

export interface Op<T extends OpType = OpType> extends OpContent<T> {
  readonly id: OpId;
  readonly proof?: Proof;
}

/** Distributes over OpType so that `op.type === 'AddToCart'` narrows `op.payload`. */
export type AnyOp = { [T in OpType]: Op<T> }[OpType];

/**
 * An op as found by a crawler: the container it was read from is the only evidence of its author.
 * The fold maps the container to a participant; nothing inside the op can change that.
 */
export interface SourcedOp {
  readonly op: AnyOp;
  readonly container: ContainerUrl;
}
