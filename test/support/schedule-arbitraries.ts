/**
 * fast-check generators of fault schedules for test/support/fleet.ts: small lists of writes, syncs, concurrent
 * syncs, devices going offline and back, pods going down and back, plus a fault plan and its seed.
 */
import fc from 'fast-check';
import type { FaultPlan } from './faulty-fetch.ts';
import type { Side, Step } from './fleet.ts';

export interface Schedule {
  readonly steps: Step[];
  readonly plan: FaultPlan;
  readonly faultSeed: number;
}

const side = fc.constantFrom<Side>('buyer', 'seller');

export function stepArb(devices: number, podFaults: boolean): fc.Arbitrary<Step> {
  const d = fc.nat(devices - 1);
  const choices: Array<fc.WeightedArbitrary<Step>> = [
    { weight: 6, arbitrary: fc.record({ t: fc.constant('write' as const), d, k: fc.nat(60) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('sync' as const), d }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('both' as const), a: d, b: d }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('offline' as const), d }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('online' as const), d }) },
  ];
  if (podFaults) {
    choices.push({ weight: 1, arbitrary: fc.record({ t: fc.constant('down' as const), p: side }) });
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

export function scheduleArb(options: { devices: number; podFaults: boolean; maxSteps: number; forceRestart?: boolean }): fc.Arbitrary<Schedule> {
  const steps = fc.array(stepArb(options.devices, options.podFaults), { minLength: 2, maxLength: options.maxSteps });
  const withRestart = options.forceRestart
    ? fc.tuple(steps, side, fc.nat(), fc.nat()).map(([list, p, at, len]) => {
        const start = at % (list.length + 1);
        const end = start + (len % (list.length - start + 1));
        const result = [...list];
        result.splice(end, 0, { t: 'up', p });
        result.splice(start, 0, { t: 'down', p });
        return result;
      })
    : steps;
  return fc.record({ steps: withRestart, plan: planArb, faultSeed: fc.integer({ min: 1, max: 0x7fffffff }) });
}
