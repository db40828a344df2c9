/**
 * Web Access Control for one invoice container on the owner's pod.
 *
 * The `.acl` Turtle is written here directly (with n3's Writer, which escapes IRIs) rather than through
 * @inrupt/solid-client: `universalAccess.setAgentAccess` sets only `acl:accessTo`, not `acl:default`, so the
 * counterparty could list the container but got 403 on every op inside it (measured on CSS 7.2). The rules we need
 * are small and fixed, and writing the whole document makes the call idempotent: the ACL is exactly
 * "owner: Read/Write/Control; each reader: Read; on the container and everything below it; nobody else anything".
 */
import { DataFactory, Writer } from 'n3';
import { FedinvoiceError } from '../model/errors.ts';
import { isWebId, type WebId } from '../model/ids.ts';
import { HttpError } from './http-error.ts';
import { ensureContainer, httpErrorFor, send } from './resources.ts';

const ACL = 'http://www.w3.org/ns/auth/acl#';
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const { namedNode, quad } = DataFactory;

/** Extracts the target of `Link: <…>; rel="acl"` (resolved against `baseUrl`), or null. */
export function aclLinkOf(linkHeader: string | null, baseUrl: string): string | null {
  if (!linkHeader) return null;
  // Split on commas that start a new link value ("<").
  for (const part of linkHeader.split(/,\s*(?=<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const params = match[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').split(/\s+/);
    if (rels.includes('acl')) return new URL(match[1] ?? '', baseUrl).href;
  }
  return null;
}

/** Finds the ACL document of `resourceUrl` through its Link header; `null` if the resource does not exist. */
export async function findAclUrl(fetchFn: typeof fetch, resourceUrl: string): Promise<string | null> {
  const response = await send(fetchFn, resourceUrl, { method: 'HEAD' });
  await response.body?.cancel().catch(() => undefined);
  if (response.status === 404) return null;
  if (!response.ok) throw httpErrorFor(response, resourceUrl, 'read');
  const acl = aclLinkOf(response.headers.get('link'), resourceUrl);
  if (!acl) {
    throw new HttpError(502, resourceUrl, `${resourceUrl} has no Link rel="acl" header; the pod server does not use Web Access Control.`);
  }
  return acl;
}

/** The ACL Turtle for a container: owner Read/Write/Control, readers Read, on the container and its contents. */
function invoiceAclTurtle(aclUrl: string, containerUrl: string, ownerWebId: WebId, readerWebIds: readonly WebId[]): Promise<string> {
  const writer = new Writer({ prefixes: { acl: ACL } });
  const container = namedNode(containerUrl);
  const rule = (fragment: string, agent: string, modes: string[]) => {
    const subject = namedNode(`${aclUrl}#${fragment}`);
    writer.addQuad(quad(subject, namedNode(RDF_TYPE), namedNode(`${ACL}Authorization`)));
    writer.addQuad(quad(subject, namedNode(`${ACL}agent`), namedNode(agent)));
    writer.addQuad(quad(subject, namedNode(`${ACL}accessTo`), container));
    writer.addQuad(quad(subject, namedNode(`${ACL}default`), container));
    for (const mode of modes) writer.addQuad(quad(subject, namedNode(`${ACL}mode`), namedNode(`${ACL}${mode}`)));
  };
  rule('owner', ownerWebId, ['Read', 'Write', 'Control']);
  const readers = [...new Set(readerWebIds)].filter((r) => r !== ownerWebId).sort();
  readers.forEach((reader, index) => rule(`reader-${index + 1}`, reader, ['Read']));
  return new Promise((resolve, reject) => writer.end((error, result: string) => (error ? reject(error) : resolve(result))));
}

/**
 * Sets the invoice container's ACL: `ownerWebId` gets Read/Write/Control, each of `readerWebIds` gets Read, both on
 * the container and (acl:default) everything inside it; nobody else gets anything. Creates the container if
 * needed. Calling it again replaces the rules (e.g. with more readers). `fetchFn` must be the owner's.
 */
export async function setInvoiceAccess(
  fetchFn: typeof fetch,
  invoiceContainerUrl: string,
  ownerWebId: WebId,
  readerWebIds: WebId[],
): Promise<{ aclUrl: string }> {
  if (!invoiceContainerUrl.endsWith('/')) {
    throw new FedinvoiceError(`${invoiceContainerUrl} is not a container URL (it must end with '/').`);
  }
  for (const webId of [ownerWebId, ...readerWebIds]) {
    if (!isWebId(webId)) throw new FedinvoiceError(`${String(webId)} is not a WebID (an http(s) URL).`);
  }
  let aclUrl = await findAclUrl(fetchFn, invoiceContainerUrl);
  if (!aclUrl) {
    await ensureContainer(fetchFn, invoiceContainerUrl);
    aclUrl = await findAclUrl(fetchFn, invoiceContainerUrl);
    if (!aclUrl) throw new HttpError(404, invoiceContainerUrl, `${invoiceContainerUrl} could not be created.`);
  }
  const turtle = await invoiceAclTurtle(aclUrl, invoiceContainerUrl, ownerWebId, readerWebIds);
  const response = await send(fetchFn, aclUrl, { method: 'PUT', headers: { 'content-type': 'text/turtle' }, body: turtle });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) {
    if (response.status === 403) {
      throw new HttpError(403, aclUrl, `Your WebID may not change the access rules of ${invoiceContainerUrl} (HTTP 403); only the pod owner can.`);
    }
    throw httpErrorFor(response, aclUrl, 'write');
  }
  return { aclUrl };
}
