import type { Hlc } from './ops.ts';

/**
 * Hybrid logical clock (Kulkarni et al.): follows wall time, but never goes behind any clock the device has
 * seen, so an op always sorts after everything in its causal past even when device clocks disagree.
 */
export const ZERO_CLOCK: Hlc = { wallMs: 0, counter: 0 };

/** Latest wall-clock value an op may carry: 9999-12-31T23:59:59.999Z, the end of xsd:dateTime's 4-digit years. */
export const MAX_WALL_MS = 253402300799999;
export const MAX_COUNTER = 0xffff_ffff;

export function compareClocks(a: Hlc, b: Hlc): number {
  return a.wallMs !== b.wallMs ? a.wallMs - b.wallMs : a.counter - b.counter;
}

export function maxClock(clocks: Iterable<Hlc>): Hlc {
  let max = ZERO_CLOCK;
  for (const clock of clocks) if (compareClocks(clock, max) > 0) max = clock;
  return max;
}

/** The clock for a new op: after `nowMs` if the wall clock moved on, otherwise one tick after the latest seen. */
export function tick(latestSeen: Hlc, nowMs: number): Hlc {
  const wall = Math.min(Math.max(Math.floor(nowMs), 0), MAX_WALL_MS);
  if (wall > latestSeen.wallMs) return { wallMs: wall, counter: 0 };
  // A saturated counter rolls over into the next millisecond, so the clock can always move on (until year 9999).
  if (latestSeen.counter >= MAX_COUNTER) return { wallMs: latestSeen.wallMs + 1, counter: 0 };
  return { wallMs: latestSeen.wallMs, counter: latestSeen.counter + 1 };
}

export function isValidClock(clock: Hlc): boolean {
  return (
    Number.isSafeInteger(clock.wallMs) &&
    clock.wallMs >= 0 &&
    clock.wallMs <= MAX_WALL_MS &&
    Number.isSafeInteger(clock.counter) &&
    clock.counter >= 0 &&
    clock.counter <= MAX_COUNTER
  );
}
