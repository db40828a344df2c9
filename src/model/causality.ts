import { compareClocks } from './clock.ts';
import type { OpId } from './ids.ts';
import type { AnyOp } from './ops.ts';

/**
 * The causal graph of a set of ops, built from their `deps`.
 *
 * - `order` is a deterministic linear extension: every op comes after its deps, and ops that are
 *   concurrent are ordered by (clock, id). It depends only on the set of ops, never on arrival order.
 * - Each op gets a position on a *chain* (a path of the graph) and a version vector over chains:
 *   `vv[c]` is the highest index on chain c that is in the op's causal past. Because every chain prefix
 *   is closed under "is an ancestor of", `a` is in the causal past of `b` iff `b.vv[chain(a)] >= index(a)`:
 *   an O(1) test, where walking the graph would cost O(n) per question.
 * Honest devices extend their own chain, so there are about as many chains as devices; a forking or
 * hostile writer only makes vectors longer, never answers wrong.
 */
export interface CausalGraph {
  /** Ready ops (all deps present, transitively) in linear order. */
  readonly order: readonly AnyOp[];
  /** Position in `order` of a ready op, undefined for any other id. */
  positionOf(id: OpId): number | undefined;
  /** For each position in `order`, the op's index in the array the graph was built from. */
  readonly inputIndex: Int32Array;
  /** For ops whose clock is not after that of one of their deps (a clock that went backwards): that dep, by position. */
  readonly clockRegressions: ReadonlyMap<number, OpId>;
  /** Ops that cannot be placed yet, with the reason (a missing dep, or a dep that is itself waiting). */
  readonly pending: ReadonlyMap<OpId, string>;
  /** Ready ops that no other ready op depends on: what a new op should name as its deps. */
  readonly heads: readonly OpId[];
  /** True iff `ancestor` is `descendant` or in its causal past. Both must be ready. */
  inPast(ancestor: number, descendant: number): boolean;
  /** Version vector of the union of the causal pasts of the given ready ops. */
  pastOf(positions: readonly number[]): VersionVector;
  /** True iff the op at `position` is in the causal past described by `vv`. */
  inVector(position: number, vv: VersionVector): boolean;
}

export type VersionVector = ArrayLike<number>;

const shortId = (id: string) => id.slice(0, 12);

/** Orders ops by clock, then id: the tie-break for everything concurrent. */
export function compareOps(a: AnyOp, b: AnyOp): number {
  return compareClocks(a.clock, b.clock) || compareCodeUnits(a.id, b.id);
}

/** Orders strings by UTF-16 code units, as `<` does (not by locale): the same order on every device. */
export function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** A binary min-heap of op indexes by rank: the priority queue of Kahn's algorithm. */
class RankHeap {
  private readonly items: Int32Array;
  private size = 0;
  constructor(
    capacity: number,
    private readonly rank: Int32Array,
  ) {
    this.items = new Int32Array(capacity);
  }
  push(item: number): void {
    const { items, rank } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (rank[items[parent]!]! <= rank[item]!) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }
  /** The lowest-ranked index, or -1 when empty. */
  pop(): number {
    if (this.size === 0) return -1;
    const { items, rank } = this;
    const top = items[0]!;
    const last = items[--this.size]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && rank[items[right]!]! < rank[items[left]!]! ? right : left;
      if (rank[items[child]!]! >= rank[last]!) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/**
 * `ops` must have unique ids. `writerOf(i)` names where `ops[i]` was read from, so that each writing device gets
 * its own chain; any function gives correct answers, a good one keeps the vectors short.
 */
export function buildCausalGraph(ops: readonly AnyOp[], writerOf: (index: number) => string): CausalGraph {
  // Everything below is indexed by the op's place in `ops`: arrays, not maps keyed by 64-character ids.
  const n = ops.length;
  const indexOf = new Map<OpId, number>();
  for (let i = 0; i < n; i++) indexOf.set(ops[i]!.id, i);

  // Each op's deps as input indexes, all in one buffer: op i's are depIndex[depStart[i] .. depStart[i + 1]].
  const depStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) depStart[i + 1] = depStart[i]! + ops[i]!.deps.length;
  const depIndex = new Int32Array(depStart[n]!);
  const waitingOn = new Int32Array(n);
  const dependentCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const deps = ops[i]!.deps;
    for (let d = 0; d < deps.length; d++) {
      const dep = indexOf.get(deps[d]!);
      // An absent dep is -1 and never satisfied: the op stays out of the heap and is reported pending.
      depIndex[depStart[i]! + d] = dep ?? -1;
      if (dep !== undefined) dependentCount[dep]!++;
    }
    waitingOn[i] = deps.length;
  }
  const dependentsStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) dependentsStart[i + 1] = dependentsStart[i]! + dependentCount[i]!;
  const dependents = new Int32Array(dependentsStart[n]!);
  const filled = dependentsStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let k = depStart[i]!; k < depStart[i + 1]!; k++) if (depIndex[k]! >= 0) dependents[filled[depIndex[k]!]!++] = i;
  }

  // Ranks by (clock, id), computed once, so the heap compares integers rather than clocks and 64-char ids.
  const byRank = Array.from({ length: n }, (_, i) => i).sort((a, b) => compareOps(ops[a]!, ops[b]!));
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[byRank[r]!] = r;
  const heap = new RankHeap(n, rank);
  for (let i = 0; i < n; i++) if (waitingOn[i] === 0) heap.push(i);

  const order: AnyOp[] = [];
  const positionOfIndex = new Int32Array(n).fill(-1);
  const chainOf = new Int32Array(n);
  const indexOnChain = new Int32Array(n);
  // All version vectors in one growing buffer (op at `pos` owns vvData[vvStart[pos] .. vvStart[pos + 1]]):
  // one allocation instead of one small typed array per op.
  let vvData = new Int32Array(Math.max(16, n * 4));
  const vvStart = new Int32Array(n + 1);
  const chainLength: number[] = [];
  const chainOfWriter = new Map<string, Map<string, number>>();
  const clockRegressions = new Map<number, OpId>();
  const hasDependent: boolean[] = [];

  const inputIndex = new Int32Array(n);
  for (let i = heap.pop(); i !== -1; i = heap.pop()) {
    const op = ops[i]!;
    const pos = order.length;
    order.push(op);
    positionOfIndex[i] = pos;
    inputIndex[pos] = i;
    hasDependent.push(false);

    // Room for every chain so far plus the one this op may start.
    const width = chainLength.length + 1;
    const start = vvStart[pos]!;
    if (start + width > vvData.length) {
      const grown = new Int32Array(Math.max(vvData.length * 2, start + width));
      grown.set(vvData);
      vvData = grown;
    }
    vvData.fill(-1, start, start + width);
    for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
      const dep = depIndex[k]!;
      const depPos = positionOfIndex[dep]!;
      hasDependent[depPos] = true;
      if (!clockRegressions.has(pos) && compareClocks(op.clock, ops[dep]!.clock) <= 0) clockRegressions.set(pos, ops[dep]!.id);
      for (let k = vvStart[depPos]!, c = 0; k < vvStart[depPos + 1]!; k++, c++) {
        if (vvData[start + c]! < vvData[k]!) vvData[start + c] = vvData[k]!;
      }
    }
    // One chain per writer (container and device label): an honest device has always seen its own last op, so
    // its ops form one chain and vectors stay as long as the number of devices. A writer that forks (or two
    // devices sharing a label) simply starts a new chain: vectors grow, answers stay exact.
    const container = writerOf(i);
    let devices = chainOfWriter.get(container);
    if (!devices) chainOfWriter.set(container, (devices = new Map()));
    let chain = devices.get(op.device);
    if (chain === undefined || vvData[start + chain]! < chainLength[chain]! - 1) {
      chain = chainLength.length;
      chainLength.push(0);
      devices.set(op.device, chain);
    }
    const index = chainLength[chain]!++;
    vvData[start + chain] = index;
    // The spare slot is kept only if this op started a new chain.
    vvStart[pos + 1] = start + (chain === width - 1 ? width : width - 1);
    chainOf[pos] = chain;
    indexOnChain[pos] = index;

    for (let k = dependentsStart[i]!; k < dependentsStart[i + 1]!; k++) {
      const next = dependents[k]!;
      if (--waitingOn[next]! === 0) heap.push(next);
    }
  }

  const pending = new Map<OpId, string>();
  if (order.length < n) {
    // Explain each waiting op by its first dep that is absent, or else waiting itself.
    const placed = (id: OpId) => positionOfIndex[indexOf.get(id)!]! >= 0;
    for (const op of ops) {
      if (placed(op.id)) continue;
      const absent = op.deps.find((dep) => !indexOf.has(dep));
      if (absent !== undefined) pending.set(op.id, `waits for op ${shortId(absent)}…, which has not arrived`);
    }
    let changed = true;
    while (changed) {
      changed = false;
      for (const op of ops) {
        if (placed(op.id) || pending.has(op.id)) continue;
        const waiting = op.deps.find((dep) => pending.has(dep));
        if (waiting !== undefined) {
          pending.set(op.id, `waits for op ${shortId(waiting)}…, which is itself waiting`);
          changed = true;
        }
      }
    }
    for (const op of ops) {
      if (!placed(op.id) && !pending.has(op.id)) pending.set(op.id, 'its deps form a cycle, so it can never be placed');
    }
  }

  const heads = order.filter((_, i) => !hasDependent[i]).map((op) => op.id).sort();

  const inVector = (pos: number, vv: VersionVector): boolean => (vv[chainOf[pos]!] ?? -1) >= indexOnChain[pos]!;
  return {
    order,
    positionOf(id) {
      const index = indexOf.get(id);
      const pos = index === undefined ? -1 : positionOfIndex[index]!;
      return pos >= 0 ? pos : undefined;
    },
    inputIndex: inputIndex.subarray(0, order.length),
    clockRegressions,
    pending,
    heads,
    inPast: (ancestor, descendant) => {
      const c = chainOf[ancestor]!;
      const start = vvStart[descendant]!;
      return c < vvStart[descendant + 1]! - start && vvData[start + c]! >= indexOnChain[ancestor]!;
    },
    pastOf(positions) {
      const merged: number[] = [];
      for (const pos of positions) {
        for (let k = vvStart[pos]!, c = 0; k < vvStart[pos + 1]!; k++, c++) if ((merged[c] ?? -1) < vvData[k]!) merged[c] = vvData[k]!;
      }
      for (let c = 0; c < merged.length; c++) if (merged[c] === undefined) merged[c] = -1;
      return merged;
    },
    inVector,
  };
}
