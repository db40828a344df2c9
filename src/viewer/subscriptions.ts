/**
 * Keeps one WebSocketChannel2023 subscription per watched op container, and keeps it alive: a channel that
 * closes or cannot be opened (pod down, token refused, no notification service) is retried with backoff, and
 * at once when `retry()` says the pod answers again. Every notification, and every (re)opened channel (ops
 * may have been written while it was down), calls `onChange(container)`: the caller re-syncs.
 */
import WebSocket from 'ws';
import { messageOf } from '../model/errors.ts';
import { isDenied, isNotFound } from '../pod/http-error.ts';
import { discoverSubscriptionService, subscribe, WEBSOCKET_CHANNEL_2023 } from './notifications.ts';

export type ChannelState = 'connecting' | 'live' | 'down';

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
  readonly channelType?: string;
  readonly now?: () => number;
}

interface Entry {
  status: SubscriptionStatus;
  socket: WebSocket | null;
  timer: NodeJS.Timeout | null;
  attempt: number;
  /** Bumped on every (re)connect: events of an older socket are ignored. */
  generation: number;
}

export class Subscriptions {
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  /** Discovered subscription service per pod origin (a pod's containers share one storage description). */
  private readonly services = new Map<string, string>();

  constructor(private readonly options: SubscriptionsOptions) {}

  /** Starts watching `container` (idempotent). */
  watch(container: string): void {
    if (this.closed || this.entries.has(container)) return;
    const entry: Entry = { status: this.statusOf(container, 'connecting', null, container), socket: null, timer: null, attempt: 0, generation: 0 };
    this.entries.set(container, entry);
    void this.connect(container, entry);
  }

  /**
   * The pod of `container` answered again (`hasMembers`: and the container exists): reopen a closed channel now
   * instead of waiting for the backoff, and move a channel on the parent to the container once it exists.
   */
  retry(container: string, hasMembers = false): void {
    const entry = this.entries.get(container);
    if (!entry || this.closed) return;
    const onParent = entry.status.topic !== container && entry.status.state === 'live';
    if (entry.status.state !== 'down' && !(onParent && hasMembers)) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.attempt = 0;
    void this.connect(container, entry);
  }

  /**
   * The pod of `container` cannot be reached: close its channel (a pod shutting down may keep the socket open,
   * and even wait for it to close) and reopen it with backoff, or at once on `retry()`.
   */
  suspend(container: string, reason: string): void {
    const entry = this.entries.get(container);
    if (!entry || this.closed || entry.status.state === 'down') return;
    this.down(container, entry, reason);
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
    return { container, state, since: new Date((this.options.now ?? Date.now)()).toISOString(), error, topic };
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
    this.setStatus(entry, 'connecting', entry.status.error);
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
      if (current()) this.down(container, entry, messageOf(error));
      return;
    }
    if (!current()) return;

    const socket = new WebSocket(receiveFrom);
    entry.socket = socket;
    socket.on('open', () => {
      if (!current()) return;
      entry.attempt = 0;
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
      if (current()) this.down(container, entry, `the notification channel failed (${messageOf(error).replace(/wss?:\/\/\S+/g, '…')})`);
    });
    socket.on('close', () => {
      if (current()) this.down(container, entry, 'the notification channel closed');
    });
  }

  private down(container: string, entry: Entry, error: string): void {
    entry.generation++;
    if (entry.socket) {
      entry.socket.removeAllListeners();
      entry.socket.on('error', () => undefined);
      entry.socket.terminate();
      entry.socket = null;
    }
    this.setStatus(entry, 'down', error);
    const min = this.options.minBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 15_000;
    const wait = Math.min(max, min * 2 ** entry.attempt++);
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (!this.closed) void this.connect(container, entry);
    }, wait);
    entry.timer.unref?.();
  }
}
