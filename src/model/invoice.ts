import type { ContainerUrl, InvoiceId, OpId, TermsHash, WebId } from './ids.ts';
import type { Hlc, OpType, PartyInfo, PostalAddress, VatCategory } from './ops.ts';
import type { Role, Side } from './roles.ts';

/**
 * The folded invoice: a plain, JSON-ready object (amounts are decimal strings) that every replica derives
 * identically from the same set of ops. `fedinvoice show --json` prints it as is.
 */
export type InvoiceStatus =
  | 'no invoice'
  | 'draft'
  | 'buyer proposes'
  | 'seller proposes'
  | 'agreed'
  | 'shipped'
  | 'paid'
  | 'shipped and paid'
  | 'received'
  | 'received and paid'
  | 'buyer-disagrees'
  | 'seller-disagrees';

export interface Author {
  readonly role: Role;
  readonly webId: WebId;
  readonly container: ContainerUrl;
}

export interface Participant extends Author {
  readonly name?: string;
  /** Null for the buyer and seller, who may write every op type of their party. */
  readonly allowedTypes: readonly OpType[] | null;
  readonly addedBy: OpId | null;
}

export interface InvoiceLine {
  readonly productCode: string;
  /** What the buyer's devices asked for (a counter with reset). */
  readonly desired: number;
  /** What the seller can deliver; null means no stock op was written, so unlimited. */
  readonly available: number | null;
  /** min(desired, available): what is invoiced. A line with qty 0 is shown but not invoiced. */
  readonly qty: number;
  /** The lowest seller quote, null while nothing is quoted. */
  readonly unitPrice: string | null;
  readonly taxRate: string | null;
  readonly bid: { readonly unitPrice: string; readonly taxRate: string; readonly accepted: boolean } | null;
  /** qty × unitPrice, rounded to the currency's minor unit; null while unpriced. */
  readonly lineTotal: string | null;
  /** What the price's quote says of the item, when it says it. */
  readonly name?: string;
  readonly description?: string;
  /** UN/ECE Recommendation 20 unit; an e-invoice says C62 (one) without it. */
  readonly unitCode?: string;
  /** The VAT category the quote named; without it, S for a positive rate and Z for 0 (`vatCategoryOf`). */
  readonly taxCategory?: VatCategory;
}

/** A product with stock or a quote that nobody has put in the cart (yet): kept, not rejected. */
export interface CatalogEntry {
  readonly productCode: string;
  readonly available: number | null;
  readonly unitPrice: string | null;
  readonly taxRate: string | null;
}

export interface Extra {
  readonly key: string;
  readonly description: string;
  readonly amount: string;
  readonly taxRate: string;
  readonly taxCategory?: VatCategory;
  readonly addedBy: Author;
  readonly opId: OpId;
}

/** The share of a discount that comes off one VAT category and rate. */
export interface DiscountPart {
  readonly category: VatCategory;
  readonly rate: string;
  readonly amount: string;
}

export interface Discount {
  readonly key: string;
  readonly description: string;
  /** For an amount discount: the amount; for a percent discount: what the percent came to. */
  readonly amount: string;
  readonly taxRate: string | null;
  readonly percent: string | null;
  /** Per VAT category and rate, what it takes off (one part for an amount discount, one per group for a percent). */
  readonly parts: readonly DiscountPart[];
  readonly addedBy: Author;
  readonly opId: OpId;
}

/** One group of EN 16931's VAT breakdown: a category and a rate. */
export interface TaxLine {
  readonly category: VatCategory;
  readonly rate: string;
  readonly base: string;
  readonly amount: string;
}

export interface Totals {
  readonly net: string;
  readonly tax: readonly TaxLine[];
  readonly taxTotal: string;
  readonly gross: string;
}

export interface PaymentTerms {
  readonly terms: string;
  readonly dueDays: number | null;
  readonly iban?: string;
  readonly bic?: string;
  readonly paymentReference?: string;
}

export interface EInvoiceGaps {
  readonly seller: readonly string[];
  readonly buyer: readonly string[];
}

export interface Delivery {
  readonly date: string | null;
  /** The buyer's latest postponement request, null if none. */
  readonly requestedDate: string | null;
  /** True until the seller proposes the requested date after seeing the request. */
  readonly requestOpen: boolean;
  readonly address: PostalAddress | null;
}

export interface Tracking {
  readonly carrier: string;
  readonly trackingId: string;
  readonly url: string | null;
  readonly setBy: Author;
}

export interface CommentEntry {
  readonly author: Author;
  readonly device: string;
  readonly at: string;
  readonly text: string;
  readonly opId: OpId;
}

export interface OpSummary {
  readonly opId: OpId;
  readonly type: OpType;
  readonly author: Author | null;
  readonly device: string;
  readonly at: string;
}

export interface LogEntry extends OpSummary {
  readonly state: 'accepted' | 'rejected' | 'pending';
  readonly reason: string | null;
}

export interface Proposal {
  readonly side: Side;
  readonly termsHash: TermsHash;
  readonly heads: readonly OpId[];
  readonly opId: OpId;
  readonly author: Author;
}

export interface Agreement {
  readonly termsHash: TermsHash;
  readonly proposal: Proposal;
  readonly acceptedBy: Author;
  readonly acceptOpId: OpId;
  readonly totals: Totals;
  /** Accepted ops that change the terms but are not in the agreed causal past: shown, never applied. */
  readonly changesAfter: readonly OpSummary[];
}

export interface Dispute {
  readonly side: Side;
  readonly reason: string;
  readonly opId: OpId;
  readonly author: Author;
}

/** A party as the invoice shows it: who, where its ops live, and its current (or agreed) details. */
export interface PartyView {
  readonly webId: WebId;
  readonly container: ContainerUrl;
  readonly info: PartyInfo;
}

export interface FoldedInvoice {
  readonly invoiceId: InvoiceId | null;
  readonly currency: string | null;
  readonly status: InvoiceStatus;
  readonly buyer: PartyView | null;
  readonly seller: PartyView | null;
  readonly participants: readonly Participant[];
  readonly items: readonly InvoiceLine[];
  readonly catalog: readonly CatalogEntry[];
  readonly extras: readonly Extra[];
  readonly discounts: readonly Discount[];
  readonly delivery: Delivery;
  readonly paymentTerms: PaymentTerms | null;
  /** The seller's legal invoice number, issue date and note. */
  readonly invoiceDetails: { readonly number: string; readonly issueDate: string; readonly note: string | null } | null;
  readonly buyerReference: { readonly reference: string; readonly orderReference: string | null } | null;
  /** What an e-invoice of the current (or agreed) terms still lacks, per party that can give it (`model/einvoice-gaps.ts`). */
  readonly eInvoiceGaps: EInvoiceGaps;
  readonly tracking: Tracking | null;
  readonly comments: readonly CommentEntry[];
  readonly totals: Totals;
  /** Hash of the current terms (of the agreed terms once agreed): what a Propose must name. */
  readonly termsHash: TermsHash | null;
  /** Why the current terms cannot be proposed yet (e.g. a line without a price), or null. */
  readonly notProposable: string | null;
  readonly proposal: Proposal | null;
  readonly agreement: Agreement | null;
  readonly shipped: boolean;
  readonly paid: boolean;
  readonly received: boolean;
  readonly disputes: readonly Dispute[];
  readonly rejected: readonly LogEntry[];
  readonly pending: readonly LogEntry[];
  /** Every op, in the fold's linear order (pending ones last). */
  readonly log: readonly LogEntry[];
  /** What a device's next op names as deps, and the latest clock it has seen. */
  readonly heads: readonly OpId[];
  readonly latestClock: Hlc;
}

