/**
 * Packing: many ops in one resource, each still an immutable, content-addressed, verifiable op.
 *
 * A party's op container (`<pod>/invoices/<id>/ops/`) holds three kinds of members, told apart by name:
 *
 *   <op id>                          one op (64 hex): the single-op layout, PUT with If-None-Match: *.
 *   pack-<hash>                      a batch of ops a device made together (e.g. an imported order), written
 *                                    in one request. <hash> = SHA-256 of the sorted ids of the ops inside.
 *   checkpoint-<count>-<hash>        a copy of <count> ops of the party that are also in the container as
 *                                    single resources, so that a new device reads one resource instead of
 *                                    <count>. Same <hash> rule.
 *
 * Inside a pack or checkpoint every op is the subject `<#<op id>>`: addressable as `<resource URL>#<op id>`, and
 * verified like a single op (read strictly, then its content must hash to that id). The resource's name binds the set
 * of ids it holds, so a pack cannot be changed without changing its name.
 *
 * Authorship does not change: an op read from a pack or checkpoint in a party's container is attributed to that
 * container, exactly like a single op read from it. Only that party can write there.
 */
import { sha256Hex } from '../model/hash.ts';
import { isOpId, type ContainerUrl, type OpId } from '../model/ids.ts';
import type { AnyOp } from '../model/ops.ts';
import { opsToPackTurtle, parseOpPack } from '../rdf/pack.ts';
import type { OpValidator } from '../rdf/shacl.ts';

const PACK_PREFIX = 'pack-';
const CHECKPOINT_PREFIX = 'checkpoint-';

export type MemberName =
  | { readonly kind: 'op'; readonly id: OpId }
  | { readonly kind: 'pack'; readonly hash: string }
  | { readonly kind: 'checkpoint'; readonly hash: string; readonly count: number }
  | { readonly kind: 'other' };

const HEX64 = /^[0-9a-f]{64}$/;
const COUNT = /^[1-9][0-9]{0,8}$/;

/** What a member of an op container is, by its name (the part after the container URL). */
export function classifyMember(name: string): MemberName {
  if (isOpId(name)) return { kind: 'op', id: name };
  if (name.startsWith(PACK_PREFIX)) {
    const hash = name.slice(PACK_PREFIX.length);
    if (HEX64.test(hash)) return { kind: 'pack', hash };
  }
  if (name.startsWith(CHECKPOINT_PREFIX)) {
    const [count, hash, ...rest] = name.slice(CHECKPOINT_PREFIX.length).split('-');
    if (rest.length === 0 && count !== undefined && hash !== undefined && COUNT.test(count) && HEX64.test(hash)) {
      return { kind: 'checkpoint', hash, count: Number(count) };
    }
  }
  return { kind: 'other' };
}

/** SHA-256 of the sorted, distinct op ids, one per line: the name of a set of ops. */
export function idSetHash(ids: Iterable<string>): string {
  return sha256Hex([...new Set(ids)].sort().join('\n'));
}

const distinct = (ops: readonly AnyOp[]): AnyOp[] => [...new Map(ops.map((op) => [op.id, op])).values()];

export function packNameOf(ops: readonly AnyOp[]): string {
  return `${PACK_PREFIX}${idSetHash(ops.map((op) => op.id))}`;
}

export function checkpointNameOf(ops: readonly AnyOp[]): string {
  const unique = distinct(ops);
  return `${CHECKPOINT_PREFIX}${unique.length}-${idSetHash(unique.map((op) => op.id))}`;
}

/** The resource to PUT for a pack or a checkpoint. */
export function packResource(kind: 'pack' | 'checkpoint', ops: readonly AnyOp[]): { name: string; turtle: string; count: number } {
  const unique = distinct(ops);
  return { name: kind === 'pack' ? packNameOf(unique) : checkpointNameOf(unique), turtle: opsToPackTurtle(unique), count: unique.length };
}

/**
 * The checkpoint a crawler should prefer: the one holding the most ops (ties: the greatest hash), so every
 * device picks the same one from the same listing.
 */
export function newestCheckpoint(names: Iterable<string>): { name: string; count: number; hash: string } | null {
  let best: { name: string; count: number; hash: string } | null = null;
  for (const name of names) {
    const kind = classifyMember(name);
    if (kind.kind !== 'checkpoint') continue;
    const better = !best || kind.count > best.count || (kind.count === best.count && kind.hash > best.hash);
    if (better) best = { name, count: kind.count, hash: kind.hash };
  }
  return best;
}

export interface PackReadResult {
  /** Ops that conform and hash to the id the pack names them by. */
  readonly ops: AnyOp[];
  /** Refused ops (url `<pack>#<id>`) or, when `whole` is set, the pack itself. */
  readonly refused: Array<{ url: string; reason: string }>;
  /** True when the pack as a whole was refused (malformed, name does not match its content, too many ops). */
  readonly whole: boolean;
}

/**
 * Reads a pack or checkpoint fetched from `url` (member `name` of `container`): refuses it whole when its ids do
 * not hash to its name (or a checkpoint holds another number of ops than its name says); otherwise refuses the bad
 * ops one by one and keeps the good ones. Ops are read by the table-driven reader; with a validator, SHACL-validated
 * first (the same verdicts, at a higher cost).
 */
export async function readPack(
  body: string,
  container: ContainerUrl,
  name: string,
  options: { readonly maxOps: number; readonly validator?: OpValidator },
): Promise<PackReadResult> {
  const url = `${container}${name}`;
  const kind = classifyMember(name);
  if (kind.kind !== 'pack' && kind.kind !== 'checkpoint') return { ops: [], refused: [{ url, reason: 'its name is neither pack-<hash> nor checkpoint-<count>-<hash>' }], whole: true };
  const parsed = await parseOpPack(body, url, options);
  if (!parsed.ok) return { ops: [], refused: [{ url, reason: parsed.reason }], whole: true };
  const named = parsed.entries.filter((entry) => entry.id !== null).map((entry) => entry.id!);
  if (idSetHash(named) !== kind.hash) {
    return { ops: [], refused: [{ url, reason: `the op ids it holds hash to ${idSetHash(named).slice(0, 12)}…, not to its name: it was altered after it was written` }], whole: true };
  }
  if (kind.kind === 'checkpoint' && new Set(named).size !== kind.count) {
    return { ops: [], refused: [{ url, reason: `its name says it holds ${kind.count} ops, but it holds ${new Set(named).size}` }], whole: true };
  }
  const ops: AnyOp[] = [];
  const refused: Array<{ url: string; reason: string }> = [];
  for (const entry of parsed.entries) {
    const at = entry.id ? `${url}#${entry.id}` : entry.subject;
    if (!entry.result.ok) refused.push({ url: at, reason: entry.result.reason });
    else if (entry.result.op.id !== entry.id) {
      refused.push({ url: at, reason: `its content hashes to ${entry.result.op.id.slice(0, 12)}…, not to its id in the pack: it was altered after it was written` });
    } else ops.push(entry.result.op);
  }
  return { ops, refused, whole: false };
}
