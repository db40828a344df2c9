/**
 * Pod restarts for real: two file-backed Community Solid Servers that are stopped and started again (same port,
 * same data folder) in the middle of every schedule, 3 devices per party, every request through a fault-injecting
 * fetch. After everything heals and syncs: one invoice on every device, nothing lost, nothing doubled.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcParams } from '../support/fc.ts';
import { checkConverged, runSchedule, startFleet, type Fleet } from '../support/fleet.ts';
import { scheduleArb } from '../support/schedule-arbitraries.ts';

const RUNS = Number(process.env.FEDINVOICE_RESTART_RUNS ?? 8);
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ backend: 'css-file', devicesPerParty: 3 });
});
afterAll(async () => {
  await fleet?.stop();
});

describe('6 devices on two file-backed pods that restart', () => {
  it(`converge and lose nothing across server restarts, for ${RUNS} random schedules`, async () => {
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArb({ devices: 6, podFaults: false, maxSteps: 6, forceRestart: true }), async ({ steps, plan, faultSeed }) => {
        const outcome = await runSchedule(fleet, steps, plan, faultSeed, 'FILE');
        ops += outcome.accepted.size;
        expect(checkConverged(outcome, fleet)).toEqual([]);
      }),
      { ...fcParams(RUNS), endOnFailure: true },
    );
    console.info(`css-file: ${RUNS} schedules, ${ops} ops accepted, ${fleet.restarts} restarts (${fleet.restartMs} ms), faults ${JSON.stringify(fleet.stats)}`);
    expect(fleet.restarts).toBeGreaterThanOrEqual(RUNS);
  }, 900_000);
});
