/**
 * A fault-injecting wrapper around a real `fetch` (a device session's, or the global one), driven by a seeded
 * random source so that a failing schedule can be replayed. Every request goes to the real server unless the
 * fault says otherwise:
 *
 * - drop:       the request is never sent; fetch rejects like a refused connection.
 * - lostAnswer: the request IS sent and handled by the server, then fetch rejects as if the connection reset
 *               before the answer came back (the nastiest one for writes: it happened, the client thinks not).
 * - duplicate:  the request is sent twice (a retrying proxy); the caller sees the second answer.
 * - reset:      the answer's status and headers arrive, then its body breaks off half way.
 * - delay:      up to `maxDelayMs` before sending, so that concurrent requests overtake each other.
 *
 * `offline = true` makes every request fail like `drop` (a device without network).
 */
import { prng } from './negotiation.ts';

export interface FaultPlan {
  readonly drop: number;
  readonly lostAnswer: number;
  readonly duplicate: number;
  readonly reset: number;
  readonly delay: number;
  readonly maxDelayMs: number;
}

export const NO_FAULTS: FaultPlan = { drop: 0, lostAnswer: 0, duplicate: 0, reset: 0, delay: 0, maxDelayMs: 0 };

export interface FaultStats {
  requests: number;
  dropped: number;
  lostAnswers: number;
  duplicated: number;
  resets: number;
  delayed: number;
  offline: number;
}

export const emptyStats = (): FaultStats => ({ requests: 0, dropped: 0, lostAnswers: 0, duplicated: 0, resets: 0, delayed: 0, offline: 0 });

export interface FaultyFetch {
  readonly fetch: typeof fetch;
  offline: boolean;
  plan: FaultPlan;
  /** The random source deciding faults; replace it to replay one schedule's faults. */
  random: () => number;
  readonly stats: FaultStats;
}

function connectionError(kind: 'ECONNREFUSED' | 'ECONNRESET'): TypeError {
  const cause = Object.assign(new Error(`injected ${kind}`), { code: kind });
  return new TypeError('fetch failed', { cause });
}

/** A copy of `response` whose body yields its first half, then fails like a reset connection. */
async function truncated(response: Response): Promise<Response> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  const half = bytes.subarray(0, Math.floor(bytes.length / 2));
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (half.length) controller.enqueue(half);
      controller.error(connectionError('ECONNRESET'));
    },
  });
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

export function faultyFetch(inner: typeof fetch, random: () => number, plan: FaultPlan = NO_FAULTS, stats: FaultStats = emptyStats()): FaultyFetch {
  const state: FaultyFetch = {
    offline: false,
    plan,
    random,
    stats,
    fetch: (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const p = state.plan;
      const random = state.random;
      stats.requests++;
      if (state.offline) {
        stats.offline++;
        throw connectionError('ECONNREFUSED');
      }
      if (p.delay > 0 && random() < p.delay) {
        stats.delayed++;
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * p.maxDelayMs)));
      }
      // One roll per request picks at most one fault, so the rates add up as given.
      const roll = random();
      let edge = p.drop;
      if (roll < edge) {
        stats.dropped++;
        throw connectionError('ECONNREFUSED');
      }
      if (roll < (edge += p.lostAnswer)) {
        stats.lostAnswers++;
        const response = await inner(input, init);
        await response.arrayBuffer().catch(() => undefined);
        throw connectionError('ECONNRESET');
      }
      if (roll < (edge += p.duplicate)) {
        stats.duplicated++;
        const first = await inner(input, init);
        await first.arrayBuffer().catch(() => undefined);
        return inner(input, init);
      }
      if (roll < (edge += p.reset)) {
        stats.resets++;
        return truncated(await inner(input, init));
      }
      return inner(input, init);
    }) as typeof fetch,
  };
  return state;
}

/** A small seedable PRNG: the negotiation generator's. */
export const seeded = prng;
