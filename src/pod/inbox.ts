/**
 * A business's Solid inbox (Linked Data Notifications): a container on its pod where anyone logged in may post
 * (acl:Append) and only the owner may read, advertised by `ldp:inbox` in its WebID profile.
 *
 * Everything here treats the inbox's members as untrusted bytes: the server stores whatever anyone posts, so a
 * member is read raw (in the type it was posted with, never converted: some servers hang converting a broken
 * JSON-LD body), size-capped, and left to the caller to parse strictly.
 */
import { DataFactory, Parser, Writer } from 'n3';
import { FedinvoiceError } from '../model/errors.ts';
import type { WebId } from '../model/ids.ts';
import { findAclUrl } from './acl.ts';
import { HttpError } from './http-error.ts';
import { ensureContainer, getResource, httpErrorFor, listContainer, send } from './resources.ts';

const LDP_INBOX = 'http://www.w3.org/ns/ldp#inbox';
const ACL = 'http://www.w3.org/ns/auth/acl#';
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const { namedNode, quad } = DataFactory;

/** A WebID profile document is a few kilobytes; more is not a profile worth reading. */
const MAX_PROFILE_BYTES = 256 * 1024;
/** An invitation is a few hundred bytes; anything much larger is refused unread. */
export const MAX_INVITATION_BYTES = 8 * 1024;
/** Media types an invitation may be stored as; read back exactly as posted. */
const RAW_ACCEPT = 'application/ld+json, application/json;q=0.9, text/plain;q=0.5, */*;q=0.1';

/** The profile document of a WebID: the WebID without its fragment. */
export const profileDocumentOf = (webId: string): string => webId.split('#')[0]!;

/** The inbox a WebID's profile advertises with `ldp:inbox`, or null when it advertises none. */
export async function findInbox(fetchFn: typeof fetch, webId: WebId): Promise<string | null> {
  const document = profileDocumentOf(webId);
  const { body } = await getResource(fetchFn, document, { maxBytes: MAX_PROFILE_BYTES, accept: 'text/turtle' });
  let quads;
  try {
    quads = new Parser({ baseIRI: document }).parse(body);
  } catch (error) {
    throw new HttpError(502, document, `The WebID profile ${document} is not valid Turtle; its owner must repair it.`, { cause: error });
  }
  const inbox = quads.find((q) => q.subject.value === webId && q.predicate.value === LDP_INBOX && q.object.termType === 'NamedNode');
  return inbox?.object.value ?? null;
}

/**
 * This business's inbox, made on first use: the container `<pod>inbox/` with its ACL (the owner everything,
 * authenticated agents Append only on the container itself: they can post, not read, list or change), then
 * advertised from the WebID profile. The ACL is written before the profile points at the inbox, so the inbox is
 * never open to more than that. `fetchFn` must be the owner's.
 */
export async function ensureInbox(fetchFn: typeof fetch, webId: WebId, podRoot: string): Promise<{ url: string; created: boolean }> {
  const advertised = await findInbox(fetchFn, webId);
  if (advertised) return { url: advertised, created: false };
  const url = `${podRoot}inbox/`;
  await ensureContainer(fetchFn, url);
  await setInboxAccess(fetchFn, url, webId);
  await advertiseInbox(fetchFn, webId, url);
  return { url, created: true };
}

async function setInboxAccess(fetchFn: typeof fetch, inboxUrl: string, ownerWebId: WebId): Promise<void> {
  const aclUrl = await findAclUrl(fetchFn, inboxUrl);
  if (!aclUrl) throw new HttpError(404, inboxUrl, `${inboxUrl} could not be created.`);
  const response = await send(fetchFn, aclUrl, { method: 'PUT', headers: { 'content-type': 'text/turtle' }, body: await inboxAclTurtle(aclUrl, inboxUrl, ownerWebId) });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw httpErrorFor(response, aclUrl, 'write');
}

function inboxAclTurtle(aclUrl: string, inboxUrl: string, ownerWebId: WebId): Promise<string> {
  const writer = new Writer({ prefixes: { acl: ACL } });
  const inbox = namedNode(inboxUrl);
  const owner = namedNode(`${aclUrl}#owner`);
  writer.addQuad(quad(owner, namedNode(RDF_TYPE), namedNode(`${ACL}Authorization`)));
  writer.addQuad(quad(owner, namedNode(`${ACL}agent`), namedNode(ownerWebId)));
  writer.addQuad(quad(owner, namedNode(`${ACL}accessTo`), inbox));
  writer.addQuad(quad(owner, namedNode(`${ACL}default`), inbox));
  for (const mode of ['Read', 'Write', 'Control']) writer.addQuad(quad(owner, namedNode(`${ACL}mode`), namedNode(`${ACL}${mode}`)));
  const posters = namedNode(`${aclUrl}#posters`);
  writer.addQuad(quad(posters, namedNode(RDF_TYPE), namedNode(`${ACL}Authorization`)));
  writer.addQuad(quad(posters, namedNode(`${ACL}agentClass`), namedNode(`${ACL}AuthenticatedAgent`)));
  writer.addQuad(quad(posters, namedNode(`${ACL}accessTo`), inbox));
  writer.addQuad(quad(posters, namedNode(`${ACL}mode`), namedNode(`${ACL}Append`)));
  return new Promise((resolve, reject) => writer.end((error, result: string) => (error ? reject(error) : resolve(result))));
}

/** Adds `<webId> ldp:inbox <inbox>` to the profile document with an N3 Patch (the rest of the profile is untouched). */
async function advertiseInbox(fetchFn: typeof fetch, webId: WebId, inboxUrl: string): Promise<void> {
  const document = profileDocumentOf(webId);
  const patch = `@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:add a solid:InsertDeletePatch; solid:inserts { <${webId}> <${LDP_INBOX}> <${inboxUrl}> . }.\n`;
  const response = await send(fetchFn, document, { method: 'PATCH', headers: { 'content-type': 'text/n3' }, body: patch });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) {
    throw new HttpError(response.status, document, `Could not add the inbox ${inboxUrl} to your WebID profile ${document} (HTTP ${response.status}); add \`<${webId}> ldp:inbox <${inboxUrl}>\` to it by hand.`);
  }
}

/** Posts a JSON-LD notification to an inbox; returns the URL the server gave it. */
export async function postToInbox(fetchFn: typeof fetch, inboxUrl: string, jsonLd: string): Promise<string> {
  const response = await send(fetchFn, inboxUrl, { method: 'POST', headers: { 'content-type': 'application/ld+json' }, body: jsonLd });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw httpErrorFor(response, inboxUrl, 'write');
  const location = response.headers.get('location');
  return location ? new URL(location, inboxUrl).href : inboxUrl;
}

/** The members of an inbox (sorted URLs). */
export async function listInbox(fetchFn: typeof fetch, inboxUrl: string): Promise<string[]> {
  const listing = await listContainer(fetchFn, inboxUrl);
  if (listing.notModified) throw new FedinvoiceError(`${inboxUrl} answered 304 to an unconditional listing`);
  return listing.members;
}

/** A member's bytes as posted, at most MAX_INVITATION_BYTES (BodyTooLargeError beyond). */
export async function readInboxMember(fetchFn: typeof fetch, url: string): Promise<string> {
  return (await getResource(fetchFn, url, { maxBytes: MAX_INVITATION_BYTES, accept: RAW_ACCEPT })).body;
}

/** Removes a processed member; one already gone counts as removed. */
export async function removeInboxMember(fetchFn: typeof fetch, url: string): Promise<void> {
  const response = await send(fetchFn, url, { method: 'DELETE' });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok && response.status !== 404) throw httpErrorFor(response, url, 'write');
}
