import { numberOfKey } from '../model/invoice-key.ts';
import type { Invitation } from '../sync/invitation.ts';
import type { Delivery } from '../sync/invitations.ts';

/** One waiting invitation, as `fedinvoice invitations` lists it: what it claims, and how to accept it. */
export function invitationLine(invitation: Invitation): string {
  const number = numberOfKey(invitation.invoiceId);
  const as = invitation.addParticipant ? 'admits you' : 'names you';
  return `${number}  from ${invitation.sender} (claimed; checked when you join), ${as}, ${invitation.published}\n  key ${invitation.invoiceId}\n  accept: fedinvoice join ${number}`;
}

/** What became of an invitation posted to `recipient`'s inbox. */
export function deliveryNote(recipient: string, delivery: Delivery): string {
  if ('delivered' in delivery) return `invited ${recipient} through its inbox (${delivery.delivered})`;
  return `could not invite ${recipient} through its inbox (${delivery.notDelivered}); send them the join command below`;
}
