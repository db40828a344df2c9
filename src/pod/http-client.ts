/**
 * The fetch that device sessions send their pod requests with: Node's own HTTP client (node:http, node:https)
 * behind the part of the fetch API that fedinvoice uses (method, headers, a string or byte body, redirects, an abort
 * signal; status, headers, text/json/arrayBuffer and a WHATWG body stream).
 *
 * Why not the platform's fetch: Node builds its fetch from undici, which it loads and compiles the first time fetch
 * (or Headers, Request, Response) is touched: about 90 ms of a short command, measured on this project's machines
 * (`node -e` doing one GET: 220 ms with fetch, 130 ms with node:http, 90 ms for `node -e 0`); a warm `fedinvoice
 * show` is under 400 ms in all. Everything here comes from modules a Node process has already loaded or loads cheaply.
 *
 * It keeps fetch's behaviour where fedinvoice can tell: network failures reject with `TypeError('fetch failed')`
 * whose `cause` carries the error code, an aborted signal rejects with the signal's reason, redirects are followed
 * (303, and 301/302 after a POST, turn into a GET without body; credentials are not sent to another origin), and a
 * 204, 304 or HEAD answer has no body. test/pod/http-client.test.ts runs the same checks against both fetches.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
/** Headers that carry the device's credentials: never sent on to another origin by a redirect. */
const CREDENTIAL_HEADERS = ['authorization', 'dpop', 'cookie', 'proxy-authorization'];

type FetchInput = Parameters<typeof fetch>[0];

/** The URL a fetch input names, without touching the platform's Request class (that would load undici). */
export function urlOf(input: FetchInput): string {
  if (typeof input === 'string') return input;
  return input instanceof URL ? input.href : input.url;
}

/** The method of a fetch call: the init's, else a Request-like input's, else GET. */
export const methodOf = (input: FetchInput, init?: RequestInit): string =>
  (init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET')).toUpperCase();

/** Request headers as a plain record with lower-case names, from any form fetch accepts. */
export function headerRecord(headers: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  const entries: Iterable<readonly [string, string]> =
    Symbol.iterator in headers ? (headers as Iterable<readonly [string, string]>) : Object.entries(headers as Record<string, string>);
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    record[key] = key in record ? `${record[key]}, ${value}` : String(value);
  }
  return record;
}

/** A response's headers, read-only, with the Headers methods fedinvoice and its tests call. */
class ResponseHeaders {
  readonly #values = new Map<string, string>();
  constructor(raw: IncomingHttpHeaders) {
    for (const [name, value] of Object.entries(raw)) {
      if (value !== undefined) this.#values.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }
  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }
  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this) callback(value, name);
  }
  *entries(): IterableIterator<[string, string]> {
    yield* [...this.#values].sort(([a], [b]) => (a < b ? -1 : 1));
  }
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** An answer: the fetch Response's reading side over Node's IncomingMessage. */
class NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: ResponseHeaders;
  readonly type = 'basic';
  readonly #message: IncomingMessage | null;
  #stream: ReadableStream<Uint8Array> | null | undefined;
  #used = false;

  constructor(
    message: IncomingMessage,
    hasBody: boolean,
    readonly url: string,
    readonly redirected: boolean,
  ) {
    this.status = message.statusCode ?? 0;
    this.statusText = message.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = new ResponseHeaders(message.headers);
    if (!hasBody) message.resume(); // Nothing to read; frees the connection for the next request.
    this.#message = hasBody ? message : null;
  }

  /** The body as a WHATWG stream (made on first use), or null for an answer that has none. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#stream === undefined) this.#stream = this.#message ? (Readable.toWeb(this.#message) as ReadableStream<Uint8Array>) : null;
    return this.#stream;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return (await this.#bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async #bytes(): Promise<Buffer> {
    if (this.#used) throw new TypeError('Body is unusable: the body of this response was already read');
    this.#used = true;
    const chunks: Uint8Array[] = [];
    try {
      if (this.#stream) {
        const reader = this.#stream.getReader();
        for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
      } else if (this.#message) {
        for await (const chunk of this.#message) chunks.push(chunk as Buffer);
      }
    } catch (error) {
      throw new TypeError('terminated', { cause: error });
    }
    return Buffer.concat(chunks);
  }
}

interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | string | undefined;
  readonly signal: AbortSignal | undefined;
}

/** One request and its answer's head; the body stays unread. */
async function exchange({ url, method, headers, body, signal }: Exchange): Promise<IncomingMessage> {
  const send = await requesterFor(url);
  const length = body === undefined ? emptyBodyLength(method) : Buffer.byteLength(body);
  const options: RequestOptions = { method, headers: length === undefined ? headers : { ...headers, 'content-length': String(length) } };
  if (signal) options.signal = signal;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = send(url, options, resolve);
    request.on('error', (error) => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error })));
    request.end(body);
  });
}

async function requesterFor(url: URL): Promise<typeof httpRequest> {
  if (url.protocol === 'http:') return httpRequest;
  if (url.protocol === 'https:') return (await import('node:https')).request;
  throw new TypeError('fetch failed', { cause: new Error(`unsupported protocol ${url.protocol}`) });
}

/** A POST or PUT without a body still says its length (0), as fetch does; other methods say nothing. */
const emptyBodyLength = (method: string): number | undefined => (method === 'POST' || method === 'PUT' ? 0 : undefined);

function bodyOf(body: RequestInit['body']): Uint8Array | string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('this fetch sends a string or bytes as a body');
}

/** The request a redirect leads to: fetch's method and body rules, and no credentials for another origin. */
function redirected(previous: Exchange, status: number, location: string): Exchange {
  const url = new URL(location, previous.url);
  const toGet = (status === 303 && previous.method !== 'GET' && previous.method !== 'HEAD') || ((status === 301 || status === 302) && previous.method === 'POST');
  const headers = { ...previous.headers };
  if (toGet) for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language']) delete headers[name];
  if (url.origin !== previous.url.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
  return { ...previous, url, headers, method: toGet ? 'GET' : previous.method, body: toGet ? undefined : previous.body };
}

/** fetch over node:http and node:https (see the top of this file for what it covers). */
export const nodeHttpFetch = (async (input: FetchInput, init?: RequestInit) => {
  const signal = init?.signal ?? undefined;
  if (signal?.aborted) throw signal.reason;
  const url = new URL(urlOf(input));
  let request: Exchange = { url, method: methodOf(input, init), headers: headerRecord(init?.headers), body: bodyOf(init?.body), signal };
  for (let hops = 0; ; hops++) {
    const message = await exchange(request);
    const status = message.statusCode ?? 0;
    const location = message.headers.location;
    if (!REDIRECT_STATUSES.has(status) || !location || init?.redirect === 'manual') {
      const hasBody = request.method !== 'HEAD' && !NULL_BODY_STATUSES.has(status);
      return new NodeResponse(message, hasBody, request.url.href, hops > 0) as unknown as Response;
    }
    message.resume();
    if (init?.redirect === 'error' || hops === MAX_REDIRECTS) throw new TypeError('fetch failed', { cause: new Error(`redirect from ${request.url.href} not followed`) });
    request = redirected(request, status, location);
  }
}) as typeof fetch;
