import { dateOf } from '../pod/resources.ts';

/**
 * The pod servers' clocks, as their answers' Date headers show them, per origin. Change feeds are dated by the
 * clock of the server they are on (change-feed.ts), so that readers and writers on devices with wrong clocks agree.
 */
export class ServerClock {
  private readonly offsets = new Map<string, number>();

  constructor(private readonly localNow: () => number) {}

  /** Notes the server's time from an answer of `origin` (a Date header has whole seconds: the middle of that second). */
  observe(url: string, response: Response): void {
    const date = dateOf(response);
    if (date !== null) this.offsets.set(originOf(url), date + 500 - this.localNow());
  }

  /** Whether an answer of the server of `url` told its time. */
  knows(url: string): boolean {
    return this.offsets.has(originOf(url));
  }

  /** The time on the server of `url` now: this device's clock when that server was never heard from. */
  now(url: string): number {
    return this.localNow() + (this.offsets.get(originOf(url)) ?? 0);
  }
}

const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};
