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
  /** Position of each ready op in `order`. */
  readonly position: ReadonlyMap<OpId, number>;
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

export type VersionVector = readonly number[];

const shortId = (id: string) => id.slice(0, 12);

/** Orders ops by clock, then id: the tie-break for everything concurrent. */
export function compareOps(a: AnyOp, b: AnyOp): number {
  return compareClocks(a.clock, b.clock) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A binary min-heap; the priority queue of Kahn's algorithm. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.less(items[left]!, items[smallest]!)) smallest = left;
        if (right < items.length && this.less(items[right]!, items[smallest]!)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

/**
 * `ops` must have unique ids. `writerOf` names where each op was read from, so that each writing device gets
 * its own chain; any function gives correct answers, a good one keeps the vectors short.
 */
export function buildCausalGraph(ops: readonly AnyOp[], writerOf: (op: AnyOp) => string = () => ''): CausalGraph {
  // Everything below is indexed by the op's place in `ops`: arrays, not maps keyed by 64-character ids.
  const n = ops.length;
  const indexOf = new Map<OpId, number>();
  for (let i = 0; i < n; i++) indexOf.set(ops[i]!.id, i);

  const depIndexes: Int32Array[] = new Array(n);
  const waitingOn = new Int32Array(n);
  const dependentCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const deps = ops[i]!.deps;
    const indexes = new Int32Array(deps.length);
    for (let d = 0; d < deps.length; d++) {
      const dep = indexOf.get(deps[d]!);
      // An absent dep is -1 and never satisfied: the op stays out of the heap and is reported pending.
      indexes[d] = dep ?? -1;
      if (dep !== undefined) dependentCount[dep]!++;
    }
    depIndexes[i] = indexes;
    waitingOn[i] = deps.length;
  }
  const dependentsStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) dependentsStart[i + 1] = dependentsStart[i]! + dependentCount[i]!;
  const dependents = new Int32Array(dependentsStart[n]!);
  const filled = dependentsStart.slice(0, n);
  for (let i = 0; i < n; i++) for (const dep of depIndexes[i]!) if (dep >= 0) dependents[filled[dep]!++] = i;

  const heap = new Heap<number>((a, b) => compareOps(ops[a]!, ops[b]!) < 0);
  for (let i = 0; i < n; i++) if (waitingOn[i] === 0) heap.push(i);

  const order: AnyOp[] = [];
  const position = new Map<OpId, number>();
  const positionOfIndex = new Int32Array(n).fill(-1);
  const chainOf: number[] = [];
  const indexOnChain: number[] = [];
  const vectors: number[][] = [];
  const chainLength: number[] = [];
  const chainOfWriter = new Map<string, number>();
  const hasDependent: boolean[] = [];

  for (let i = heap.pop(); i !== undefined; i = heap.pop()) {
    const op = ops[i]!;
    const pos = order.length;
    order.push(op);
    position.set(op.id, pos);
    positionOfIndex[i] = pos;
    hasDependent.push(false);

    const vv: number[] = [];
    for (const depIndex of depIndexes[i]!) {
      const depPos = positionOfIndex[depIndex]!;
      hasDependent[depPos] = true;
      const depVv = vectors[depPos]!;
      for (let c = 0; c < depVv.length; c++) if ((vv[c] ?? -1) < depVv[c]!) vv[c] = depVv[c]!;
    }
    for (let c = 0; c < vv.length; c++) if (vv[c] === undefined) vv[c] = -1;
    // One chain per writer (container and device label): an honest device has always seen its own last op, so
    // its ops form one chain and vectors stay as long as the number of devices. A writer that forks (or two
    // devices sharing a label) simply starts a new chain: vectors grow, answers stay exact.
    const writer = `${op.device} ${writerOf(op)}`;
    let chain = chainOfWriter.get(writer);
    if (chain === undefined || (vv[chain] ?? -1) < chainLength[chain]! - 1) {
      chain = chainLength.length;
      chainLength.push(0);
      chainOfWriter.set(writer, chain);
    }
    const index = chainLength[chain]!++;
    while (vv.length <= chain) vv.push(-1);
    vv[chain] = index;
    chainOf.push(chain);
    indexOnChain.push(index);
    vectors.push(vv);

    for (let k = dependentsStart[i]!; k < dependentsStart[i + 1]!; k++) {
      const next = dependents[k]!;
      if (--waitingOn[next]! === 0) heap.push(next);
    }
  }

  const pending = new Map<OpId, string>();
  if (order.length < n) {
    // Explain each waiting op by its first dep that is absent, or else waiting itself.
    for (const op of ops) {
      if (position.has(op.id)) continue;
      const absent = op.deps.find((dep) => !indexOf.has(dep));
      if (absent !== undefined) pending.set(op.id, `waits for op ${shortId(absent)}…, which has not arrived`);
    }
    let changed = true;
    while (changed) {
      changed = false;
      for (const op of ops) {
        if (position.has(op.id) || pending.has(op.id)) continue;
        const waiting = op.deps.find((dep) => pending.has(dep));
        if (waiting !== undefined) {
          pending.set(op.id, `waits for op ${shortId(waiting)}…, which is itself waiting`);
          changed = true;
        }
      }
    }
    for (const op of ops) {
      if (!position.has(op.id) && !pending.has(op.id)) pending.set(op.id, 'its deps form a cycle, so it can never be placed');
    }
  }

  const heads = order.filter((_, i) => !hasDependent[i]).map((op) => op.id).sort();

  const inVector = (pos: number, vv: VersionVector): boolean => (vv[chainOf[pos]!] ?? -1) >= indexOnChain[pos]!;
  return {
    order,
    position,
    pending,
    heads,
    inPast: (ancestor, descendant) => inVector(ancestor, vectors[descendant]!),
    pastOf(positions) {
      const merged: number[] = [];
      for (const pos of positions) {
        const vv = vectors[pos]!;
        for (let c = 0; c < vv.length; c++) if ((merged[c] ?? -1) < vv[c]!) merged[c] = vv[c]!;
      }
      for (let c = 0; c < merged.length; c++) if (merged[c] === undefined) merged[c] = -1;
      return merged;
    },
    inVector,
  };
}
