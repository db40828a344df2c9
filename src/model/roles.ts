import type { OpType, ParticipantRole } from './ops.ts';

/** The two parties own the invoice; the other roles are admitted by one of them with AddParticipant. */
export type Role = 'buyer' | 'seller' | ParticipantRole;
/** Which party an author acts for. Carriers and tax authorities act for neither. */
export type Side = 'buyer' | 'seller';

export function sideOf(role: Role): Side | null {
  if (role === 'buyer' || role === 'buyer-department') return 'buyer';
  if (role === 'seller' || role === 'seller-department') return 'seller';
  return null;
}

const BOTH: readonly OpType[] = ['CreateInvoice', 'AddExtra', 'RemoveExtra', 'Comment', 'AddParticipant', 'Propose', 'Accept', 'Dispute'];

/** The role table: which op types each party may write. */
export const PARTY_OP_TYPES: Readonly<Record<Side, ReadonlySet<OpType>>> = {
  buyer: new Set<OpType>([
    ...BOTH,
    'SetBuyerInfo',
    'AddToCart',
    'EditQuantity',
    'RemoveFromCart',
    'BidItem',
    'RequestPostponedDelivery',
    'ChooseDeliveryAddress',
    'SetBuyerReference',
    'MarkReceived',
  ]),
  seller: new Set<OpType>([
    ...BOTH,
    'SetSellerInfo',
    'SetProductStock',
    'AddProductStock',
    'ItemOutOfStock',
    'QuoteItem',
    'AddDiscount',
    'RemoveDiscount',
    'ProposeDeliveryDate',
    'SetPaymentTerms',
    'SetInvoiceDetails',
    'SetTracking',
    'MarkShipped',
    'MarkPaid',
  ]),
};

/** Op types only the parties themselves may write, never delegated to a department. */
const PARTY_ONLY: ReadonlySet<OpType> = new Set<OpType>(['CreateInvoice', 'AddParticipant']);

/** The most an admitted participant of each role may be allowed; AddParticipant names a subset. */
export function delegableTypes(role: ParticipantRole): ReadonlySet<OpType> {
  switch (role) {
    case 'buyer-department':
      return new Set([...PARTY_OP_TYPES.buyer].filter((type) => !PARTY_ONLY.has(type)));
    case 'seller-department':
      return new Set([...PARTY_OP_TYPES.seller].filter((type) => !PARTY_ONLY.has(type)));
    case 'carrier':
      return new Set<OpType>(['SetTracking', 'Comment']);
    case 'tax-authority':
      return new Set<OpType>(['Comment']);
  }
}

/** Who may admit a participant of each role: departments by their own party, carriers by the seller. */
export function mayAdmit(admitter: Role, role: ParticipantRole): boolean {
  if (admitter === 'buyer') return role === 'buyer-department' || role === 'tax-authority';
  if (admitter === 'seller') return role === 'seller-department' || role === 'carrier' || role === 'tax-authority';
  return false;
}

/** "the seller", "the buyer or the seller", for messages a person reads. */
export function whoMayWrite(type: OpType): string {
  const parties = partiesWriting(type);
  return type === 'SetTracking' ? `${parties} or a carrier the seller added` : parties;
}

function partiesWriting(type: OpType): string {
  const buyer = PARTY_OP_TYPES.buyer.has(type);
  const seller = PARTY_OP_TYPES.seller.has(type);
  if (buyer && seller) return 'the buyer or the seller';
  if (buyer) return 'the buyer';
  return seller ? 'the seller' : 'nobody';
}

export function roleLabel(role: Role): string {
  return role.replace('-', ' ');
}
