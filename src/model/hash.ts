import canonicalizeModule from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { OpId } from './ids.ts';
import type { OpContent, OpType, Op } from './ops.ts';

// canonicalize is CommonJS whose .d.ts claims an ES default export; at run time the default import
// is the function itself, so the type is corrected here once.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** RFC 8785 (JSON Canonicalization Scheme): the same value always serialises to the same bytes. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** The fields that make an op's identity, in a fixed shape (an `id` already on the object is ignored). */
export function opContentOf<T extends OpType>(op: OpContent<T>): OpContent<T> {
  return {
    invoiceId: op.invoiceId,
    type: op.type,
    payload: op.payload,
    device: op.device,
    clock: { wallMs: op.clock.wallMs, counter: op.clock.counter },
    deps: op.deps,
  };
}

/** An op's id is the SHA-256 of its canonical content: it cannot be altered without changing its name. */
export function computeOpId(content: OpContent): OpId {
  return sha256Hex(canonicalJson(opContentOf(content))) as OpId;
}

/**
 * Ops whose id this process computed from their content. Ops are immutable values, so a verified op need
 * not be hashed again: the crawler hashes once at ingest, and the fold's own check is then a lookup.
 */
const verified = new WeakSet<object>();

export function withId<T extends OpType>(content: OpContent<T>): Op<T> {
  const clean = opContentOf(content);
  const op: Op<T> = { id: computeOpId(clean), ...clean };
  verified.add(op);
  return op;
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
