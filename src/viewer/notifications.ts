/**
 * Solid Notifications (https://solidproject.org/TR/notifications-protocol), client side, as the protocol says:
 *
 * 1. Discovery: any resource links its storage description with
 *    `Link: <…>; rel="http://www.w3.org/ns/solid/terms#storageDescription"`. The description (Turtle) lists the
 *    storage's subscription services: `<storage> notify:subscription <service>. <service> notify:channelType <type>.`
 * 2. Subscription: an authenticated POST of a JSON-LD channel request `{ type, topic }` to the service answers
 *    with the channel, whose `receiveFrom` is the WebSocket to open (WebSocketChannel2023).
 * 3. Each notification is a JSON-LD Activity Streams activity (`Add`, `Remove`, `Update`, `Create`, `Delete`) about
 *    the topic. Not recursive: a subscription on a container reports its members, not its grandchildren.
 *
 * Nothing here trusts the pod's answers beyond their shape: URLs must be http(s) (ws(s) for `receiveFrom`).
 */
import { Parser } from 'n3';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { HttpError } from '../pod/http-error.ts';
import { httpErrorFor, send } from '../pod/resources.ts';

const STORAGE_DESCRIPTION_REL = 'http://www.w3.org/ns/solid/terms#storageDescription';
const NOTIFY = 'http://www.w3.org/ns/solid/notifications#';
const NOTIFY_SUBSCRIPTION = `${NOTIFY}subscription`;
const NOTIFY_CHANNEL_TYPE = `${NOTIFY}channelType`;
export const WEBSOCKET_CHANNEL_2023 = `${NOTIFY}WebSocketChannel2023`;
const NOTIFICATION_CONTEXT = 'https://www.w3.org/ns/solid/notification/v1';
/** A storage description is a few hundred bytes; refuse to parse anything absurd. */
const MAX_DESCRIPTION_BYTES = 64 * 1024;

/** The pod does not offer the channel type (or no storage description could be found). */
export class NotificationsUnavailableError extends FedinvoiceError {
  override readonly name = 'NotificationsUnavailableError';
}

interface LinkValue {
  readonly target: string;
  readonly rels: readonly string[];
}

/**
 * Parses an HTTP Link header (RFC 8288) into targets and their relation types. `Headers.get('link')` joins
 * several Link headers with ", ", so values are split on commas outside `<…>` and quoted strings.
 */
function parseLinkHeader(header: string | null): LinkValue[] {
  if (!header) return [];
  const links: LinkValue[] = [];
  let i = 0;
  while (i < header.length) {
    const open = header.indexOf('<', i);
    if (open < 0) break;
    const close = header.indexOf('>', open);
    if (close < 0) break;
    const target = header.slice(open + 1, close);
    // Parameters run until the next comma outside quotes.
    let j = close + 1;
    let inQuotes = false;
    for (; j < header.length; j++) {
      const c = header[j];
      if (c === '"' && header[j - 1] !== '\\') inQuotes = !inQuotes;
      else if (c === ',' && !inQuotes) break;
    }
    const params = header.slice(close + 1, j);
    const rels: string[] = [];
    for (const match of params.matchAll(/;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s,]+))/gi)) {
      rels.push(...(match[1] ?? match[2] ?? '').split(/\s+/).filter(Boolean));
    }
    links.push({ target, rels });
    i = j + 1;
  }
  return links;
}

function httpUrl(value: string, base: string): string | null {
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The storage description a resource links to (HEAD, authenticated). */
async function findStorageDescription(fetchFn: typeof fetch, resource: string): Promise<string> {
  const response = await send(fetchFn, resource, { method: 'HEAD' });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw httpErrorFor(response, resource, 'read');
  const link = parseLinkHeader(response.headers.get('link')).find((l) => l.rels.includes(STORAGE_DESCRIPTION_REL));
  const url = link ? httpUrl(link.target, resource) : null;
  if (!url) throw new NotificationsUnavailableError(`${resource} links no storage description, so its pod's notification services cannot be discovered.`);
  return url;
}

/** Subscription services for `channelType` listed in a storage description. */
async function findSubscriptionServices(
  fetchFn: typeof fetch,
  description: string,
  channelType = WEBSOCKET_CHANNEL_2023,
): Promise<string[]> {
  const response = await send(fetchFn, description, { method: 'GET', headers: { accept: 'text/turtle' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw httpErrorFor(response, description, 'read');
  }
  const text = await response.text();
  if (text.length > MAX_DESCRIPTION_BYTES) throw new NotificationsUnavailableError(`The storage description ${description} is larger than ${MAX_DESCRIPTION_BYTES} bytes.`);
  let quads;
  try {
    quads = new Parser({ baseIRI: description, format: 'text/turtle' }).parse(text);
  } catch (error) {
    throw new NotificationsUnavailableError(`The storage description ${description} is not valid Turtle: ${messageOf(error)}`);
  }
  const listed = new Set(quads.filter((q) => q.predicate.value === NOTIFY_SUBSCRIPTION && q.object.termType === 'NamedNode').map((q) => q.object.value));
  const services = quads
    .filter((q) => q.predicate.value === NOTIFY_CHANNEL_TYPE && q.object.value === channelType && q.subject.termType === 'NamedNode' && listed.has(q.subject.value))
    .map((q) => httpUrl(q.subject.value, description))
    .filter((url): url is string => url !== null);
  return [...new Set(services)];
}

/** Discovers the WebSocketChannel2023 subscription service for `topic`: Link header → storage description → service. */
export async function discoverSubscriptionService(
  fetchFn: typeof fetch,
  topic: string,
  channelType = WEBSOCKET_CHANNEL_2023,
): Promise<string> {
  const description = await findStorageDescription(fetchFn, topic);
  const [service] = await findSubscriptionServices(fetchFn, description, channelType);
  if (!service) throw new NotificationsUnavailableError(`The pod of ${topic} offers no ${channelType.slice(NOTIFY.length)} subscription service (storage description ${description}).`);
  return service;
}

export interface Channel {
  readonly id: string | null;
  readonly topic: string;
  /** Where the notifications come from: a ws:// or wss:// URL (it carries the channel's credential: never show it). */
  readonly receiveFrom: string;
}

/** Asks `service` (authenticated with the device's fetch) for a WebSocketChannel2023 channel on `topic`. */
export async function subscribe(
  fetchFn: typeof fetch,
  service: string,
  topic: string,
  channelType = WEBSOCKET_CHANNEL_2023,
): Promise<Channel> {
  const body = JSON.stringify({ '@context': [NOTIFICATION_CONTEXT], type: channelType, topic });
  const response = await send(fetchFn, service, { method: 'POST', headers: { 'content-type': 'application/ld+json' }, body });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw httpErrorFor(response, service, 'create');
  }
  let channel: { id?: unknown; topic?: unknown; receiveFrom?: unknown };
  try {
    channel = (await response.json()) as typeof channel;
  } catch {
    throw new HttpError(502, service, `The subscription service ${service} answered something that is not JSON.`);
  }
  const receiveFrom = typeof channel.receiveFrom === 'string' ? channel.receiveFrom : '';
  let protocol = '';
  try {
    protocol = new URL(receiveFrom).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') throw new HttpError(502, service, `The subscription service ${service} answered with no WebSocket to receive from.`);
  return { id: typeof channel.id === 'string' ? channel.id : null, topic, receiveFrom };
}
