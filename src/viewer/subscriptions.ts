/**
 * Keeps one WebSocketChannel2023 subscription per watched op container, and keeps it alive: a channel that
 * closes or cannot be opened (pod down, token refused) is retried with backoff, and at once when `retry()` says the
 * pod answers again. Every notification, and every (re)opened channel (ops may have been written while it was
 * down), calls `onChange(container)`: the caller re-syncs.
 *
 * Servers differ (see docs/servers.md). One that offers no notifications at all (no storage description, no
 * subscription service for the channel type) leaves the channel `unavailable`: asked again only after
 * `unavailableRetryMs`, never at once. The backoff only starts over once a channel has stayed open for
 * `maxBackoffMs`: a failed discovery, or a channel the server closes as soon as it opens, never resets it, so a
 * pod that answers listings but not subscriptions cannot make the caller loop.
 */
import WebSocket from 'ws';
import { messageOf } from '../model/errors.ts';
import { isDenied, isHttpError, isNotFound } from '../pod/http-error.ts';
import { discoverSubscriptionService, NotificationsUnavailableError, subscribe, WEBSOCKET_CHANNEL_2023 } from './notifications.ts';

/** 'unavailable': the pod offers no notification channel of this type; the caller polls. */
export type ChannelState = 'connecting' | 'live' | 'down' | 'unavailable';

export interface SubscriptionStatus {
  readonly container: string;
  readonly state: ChannelState;
  /** When the current state began (ISO). */
  readonly since: string;
  /** Why the channel is down, for people (never contains the channel's URL: it carries a credential). */
  readonly error: string | null;
  /**
   * What the channel listens to: the container itself, or its parent while the container does not exist yet
   * (a party that has not written an op: the parent announces the container's creation).
   */
  readonly topic: string;
}

export interface SubscriptionsOptions {
  /** The device's authenticated fetch: discovery and the subscription POST use it. */
  readonly fetch: typeof fetch;
  readonly onChange: (container: string) => void;
  readonly onStatus?: (status: SubscriptionStatus) => void;
  /** First and longest wait before reopening a channel; doubles in between. Defaults 500 ms and 15 s. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long to wait before asking a pod that offers no notifications again. Default 5 minutes. */
  readonly unavailableRetryMs?: number;
  readonly channelType?: string;
  readonly now?: () => number;
}

interface Entry {
  status: SubscriptionStatus;
  socket: WebSocket | null;
  timer: NodeJS.Timeout | null;
  /** Failed attempts since the last channel that stayed open: the backoff's exponent. */
  attempt: number;
  /** Bumped on every (re)connect: events of an older socket are ignored. */
  generation: number;
  /** When the open channel opened (ms), or null. */
  openedAt: number | null;
  /** The channel went down because the pod could not be reached: `retry()` may reopen it at once. */
  retryWhenReachable: boolean;
}

/** The subscription service answered that it cannot do this at all (as opposed to failing now). */
const NOT_SUPPORTED = new Set([405, 415, 501]);

/** The pod has no notification channel to offer: waiting a little would not change that. */
const isUnsupported = (error: unknown): boolean =>
  error instanceof NotificationsUnavailableError || (isHttpError(error) && NOT_SUPPORTED.has(error.status));

/** No answer at all (status 0): the pod is down or unreachable, so its answering again is worth a try at once. */
const isUnreachable = (error: unknown): boolean => isHttpError(error) && error.status === 0;

export class Subscriptions {
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  /** Discovered subscription service per pod origin (a pod's containers share one storage description). */
  private readonly services = new Map<string, string>();

  constructor(private readonly options: SubscriptionsOptions) {}

  /** Starts watching `container` (idempotent). */
  watch(container: string): void {
    if (this.closed || this.entries.has(container)) return;
    const entry: Entry = {
      status: this.statusOf(container, 'connecting', null, container),
      socket: null,
      timer: null,
      attempt: 0,
      generation: 0,
      openedAt: null,
      retryWhenReachable: false,
    };
    this.entries.set(container, entry);
    void this.connect(container, entry);
  }

  /**
   * The pod of `container` answered again (`hasMembers`: and the container exists): reopen a channel that went
   * down because the pod could not be reached now instead of waiting for the backoff (once: if that fails, the
   * backoff goes on), and move a channel on the parent to the container once it exists. A channel the pod refused
   * while answering (a failed discovery, an unavailable service) waits for its backoff: retrying it on every
   * successful sync is what made a viewer loop.
   */
  retry(container: string, hasMembers = false): void {
    const entry = this.entries.get(container);
    if (!entry || this.closed) return;
    const onParent = entry.status.topic !== container && entry.status.state === 'live';
    const reachableAgain = entry.status.state === 'down' && entry.retryWhenReachable;
    if (!reachableAgain && !(onParent && hasMembers)) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.retryWhenReachable = false;
    void this.connect(container, entry);
  }

  /**
   * The pod of `container` cannot be reached: close its channel (a pod shutting down may keep the socket open,
   * and even wait for it to close) and reopen it with backoff, or at once on `retry()`.
   */
  suspend(container: string, reason: string): void {
    const entry = this.entries.get(container);
    if (!entry || this.closed || entry.status.state === 'unavailable') return;
    if (entry.status.state === 'down') entry.retryWhenReachable = true;
    else this.down(container, entry, reason, { unreachable: true });
  }

  status(container: string): SubscriptionStatus | undefined {
    return this.entries.get(container)?.status;
  }

  /** True when every watched container has an open channel. */
  get allLive(): boolean {
    return [...this.entries.values()].every((entry) => entry.status.state === 'live');
  }

  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) {
      entry.generation++;
      if (entry.timer) clearTimeout(entry.timer);
      entry.socket?.removeAllListeners();
      entry.socket?.on('error', () => undefined);
      entry.socket?.terminate();
    }
    this.entries.clear();
  }

  private statusOf(container: string, state: ChannelState, error: string | null, topic: string): SubscriptionStatus {
    return { container, state, since: new Date(this.now()).toISOString(), error, topic };
  }

  private setStatus(entry: Entry, state: ChannelState, error: string | null, topic = entry.status.topic): void {
    if (entry.status.state === state && entry.status.error === error && entry.status.topic === topic) return;
    entry.status = this.statusOf(entry.status.container, state, error, topic);
    this.options.onStatus?.(entry.status);
  }

  private async connect(container: string, entry: Entry): Promise<void> {
    const generation = ++entry.generation;
    const current = () => !this.closed && entry.generation === generation;
    if (entry.socket) {
      entry.socket.removeAllListeners();
      entry.socket.on('error', () => undefined);
      entry.socket.terminate();
      entry.socket = null;
    }
    // A channel that is down stays shown as down while it is tried again: a page need not change per attempt.
    if (entry.status.state === 'live') this.setStatus(entry, 'connecting', null);
    const origin = new URL(container).origin;
    let receiveFrom: string;
    let topic = container;
    try {
      let service = this.services.get(origin);
      if (!service) {
        try {
          service = await discoverSubscriptionService(this.options.fetch, container, this.options.channelType ?? WEBSOCKET_CHANNEL_2023);
        } catch (error) {
          // The container does not exist yet: listen to its parent, which announces its creation.
          if (!isNotFound(error)) throw error;
          topic = new URL('../', container).href;
          service = await discoverSubscriptionService(this.options.fetch, topic, this.options.channelType ?? WEBSOCKET_CHANNEL_2023);
        }
        this.services.set(origin, service);
      }
      try {
        try {
          receiveFrom = (await subscribe(this.options.fetch, service, topic, this.options.channelType)).receiveFrom;
        } catch (error) {
          // CSS answers a subscription to a resource that does not exist with 404 (or 403 when it is not readable).
          if (topic !== container || !(isNotFound(error) || isDenied(error))) throw error;
          topic = new URL('../', container).href;
          receiveFrom = (await subscribe(this.options.fetch, service, topic, this.options.channelType)).receiveFrom;
        }
      } catch (error) {
        this.services.delete(origin); // discover again next time: the service may have moved
        throw error;
      }
    } catch (error) {
      const why = { unreachable: isUnreachable(error), unsupported: isUnsupported(error) };
      if (current()) this.down(container, entry, messageOf(error), why);
      return;
    }
    if (!current()) return;

    const socket = new WebSocket(receiveFrom);
    entry.socket = socket;
    socket.on('open', () => {
      if (!current()) return;
      entry.openedAt = this.now();
      this.setStatus(entry, 'live', null, topic);
      // Ops written while the channel was not open were not notified: catch up.
      this.options.onChange(container);
    });
    socket.on('message', () => {
      // Any activity on the container (an Add of a new member above all) means: fetch what is new. The
      // message itself is not trusted for content: the sync reads the pod.
      if (current()) this.options.onChange(container);
    });
    socket.on('error', (error) => {
      if (current()) this.down(container, entry, `the notification channel failed (${messageOf(error).replace(/wss?:\/\/\S+/g, '…')})`, this.dropped(entry));
    });
    socket.on('close', () => {
      if (current()) this.down(container, entry, 'the notification channel closed', this.dropped(entry));
    });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * A channel that closes after staying open a while may mean the pod went away: the backoff starts over and the
   * pod's next answer reopens it. One that closes sooner (or never opened) is a failure like any other.
   */
  private dropped(entry: Entry): { unreachable: boolean } {
    const stable = entry.openedAt !== null && this.now() - entry.openedAt >= (this.options.maxBackoffMs ?? 15_000);
    if (stable) entry.attempt = 0;
    return { unreachable: stable };
  }

  private down(container: string, entry: Entry, error: string, why: { unreachable: boolean; unsupported?: boolean }): void {
    entry.generation++;
    entry.openedAt = null;
    entry.retryWhenReachable = why.unreachable;
    if (entry.socket) {
      entry.socket.removeAllListeners();
      entry.socket.on('error', () => undefined);
      entry.socket.terminate();
      entry.socket = null;
    }
    this.setStatus(entry, why.unsupported ? 'unavailable' : 'down', error);
    const min = this.options.minBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 15_000;
    const backoff = Math.min(max, min * 2 ** entry.attempt++);
    const wait = why.unsupported ? Math.max(backoff, this.options.unavailableRetryMs ?? 300_000) : backoff;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (!this.closed) void this.connect(container, entry);
    }, wait);
    entry.timer.unref?.();
  }
}
