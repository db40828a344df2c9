/**
 * The simulation on real pods: two in-memory Community Solid Servers, 3 devices per party (6), random
 * schedules of ops, syncs, devices offline and back, servers partitioned away and back, and every request through a
 * fault-injecting fetch (drops, lost answers, duplicates, broken bodies, delays). After everything heals and syncs,
 * every device folds the same invoice, every outbox is empty, and every op any device accepted is on its pod.
 * Real restarts of file-backed servers: sim-css-file.test.ts. A thousand schedules: sim-faults.test.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcParams } from '../support/fc.ts';
import { checkConverged, runSchedule, startFleet, type Fleet } from '../support/fleet.ts';
import { scheduleArb } from '../support/schedule-arbitraries.ts';

const RUNS = Number(process.env.FEDINVOICE_SIM_RUNS ?? 50);
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ backend: 'css-memory', devicesPerParty: 3 });
});
afterAll(async () => {
  await fleet?.stop();
});

describe('6 devices on two real in-memory pods, under faults', () => {
  it(`converge and lose nothing, for ${RUNS} random schedules`, async () => {
    let ops = 0;
    let schedules = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArb({ devices: 6, podFaults: true, maxSteps: 10 }), async ({ steps, plan, faultSeed }) => {
        const outcome = await runSchedule(fleet, steps, plan, faultSeed, 'MEM');
        schedules++;
        ops += outcome.accepted.size;
        expect(checkConverged(outcome, fleet)).toEqual([]);
      }),
      { ...fcParams(RUNS), endOnFailure: true },
    );
    console.info(`css-memory: ${schedules} schedules, ${ops} ops accepted, partitions healed ${fleet.restarts}, faults ${JSON.stringify(fleet.stats)}`);
    expect(schedules).toBeGreaterThanOrEqual(RUNS);
  }, 900_000);
});
