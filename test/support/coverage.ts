/**
 * What a set of simulated schedules really exercised: how far each invoice got (agreed, shipped, received and
 * paid, disputed, changed after agreement), the moves the devices made, how often they waited, and every refused
 * write with its reason, intended (a mistake made on purpose) or not. Every suite prints it and asserts the
 * shares below, so a simulation that stops reaching the lifecycle fails instead of passing vacuously.
 */
import type { Reached, StepKind } from './lifecycle.ts';

/** The least share of schedules that must reach each state (the issue's targets). */
export const COVERAGE_TARGETS: Readonly<Record<'agreed' | 'shipped' | 'receivedAndPaid' | 'disputed', number>> = {
  agreed: 0.5,
  shipped: 0.3,
  receivedAndPaid: 0.2,
  disputed: 0.1,
};

/** What one schedule did, as runSchedule reports it. */
export interface ScheduleActivity {
  readonly reached: Reached;
  readonly moves: Readonly<Partial<Record<StepKind, number>>>;
  readonly waits: number;
  /** Refusals of mistakes made on purpose, by mistake. */
  readonly intendedRefusals: Readonly<Record<string, number>>;
  /** Refusals of honest moves, and mistakes that were not refused: each one is a failure. */
  readonly unintended: readonly string[];
  /** Ops the devices wrote after the setup (CreateInvoice and joins). */
  readonly opsAfterSetup: number;
  /** Acts after the schedule's steps, to finish the deal (test/support/schedule-run.ts). */
  readonly finishingActs: number;
}

export class Coverage {
  schedules = 0;
  private readonly reached: Record<keyof Reached, number> = { agreed: 0, shipped: 0, receivedAndPaid: 0, disputed: 0, changedAfter: 0 };
  private readonly moves: Partial<Record<StepKind, number>> = {};
  private waits = 0;
  private readonly intended: Record<string, number> = {};
  private readonly unintended: string[] = [];
  private idle = 0;
  private ops = 0;
  private finishing = 0;

  add(activity: ScheduleActivity): void {
    this.schedules++;
    for (const key of Object.keys(this.reached) as Array<keyof Reached>) if (activity.reached[key]) this.reached[key]++;
    for (const [kind, n] of Object.entries(activity.moves)) this.moves[kind as StepKind] = (this.moves[kind as StepKind] ?? 0) + n;
    for (const [name, n] of Object.entries(activity.intendedRefusals)) this.intended[name] = (this.intended[name] ?? 0) + n;
    this.unintended.push(...activity.unintended);
    this.waits += activity.waits;
    this.ops += activity.opsAfterSetup;
    this.finishing += activity.finishingActs;
    if (activity.opsAfterSetup === 0) this.idle++;
  }

  share(key: keyof Reached): number {
    return this.schedules === 0 ? 0 : this.reached[key] / this.schedules;
  }

  /** Each target missed, and each unintended refusal, as a sentence; empty when the schedules did what they claim. */
  shortfalls(targets = COVERAGE_TARGETS): string[] {
    const problems: string[] = [];
    for (const [key, least] of Object.entries(targets) as Array<[keyof typeof targets, number]>) {
      if (this.share(key) < least) problems.push(`${key}: ${pct(this.share(key))} of ${this.schedules} schedules, less than the ${pct(least)} required`);
    }
    for (const refusal of this.unintended) problems.push(`unintended refusal: ${refusal}`);
    return problems;
  }

  /** The refused writes: the intended ones by reason, and how many were not intended. */
  refusals(): { intended: Record<string, number>; unintended: number } {
    return { intended: { ...this.intended }, unintended: this.unintended.length };
  }

  /** The coverage as a few lines for the test output. */
  report(label: string): string {
    const moves = Object.entries(this.moves).sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => `${kind} ${n}`).join(', ');
    const intended = Object.entries(this.intended).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name} ${n}`).join(', ');
    const refused = Object.values(this.intended).reduce((a, b) => a + b, 0);
    return [
      `${label}: ${this.schedules} schedules reached agreed ${pct(this.share('agreed'))}, shipped ${pct(this.share('shipped'))}, received and paid ${pct(this.share('receivedAndPaid'))}, a dispute ${pct(this.share('disputed'))}, changes after agreement ${pct(this.share('changedAfter'))}`,
      `  ${this.ops} ops written after setup (${this.idle} schedules wrote none); moves: ${moves}; ${this.waits} times a device found nothing to do even after syncing; ${this.finishing} acts after the steps to finish deals`,
      `  refused writes: ${refused} intended (${intended || 'none'}), ${this.unintended.length} unintended${this.unintended.length ? `: ${this.unintended.slice(0, 5).join(' | ')}` : ''}`,
    ].join('\n');
  }
}

const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
