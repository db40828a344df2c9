/**
 * Shared by the benches: flags, timing, and the one output format. Every figure is printed with the baseline
 * measured in the same run and their ratio, as a table, or with --json as one JSON object per line:
 *   {"name": …, "value": …, "unit": …, "baseline": …, "ratio": …}
 * Progress notes go to stderr with --json, so stdout stays machine-readable.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

export const quick = process.argv.includes('--quick');
export const json = process.argv.includes('--json');

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export const note = (message: string): void => void (json ? process.stderr : process.stdout).write(`${message}\n`);

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the value is compared with, measured in the same run; null when the figure has no baseline (a count). */
  readonly baseline: { readonly name: string; readonly value: number } | null;
  /**
   * How many times better the figure is than its baseline (> 1: better), whichever way "better" points for the
   * unit: baseline/value for times and counts, value/baseline for rates.
   */
  readonly ratio: number | null;
  /** Every goal's text, joined; `met` is true when all are met. */
  readonly goal?: string;
  readonly met?: boolean;
  /** Each goal on its own, so that one met cannot hide another that is not. */
  readonly goals?: ReadonlyArray<{ readonly text: string; readonly met: boolean }>;
}

export interface Goal {
  readonly text: string;
  readonly met: boolean;
}

const higherIsBetter = (unit: string) => unit.endsWith('/s');

/** How many times better than the baseline (above 1 is better), or null when there is nothing to compare. */
function ratioOf(value: number, unit: string, baseline: { name: string; value: number } | null): number | null {
  if (baseline === null || baseline.value === 0 || value === 0) return null;
  return higherIsBetter(unit) ? value / baseline.value : baseline.value / value;
}

function goalList(goal: Goal | readonly Goal[] | undefined): Goal[] {
  if (goal === undefined) return [];
  return 'text' in goal ? [goal] : [...goal];
}

export function figure(name: string, value: number, unit: string, baseline: { name: string; value: number } | null, goal?: Goal | readonly Goal[]): Figure {
  const ratio = ratioOf(value, unit, baseline);
  const goals = goalList(goal);
  return {
    name,
    value: round(value),
    unit,
    baseline: baseline && { name: baseline.name, value: round(baseline.value) },
    ratio: ratio === null ? null : round(ratio),
    ...(goals.length ? { goal: goals.map((g) => g.text).join('; '), met: goals.every((g) => g.met), goals } : {}),
  };
}

/** A baseline that is worked out, not measured (e.g. "one GET per op"): its name says so wherever it is printed. */
export function computed(name: string, value: number): { name: string; value: number } {
  return { name: `${name} (computed, not measured)`, value };
}

function round(x: number): number {
  if (Math.abs(x) >= 100) return Math.round(x);
  if (Math.abs(x) >= 1) return +x.toFixed(2);
  return +x.toPrecision(3);
}

export function machine(): string {
  const [one, five] = loadavg();
  return `node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${one!.toFixed(2)} / ${five!.toFixed(2)} (1 / 5 min)`;
}

/** Prints figures: a table, or one JSON line each with --json. */
export function report(title: string, figures: readonly Figure[]): void {
  if (json) {
    for (const f of figures) process.stdout.write(`${JSON.stringify({ bench: title, ...f, baseline: f.baseline?.value ?? null, baselineName: f.baseline?.name ?? null, load1: +(loadavg()[0] ?? 0).toFixed(2) })}\n`);
    return;
  }
  console.log(`\n## ${title} — ${machine()}`);
  console.table(
    figures.map((f) => ({
      figure: f.name,
      value: `${f.value} ${f.unit}`,
      baseline: f.baseline ? `${f.baseline.value} ${f.unit} (${f.baseline.name})` : '—',
      'ratio (×, >1 = better)': f.ratio ?? '—',
      goal: (f.goals ?? []).map((g) => `${g.text}: ${g.met ? 'met' : 'NOT met'}`).join('; '),
    })),
  );
}

/** Best wall-clock ms of `rounds` runs after one warm-up, with the CPU ms of that run. */
export async function best(run: () => unknown, rounds: number, warmup = true): Promise<{ wallMs: number; cpuMs: number }> {
  if (warmup) await run();
  let result = { wallMs: Infinity, cpuMs: Infinity };
  for (let i = 0; i < rounds; i++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    await run();
    const wallMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (wallMs < result.wallMs) result = { wallMs, cpuMs: (used.user + used.system) / 1000 };
  }
  return result;
}
