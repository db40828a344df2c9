/**
 * fast-check generators of fault schedules for test/support/fleet.ts: devices living the invoice's lifecycle
 * (most steps), syncs, concurrent syncs, devices going offline and back, pods going down and back, plus a fault
 * plan, its seed, and how the negotiation goes (who disputes when, how often a device makes a mistake on purpose).
 */
import fc from 'fast-check';
import type { FaultPlan } from './faulty-fetch.ts';
import type { Side } from './fleet.ts';
import type { Schedule, Step } from './schedule-run.ts';
import type { Persona } from './lifecycle.ts';

const side = fc.constantFrom<Side>('buyer', 'seller');
/** How many steps a device stays offline or a pod stays down, unless an 'online' or 'up' step comes first. */
const outage = fc.integer({ min: 1, max: 8 });

export function stepArb(devices: number, podFaults: boolean): fc.Arbitrary<Step> {
  const d = fc.nat(devices - 1);
  const choices: Array<fc.WeightedArbitrary<Step>> = [
    { weight: 14, arbitrary: fc.record({ t: fc.constant('act' as const), d, k: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('sync' as const), d }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('both' as const), a: d, b: d }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('offline' as const), d, for: outage }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('online' as const), d }) },
  ];
  if (podFaults) {
    choices.push({ weight: 1, arbitrary: fc.record({ t: fc.constant('down' as const), p: side, for: outage }) });
    choices.push({ weight: 1, arbitrary: fc.record({ t: fc.constant('up' as const), p: side }) });
  }
  return fc.oneof(...choices);
}

export const planArb: fc.Arbitrary<FaultPlan> = fc.record({
  drop: fc.constantFrom(0, 0.05, 0.15),
  lostAnswer: fc.constantFrom(0, 0.05, 0.15),
  duplicate: fc.constantFrom(0, 0.05, 0.15),
  reset: fc.constantFrom(0, 0.05, 0.1),
  delay: fc.constantFrom(0, 0.3),
  maxDelayMs: fc.constant(15),
});

/**
 * A third of the negotiations have no dispute; most disputes come after the deal is done (damaged goods), a few
 * block it (while negotiating, once agreed, once shipped).
 */
export const personaArb: fc.Arbitrary<Persona> = fc.record({
  disputeAt: fc.oneof(
    { weight: 6, arbitrary: fc.constant('never' as const) },
    { weight: 1, arbitrary: fc.constant('negotiating' as const) },
    { weight: 1, arbitrary: fc.constant('agreed' as const) },
    { weight: 1, arbitrary: fc.constant('shipped' as const) },
    { weight: 9, arbitrary: fc.constant('received' as const) },
  ),
  disputer: side,
  mistakeRate: fc.constantFrom(0, 0.05, 0.1),
});

export interface ScheduleOptions {
  readonly devices: number;
  readonly podFaults: boolean;
  readonly minSteps: number;
  readonly maxSteps: number;
  /** Take one pod down (a real stop on file CSS) somewhere in every schedule, and back up later. */
  readonly forceRestart?: boolean;
  /** At most this many acts after the steps to finish the deal (Schedule.finish); default 20. */
  readonly finish?: number;
}

export function scheduleArb(options: ScheduleOptions): fc.Arbitrary<Schedule> {
  const steps = fc.array(stepArb(options.devices, options.podFaults), { minLength: options.minSteps, maxLength: options.maxSteps });
  const withRestart = options.forceRestart
    ? fc.tuple(steps, side, fc.nat(), fc.nat()).map(([list, p, at, len]) => {
        const start = at % (list.length + 1);
        // Down for at most 10 steps: a restart, not the rest of the schedule.
        const end = start + (len % (Math.min(10, list.length - start) + 1));
        const result = [...list];
        result.splice(end, 0, { t: 'up', p });
        result.splice(start, 0, { t: 'down', p });
        return result;
      })
    : steps;
  return fc.record({ steps: withRestart, plan: planArb, faultSeed: fc.integer({ min: 1, max: 0x7fffffff }), persona: personaArb, finish: fc.constant(options.finish ?? 20) });
}
