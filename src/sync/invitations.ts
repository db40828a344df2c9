/**
 * Invitations through the Solid inbox: sending one when an invoice names a business, listing what waits in this
 * business's inbox, and accepting one by joining the invoice it names.
 *
 * An invitation is a hint, never trusted: the inbox does not record who posted. Before a join claims a folder or
 * grants anyone anything, every claim is checked against the pods: the CreateInvoice is read from the named
 * container and must name this WebID (or the named AddParticipant, in a party's container, must admit it), the
 * claimed sender must be the one who named this WebID, and this business's folder of the invoice must be free or
 * already this invoice's.
 */
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import type { InvoiceId, OpId, WebId } from '../model/ids.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import { keyFitsOrigin, numberOfKey } from '../model/invoice-key.ts';
import type { AnyOp, Op, OpType } from '../model/ops.ts';
import { isRetryable } from '../pod/http-error.ts';
import { ensureInbox, findInbox, listInbox, postToInbox, readInboxMember, removeInboxMember } from '../pod/inbox.ts';
import { getResource } from '../pod/resources.ts';
import { decodeOpTurtle } from '../rdf/op-resource.ts';
import { folderOrigin, opsContainerOf } from './invoice-folder.ts';
import { invitationJson, readInvitation, splitOpUrl, type Invitation } from './invitation.ts';
import type { Replica, SyncResult } from './replica.ts';

/** An inbox holds at most this many members that fedinvoice reads; more are left for a later run. */
const MAX_READ_PER_RUN = 100;
const MAX_OP_BYTES = 64 * 1024;

/** An invitation that can never be accepted (forged, misdirected, malformed): the reason says which. */
export class InvitationRefusedError extends FedinvoiceError {}

export type InboxEntry = { readonly url: string; readonly invitation: Invitation } | { readonly url: string; readonly refused: string };

export type Delivery = { readonly delivered: string } | { readonly notDelivered: string };

/** Posts `invitation` to its recipient's inbox. Never throws: an inbox that is missing or refuses is reported. */
export async function sendInvitation(fetchFn: typeof fetch, invitation: Invitation): Promise<Delivery> {
  try {
    const inbox = await findInbox(fetchFn, invitation.recipient);
    if (!inbox) return { notDelivered: `${invitation.recipient} advertises no inbox (ldp:inbox) yet` };
    return { delivered: await postToInbox(fetchFn, inbox, invitationJson(invitation)) };
  } catch (error) {
    return { notDelivered: messageOf(error) };
  }
}

/**
 * The invitation for `recipient` to the invoice as `view` shows it: its accepted CreateInvoice, and `admission`,
 * the AddParticipant this party wrote to admit the recipient, if it was one. Null before the CreateInvoice is known.
 */
export function invitationFor(replica: Replica, view: FoldedInvoice, recipient: WebId, admission?: OpId): Invitation | null {
  const create = view.log.find((entry) => entry.type === 'CreateInvoice' && entry.state === 'accepted');
  const invoiceId = view.invoiceId;
  if (!create?.author || !invoiceId) return null;
  return {
    sender: replica.identity.webId,
    recipient,
    invoiceId,
    origin: create.author.container,
    createInvoice: `${create.author.container}${create.opId}`,
    ...(admission ? { addParticipant: `${replica.ownContainer(invoiceId)}${admission}` } : {}),
    published: new Date().toISOString(),
  };
}

/** This business's inbox (made on first use) and what waits in it, each invitation read strictly or refused with the reason. */
export async function readInbox(replica: Replica): Promise<{ inbox: string; entries: InboxEntry[] }> {
  const { webId, podRoot } = replica.identity;
  const { url: inbox } = await ensureInbox(replica.fetch, webId, podRoot);
  const members = (await listInbox(replica.fetch, inbox)).filter((url) => !url.endsWith('/')).slice(0, MAX_READ_PER_RUN);
  const entries: InboxEntry[] = [];
  for (const url of members) {
    try {
      const reading = readInvitation(await readInboxMember(replica.fetch, url));
      entries.push(reading.ok ? { url, invitation: reading.invitation } : { url, refused: `not a fedinvoice invitation: ${reading.reason}` });
    } catch (error) {
      if (isRetryable(error)) throw error;
      entries.push({ url, refused: messageOf(error) });
    }
  }
  return { inbox, entries };
}

/** Removes refused entries from the inbox (they can never be accepted); returns them. */
export async function discardRefused(replica: Replica, entries: readonly InboxEntry[]): Promise<InboxEntry[]> {
  const refused = entries.filter((entry) => 'refused' in entry);
  for (const entry of refused) await removeInboxMember(replica.fetch, entry.url);
  return refused;
}

/** The waiting invitations to `invoice` (its key or its number). */
export function invitationsTo(entries: readonly InboxEntry[], invoice: string): Array<{ url: string; invitation: Invitation }> {
  return entries.flatMap((entry) =>
    'invitation' in entry && (entry.invitation.invoiceId === invoice || numberOfKey(entry.invitation.invoiceId) === invoice) ? [entry] : [],
  );
}

/**
 * Joins the invoice an invitation names, after checking every claim (`checkInvitation`); removes the invitation once
 * joined, or once refused for good. A pod that cannot be reached leaves it waiting.
 */
export async function acceptInvitation(replica: Replica, entry: { url: string; invitation: Invitation }): Promise<SyncResult> {
  try {
    await checkInvitation(replica, entry.invitation);
  } catch (error) {
    if (error instanceof InvitationRefusedError) await removeInboxMember(replica.fetch, entry.url);
    throw error;
  }
  const joined = await replica.joinInvoice(entry.invitation.invoiceId, entry.invitation.origin);
  await removeInboxMember(replica.fetch, entry.url);
  return joined;
}

/** Refuses (InvitationRefusedError, with the reason) an invitation whose claims the pods do not bear out. */
export async function checkInvitation(replica: Replica, invitation: Invitation): Promise<void> {
  const { webId, podRoot } = replica.identity;
  const { invoiceId, origin, sender } = invitation;
  const refuse = (reason: string): never => {
    throw new InvitationRefusedError(`refusing the invitation to ${numberOfKey(invoiceId)} from ${sender}: ${reason}`);
  };
  if (invitation.recipient !== webId) refuse(`it is addressed to ${invitation.recipient}, not to you (${webId})`);
  if (keyFitsOrigin(invoiceId, origin) === 'mismatch') refuse(`its key ${invoiceId} is not derived from the pod of ${origin}`);
  const create = await readOp(replica.fetch, invitation.createInvoice, 'CreateInvoice', invoiceId, refuse);
  const { buyer, seller } = create.payload;
  const creator = [buyer, seller].find((party) => party.container === origin) ?? refuse(`its CreateInvoice names neither party's container as ${origin}`);
  const mine = opsContainerOf(podRoot, invoiceId);
  if (invitation.addParticipant === undefined) {
    if (sender !== creator.webId) refuse(`the invoice was created by ${creator.webId}, not by the claimed sender (an inbox does not record who posted)`);
    if (![buyer, seller].some((party) => party.webId === webId && party.container === mine)) refuse(`its CreateInvoice does not name you (${webId}) with your folder ${mine}`);
  } else {
    const admitter = [buyer, seller].find((party) => party.webId === sender) ?? refuse(`the claimed sender is neither the buyer nor the seller of the invoice`);
    if (splitOpUrl(invitation.addParticipant)?.container !== admitter.container) refuse(`its AddParticipant is not in the claimed sender's container ${admitter.container}`);
    const admission = await readOp(replica.fetch, invitation.addParticipant, 'AddParticipant', invoiceId, refuse);
    if (admission.payload.webId !== webId || admission.payload.container !== mine) refuse(`its AddParticipant does not admit you (${webId}) with your folder ${mine}`);
  }
  const held = await folderOrigin(replica.fetch, podRoot, invoiceId);
  if (held !== null && held !== origin) refuse(`your folder ${podRoot}invoices/${invoiceId}/ already holds another invoice (created at ${held || 'an unreadable origin'})`);
}

/** Reads the op at `url`, strictly, and refuses unless it is an op of `type` for `invoiceId` whose content hashes to its name. */
type Refuse = (reason: string) => never;

async function readOp<T extends OpType>(fetchFn: typeof fetch, url: string, type: T, invoiceId: InvoiceId, refuse: Refuse): Promise<Op<T>> {
  let body: string;
  try {
    ({ body } = await getResource(fetchFn, url, { maxBytes: MAX_OP_BYTES }));
  } catch (error) {
    if (isRetryable(error)) throw error;
    return refuse(`its ${type} ${url} cannot be read: ${messageOf(error)}`);
  }
  const parsed = decodeOpTurtle(body, url);
  if (!parsed.ok) return refuse(`${url} is not a valid op: ${parsed.reason}`);
  const op: AnyOp = parsed.op;
  if (op.id !== splitOpUrl(url)?.opId) refuse(`${url} does not hash to its name`);
  if (op.type !== type || op.invoiceId !== invoiceId) refuse(`${url} is not a ${type} of invoice ${invoiceId}`);
  return op as unknown as Op<T>;
}
