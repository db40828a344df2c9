/**
 * The invitation fedinvoice posts to a counterparty's inbox: an ActivityStreams `Invite` in JSON-LD naming the
 * invoice (its key), the creator's op container and the CreateInvoice's URL, and, when a party admits someone
 * with AddParticipant, that op's URL. Pure: building the body and reading one back.
 *
 * Reading is strict because anyone logged in can post to an inbox: exactly this shape (the same context, no other
 * keys, every value of its kind) or a refusal with the reason. Nothing in it is trusted: it only says where to
 * look (invitations.ts checks every claim against the pods).
 */
import { canonicalJson } from '../model/hash.ts';
import { isContainerUrl, isHttpUrl, isInvoiceId, isOpId, isWebId, type ContainerUrl, type InvoiceId, type OpId, type WebId } from '../model/ids.ts';

const FEDINVOICE_NS = 'https://w3id.org/fedinvoice/ns#';
const CONTEXT = [
  'https://www.w3.org/ns/activitystreams',
  {
    fi: FEDINVOICE_NS,
    invoiceKey: 'fi:invoiceKey',
    origin: { '@id': 'fi:origin', '@type': '@id' },
    createInvoice: { '@id': 'fi:createInvoice', '@type': '@id' },
    addParticipant: { '@id': 'fi:addParticipant', '@type': '@id' },
  },
] as const;
const CONTEXT_JSON = canonicalJson(CONTEXT);
const TOP_KEYS = ['@context', 'type', 'actor', 'target', 'object', 'published'];
const OBJECT_KEYS = ['type', 'invoiceKey', 'origin', 'createInvoice', 'addParticipant'];

export interface Invitation {
  /** Who claims to invite: a claim, checked against the invoice before anything is done. */
  readonly sender: WebId;
  readonly recipient: WebId;
  readonly invoiceId: InvoiceId;
  /** The creator's op container, where the CreateInvoice is read from. */
  readonly origin: ContainerUrl;
  /** `<origin><op id>` of the CreateInvoice. */
  readonly createInvoice: string;
  /** `<admitting party's container><op id>` of the AddParticipant that admitted the recipient, if it was one. */
  readonly addParticipant?: string;
  readonly published: string;
}

export type InvitationReading = { ok: true; invitation: Invitation } | { ok: false; reason: string };

export function invitationJson(invitation: Invitation): string {
  const object = {
    type: 'fi:Invoice',
    invoiceKey: invitation.invoiceId,
    origin: invitation.origin,
    createInvoice: invitation.createInvoice,
    ...(invitation.addParticipant ? { addParticipant: invitation.addParticipant } : {}),
  };
  const body = { '@context': CONTEXT, type: 'Invite', actor: invitation.sender, target: invitation.recipient, object, published: invitation.published };
  return JSON.stringify(body, null, 2);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const extraKeys = (value: Record<string, unknown>, allowed: readonly string[]): string[] =>
  Object.keys(value).filter((key) => !allowed.includes(key));
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The op URL `<container><op id>`, split; null when it is not one. */
export function splitOpUrl(url: string): { container: ContainerUrl; opId: OpId } | null {
  const cut = url.lastIndexOf('/') + 1;
  const [container, opId] = [url.slice(0, cut), url.slice(cut)];
  return isContainerUrl(container) && isOpId(opId) ? { container, opId } : null;
}

/** Reads an inbox member's text as an invitation, strictly: anything but exactly this shape is refused with the reason. */
export function readInvitation(text: string): InvitationReading {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'it is not JSON' };
  }
  if (!isRecord(json)) return { ok: false, reason: 'it is not a JSON object' };
  if (json['type'] !== 'Invite') return { ok: false, reason: 'it is not an ActivityStreams Invite' };
  if (canonicalJson(json['@context'] ?? null) !== CONTEXT_JSON) return { ok: false, reason: "its @context is not fedinvoice's" };
  const extra = extraKeys(json, TOP_KEYS);
  if (extra.length) return { ok: false, reason: `unexpected keys ${extra.join(', ')}` };
  const { actor, target, object, published } = json;
  if (!isWebId(actor)) return { ok: false, reason: 'its actor is not a WebID' };
  if (!isWebId(target)) return { ok: false, reason: 'its target is not a WebID' };
  if (typeof published !== 'string' || !ISO_INSTANT.test(published)) return { ok: false, reason: 'its published time is not an ISO instant' };
  if (!isRecord(object) || object['type'] !== 'fi:Invoice') return { ok: false, reason: 'its object is not an invoice' };
  const extraInObject = extraKeys(object, OBJECT_KEYS);
  if (extraInObject.length) return { ok: false, reason: `unexpected keys in its object: ${extraInObject.join(', ')}` };
  const { invoiceKey, origin, createInvoice, addParticipant } = object;
  if (!isInvoiceId(invoiceKey)) return { ok: false, reason: 'its invoice key is not one' };
  if (!isContainerUrl(origin)) return { ok: false, reason: 'its origin is not a container URL' };
  if (!isHttpUrl(createInvoice) || splitOpUrl(createInvoice)?.container !== origin) return { ok: false, reason: 'its CreateInvoice is not an op in its origin' };
  if (addParticipant !== undefined && (!isHttpUrl(addParticipant) || !splitOpUrl(addParticipant))) return { ok: false, reason: 'its AddParticipant is not an op URL' };
  const invitation: Invitation = {
    sender: actor,
    recipient: target,
    invoiceId: invoiceKey,
    origin,
    createInvoice,
    ...(addParticipant !== undefined ? { addParticipant: addParticipant as string } : {}),
    published,
  };
  return { ok: true, invitation };
}
