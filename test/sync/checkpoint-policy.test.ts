import { describe, expect, it } from 'vitest';
import { asContainerUrl, asOpId } from '../../src/model/ids.ts';
import { checkpointContents, checkpointDue, DEFAULT_CHECKPOINT_EVERY, type CheckpointPolicy } from '../../src/sync/checkpoint-policy.ts';
import { emptyContainerState, type ContainerState } from '../../src/sync/store.ts';

// When a device writes a checkpoint of its own container and what it holds, from the container state alone.
const container = asContainerUrl('https://buyer.example/invoices/INV-1/ops/');
const id = (n: number) => asOpId(n.toString(16).padStart(64, '0'));
const singles = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `${container}${id(from + i)}`);
const checkpointName = (count: number) => `checkpoint-${count}-${'c'.repeat(64)}`;

const state = (seen: string[], more: Partial<ContainerState> = {}): ContainerState => ({ ...emptyContainerState(), seen, ...more });
const due = (s: ContainerState | undefined, more: Partial<CheckpointPolicy> = {}) =>
  checkpointDue({ container, state: s, crawled: 'updated', every: DEFAULT_CHECKPOINT_EVERY, ...more });

describe('checkpointDue', () => {
  it('is due at `every` single ops no checkpoint holds, not one before', () => {
    expect(due(state(singles(200)))).toBe(true);
    expect(due(state(singles(199)))).toBe(false);
  });

  it('counts single ops only: packs and checkpoints the device has seen do not count', () => {
    const others = [`${container}pack-${'a'.repeat(64)}`, `${container}${checkpointName(5)}`];
    expect(due(state([...singles(199), ...others]))).toBe(false);
  });

  it('after a checkpoint, needs `every` more single ops and a quarter of its count', () => {
    const covered = { checkpoints: [checkpointName(1000)] };
    expect(due(state(singles(1249), covered))).toBe(false);
    expect(due(state(singles(1250), covered))).toBe(true);
    const small = { checkpoints: [checkpointName(400), checkpointName(100)] };
    expect(due(state(singles(599), small))).toBe(false);
    expect(due(state(singles(600), small))).toBe(true);
  });

  it('never when the crawl did not list the container anew, when turned off, or with nothing known', () => {
    const many = state(singles(500));
    expect(due(many, { crawled: 'unchanged' })).toBe(false);
    expect(due(many, { crawled: 'stale' })).toBe(false);
    expect(due(many, { crawled: undefined })).toBe(false);
    expect(due(many, { every: 0 })).toBe(false);
    expect(due(undefined)).toBe(false);
    expect(due(many, { every: 500 })).toBe(true);
  });
});

describe('checkpointContents', () => {
  it('holds the single ops the device has seen, never a refused one, a pack or a checkpoint', () => {
    const seen = [...singles(4), `${container}pack-${'a'.repeat(64)}`, `${container}${checkpointName(2)}`, 'https://elsewhere.example/x/' + id(9)];
    const refused = [{ url: `${container}${id(2)}`, reason: 'altered' }];
    expect([...checkpointContents(container, state(seen, { refused }))].sort()).toEqual([id(0), id(1), id(3)]);
  });
});
