import type { CausalGraph } from './causality.ts';
import { compareOps } from './causality.ts';
import { canonicalJson, sha256Hex } from './hash.ts';
import type { TermsHash } from './ids.ts';
import type {
  CatalogEntry,
  CommentEntry,
  Delivery,
  Discount,
  DiscountPart,
  Extra,
  FoldedInvoice,
  InvoiceLine,
  TaxLine,
  Totals,
  Tracking,
  Author,
} from './invoice.ts';
import { Decimal, formatMoney, normalizeDecimal, percentOf, roundToMinor, toDecimal } from './money.ts';
import { OP_TABLE } from './op-table.ts';
import { OP_TYPES, type AnyOp, type Op, type OpType, type PartyInfo, type VatCategory } from './ops.ts';
import type { Side } from './roles.ts';

/** An op the fold accepted, with where it sits in the causal graph and who wrote it. */
export interface JudgedOp {
  readonly op: AnyOp;
  readonly pos: number;
  readonly author: Author;
  readonly side: Side | null;
}

/** Op types that change what is being agreed (the op table's flag); edits of these after agreement are "changes after agreement". */
export const TERMS_TYPES: ReadonlySet<OpType> = new Set(OP_TYPES.filter((type) => OP_TABLE[type].changesTerms));

export type ContentState = Pick<
  FoldedInvoice,
  'items' | 'catalog' | 'extras' | 'discounts' | 'delivery' | 'paymentTerms' | 'invoiceDetails' | 'buyerReference' | 'tracking' | 'comments' | 'totals'
> & {
  readonly buyerInfo: PartyInfo;
  readonly sellerInfo: PartyInfo;
};

const latest = <T extends { op: AnyOp }>(a: T | undefined, b: T): T => (a === undefined || compareOps(a.op, b.op) < 0 ? b : a);

/** A counter with reset: the latest reset sets it, and increments not in that reset's causal past add on top. */
class ResetCounter {
  private winner: JudgedOp | undefined;
  private readonly increments: Array<{ pos: number; amount: number }> = [];
  constructor(private readonly resetValue: (op: AnyOp) => number) {}
  reset(judged: JudgedOp): void {
    this.winner = latest(this.winner, judged);
  }
  add(pos: number, amount: number): void {
    this.increments.push({ pos, amount });
  }
  get touched(): boolean {
    return this.winner !== undefined || this.increments.length > 0;
  }
  value(graph: CausalGraph): number {
    const winner = this.winner;
    let total = winner ? this.resetValue(winner.op) : 0;
    for (const increment of this.increments) {
      if (winner === undefined || !graph.inPast(increment.pos, winner.pos)) total += increment.amount;
    }
    return Math.max(0, total);
  }
}

interface ProductState {
  desired: ResetCounter;
  available: ResetCounter;
  requested: boolean;
  lowestQuote?: JudgedOp;
  bid?: JudgedOp;
}

/**
 * An add-wins set keyed by a string: a Remove removes only the Adds in its causal past, so an Add
 * concurrent with a Remove survives. A seller-side Remove removes any Add; a buyer-side one only buyer-side Adds.
 */
class KeyedAddWins {
  private readonly adds = new Map<string, JudgedOp[]>();
  private readonly removes = new Map<string, { bySeller: number[]; byBuyer: number[] }>();
  add(key: string, judged: JudgedOp): void {
    const list = this.adds.get(key);
    if (list) list.push(judged);
    else this.adds.set(key, [judged]);
  }
  remove(key: string, judged: JudgedOp): void {
    let removals = this.removes.get(key);
    if (!removals) this.removes.set(key, (removals = { bySeller: [], byBuyer: [] }));
    (judged.side === 'seller' ? removals.bySeller : removals.byBuyer).push(judged.pos);
  }
  /** Per key, the latest surviving Add, keys sorted. */
  survivors(graph: CausalGraph): JudgedOp[] {
    const result: JudgedOp[] = [];
    for (const key of [...this.adds.keys()].sort()) {
      const removals = this.removes.get(key);
      // The union of several causal pasts is one merged vector: each membership test stays O(1).
      const removedBySeller = removals ? graph.pastOf(removals.bySeller) : [];
      const removedByBuyer = removals ? graph.pastOf(removals.byBuyer) : [];
      let winner: JudgedOp | undefined;
      for (const add of this.adds.get(key)!) {
        if (graph.inVector(add.pos, removedBySeller)) continue;
        if (add.side === 'buyer' && graph.inVector(add.pos, removedByBuyer)) continue;
        winner = latest(winner, add);
      }
      if (winner) result.push(winner);
    }
    return result;
  }
}

const iso = (op: AnyOp) => new Date(op.clock.wallMs).toISOString();

/**
 * Folds the accepted, non-status ops for which `include(pos)` holds. With `include` = everything it is the
 * current invoice; with `include` = the causal past of a proposal's heads it is exactly what was proposed.
 */
export function foldContent(
  create: Op<'CreateInvoice'>,
  accepted: readonly JudgedOp[],
  graph: CausalGraph,
  include: (pos: number) => boolean = () => true,
  /** 'activity': only tracking and comments (the rest of the result stays empty). */
  scope: 'all' | 'activity' = 'all',
): ContentState {
  const currency = create.payload.currency;
  let buyerInfo: JudgedOp | undefined;
  let sellerInfo: JudgedOp | undefined;
  const products = new Map<string, ProductState>();
  const extras = new KeyedAddWins();
  const discounts = new KeyedAddWins();
  let deliveryDate: JudgedOp | undefined;
  let postponement: JudgedOp | undefined;
  const sellerDateProposals: JudgedOp[] = [];
  let address: JudgedOp | undefined;
  let paymentTerms: JudgedOp | undefined;
  let invoiceDetails: JudgedOp | undefined;
  let buyerReference: JudgedOp | undefined;
  let tracking: JudgedOp | undefined;
  const comments: CommentEntry[] = [];

  const product = (code: string): ProductState => {
    let state = products.get(code);
    if (!state) {
      state = {
        desired: new ResetCounter((op) => (op.type === 'EditQuantity' ? op.payload.quantity : 0)),
        available: new ResetCounter((op) => (op.type === 'SetProductStock' ? op.payload.quantity : 0)),
        requested: false,
      };
      products.set(code, state);
    }
    return state;
  };

  for (const judged of accepted) {
    if (!include(judged.pos)) continue;
    const op = judged.op;
    if (scope === 'activity' && op.type !== 'SetTracking' && op.type !== 'Comment') continue;
    switch (op.type) {
      case 'SetBuyerInfo':
        buyerInfo = latest(buyerInfo, judged);
        break;
      case 'SetSellerInfo':
        sellerInfo = latest(sellerInfo, judged);
        break;
      case 'AddToCart': {
        const state = product(op.payload.product);
        state.requested = true;
        state.desired.add(judged.pos, op.payload.quantity);
        break;
      }
      case 'EditQuantity':
      case 'RemoveFromCart': {
        const state = product(op.payload.product);
        state.requested = true;
        state.desired.reset(judged);
        break;
      }
      case 'SetProductStock':
      case 'ItemOutOfStock':
        product(op.payload.product).available.reset(judged);
        break;
      case 'AddProductStock':
        product(op.payload.product).available.add(judged.pos, op.payload.delta);
        break;
      case 'QuoteItem': {
        const state = product(op.payload.product);
        const current = state.lowestQuote;
        const order = current ? toDecimal(op.payload.unitPrice).comparedTo((current.op as Op<'QuoteItem'>).payload.unitPrice) : -1;
        if (order < 0 || (order === 0 && compareOps(current!.op, op) < 0)) state.lowestQuote = judged;
        break;
      }
      case 'BidItem': {
        const state = product(op.payload.product);
        state.bid = latest(state.bid, judged);
        break;
      }
      case 'AddExtra':
        extras.add(op.payload.key, judged);
        break;
      case 'RemoveExtra':
        extras.remove(op.payload.key, judged);
        break;
      case 'AddDiscount':
        discounts.add(op.payload.key, judged);
        break;
      case 'RemoveDiscount':
        discounts.remove(op.payload.key, judged);
        break;
      case 'ProposeDeliveryDate':
        deliveryDate = latest(deliveryDate, judged);
        sellerDateProposals.push(judged);
        break;
      case 'RequestPostponedDelivery':
        postponement = latest(postponement, judged);
        break;
      case 'ChooseDeliveryAddress':
        address = latest(address, judged);
        break;
      case 'SetPaymentTerms':
        paymentTerms = latest(paymentTerms, judged);
        break;
      case 'SetInvoiceDetails':
        invoiceDetails = latest(invoiceDetails, judged);
        break;
      case 'SetBuyerReference':
        buyerReference = latest(buyerReference, judged);
        break;
      case 'SetTracking':
        tracking = latest(tracking, judged);
        break;
      case 'Comment':
        comments.push({ author: judged.author, device: op.device, at: iso(op), text: op.payload.text, opId: op.id });
        break;
      default:
        break;
    }
  }

  const items: InvoiceLine[] = [];
  const catalog: CatalogEntry[] = [];
  for (const code of [...products.keys()].sort()) {
    const state = products.get(code)!;
    const quote = state.lowestQuote?.op as Op<'QuoteItem'> | undefined;
    const unitPrice = quote ? normalizeDecimal(quote.payload.unitPrice) : null;
    const taxRate = quote ? normalizeDecimal(quote.payload.taxRate) : null;
    const available = state.available.touched ? state.available.value(graph) : null;
    if (!state.requested) {
      catalog.push({ productCode: code, available, unitPrice, taxRate });
      continue;
    }
    const desired = state.desired.value(graph);
    const qty = available === null ? desired : Math.min(desired, available);
    const bidOp = state.bid?.op as Op<'BidItem'> | undefined;
    const bid = bidOp
      ? {
          unitPrice: normalizeDecimal(bidOp.payload.unitPrice),
          taxRate: normalizeDecimal(bidOp.payload.taxRate),
          accepted: unitPrice === normalizeDecimal(bidOp.payload.unitPrice) && taxRate === normalizeDecimal(bidOp.payload.taxRate),
        }
      : null;
    const lineTotal = unitPrice === null ? null : formatMoney(roundToMinor(new Decimal(qty).times(unitPrice), currency), currency);
    items.push({ productCode: code, desired, available, qty, unitPrice, taxRate, bid, lineTotal, ...(quote ? itemOf(quote.payload) : {}) });
  }

  const extraList: Extra[] = extras.survivors(graph).map(({ op, author }) => {
    const p = (op as Op<'AddExtra'>).payload;
    return {
      key: p.key,
      description: p.description,
      amount: formatMoney(toDecimal(p.amount), currency),
      taxRate: normalizeDecimal(p.taxRate),
      ...(p.taxCategory ? { taxCategory: p.taxCategory } : {}),
      addedBy: author,
      opId: op.id,
    };
  });

  // EN 16931 sums per VAT category and rate. Percent discounts apply to each group's base before any discount,
  // so their order does not matter.
  const bases = new Map<string, Decimal>();
  const addToBase = (group: string, amount: Decimal) => bases.set(group, (bases.get(group) ?? new Decimal(0)).plus(amount));
  for (const line of items) {
    if (line.qty > 0 && line.lineTotal !== null && line.taxRate !== null) {
      addToBase(vatGroup(line.taxCategory, line.taxRate), toDecimal(line.lineTotal));
    }
  }
  for (const extra of extraList) addToBase(vatGroup(extra.taxCategory, extra.taxRate), toDecimal(extra.amount));
  const undiscounted = new Map(bases);

  const discountList: Discount[] = discounts.survivors(graph).map(({ op, author }) => {
    const p = (op as Op<'AddDiscount'>).payload;
    if (p.percent !== undefined) {
      let total = new Decimal(0);
      const parts: DiscountPart[] = [];
      for (const group of sortedGroups(undiscounted)) {
        const cut = percentOf(undiscounted.get(group)!, p.percent, currency);
        addToBase(group, cut.negated());
        total = total.plus(cut);
        parts.push({ ...splitGroup(group), amount: formatMoney(cut, currency) });
      }
      return {
        key: p.key,
        description: p.description,
        amount: formatMoney(total, currency),
        taxRate: null,
        percent: normalizeDecimal(p.percent),
        parts,
        addedBy: author,
        opId: op.id,
      };
    }
    const amount = roundToMinor(toDecimal(p.amount!), currency);
    const rate = normalizeDecimal(p.taxRate!);
    const group = vatGroup(p.taxCategory, rate);
    addToBase(group, amount.negated());
    return {
      key: p.key,
      description: p.description,
      amount: formatMoney(amount, currency),
      taxRate: rate,
      percent: null,
      parts: [{ ...splitGroup(group), amount: formatMoney(amount, currency) }],
      addedBy: author,
      opId: op.id,
    };
  });

  const postponed = postponement?.op as Op<'RequestPostponedDelivery'> | undefined;
  const delivery: Delivery = {
    date: deliveryDate ? (deliveryDate.op as Op<'ProposeDeliveryDate'>).payload.date : null,
    requestedDate: postponed ? postponed.payload.date : null,
    requestOpen:
      postponement !== undefined &&
      !sellerDateProposals.some(
        (proposal) =>
          (proposal.op as Op<'ProposeDeliveryDate'>).payload.date === postponed!.payload.date &&
          graph.inPast(postponement.pos, proposal.pos),
      ),
    address: address ? (address.op as Op<'ChooseDeliveryAddress'>).payload.address : null,
  };

  const trackingOp = tracking?.op as Op<'SetTracking'> | undefined;
  const termsOp = paymentTerms?.op as Op<'SetPaymentTerms'> | undefined;
  const detailsOp = invoiceDetails?.op as Op<'SetInvoiceDetails'> | undefined;
  const referenceOp = buyerReference?.op as Op<'SetBuyerReference'> | undefined;
  return {
    buyerInfo: buyerInfo ? (buyerInfo.op as Op<'SetBuyerInfo'>).payload.info : create.payload.buyer.info,
    sellerInfo: sellerInfo ? (sellerInfo.op as Op<'SetSellerInfo'>).payload.info : create.payload.seller.info,
    items,
    catalog,
    extras: extraList,
    discounts: discountList,
    delivery,
    paymentTerms: termsOp ? paymentTermsOf(termsOp.payload) : null,
    invoiceDetails: detailsOp ? { ...detailsOp.payload, note: detailsOp.payload.note ?? null } : null,
    buyerReference: referenceOp ? { ...referenceOp.payload, orderReference: referenceOp.payload.orderReference ?? null } : null,
    tracking: trackingOp
      ? ({
          carrier: trackingOp.payload.carrier,
          trackingId: trackingOp.payload.trackingId,
          url: trackingOp.payload.url ?? null,
          setBy: tracking!.author,
        } satisfies Tracking)
      : null,
    comments,
    totals: totalsOf(bases, currency),
  };
}

/** The VAT category a line, extra or discount is in: the one its author named, else S for a positive rate and Z for 0. */
export function vatCategoryOf(category: VatCategory | undefined, rate: string): VatCategory {
  return category ?? (toDecimal(rate).isZero() ? 'Z' : 'S');
}

/** The key of a VAT breakdown group: category and rate. */
const vatGroup = (category: VatCategory | undefined, rate: string): string => `${vatCategoryOf(category, rate)} ${rate}`;
function splitGroup(group: string): { category: VatCategory; rate: string } {
  const [category, rate] = group.split(' ');
  return { category: category as VatCategory, rate: rate! };
}
/** Groups by rate, then category: the order the breakdown is shown in. */
const sortedGroups = (bases: Map<string, Decimal>): string[] =>
  [...bases.keys()].sort((a, b) => {
    const [x, y] = [splitGroup(a), splitGroup(b)];
    return toDecimal(x.rate).comparedTo(y.rate) || x.category.localeCompare(y.category, 'en');
  });

function itemOf(quote: Op<'QuoteItem'>['payload']): Partial<Pick<InvoiceLine, 'name' | 'description' | 'unitCode' | 'taxCategory'>> {
  const { name, description, unitCode, taxCategory } = quote;
  const item = { name, description, unitCode, taxCategory };
  for (const key of Object.keys(item) as Array<keyof typeof item>) if (item[key] === undefined) delete item[key];
  return item;
}

function paymentTermsOf(p: Op<'SetPaymentTerms'>['payload']): NonNullable<ContentState['paymentTerms']> {
  const { iban, bic, paymentReference } = p;
  return {
    terms: p.terms,
    dueDays: p.dueDays ?? null,
    ...(iban ? { iban } : {}),
    ...(bic ? { bic } : {}),
    ...(paymentReference ? { paymentReference } : {}),
  };
}

/** EN 16931's totals: per category and rate, the taxable amount rounded, its VAT rounded; the document sums them. */
function totalsOf(bases: Map<string, Decimal>, currency: string): Totals {
  const tax: TaxLine[] = [];
  let net = new Decimal(0);
  let taxTotal = new Decimal(0);
  for (const group of sortedGroups(bases)) {
    const { category, rate } = splitGroup(group);
    const base = roundToMinor(bases.get(group)!, currency);
    const amount = percentOf(base, rate, currency);
    net = net.plus(base);
    taxTotal = taxTotal.plus(amount);
    tax.push({ category, rate, base: formatMoney(base, currency), amount: formatMoney(amount, currency) });
  }
  return {
    net: formatMoney(net, currency),
    tax,
    taxTotal: formatMoney(taxTotal, currency),
    gross: formatMoney(net.plus(taxTotal), currency),
  };
}

export function emptyTotals(): Totals {
  return { net: '0', tax: [], taxTotal: '0', gross: '0' };
}

/** Why these terms cannot be proposed, or null. */
export function notProposable(content: ContentState): string | null {
  const invoiced = content.items.filter((line) => line.qty > 0);
  if (invoiced.length === 0 && content.extras.length === 0) return 'nothing is invoiced yet';
  const unpriced = invoiced.find((line) => line.unitPrice === null);
  if (unpriced) return `line ${unpriced.productCode} has no quoted price yet`;
  return null;
}

/** Everything that makes the deal, and nothing else (no comments, tracking, op ids or authorship). */
export function termsOf(
  invoice: { invoiceId: string; currency: string; buyerWebId: string; sellerWebId: string },
  content: ContentState,
): unknown {
  return {
    invoiceId: invoice.invoiceId,
    currency: invoice.currency,
    buyer: { webId: invoice.buyerWebId, info: content.buyerInfo },
    seller: { webId: invoice.sellerWebId, info: content.sellerInfo },
    lines: content.items
      .filter((line) => line.qty > 0)
      .map(({ productCode, qty, unitPrice, taxRate, lineTotal, name, description, unitCode, taxCategory }) =>
        ({ productCode, qty, unitPrice, taxRate, lineTotal, name, description, unitCode, taxCategory })),
    extras: content.extras.map(({ key, description, amount, taxRate, taxCategory }) => ({
      key,
      description,
      amount,
      taxRate,
      taxCategory,
    })),
    discounts: content.discounts.map(({ key, description, amount, taxRate, percent, parts }) => ({
      key,
      description,
      amount,
      taxRate,
      percent,
      parts,
    })),
    delivery: { date: content.delivery.date, address: content.delivery.address },
    paymentTerms: content.paymentTerms,
    invoiceDetails: content.invoiceDetails,
    buyerReference: content.buyerReference,
    totals: content.totals,
  };
}

export function hashTerms(terms: unknown): TermsHash {
  return sha256Hex(canonicalJson(terms)) as TermsHash;
}
