/**
 * Device keys published with a business's WebID: in its WebID profile document, as W3C Multikeys
 * (`sec:publicKeyMultibase`, `sec:controller` the WebID, the WebID's `sec:assertionMethod`), labelled with the
 * device. A revocation adds `sec:revoked` to the key; the key stays listed, so ops it signed before still verify.
 * Everything goes through the `fetch` it is given: a device session's to write, any fetch to read (profiles are public).
 */
import { Parser } from 'n3';
import { FedinvoiceError } from '../model/errors.ts';
import type { WebId } from '../model/ids.ts';
import { MULTIBASE_BASE58 } from '../model/patterns.ts';
import type { PublishedKey } from '../model/signatures.ts';
import { httpErrorFor, send } from './resources.ts';

const SEC = 'https://w3id.org/security#';
const RDFS_LABEL = 'http://www.w3.org/2000/01/rdf-schema#label';
const DEVICE_LABEL = /^[A-Za-z0-9._-]{1,64}$/;
const MULTIBASE = new RegExp(MULTIBASE_BASE58);

/** The profile document of a WebID: the WebID without its fragment. */
const documentOf = (webId: string): string => webId.split('#')[0]!;
/** The key's node in the profile document: one per key, so two devices never edit the same triples. */
const keyNodeOf = (webId: string, publicKeyMultibase: string): string => `${documentOf(webId)}#device-key-${publicKeyMultibase}`;

const literal = (text: string): string => JSON.stringify(text);

async function patchProfile(fetchFn: typeof fetch, webId: string, inserts: string): Promise<void> {
  const url = documentOf(webId);
  const body = `@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:patch a solid:InsertDeletePatch; solid:inserts {\n${inserts}\n}.\n`;
  const response = await send(fetchFn, url, { method: 'PATCH', headers: { 'content-type': 'text/n3' }, body });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw httpErrorFor(response, url, 'write');
}

/**
 * Publishes a device's public key with its WebID. Idempotent (the same triples inserted again change nothing).
 * `fedinvoice login`, `npm start` and a device's first signed write call it with the device session's fetch.
 */
export async function publishDeviceKey(fetchFn: typeof fetch, webId: WebId, label: string, publicKeyMultibase: string): Promise<void> {
  if (!DEVICE_LABEL.test(label)) throw new FedinvoiceError(`"${label}" is not a device label: use A–Z a–z 0–9 . _ - (at most 64)`);
  if (!MULTIBASE.test(publicKeyMultibase)) throw new FedinvoiceError(`"${publicKeyMultibase}" is not a base58btc Multikey`);
  const key = keyNodeOf(webId, publicKeyMultibase);
  await patchProfile(
    fetchFn,
    webId,
    `<${webId}> <${SEC}assertionMethod> <${key}>.\n<${key}> a <${SEC}Multikey>; <${SEC}controller> <${webId}>; ` +
      `<${SEC}publicKeyMultibase> ${literal(publicKeyMultibase)}; <${RDFS_LABEL}> ${literal(label)}.`,
  );
}

/**
 * Revokes every published key of the device `label`: its ops count from then on only where another device of the
 * business had built on them (src/model/signatures.ts). Refused when the WebID has no key with that label.
 */
export async function revokeDeviceKey(fetchFn: typeof fetch, webId: WebId, label: string, at = new Date()): Promise<PublishedKey[]> {
  const keys = (await readPublishedKeys(fetchFn, webId)).filter((key) => key.label === label);
  if (keys.length === 0) throw new FedinvoiceError(`${webId} has published no device key labelled "${label}": nothing to revoke (see \`fedinvoice device list\`)`);
  const stamp = `${literal(at.toISOString())}^^<http://www.w3.org/2001/XMLSchema#dateTime>`;
  await patchProfile(fetchFn, webId, keys.map((key) => `<${keyNodeOf(webId, key.key)}> <${SEC}revoked> ${stamp}.`).join('\n'));
  return keys.map((key) => ({ ...key, revoked: true }));
}

/** The device keys a WebID's profile publishes (only those it names as its own and that name it as controller). */
export async function readPublishedKeys(fetchFn: typeof fetch, webId: WebId): Promise<PublishedKey[]> {
  const url = documentOf(webId);
  const response = await send(fetchFn, url, { headers: { accept: 'text/turtle' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw httpErrorFor(response, url, 'read');
  }
  return keysInProfile(await response.text(), webId);
}

/** The device keys in a profile document's Turtle. */
export function keysInProfile(turtle: string, webId: WebId): PublishedKey[] {
  const quads = new Parser({ baseIRI: documentOf(webId), format: 'text/turtle' }).parse(turtle);
  const claimed = new Set(quads.filter((q) => q.subject.value === webId && q.predicate.value === `${SEC}assertionMethod`).map((q) => q.object.value));
  const keys: PublishedKey[] = [];
  for (const node of claimed) {
    const about = quads.filter((q) => q.subject.value === node);
    const one = (predicate: string) => about.find((q) => q.predicate.value === predicate)?.object.value;
    const key = one(`${SEC}publicKeyMultibase`);
    if (one(`${SEC}controller`) !== webId || key === undefined || !MULTIBASE.test(key)) continue;
    keys.push({ key, controller: webId, label: one(RDFS_LABEL) ?? '', revoked: one(`${SEC}revoked`) !== undefined });
  }
  return keys.sort((a, b) => (a.key < b.key ? -1 : 1));
}
