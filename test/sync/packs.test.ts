import { describe, expect, it, beforeAll } from 'vitest';
import { fold } from '../../src/model/fold.ts';
import { asContainerUrl, asInvoiceId, asWebId } from '../../src/model/ids.ts';
import type { AnyOp } from '../../src/model/ops.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { opsToPackTurtle } from '../../src/rdf/pack.ts';
import { checkpointNameOf, classifyMember, idSetHash, newestCheckpoint, packNameOf, readPack } from '../../src/sync/packs.ts';
import { generateNegotiation } from '../support/negotiation.ts';
import { negotiationOn } from './retarget.ts';

const container = asContainerUrl('https://seller.example/invoices/INV-1/ops/');
let ops: AnyOp[];

beforeAll(async () => {
  ops = generateNegotiation({ seed: 3, ops: 300, statusFlow: 'end' }).ops.map((s) => s.op);
});

describe('pack names', () => {
  it('tell single ops, packs and checkpoints apart', () => {
    const id = ops[0]!.id;
    expect(classifyMember(id)).toEqual({ kind: 'op', id });
    expect(classifyMember(packNameOf(ops))).toEqual({ kind: 'pack', hash: idSetHash(ops.map((op) => op.id)) });
    expect(classifyMember(checkpointNameOf(ops))).toEqual({ kind: 'checkpoint', count: ops.length, hash: idSetHash(ops.map((op) => op.id)) });
    for (const name of ['pack-xyz', 'checkpoint-0-' + id, 'checkpoint-01-' + id, `checkpoint-3-${id}-x`, 'packs/', '']) expect(classifyMember(name).kind).toBe('other');
  });

  it('name a set: the same ops in any order, with duplicates, give the same name and bytes', () => {
    const shuffled = [...ops].reverse().concat(ops.slice(0, 5));
    expect(packNameOf(shuffled)).toBe(packNameOf(ops));
    expect(opsToPackTurtle(shuffled)).toBe(opsToPackTurtle(ops));
  });

  it('the newest checkpoint is the one holding most ops, ties broken by hash', () => {
    const a = checkpointNameOf(ops.slice(0, 10));
    const b = checkpointNameOf(ops.slice(0, 20));
    const c = checkpointNameOf(ops.slice(1, 21));
    const expected = [b, c].sort().at(-1);
    expect(newestCheckpoint([a, b, c, 'x'])?.name).toBe(expected);
    expect(newestCheckpoint([])).toBeNull();
  });
});

describe('reading a pack', () => {
  it('gives back exactly the ops that were packed, each verified against its id', async () => {
    const name = packNameOf(ops);
    const read = await readPack(opsToPackTurtle(ops), container, name, { maxOps: 1000 });
    expect(read.refused).toEqual([]);
    expect(read.ops.map((op) => op.id).sort()).toEqual(ops.map((op) => op.id).sort());
    expect(JSON.stringify(fold(read.ops.map((op) => ({ op, container })), { invoiceId: asInvoiceId('INV-1') }))).toBe(
      JSON.stringify(fold(ops.map((op) => ({ op, container })), { invoiceId: asInvoiceId('INV-1') })),
    );
  });

  it('refuses the bad ops and keeps the good ones: one not conforming, one altered', async () => {
    const [a, b, c] = ops.slice(10, 13) as [AnyOp, AnyOp, AnyOp];
    const name = packNameOf([a, b, c]);
    let turtle = opsToPackTurtle([a, b, c]);
    // b: its device label changed (still conforms, no longer hashes to its id); c: a property the shape does not allow.
    turtle = turtle.replace(new RegExp(`(<#${b.id}>[^.]*?fi:device ")([^"]*)"`), '$1tampered"');
    turtle = turtle.replace(`<#${c.id}> a `, `<#${c.id}> <http://example.org/extra> "x"; a `);
    const read = await readPack(turtle, container, name, { maxOps: 1000 });
    expect(read.whole).toBe(false);
    expect(read.ops.map((op) => op.id)).toEqual([a.id]);
    const reasons = Object.fromEntries(read.refused.map((r) => [r.url.split('#')[1], r.reason]));
    expect(reasons[b.id]).toMatch(/^its content hashes to [0-9a-f]{12}…, not to its id in the pack/);
    expect(reasons[c.id]).toMatch(/does not conform to shape/);
  });

  it('refuses a whole pack whose ids do not hash to its name, that holds too many ops, or is not Turtle', async () => {
    const some = ops.slice(0, 5);
    const other = await readPack(opsToPackTurtle(some), container, packNameOf(ops.slice(0, 4)), { maxOps: 1000 });
    expect(other.whole).toBe(true);
    expect(other.refused[0]!.reason).toMatch(/not to its name/);
    const big = await readPack(opsToPackTurtle(some), container, packNameOf(some), { maxOps: 4 });
    expect(big.refused[0]!.reason).toMatch(/more than the 4/);
    const bad = await readPack('<a> <b>', container, packNameOf(some), { maxOps: 10 });
    expect(bad.refused[0]!.reason).toMatch(/malformed Turtle/);
    const lying = await readPack(opsToPackTurtle(some), container, `checkpoint-6-${idSetHash(some.map((op) => op.id))}`, { maxOps: 10 });
    expect(lying.refused[0]!.reason).toMatch(/says it holds 6 ops, but it holds 5/);
  });

  it('a single op resource is still one op: packing does not change opToTurtle', () => {
    expect(opToTurtle(ops[0]!)).toContain('<#op>');
  });
});

describe('retarget', () => {
  it('moves a generated negotiation onto other containers and it folds the same way', () => {
    const invoiceId = asInvoiceId('INV-MOVED');
    const buyer = { webId: asWebId('http://localhost:1/buyer/profile/card#me'), container: asContainerUrl('http://localhost:1/buyer/invoices/INV-MOVED/ops/') };
    const seller = { webId: asWebId('http://localhost:2/seller/profile/card#me'), container: asContainerUrl('http://localhost:2/seller/invoices/INV-MOVED/ops/') };
    const original = generateNegotiation({ seed: 5, ops: 400, statusFlow: 'end' });
    const moved = negotiationOn(invoiceId, buyer, seller, { seed: 5, ops: 400, statusFlow: 'end' });
    const a = fold(original.ops, { invoiceId: original.invoiceId });
    const b = fold(moved, { invoiceId, origin: buyer.container });
    expect(b.status).toBe(a.status);
    expect(b.status).toBe('received and paid');
    expect(b.totals).toEqual(a.totals);
    expect(b.rejected.length).toBe(a.rejected.length);
  });
});
