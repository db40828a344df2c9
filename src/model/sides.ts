import type { WebId } from './ids.ts';
import type { FoldedInvoice } from './invoice.ts';
import { sideOf, type Side } from './roles.ts';

/** The side `webId` has on the invoice: buyer or seller as the CreateInvoice names it, or its admitted role's party. */
export function sideOn(invoice: FoldedInvoice, webId: WebId): Side | null {
  if (invoice.buyer?.webId === webId) return 'buyer';
  if (invoice.seller?.webId === webId) return 'seller';
  const role = invoice.participants.find((p) => p.webId === webId)?.role;
  return role ? sideOf(role) : null;
}
