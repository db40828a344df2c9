/**
 * What a WebID profile document says about its agent: the storages (pods) it names and the identity providers it
 * trusts. The pod is read from here, never guessed from the WebID's URL: a WebID may live on one server and its pod
 * on another, or at another path.
 */
import { Parser } from 'n3';
import { FedinvoiceError } from '../model/errors.ts';
import { HttpError } from './http-error.ts';

const PIM_STORAGE = 'http://www.w3.org/ns/pim/space#storage';
const SOLID_STORAGE = 'http://www.w3.org/ns/solid/terms#storage';
const SOLID_OIDC_ISSUER = 'http://www.w3.org/ns/solid/terms#oidcIssuer';
/** A profile document is a few triples; anything far larger is not one. */
const MAX_PROFILE_BYTES = 1024 * 1024;

export interface WebIdProfile {
  webId: string;
  /** Storage roots (pim:storage and solid:storage), each ending in '/', sorted. */
  storages: string[];
  /** solid:oidcIssuer values, sorted. */
  issuers: string[];
}

/** Reads a profile document's Turtle (pure): the storages and issuers it states for `webId`. */
export function parseWebIdProfile(turtle: string, documentUrl: string, webId: string): WebIdProfile {
  let quads;
  try {
    quads = new Parser({ baseIRI: documentUrl, format: 'text/turtle' }).parse(turtle);
  } catch (error) {
    throw new FedinvoiceError(`The WebID profile ${documentUrl} is not valid Turtle; its owner must repair it.`, { cause: error });
  }
  const objects = (...predicates: string[]) =>
    [...new Set(quads.filter((q) => q.subject.value === webId && predicates.includes(q.predicate.value) && q.object.termType === 'NamedNode').map((q) => q.object.value))].sort();
  const storages = objects(PIM_STORAGE, SOLID_STORAGE).map((url) => (url.endsWith('/') ? url : `${url}/`));
  return { webId, storages: [...new Set(storages)], issuers: objects(SOLID_OIDC_ISSUER) };
}

/** Fetches and reads a WebID's profile document (public on every Solid server; `fetchFn` may be authenticated). */
export async function readWebIdProfile(webId: string, fetchFn: typeof fetch = fetch): Promise<WebIdProfile> {
  const documentUrl = new URL(webId);
  documentUrl.hash = '';
  let response: Response;
  try {
    response = await fetchFn(documentUrl.href, { headers: { accept: 'text/turtle' } });
  } catch (error) {
    throw new HttpError(0, documentUrl.href, `The WebID profile ${documentUrl.href} could not be reached; check the address and retry later.`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new HttpError(response.status, documentUrl.href, `Reading the WebID profile ${documentUrl.href} was answered HTTP ${response.status}; check the WebID.`);
  }
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_PROFILE_BYTES) {
    await response.body?.cancel();
    throw new FedinvoiceError(`The WebID profile ${documentUrl.href} is ${length} bytes, more than a profile document can be.`);
  }
  const text = await response.text();
  if (text.length > MAX_PROFILE_BYTES) throw new FedinvoiceError(`The WebID profile ${documentUrl.href} is larger than a profile document can be.`);
  return parseWebIdProfile(text, documentUrl.href, webId);
}

/**
 * The pod of a WebID: the one storage its profile names. None, or several (which one holds the invoices is then the
 * user's choice), is an error that says what to do.
 */
export function podOf(profile: WebIdProfile): string {
  const [only, ...others] = profile.storages;
  if (!only) {
    throw new FedinvoiceError(
      `The WebID profile of ${profile.webId} names no pod (no pim:storage or solid:storage): add one to the profile (your pod provider's settings), or pass --pod <url>.`,
    );
  }
  if (others.length > 0) throw new FedinvoiceError(`The WebID profile of ${profile.webId} names several pods (${profile.storages.join(', ')}); choose one with --pod <url>.`);
  return only;
}
