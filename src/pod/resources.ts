/**
 * HTTP primitives on Solid pods used by the crawler and the CLI. Each takes the `fetch` to use (a device session's
 * authenticated fetch, or the global fetch for public resources).
 *
 * Every failure is a FedinvoiceError: HttpError with the status (0 = the pod could not be reached; `retryable` for
 * 0, 429 and 5xx) and a message naming the URL, or BodyTooLargeError.
 *
 * Measured on CSS 7.2 (test/pod/resources.contract.ts checks it on the memory and file backends):
 * - A container answers `If-None-Match: <its ETag>` with 304 and no body, so an unchanged container costs one
 *   request. The ETag is `"<dc:modified in ms>-<content type>"`; adding a member updates the container's
 *   dc:modified, hence its ETag.
 * - `PUT` with `If-None-Match: *` on an existing resource answers 412 and leaves it unchanged.
 */
import { Parser } from 'n3';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { HttpError, isRetryableStatus } from './http-error.ts';

const LDP_CONTAINS = 'http://www.w3.org/ns/ldp#contains';
const LDP_BASIC_CONTAINER = 'http://www.w3.org/ns/ldp#BasicContainer';

/** A body was larger than the caller allowed; reading stopped. Not retryable. */
export class BodyTooLargeError extends HttpError {
  override readonly name = 'BodyTooLargeError';
  constructor(
    url: string,
    readonly maxBytes: number,
  ) {
    super(413, url, `${url} is larger than ${maxBytes} bytes; fedinvoice refuses to read it (it is not a valid op, or someone is flooding the pod).`);
  }
}

type Verb = 'read' | 'write' | 'list' | 'create';

/** Turns a non-OK answer into an HttpError whose message says what to do. */
export function httpErrorFor(response: Response, url: string, verb: Verb): HttpError {
  const status = response.status;
  const doing = { read: 'reading', write: 'writing', list: 'listing', create: 'creating' }[verb];
  let message: string;
  if (status === 401) {
    message = `${url} needs a logged-in device for ${doing} (HTTP 401); log the device in again.`;
  } else if (status === 403) {
    message =
      verb === 'write' || verb === 'create'
        ? `Your WebID may not write to ${url} (HTTP 403); only its owner can, or the owner must grant you access.`
        : `Your WebID may not read ${url} (HTTP 403); ask its owner to grant you read access to the invoice.`;
  } else if (status === 404) {
    message = `${url} does not exist (HTTP 404).`;
  } else if (isRetryableStatus(status)) {
    message = `The pod server answered HTTP ${status} when ${doing} ${url}; retry later.`;
  } else {
    message = `The pod server answered HTTP ${status} ${response.statusText} when ${doing} ${url}.`;
  }
  return new HttpError(status, url, message);
}

/** How long a pod may take to start answering one request before it counts as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Calls fetch; a network failure (rejected fetch) or a pod that does not answer within REQUEST_TIMEOUT_MS
 * becomes a retryable HttpError with status 0, so a hung pod can never hang a sync.
 */
export async function send(fetchFn: typeof fetch, url: string, init: RequestInit): Promise<Response> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  try {
    return await fetchFn(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  } catch (error) {
    if (error instanceof FedinvoiceError) throw error;
    if (timeout.aborted) {
      throw new HttpError(0, url, `The pod server at ${originOf(url)} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s; retry later.`, { cause: error });
    }
    throw new HttpError(0, url, `The pod server at ${originOf(url)} could not be reached (${describe(error)}); check the connection and retry later.`, {
      cause: error,
    });
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin + '/';
  } catch {
    return url;
  }
}

function describe(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code ?? messageOf(error);
}

/** The statuses a pod answers a PUT with when it created the resource. */
const isCreated = (status: number): boolean => status === 200 || status === 201 || status === 204 || status === 205;

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

// ---- putImmutable --------------------------------------------------------------------------------------------------

/**
 * Creates `url` with `turtle` unless something is already there (`If-None-Match: *`). A retry of a write that
 * already happened answers 'existed': never a duplicate, never an overwrite. Missing parent containers are created
 * by the server.
 */
export async function putImmutable(fetchFn: typeof fetch, url: string, turtle: string): Promise<'created' | 'existed'> {
  const response = await send(fetchFn, url, {
    method: 'PUT',
    headers: { 'content-type': 'text/turtle', 'if-none-match': '*' },
    body: turtle,
  });
  await discard(response);
  if (isCreated(response.status)) return 'created';
  if (response.status === 412) return 'existed';
  throw httpErrorFor(response, url, 'write');
}

// ---- listContainer -------------------------------------------------------------------------------------------------

/** `serverDate`: the answer's Date header (ms), the server's clock to a second; null when it sent none. */
export type ContainerListing = { serverDate: number | null } & (
  | { notModified: true }
  | { notModified: false; etag: string | null; members: string[]; /** The container does not exist (404). */ absent?: true }
);

/**
 * Lists a container's members (`ldp:contains`, absolute URLs, sorted). With `previous.etag`, sends
 * `If-None-Match` and returns `{ notModified: true }` when the server answers 304. A container that does not
 * exist (404) lists as empty with etag null: the party has not written there yet.
 */
export async function listContainer(
  fetchFn: typeof fetch,
  containerUrl: string,
  previous?: { etag: string | null },
): Promise<ContainerListing> {
  const headers: Record<string, string> = { accept: 'text/turtle' };
  if (previous?.etag) headers['if-none-match'] = previous.etag;
  const response = await send(fetchFn, containerUrl, { method: 'GET', headers });
  const serverDate = dateOf(response);
  if (response.status === 304) {
    await discard(response);
    return { notModified: true, serverDate };
  }
  if (response.status === 404) {
    await discard(response);
    return { notModified: false, etag: null, members: [], absent: true, serverDate };
  }
  if (!response.ok) {
    await discard(response);
    throw httpErrorFor(response, containerUrl, 'list');
  }
  const body = await response.text();
  const members = parseMembers(body, containerUrl);
  return { notModified: false, etag: response.headers.get('etag'), members, serverDate };
}

/** The Date header of an answer, in ms; null when absent or unreadable. */
export function dateOf(response: Response): number | null {
  const ms = Date.parse(response.headers.get('date') ?? '');
  return Number.isNaN(ms) ? null : ms;
}

/** The `ldp:contains` objects of `containerUrl` in a Turtle listing. */
export function parseMembers(turtle: string, containerUrl: string): string[] {
  let quads;
  try {
    quads = new Parser({ baseIRI: containerUrl, format: 'text/turtle' }).parse(turtle);
  } catch (error) {
    throw new HttpError(502, containerUrl, `The listing of ${containerUrl} is not valid Turtle; the pod server may be misconfigured.`, { cause: error });
  }
  const members = new Set<string>();
  for (const quad of quads) {
    if (quad.predicate.value === LDP_CONTAINS && quad.subject.value === containerUrl && quad.object.termType === 'NamedNode') {
      members.add(quad.object.value);
    }
  }
  return [...members].sort();
}

// ---- getResource ---------------------------------------------------------------------------------------------------

export interface FetchedResource {
  body: string;
  contentType: string | null;
  etag: string | null;
}

/**
 * Reads a resource as UTF-8 text, refusing (BodyTooLargeError) a body over `maxBytes`: checked against
 * Content-Length before reading, and counted while streaming (the header may be absent or wrong).
 */
export async function getResource(
  fetchFn: typeof fetch,
  url: string,
  options: { maxBytes: number; accept?: string },
): Promise<FetchedResource> {
  const response = await send(fetchFn, url, { method: 'GET', headers: { accept: options.accept ?? 'text/turtle' } });
  if (!response.ok) {
    await discard(response);
    throw httpErrorFor(response, url, 'read');
  }
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await discard(response);
    throw new BodyTooLargeError(url, options.maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > options.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new BodyTooLargeError(url, options.maxBytes);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof FedinvoiceError) throw error;
      throw new HttpError(0, url, `The connection to ${originOf(url)} broke while reading ${url}; retry later.`, { cause: error });
    } finally {
      reader.releaseLock();
    }
  }
  const body = Buffer.concat(chunks, total).toString('utf8');
  return { body, contentType: response.headers.get('content-type'), etag: response.headers.get('etag') };
}

// ---- ensureContainer -----------------------------------------------------------------------------------------------

/**
 * Makes sure the container exists (creating missing parents). An existing container is left untouched: CSS answers
 * a PUT on an existing container with 409 (412 with `If-None-Match: *`), and a HEAD then confirms it is there.
 */
export async function ensureContainer(fetchFn: typeof fetch, containerUrl: string): Promise<'created' | 'existed'> {
  if (!containerUrl.endsWith('/')) {
    throw new FedinvoiceError(`${containerUrl} is not a container URL (it must end with '/').`);
  }
  const response = await send(fetchFn, containerUrl, {
    method: 'PUT',
    // No body: CSS ignores (and warns about) any body sent to create a container.
    headers: { link: `<${LDP_BASIC_CONTAINER}>; rel="type"`, 'if-none-match': '*' },
  });
  await discard(response);
  if (isCreated(response.status)) return 'created';
  if (response.status === 409 || response.status === 412) {
    const head = await send(fetchFn, containerUrl, { method: 'HEAD' });
    await discard(head);
    if (head.ok) return 'existed';
    throw httpErrorFor(response, containerUrl, 'create');
  }
  throw httpErrorFor(response, containerUrl, 'create');
}
