import { tick } from './clock.ts';
import { OpRefusedError } from './errors.ts';
import { withId } from './hash.ts';
import type { InvoiceId, OpId } from './ids.ts';
import type { FoldedInvoice } from './invoice.ts';
import { isDecimalString, normalizeDecimal } from './money.ts';
import type { Hlc, KeyBinding, Op, OpType, PayloadByType } from './ops.ts';
import { PARTY_OP_TYPES, whoMayWrite, type Side } from './roles.ts';
import { validateOpStructure } from './validate.ts';

/**
 * How far ahead of a device's own wall clock an op may be for the device to build on it. An op clocked further
 * ahead is folded and shown like any other, but new ops do not name it as a dep until the device's clock gets
 * there: a clock pushed to year 9999 cannot drag every later op after it, nor leave them no clock value at all.
 */
export const MAX_CLOCK_DRIFT_MS = 24 * 60 * 60 * 1000;

/** The ops a device builds its next op on: all but those clocked more than MAX_CLOCK_DRIFT_MS ahead of `nowMs`. */
export function buildableOps<T extends { op: { clock: Hlc } }>(ops: readonly T[], nowMs: number): T[] {
  const limit = nowMs + MAX_CLOCK_DRIFT_MS;
  return ops.filter((sourced) => sourced.op.clock.wallMs <= limit);
}

/** What a device knows when it makes an op: the heads and latest clock of its own fold. */
export interface DeviceView {
  readonly invoiceId: InvoiceId;
  /** Device label, e.g. "desktop". */
  readonly device: string;
  readonly heads: readonly OpId[];
  readonly latestClock: Hlc;
  /** The key the device signs with, declared on its first op of the invoice (signatures.ts). */
  readonly signingKey?: KeyBinding;
}

const DECIMAL_FIELDS = ['unitPrice', 'taxRate', 'amount', 'percent'] as const;

/** One spelling per value, so that the same intent typed twice has the same id. */
function normalizePayload<T extends OpType>(type: T, payload: PayloadByType[T]): PayloadByType[T] {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload as object)) {
    if (value === undefined) continue;
    copy[key] = (DECIMAL_FIELDS as readonly string[]).includes(key) && isDecimalString(value) ? normalizeDecimal(value) : value;
  }
  if (type === 'AddParticipant') copy['allowedTypes'] = [...new Set(copy['allowedTypes'] as string[])].sort();
  if (type === 'Propose') copy['heads'] = [...new Set(copy['heads'] as string[])].sort();
  return copy as PayloadByType[T];
}

/**
 * LOCAL DENY: a device refuses, before writing anything, an op its party may never write.
 * (Departments are checked by the fold against what they were allowed.)
 */
export function assertPartyMayWrite(side: Side, type: OpType): void {
  if (!PARTY_OP_TYPES[side].has(type)) {
    throw new OpRefusedError(`the ${side} may not write ${type}: ${type} may only be written by ${whoMayWrite(type)}`);
  }
}

/**
 * Makes a new op on a device: normalised payload, a clock after everything seen, the current heads as deps,
 * and its content hash as id. Throws OpRefusedError (nothing is made) if the op is not well-formed.
 */
export function makeOp<T extends OpType>(type: T, payload: PayloadByType[T], view: DeviceView, nowMs: number): Op<T> {
  const op = withId({
    invoiceId: view.invoiceId,
    type,
    payload: normalizePayload(type, payload),
    device: view.device,
    clock: tick(view.latestClock, nowMs),
    deps: type === 'CreateInvoice' ? [] : [...new Set(view.heads)].sort(),
    ...(view.signingKey ? { signingKey: { controller: view.signingKey.controller, key: view.signingKey.key } } : {}),
  });
  const problem = validateOpStructure(op);
  if (problem) throw new OpRefusedError(`${type} was not written: ${problem}`);
  return op;
}

/** The payload of a Propose of the invoice as this device sees it now. */
export function proposalOf(invoice: FoldedInvoice): PayloadByType['Propose'] {
  if (invoice.agreement) throw new OpRefusedError(`invoice ${invoice.invoiceId} is already agreed on terms ${invoice.agreement.termsHash.slice(0, 12)}…`);
  if (invoice.notProposable || invoice.termsHash === null) throw new OpRefusedError(`invoice ${invoice.invoiceId} cannot be proposed yet: ${invoice.notProposable}`);
  return { termsHash: invoice.termsHash, heads: [...invoice.heads] };
}

/** The payload of an Accept of the other party's open proposal. */
export function acceptanceOf(invoice: FoldedInvoice, side: Side): PayloadByType['Accept'] {
  const proposal = invoice.proposal;
  if (invoice.agreement) throw new OpRefusedError(`invoice ${invoice.invoiceId} is already agreed`);
  if (!proposal) throw new OpRefusedError(`there is no proposal to accept on invoice ${invoice.invoiceId}`);
  if (proposal.side === side) throw new OpRefusedError(`the open proposal is the ${side}'s own; the other party must accept it`);
  return { termsHash: proposal.termsHash };
}
