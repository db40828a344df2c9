import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { OpId } from './ids.ts';
import type { KeyBinding, OpContent, OpType, Op, Proof } from './ops.ts';

/** A key JavaScript objects order before all others (an array index), whatever order it was added in. */
const INDEX_KEY = /^(0|[1-9][0-9]{0,9})$/;
const isIndexKey = (key: string): boolean => key.charCodeAt(0) <= 0x39 && INDEX_KEY.test(key) && Number(key) < 4_294_967_295;

function finite(value: number): number {
  if (Number.isNaN(value)) throw new Error('NaN is not allowed');
  if (!Number.isFinite(value)) throw new Error('Infinity is not allowed');
  return value;
}

/**
 * The value with every object's keys in sorted order (by UTF-16 code units), so that JSON.stringify writes it
 * in canonical form: for plain data, key order and non-finite numbers are all RFC 8785 adds to JSON.stringify.
 * Parts already in order are returned as they are, not copied. Throws IndexKey for an object with an
 * array-index key ("42"), which no object can hold out of numeric order.
 */
function sortedKeys(value: unknown): unknown {
  if (typeof value === 'number') return finite(value);
  if (typeof value !== 'object' || value === null) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sortedKeys((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const sorted = item === undefined ? null : sortedKeys(item);
      if (copy === null && sorted !== item) copy = value.slice(0, i);
      copy?.push(sorted);
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let inOrder = true;
  for (let i = 0; i < keys.length; i++) {
    if (isIndexKey(keys[i]!)) throw new IndexKey();
    if (i > 0 && !(keys[i - 1]! < keys[i]!)) inOrder = false;
  }
  if (inOrder && keys.every((key) => sortedKeys(record[key]) === record[key])) return value;
  // No prototype: a "__proto__" key is then a key like any other.
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of keys.sort()) out[key] = sortedKeys(record[key]);
  return out;
}
class IndexKey extends Error {}

/** RFC 8785 written out in JavaScript: for the rare object with array-index keys. */
function serialize(value: unknown): string | undefined {
  if (typeof value === 'number') return JSON.stringify(finite(value));
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return serialize((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item) ?? 'null').join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const text = serialize((value as Record<string, unknown>)[key]);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * RFC 8785 (JSON Canonicalization Scheme): the same value always serialises to the same bytes. Native
 * JSON.stringify of a key-sorted copy: several times faster than serialising in JavaScript.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(sortedKeys(value)) as string | undefined;
  } catch (error) {
    if (!(error instanceof IndexKey)) throw error;
    text = serialize(value);
  }
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

/** SHA-256 of a text's UTF-8 bytes, as lowercase hex. */
export type Sha256Hex = (text: string) => string;

/** SHA-256 in pure JavaScript; callers outside the model may pass a native one (node:crypto) where ids are computed in bulk. */
export const sha256Hex: Sha256Hex = (text) => bytesToHex(sha256(utf8ToBytes(text)));

/** The fields that make an op's identity, in a fixed shape (an `id` already on the object is ignored). */
export function opContentOf<T extends OpType>(op: OpContent<T>): OpContent<T> {
  const content: OpContent<T> = {
    invoiceId: op.invoiceId,
    type: op.type,
    payload: op.payload,
    device: op.device,
    clock: { wallMs: op.clock.wallMs, counter: op.clock.counter },
    deps: op.deps,
  };
  return op.signingKey === undefined ? content : { ...content, signingKey: op.signingKey };
}

/**
 * An op's id is the SHA-256 of its canonical content: it cannot be altered without changing its name. An absent
 * declared key is left out, so ops that declare none keep the ids they had before the field existed.
 */
export function computeOpId(content: OpContent, sha256 = sha256Hex): OpId {
  // The same fields as opContentOf, with keys in canonical (sorted) order.
  const { clock, deps, device, invoiceId, payload, signingKey, type } = content;
  const sortedClock = { counter: clock.counter, wallMs: clock.wallMs };
  const canonical =
    signingKey === undefined
      ? { clock: sortedClock, deps, device, invoiceId, payload, type }
      : { clock: sortedClock, deps, device, invoiceId, payload, signingKey, type };
  return sha256(canonicalJson(canonical)) as OpId;
}

/**
 * Ops whose id this process computed from their content. Ops are immutable values, so a verified op need
 * not be hashed again: the crawler hashes once at ingest, and the fold's own check is then a lookup.
 */
const verified = new WeakSet<object>();

export function withId<T extends OpType>(content: OpContent<T>, sha256 = sha256Hex): Op<T> {
  return verifiedOp(content, computeOpId(content, sha256));
}

/**
 * withId for a reader that has already written the content's canonical JSON, from the op table's fields in sorted
 * order (src/rdf/codec.ts); test/rdf/agreement.test.ts checks that the ids it gets are withId's.
 */
export function withIdOfCanonical<T extends OpType>(content: OpContent<T>, canonical: string, sha256: Sha256Hex): Op<T> {
  return verifiedOp(content, sha256(canonical) as OpId);
}

function verifiedOp<T extends OpType>(content: OpContent<T> & { readonly proof?: Proof }, id: OpId): Op<T> {
  const { invoiceId, type, payload, device, clock, deps, signingKey, proof } = content;
  // The fields of opContentOf, written out: ops are made in bulk when read. A signature read with it is kept.
  const op: Op<T> = { id, invoiceId, type, payload, device, clock: { wallMs: clock.wallMs, counter: clock.counter }, deps };
  if (signingKey !== undefined) (op as { signingKey?: KeyBinding }).signingKey = signingKey;
  if (proof !== undefined) (op as { proof?: Proof }).proof = proof;
  verified.add(op);
  return op;
}

/** The op with a signature: the same id (a signature is not part of the content), still known to match it if it was. */
export function withProof<T extends OpType>(op: Op<T>, proof: Proof): Op<T> {
  const signed: Op<T> = { ...op, proof };
  if (verified.has(op)) verified.add(signed);
  return signed;
}

/** True iff the op's id is the hash of its content. Never throws. */
export function hasVerifiedId(op: Op): boolean {
  if (verified.has(op)) return true;
  try {
    if (computeOpId(op) !== op.id) return false;
  } catch {
    return false;
  }
  verified.add(op);
  return true;
}
