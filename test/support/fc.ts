/**
 * Parameters for fc.assert: the number of runs and a seed that can be replayed. Every property in the tests goes
 * through `fcParams`, so each run prints its seed; set FC_SEED=<number> to replay a failure (fast-check prints the
 * seed and path of any counterexample).
 */
export interface FcParams {
  readonly numRuns: number;
  readonly seed: number;
}

/**
 * Runs per property of the model and the RDF layer (ARCHITECTURE.md, Tests). The fault simulations, whose runs
 * each cost a schedule on real sockets or real pods, state their own counts in their files and print them.
 */
export const PROPERTY_RUNS = 1000;

export function fcParams(runs: number): FcParams {
  const fromEnv = process.env.FC_SEED;
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : Date.now() ^ (Math.random() * 0x1_0000_0000);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
  console.info(`fast-check: numRuns=${runs} seed=${seed} (replay with FC_SEED=${seed})`);
  return { numRuns: runs, seed };
}
