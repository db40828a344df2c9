/**
 * Runs a fault schedule on a fleet (test/support/fleet.ts): a fresh invoice, then the steps (devices living the
 * invoice's lifecycle from their own views, syncs, devices and pods going away and back) while every request
 * goes through the fault plan; then everything comes back, every device syncs until quiet, and the outcome says
 * what every device ended with and what the schedule exercised (test/support/coverage.ts). `checkConverged`
 * states the two properties the simulations assert.
 */
import { FedinvoiceError } from '../../src/model/errors.ts';
import { fold } from '../../src/model/fold.ts';
import { invoiceKeyOf } from '../../src/model/invoice-key.ts';
import { isOpId, type ContainerUrl, type InvoiceId, type OpId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import { listContainer } from '../../src/pod/resources.ts';
import type { Replica } from '../../src/sync/replica.ts';
import type { ScheduleActivity } from './coverage.ts';
import { NO_FAULTS, seeded, type FaultPlan } from './faulty-fetch.ts';
import { freshDevices, podDown, podUp, type Fleet, type FleetDevice, type Side } from './fleet.ts';
import { decide, reachedOf, type Persona, type StepKind } from './lifecycle.ts';

export type Step =
  /** Device d takes its next step in the lifecycle (test/support/lifecycle.ts), from its own view; `k` seeds its choices. */
  | { readonly t: 'act'; readonly d: number; readonly k: number }
  | { readonly t: 'sync'; readonly d: number }
  /** Two devices sync at the same time: their requests interleave, deliveries arrive in any order. */
  | { readonly t: 'both'; readonly a: number; readonly b: number }
  /** Device d loses its network, for the next `for` steps (or until an 'online' step). */
  | { readonly t: 'offline'; readonly d: number; readonly for?: number }
  | { readonly t: 'online'; readonly d: number }
  /** A pod goes away (fleet.ts's podDown), for the next `for` steps (or until an 'up' step). */
  | { readonly t: 'down'; readonly p: Side; readonly for?: number }
  | { readonly t: 'up'; readonly p: Side };

export interface Schedule {
  readonly steps: readonly Step[];
  readonly plan: FaultPlan;
  readonly faultSeed: number;
  readonly persona: Persona;
  /**
   * After the steps, the people finish the deal: up to this many more acts by random devices, with the fault plan
   * still on, until the invoice is received and paid or disputed (as the persona has it).
   */
  readonly finish: number;
}

export interface ScheduleOutcome extends ScheduleActivity {
  readonly invoiceId: InvoiceId;
  /** Every op some device accepted locally (write() returned it), by the container it belongs to. */
  readonly accepted: Map<OpId, ContainerUrl>;
  readonly views: FoldedInvoice[];
  /** Op ids listed in each party's container after the final sync. */
  readonly onPods: Record<Side, string[]>;
  readonly outboxes: number[];
}

/** One schedule in progress: its invoice, what the devices wrote, what they did. */
interface Run {
  readonly fleet: Fleet;
  readonly invoiceId: InvoiceId;
  readonly persona: Persona;
  readonly accepted: Map<OpId, ContainerUrl>;
  readonly moves: Partial<Record<StepKind, number>>;
  readonly intendedRefusals: Record<string, number>;
  readonly unintended: string[];
  waits: number;
  finishingActs: number;
}

let invoiceCounter = 0;

/** Runs a schedule on a fresh invoice, then heals everything and syncs until quiet. */
export async function runSchedule(fleet: Fleet, schedule: Schedule, prefix = 'SIM'): Promise<ScheduleOutcome> {
  const run = await newInvoice(fleet, schedule, prefix);
  const setupOps = run.accepted.size;
  for (const device of fleet.devices) device.faults.plan = schedule.plan;
  await runSteps(run, schedule);
  await heal(fleet, run.invoiceId);
  const { invoiceId, accepted } = run;
  const views = await Promise.all(fleet.devices.map((d) => d.replica.view(invoiceId)));
  return {
    invoiceId,
    accepted,
    views,
    onPods: await listedOnPods(fleet, invoiceId),
    outboxes: await Promise.all(fleet.devices.map(async (d) => (await d.store.outbox(invoiceId)).length)),
    reached: reachedOf(views[0]!),
    moves: run.moves,
    waits: run.waits,
    intendedRefusals: run.intendedRefusals,
    unintended: run.unintended,
    finishingActs: run.finishingActs,
    opsAfterSetup: accepted.size - setupOps,
  };
}

/** Fresh devices, then without faults: the buyer creates the invoice and everyone joins (a join that cannot read the CreateInvoice fails by design). */
async function newInvoice(fleet: Fleet, schedule: Schedule, prefix: string): Promise<Run> {
  const invoiceId = invoiceKeyOf(fleet.pods.buyer.podRoot, `${prefix}-${process.pid}-${++invoiceCounter}`);
  freshDevices(fleet);
  for (const device of fleet.devices) {
    device.faults.offline = false;
    device.faults.plan = NO_FAULTS;
    device.faults.random = seeded(schedule.faultSeed * 31 + device.index);
  }
  const buyer0 = fleet.devices.find((d) => d.side === 'buyer')!;
  await buyer0.replica.createInvoice(invoiceId, {
    currency: 'EUR',
    counterparty: { webId: fleet.pods.seller.webId as never, podRoot: fleet.pods.seller.podRoot },
    ownInfo: { name: 'Michiel' },
    counterpartyInfo: { name: 'George' },
  });
  const origin = buyer0.replica.ownContainer(invoiceId);
  for (const device of fleet.devices) if (device !== buyer0) await device.replica.joinInvoice(invoiceId, origin);
  const accepted = new Map<OpId, ContainerUrl>();
  for (const sourced of await buyer0.store.loadOps(invoiceId)) accepted.set(sourced.op.id, sourced.container);
  return { fleet, invoiceId, persona: schedule.persona, accepted, moves: {}, intendedRefusals: {}, unintended: [], waits: 0, finishingActs: 0 };
}

/** Devices offline and pods down for a number of steps: each comes back by itself when its time is up. */
class Outages {
  private readonly pending: Array<{ left: number; back: () => Promise<void> }> = [];

  /** `back` runs after `steps` more steps (never, when undefined: an explicit 'online' or 'up' step ends it). */
  until(steps: number | undefined, back: () => Promise<void>): void {
    if (steps !== undefined) this.pending.push({ left: steps, back });
  }

  /** One step passes. */
  async tick(): Promise<void> {
    for (const due of this.pending.filter((outage) => --outage.left < 0)) {
      this.pending.splice(this.pending.indexOf(due), 1);
      await due.back();
    }
  }
}

async function runSteps(run: Run, schedule: Schedule): Promise<void> {
  const outages = new Outages();
  for (const step of schedule.steps) {
    await outages.tick();
    await runStep(run, step, outages);
  }
  // The people finish the deal, the faults still coming (outages already begun run their course).
  const roll = seeded(schedule.faultSeed ^ 0x5eed);
  const { devices } = run.fleet;
  while (run.finishingActs < schedule.finish && !(await dealIsDone(run))) {
    await outages.tick();
    run.finishingActs++;
    await act(run, devices[Math.floor(roll() * devices.length)]!, seeded(Math.floor(roll() * 0x7fffffff)), false);
  }
}

async function runStep(run: Run, step: Step, outages: Outages): Promise<void> {
  const { fleet, invoiceId } = run;
  const device = (d: number) => fleet.devices[d % fleet.devices.length]!;
  switch (step.t) {
    case 'act':
      return act(run, device(step.d), seeded(step.k), false);
    case 'sync':
      await device(step.d).replica.sync(invoiceId);
      return;
    case 'both': {
      const [a, b] = [device(step.a), device(step.b)];
      await Promise.all([a.replica.sync(invoiceId), a === b ? undefined : b.replica.sync(invoiceId)]);
      return;
    }
    case 'offline': {
      const gone = device(step.d);
      gone.faults.offline = true;
      outages.until(step.for, async () => void (gone.faults.offline = false));
      return;
    }
    case 'online':
      device(step.d).faults.offline = false;
      return;
    case 'down': {
      const pod = fleet.pods[step.p];
      await podDown(fleet, pod);
      outages.until(step.for, () => podUp(fleet, pod));
      return;
    }
    case 'up':
      return podUp(fleet, fleet.pods[step.p]);
  }
}

/**
 * Whether the deal has reached its end, folding everything any device holds (an observer's view, which no device
 * has; used only to stop): received and paid, or disputed (a dispute after the deal is done included).
 */
async function dealIsDone(run: Run): Promise<boolean> {
  const ref = await run.fleet.devices[0]!.store.getInvoice(run.invoiceId);
  const everything = (await Promise.all(run.fleet.devices.map((d) => d.store.loadOps(run.invoiceId)))).flat();
  const view = fold(everything, { invoiceId: run.invoiceId, ...(ref ? { origin: ref.origin } : {}) });
  if (view.disputes.length > 0) return true;
  return view.received && view.paid && run.persona.disputeAt !== 'received';
}

/** A sync as an app does it when a person opens the invoice: one retry right away if a pod could not be read. */
async function syncLikeAnApp(replica: Replica, invoiceId: InvoiceId): Promise<void> {
  const first = await replica.sync(invoiceId);
  if (first.containers.some((report) => report.outcome === 'stale') || first.outbox.queued > 0) await replica.sync(invoiceId);
}

/** A person at `device` does the next thing its own view calls for (test/support/lifecycle.ts), and the outcome is recorded. */
async function act(run: Run, device: FleetDevice, roll: () => number, nudged: boolean): Promise<void> {
  const { invoiceId, persona } = run;
  // Mostly the person opens the app, which syncs first; sometimes it was open already and shows what it had.
  const opened = roll() < 0.85;
  if (opened) await syncLikeAnApp(device.replica, invoiceId);
  let decision = decide(await device.replica.view(invoiceId), device.side, roll, persona);
  if (!('move' in decision) && !opened) {
    // The next step may need what another device wrote: sync, and look again.
    await syncLikeAnApp(device.replica, invoiceId);
    decision = decide(await device.replica.view(invoiceId), device.side, roll, persona);
  }
  if (!('move' in decision)) {
    run.waits++;
    // Someone waiting for the other party often tells it so (a call, a mail): a device of that party acts next.
    if ('waitsFor' in decision && !nudged && roll() < 0.6) {
      const others = run.fleet.devices.filter((other) => other.side !== device.side);
      await act(run, others[Math.floor(roll() * others.length)]!, roll, true);
    }
    return;
  }
  const { move } = decision;
  const who = `${device.side} ${device.label}'s ${move.type} (${move.kind})`;
  try {
    const result = await device.replica.write(invoiceId, move.type, move.payload as never);
    run.accepted.set(result.op.id, device.replica.ownContainer(invoiceId));
    run.moves[move.kind] = (run.moves[move.kind] ?? 0) + 1;
    if (move.mistake) run.unintended.push(`${who}: "${move.mistake.name}" was written, not refused`);
  } catch (error) {
    if (!(error instanceof FedinvoiceError)) throw error;
    if (move.mistake?.refusal.test(error.message)) run.intendedRefusals[move.mistake.name] = (run.intendedRefusals[move.mistake.name] ?? 0) + 1;
    else run.unintended.push(`${who} was refused: ${error.message}`);
  }
}

/** Pods up, devices online, no more faults; then every device syncs until nothing is new and every outbox is empty. */
async function heal(fleet: Fleet, invoiceId: InvoiceId): Promise<void> {
  await podUp(fleet, fleet.pods.buyer);
  await podUp(fleet, fleet.pods.seller);
  for (const device of fleet.devices) {
    device.faults.offline = false;
    device.faults.plan = NO_FAULTS;
  }
  for (let round = 0; round < 4; round++) {
    let fresh = 0;
    for (const device of fleet.devices) fresh += (await device.replica.sync(invoiceId)).newOps;
    const queued = (await Promise.all(fleet.devices.map((d) => d.store.outbox(invoiceId)))).reduce((n, o) => n + o.length, 0);
    if (round >= 1 && fresh === 0 && queued === 0) break;
  }
}

async function listedOnPods(fleet: Fleet, invoiceId: InvoiceId): Promise<Record<Side, string[]>> {
  const onPods = {} as Record<Side, string[]>;
  for (const side of ['buyer', 'seller'] as const) {
    const owner = fleet.devices.find((d) => d.side === side)!;
    const container = owner.replica.ownContainer(invoiceId);
    const listing = await listContainer(owner.cleanFetch, container);
    // An unconditional GET never answers 304: if it ever did, nothing below could be checked.
    if (listing.notModified) throw new Error(`listing ${container} without an ETag answered 304`);
    onPods[side] = listing.members.map((url) => url.slice(container.length));
  }
  return onPods;
}

/** The two properties, as a list of violations (empty when the schedule converged and lost nothing). */
export function checkConverged(outcome: ScheduleOutcome, fleet: Fleet): string[] {
  const problems: string[] = [];
  const [first, ...rest] = outcome.views.map((view) => JSON.stringify(view));
  rest.forEach((view, i) => {
    if (view !== first) problems.push(`device ${i + 1} folded a different invoice than device 0`);
  });
  outcome.outboxes.forEach((n, i) => {
    if (n !== 0) problems.push(`device ${i} still has ${n} op(s) in its outbox`);
  });
  const containerOf = (side: Side) => fleet.devices.find((d) => d.side === side)!.replica.ownContainer(outcome.invoiceId);
  for (const side of ['buyer', 'seller'] as const) {
    const listed = new Set(outcome.onPods[side]);
    if (listed.size !== outcome.onPods[side].length) problems.push(`the ${side} container lists a member twice`);
    for (const [id, container] of outcome.accepted) {
      if (container === containerOf(side) && !listed.has(id)) problems.push(`op ${id.slice(0, 12)}… was accepted locally but is not on the ${side}'s pod`);
    }
    for (const name of listed) {
      // Packs and checkpoints (src/sync/packs.ts) are copies of ops, not ops of their own.
      if (name.startsWith('pack-') || name.startsWith('checkpoint-')) continue;
      if (!isOpId(name) || outcome.accepted.get(name) !== containerOf(side)) problems.push(`the ${side} container holds ${name}, which no device wrote`);
    }
  }
  const logged = new Set(outcome.views[0]!.log.map((entry) => entry.opId as string));
  for (const id of outcome.accepted.keys()) if (!logged.has(id)) problems.push(`op ${id.slice(0, 12)}… is missing from the folded log`);
  if (outcome.views[0]!.status === 'no invoice') problems.push('the invoice did not fold');
  return problems;
}
