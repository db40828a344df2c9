/**
 * A thousand fault-injected schedules. The transport is real (Node's fetch, real sockets on 127.0.0.1) but the pods
 * are test/support/mini-pod.ts, a minimal LDP server with CSS's answers and no authentication, so that a schedule
 * costs ~0.1 s instead of ~1 s; the same schedules on real CSS run in sim-css-memory.test.ts and
 * sim-css-file.test.ts (FEDINVOICE_SIM_RUNS=1000 there for a soak on real pods). Pods are really stopped and started.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcParams } from '../support/fc.ts';
import { checkConverged, runSchedule, startFleet, type Fleet } from '../support/fleet.ts';
import { scheduleArb } from '../support/schedule-arbitraries.ts';

const RUNS = Number(process.env.FEDINVOICE_FAULT_RUNS ?? 1000);
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ backend: 'mini', devicesPerParty: 2 });
});
afterAll(async () => {
  await fleet?.stop();
});

describe('devices behind a fault-injecting fetch', () => {
  it(`converge and lose nothing, for ${RUNS} random schedules with drops, lost answers, duplicates, resets, delays and restarts`, async () => {
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArb({ devices: 4, podFaults: true, maxSteps: 8 }), async ({ steps, plan, faultSeed }) => {
        const outcome = await runSchedule(fleet, steps, plan, faultSeed, 'FAULT');
        ops += outcome.accepted.size;
        expect(checkConverged(outcome, fleet)).toEqual([]);
      }),
      { ...fcParams(RUNS), endOnFailure: true },
    );
    const s = fleet.stats;
    console.info(`faults: ${RUNS} schedules, ${ops} ops accepted, ${fleet.restarts} restarts, ${s.requests} requests: ${s.dropped} dropped, ${s.lostAnswers} answers lost, ${s.duplicated} duplicated, ${s.resets} reset, ${s.delayed} delayed, ${s.offline} while offline`);
    expect(s.dropped + s.lostAnswers + s.duplicated + s.resets).toBeGreaterThan(RUNS);
  }, 900_000);
});
