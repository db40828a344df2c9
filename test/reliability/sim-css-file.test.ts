/**
 * Pod restarts for real: two file-backed Community Solid Servers, one of which is stopped and started again (same
 * port, same data folder) in the middle of every schedule, 3 devices per party each with its own credentials, every
 * request through a fault-injecting fetch, the devices living the invoice's lifecycle throughout (12–20 random
 * steps, then they finish the deal with the faults still on). After everything heals and syncs: one invoice on
 * every device, nothing lost, nothing doubled, no honest move refused, and the lifecycle coverage printed and
 * asserted.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coverage } from '../support/coverage.ts';
import { fcParams } from '../support/fc.ts';
import { startFleet, type Fleet } from '../support/fleet.ts';
import { checkConverged, runSchedule } from '../support/schedule-run.ts';
import { scheduleArb } from '../support/schedule-arbitraries.ts';

/** CI runs this many (a restart in each: ~1.5 s, the config being parsed once per process); more: FEDINVOICE_RESTART_RUNS=100, or `npm run soak`. */
const RUNS = Number(process.env.FEDINVOICE_RESTART_RUNS ?? 8);
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ backend: 'css-file', devicesPerParty: 3 });
});
afterAll(async () => {
  await fleet?.stop();
});

describe('6 devices on two file-backed pods that restart', () => {
  it(`live the lifecycle, converge and lose nothing across server restarts, for ${RUNS} random schedules`, async () => {
    const coverage = new Coverage();
    let ops = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArb({ devices: 6, podFaults: false, minSteps: 12, maxSteps: 20, forceRestart: true }), async (schedule) => {
        const outcome = await runSchedule(fleet, schedule, 'FILE');
        coverage.add(outcome);
        ops += outcome.accepted.size;
        expect(checkConverged(outcome, fleet)).toEqual([]);
        expect(outcome.unintended).toEqual([]);
      }),
      { ...fcParams(RUNS), endOnFailure: true },
    );
    console.info(`css-file: ${coverage.schedules} schedules, ${ops} ops accepted, ${fleet.restarts} restarts (${fleet.restartMs} ms), faults ${JSON.stringify(fleet.stats)}`);
    console.info(coverage.report('css-file'));
    expect(coverage.schedules).toBe(RUNS);
    expect(fleet.restarts).toBeGreaterThanOrEqual(RUNS);
    expect(coverage.shortfalls()).toEqual([]);
  }, 900_000);
});
