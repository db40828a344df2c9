/**
 * Fault-injected schedules in bulk. The transport is real (Node's fetch, real sockets on 127.0.0.1) but the pods are
 * test/support/mini-pod.ts, a minimal LDP server with CSS's answers and no authentication, so that a schedule costs
 * ~0.5 s instead of 5–20 s on CSS; the same schedules run on real CSS in sim-css-memory.test.ts and
 * sim-css-file.test.ts, and for as long as you like in `npm run soak`. Pods are really stopped and started.
 *
 * Devices live the whole lifecycle (ask, quote, propose, accept, ship, pay, receive, dispute, change after agreement;
 * test/support/lifecycle.ts) through 16–28 random steps of acts, syncs and outages, then finish the deal with the
 * faults still on (test/support/schedule-run.ts). The coverage of the lifecycle and every refused write are printed;
 * the coverage is asserted and an unintended refusal fails the run (test/support/coverage.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coverage } from '../support/coverage.ts';
import { fcParams } from '../support/fc.ts';
import { startFleet, type Fleet } from '../support/fleet.ts';
import { checkConverged, runSchedule } from '../support/schedule-run.ts';
import { scheduleArb } from '../support/schedule-arbitraries.ts';

/** CI runs this many (~0.5 s each on 2 cores); a longer run: FEDINVOICE_FAULT_RUNS=2000. */
const FAULT_RUNS = Number(process.env.FEDINVOICE_FAULT_RUNS ?? 120);
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ backend: 'mini', devicesPerParty: 2 });
});
afterAll(async () => {
  await fleet?.stop();
});

describe('devices behind a fault-injecting fetch', () => {
  it(`live the lifecycle, converge and lose nothing, for ${FAULT_RUNS} random schedules with drops, lost answers, duplicates, resets, delays and restarts`, async () => {
    const coverage = new Coverage();
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArb({ devices: 4, podFaults: true, minSteps: 16, maxSteps: 28 }), async (schedule) => {
        const outcome = await runSchedule(fleet, schedule, 'FAULT');
        coverage.add(outcome);
        ops += outcome.accepted.size;
        expect(checkConverged(outcome, fleet)).toEqual([]);
        expect(outcome.unintended).toEqual([]);
      }),
      { ...fcParams(FAULT_RUNS), endOnFailure: true },
    );
    const s = fleet.stats;
    console.info(`faults: ${FAULT_RUNS} schedules, ${ops} ops accepted, ${fleet.restarts} restarts, ${s.requests} requests: ${s.dropped} dropped, ${s.lostAnswers} answers lost, ${s.duplicated} duplicated, ${s.resets} reset, ${s.delayed} delayed, ${s.offline} while offline`);
    console.info(coverage.report('faults'));
    expect(coverage.schedules).toBe(FAULT_RUNS);
    expect(coverage.shortfalls()).toEqual([]);
    expect(s.dropped + s.lostAnswers + s.duplicated + s.resets).toBeGreaterThan(FAULT_RUNS);
  }, 900_000);
});
