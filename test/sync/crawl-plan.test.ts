import { describe, expect, it } from 'vitest';
import { asContainerUrl, asOpId, type OpId } from '../../src/model/ids.ts';
import { checkpointsForRefused, lackingRefused, planCrawl, planFetches, type CheckpointMember, type PlanInput } from '../../src/sync/crawl-plan.ts';

// The crawler's decisions, without pods: what a listing makes it fetch, read first, defer and read again.
const container = asContainerUrl('https://seller.example/invoices/INV-1/ops/');
const id = (n: number): OpId => asOpId(n.toString(16).padStart(64, '0'));
const single = (n: number) => `${container}${id(n)}`;
const hash = (c: string) => c.repeat(64);
const pack = (c: string) => `${container}pack-${hash(c)}`;
const checkpoint = (count: number, c: string) => `${container}checkpoint-${count}-${hash(c)}`;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const limits = { useCheckpoints: true, checkpointMinGain: 16 };

function plan(members: string[], options: Partial<Omit<PlanInput, 'container' | 'members'>> = {}) {
  return planCrawl({ container, members, seen: new Set(), knownIds: new Set(), limits, ...options });
}

describe('planCrawl: what each listed member is', () => {
  it('fetches singles the device lacks, settles the ones it holds, reads packs, refuses names that hold no op', () => {
    const members = [single(1), single(2), single(3), pack('a'), `${container}notes.txt`, checkpoint(2, 'b')];
    const result = plan(members, { seen: new Set([single(3)]), knownIds: new Set([id(2)]) });
    expect([...result.singles]).toEqual([[id(1), single(1)]]);
    expect(result.held).toEqual([single(2)]);
    expect([...result.listedSingles].sort()).toEqual([id(1), id(2), id(3)]);
    expect(result.packs).toEqual([pack('a')]);
    expect(result.refused).toEqual([{ url: `${container}notes.txt`, reason: expect.stringMatching(/holds no ops/) }]);
    expect(result.checkpoints.map((c) => c.url)).toEqual([checkpoint(2, 'b')]);
  });

  it('skips every member seen before, whatever its kind', () => {
    const members = [single(1), pack('a'), checkpoint(5, 'b'), `${container}x`];
    const result = plan(members, { seen: new Set(members) });
    const sizes = [result.singles.size, result.packs.length, result.checkpoints.length, result.refused.length, result.held.length];
    expect(sizes).toEqual([0, 0, 0, 0, 0]);
    expect([...result.listedSingles]).toEqual([id(1)]);
  });

  it('orders checkpoints newest first: most ops, then the greatest hash, so every device picks the same', () => {
    const result = plan([checkpoint(10, 'a'), checkpoint(20, 'b'), checkpoint(20, 'c'), checkpoint(5, 'f')]);
    expect(result.checkpoints.map((c) => c.url)).toEqual([checkpoint(20, 'c'), checkpoint(20, 'b'), checkpoint(10, 'a'), checkpoint(5, 'f')]);
    expect(result.checkpoints[0]).toEqual({ url: checkpoint(20, 'c'), name: `checkpoint-20-${hash('c')}`, count: 20, hash: hash('c') });
  });
});

describe('planCrawl: which checkpoint to read first', () => {
  it('a new device with enough unfetched singles reads the newest checkpoint', () => {
    const members = [...range(0, 16).map(single), checkpoint(16, 'a'), checkpoint(12, 'b')];
    expect(plan(members).readFirst?.url).toBe(checkpoint(16, 'a'));
  });

  it('not when fewer than checkpointMinGain singles are unfetched', () => {
    expect(plan([...range(0, 15).map(single), checkpoint(100, 'a')]).readFirst).toBeNull();
  });

  it('not when the checkpoint spares fewer GETs than checkpointMinGain', () => {
    expect(plan([...range(0, 20).map(single), checkpoint(15, 'a')]).readFirst).toBeNull();
  });

  it('not when the device has more of the ops than the checkpoint would spare (it would fetch them again)', () => {
    const members = [...range(0, 200).map(single), checkpoint(150, 'a')];
    const knownIds = new Set(range(0, 76).map(id));
    // Holds 76 of 200, the checkpoint adds at most 150 - 76 = 74 < 76.
    expect(plan(members, { knownIds }).readFirst).toBeNull();
    // Holding 75: the gain 75 equals what it has, and the checkpoint is read.
    expect(plan(members, { knownIds: new Set(range(0, 75).map(id)) }).readFirst?.url).toBe(checkpoint(150, 'a'));
  });

  it('never with useCheckpoints off, and never a checkpoint read before', () => {
    const members = [...range(0, 40).map(single), checkpoint(40, 'a'), checkpoint(30, 'b')];
    expect(plan(members, { limits: { ...limits, useCheckpoints: false } }).readFirst).toBeNull();
    expect(plan(members, { seen: new Set([checkpoint(40, 'a')]) }).readFirst?.url).toBe(checkpoint(30, 'b'));
  });
});

describe('planFetches: what is fetched now and what waits', () => {
  const singles = new Map(range(0, 3).map((n) => [id(n), single(n)] as const));

  it('fetches single ops in listing order, then packs', () => {
    const { fetch, deferred } = planFetches(singles, [pack('a')], 10);
    expect(fetch).toEqual([...range(0, 3).map((n) => ({ kind: 'op', url: single(n), id: id(n) })), { kind: 'pack', url: pack('a') }]);
    expect(deferred).toBe(0);
  });

  it('defers everything past maxNewMembers to the next crawl', () => {
    const { fetch, deferred } = planFetches(singles, [pack('a'), pack('b')], 4);
    expect(fetch.map((item) => item.url)).toEqual([single(0), single(1), single(2), pack('a')]);
    expect(deferred).toBe(1);
    expect(planFetches(new Map(), [], 4)).toEqual({ fetch: [], deferred: 0 });
  });
});

describe('refused singles and checkpoint copies', () => {
  const listed = new Set([id(1), id(2), id(3)]);

  it('lacks a refused single the container lists and the device does not hold, once', () => {
    const refused = [single(1), single(1), single(2), single(9), `${pack('a')}#${id(3)}`].map((url) => ({ url, reason: 'altered' }));
    expect(lackingRefused(container, refused, listed, new Set([id(2)]))).toEqual([id(1)]);
  });

  it('reads every unread checkpoint, newest first, only when such an op is lacking', () => {
    const all: readonly CheckpointMember[] = plan([checkpoint(3, 'a'), checkpoint(9, 'b'), checkpoint(5, 'c')]).checkpoints;
    expect(checkpointsForRefused(all, new Set(), 0)).toEqual([]);
    expect(checkpointsForRefused(all, new Set([checkpoint(9, 'b')]), 1).map((c) => c.url)).toEqual([checkpoint(5, 'c'), checkpoint(3, 'a')]);
  });
});
