/**
 * Soak on real pods: the fault simulation of test/reliability/ for as long as you like. Two file-backed Community
 * Solid Servers (buyer, seller), 3 devices per party (6), each logged in with its own client credentials; random
 * schedules in which the devices live the invoice's lifecycle (test/support/lifecycle.ts) while devices go offline,
 * pods are really stopped and started again (same port, same data folder), and every request goes through a
 * fault-injecting fetch (drops, lost answers, duplicates, broken bodies, delays). After each schedule everything
 * heals and every device syncs; a divergence is any device folding another invoice, an outbox not empty, an op a
 * device accepted missing from its pod or from the fold, or a member nobody wrote; an honest move refused by its own
 * device counts too.
 *
 *   npm run soak -- --runs 1000                  # 1,000 schedules
 *   npm run soak -- --runs 1000 --minutes 20     # stop after 20 minutes (at a schedule's end) and extrapolate
 *   npm run soak -- --seed 7 --from 41 --runs 1  # replay schedule 41 of seed 7
 *   npm run soak -- --json                       # the totals as one JSON object on stdout
 *
 * Ctrl-C stops after the schedule running and still prints the totals.
 *
 * Not in CI (a schedule costs seconds, a restart a server start). Exits 1 if any schedule diverged or failed.
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { Coverage } from '../test/support/coverage.ts';
import { podUp, startFleet } from '../test/support/fleet.ts';
import { scheduleArb } from '../test/support/schedule-arbitraries.ts';
import { checkConverged, runSchedule } from '../test/support/schedule-run.ts';
import { arg, json, machine, note } from './lib.ts';

const runs = Number(arg('--runs') ?? 100);
const from = Number(arg('--from') ?? 0);
const minutes = arg('--minutes') === undefined ? Infinity : Number(arg('--minutes'));
const seed = Number(arg('--seed') ?? Date.now() % 0x7fffffff);
if (![runs, from, seed].every(Number.isSafeInteger) || runs < 1 || !(minutes > 0)) {
  console.error('usage: npm run soak -- [--runs N] [--minutes M] [--seed S] [--from I] [--json]');
  process.exit(2);
}

const arbitrary = scheduleArb({ devices: 6, podFaults: true, minSteps: 16, maxSteps: 28 });
const schedules = fc.sample(arbitrary, { numRuns: from + runs, seed }).slice(from);
note(`soak: ${runs} schedules from #${from} of seed ${seed} (replay one with --seed ${seed} --from <#> --runs 1), at most ${minutes} min — ${machine()}`);
note('starting two file-backed CSS and logging in 6 devices…');
const fleet = await startFleet({ backend: 'css-file', devicesPerParty: 3 });
const coverage = new Coverage();
let abandoned: string | undefined;
async function serversBackUp(): Promise<boolean> {
  try {
    for (const pod of Object.values(fleet.pods)) await podUp(fleet, pod);
    return true;
  } catch (error) {
    abandoned = `a pod server could not be started again (${error instanceof Error ? error.message : String(error)}): soak stopped`;
    note(abandoned);
    return false;
  }
}
// Ctrl-C (or SIGTERM) ends the soak after the schedule running, with its totals, instead of losing them.
let stopAsked = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAsked = true;
    note(`${signal}: stopping after the schedule running`);
  });
}
const divergences: string[] = [];
let ops = 0;
let done = 0;
const started = performance.now();
const elapsedMin = () => (performance.now() - started) / 60_000;
try {
  for (const [i, schedule] of schedules.entries()) {
    if (elapsedMin() >= minutes || stopAsked) break;
    const index = from + i;
    const t0 = performance.now();
    const restartsBefore = fleet.restarts;
    try {
      const outcome = await runSchedule(fleet, schedule, 'SOAK');
      coverage.add(outcome);
      ops += outcome.accepted.size;
      const problems = [...checkConverged(outcome, fleet), ...outcome.unintended.map((u) => `unintended refusal: ${u}`)];
      if (problems.length) divergences.push(`#${index}: ${problems.join('; ')}`);
      note(`#${index}: ${schedule.steps.length} steps, ${outcome.opsAfterSetup} ops, ${fleet.restarts - restartsBefore} restarts, "${outcome.views[0]!.status}", ${((performance.now() - t0) / 1000).toFixed(1)} s${problems.length ? `, DIVERGED: ${problems[0]}` : ''}`);
    } catch (error) {
      divergences.push(`#${index}: failed: ${error instanceof Error ? error.message : String(error)}`);
      note(`#${index}: FAILED: ${error instanceof Error ? error.stack : String(error)}`);
      done++;
      // A server that cannot be started again makes every later schedule fail the same way: stop and say so.
      if (!(await serversBackUp())) break;
      continue;
    }
    done++;
  }
} finally {
  await fleet.stop();
}

const wallMin = elapsedMin();
const s = fleet.stats;
const totals = {
  seed,
  from,
  schedulesAsked: runs,
  schedulesRun: done,
  wallMinutes: +wallMin.toFixed(1),
  secondsPerSchedule: done ? +((wallMin * 60) / done).toFixed(1) : null,
  hoursFor1000: done ? +((wallMin / done) * 1000 / 60).toFixed(1) : null,
  opsAccepted: ops,
  restarts: fleet.restarts,
  abandoned: abandoned ?? null,
  restartSeconds: +(fleet.restartMs / 1000).toFixed(0),
  faults: { requests: s.requests, dropped: s.dropped, lostAnswers: s.lostAnswers, duplicated: s.duplicated, resets: s.resets, delayed: s.delayed, whileOffline: s.offline },
  divergences: divergences.length,
  coverage: {
    agreed: +coverage.share('agreed').toFixed(3),
    shipped: +coverage.share('shipped').toFixed(3),
    receivedAndPaid: +coverage.share('receivedAndPaid').toFixed(3),
    disputed: +coverage.share('disputed').toFixed(3),
    changedAfter: +coverage.share('changedAfter').toFixed(3),
  },
  refusedWrites: coverage.refusals(),
  machine: machine(),
};
if (json) process.stdout.write(`${JSON.stringify({ ...totals, divergenceList: divergences })}\n`);
else {
  console.log(`\n## Soak — ${machine()}`);
  console.log(`${done} of ${runs} schedules in ${totals.wallMinutes} min (${totals.secondsPerSchedule} s each${done < 1000 ? `; 1,000 would take ~${totals.hoursFor1000} h` : ''}), seed ${seed}`);
  console.log(`${ops} ops accepted, ${fleet.restarts} pod restarts (${totals.restartSeconds} s stopping and starting servers)`);
  if (abandoned) console.log(abandoned);
  console.log(`faults: ${s.requests} requests: ${s.dropped} dropped, ${s.lostAnswers} answers lost, ${s.duplicated} duplicated, ${s.resets} bodies broken, ${s.delayed} delayed, ${s.offline} while offline`);
  console.log(coverage.report('lifecycle'));
  console.log(`divergences: ${divergences.length}${divergences.length ? `\n  ${divergences.join('\n  ')}` : ''}`);
}
process.exit(divergences.length ? 1 : 0);
