/**
 * An evidence bundle: what a third party (an auditor, a tax authority, a court) needs to check an invoice's history
 * without any pod. JSON Lines: a header (format, invoice, origin, the device keys that signed) and then one signed
 * op a line: every op the fold accepted, so the agreed invoice's causal past and whatever followed (shipping,
 * payment, disputes). One op a line, so that a damaged line is still named by the op it held.
 */
import { fold } from '../model/fold.ts';
import { hasVerifiedId } from '../model/hash.ts';
import { asContainerUrl, type ContainerUrl, type InvoiceId, type OpId, type TermsHash } from '../model/ids.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import type { AnyOp, OpType, SourcedOp } from '../model/ops.ts';
import { signedText, type PublishedKey, type SignaturePolicy, type VerifySignature } from '../model/signatures.ts';
import { validateOpStructure } from '../model/validate.ts';
import { sharedVerifier } from './device-key.ts';

export const BUNDLE_FORMAT = 'fedinvoice-evidence/1';

interface BundleHeader {
  readonly format: typeof BUNDLE_FORMAT;
  readonly invoiceId: InvoiceId;
  readonly origin: ContainerUrl;
  readonly keys: readonly PublishedKey[];
}

/** Where a bundle's ops count as read from: nobody's container, so each op is its signer's (signatures.ts). */
const BUNDLE = asContainerUrl('https://bundle.invalid/evidence/');

/** The bundle of an invoice as a device folded it: every accepted op with its signature, and the keys that signed them. */
export function writeBundle(
  invoice: FoldedInvoice,
  ops: readonly SourcedOp[],
  origin: ContainerUrl,
  keys: readonly PublishedKey[],
): string {
  if (invoice.invoiceId === null) throw new Error('no invoice to bundle: its CreateInvoice has not arrived');
  // Rejected ops too: accepted ops may build on them, and a bundle must hold every op's causal past.
  const accepted = new Set(invoice.log.filter((entry) => entry.state !== 'pending').map((entry) => entry.opId));
  const byId = new Map<OpId, AnyOp>();
  for (const { op } of ops) if (accepted.has(op.id) && op.proof !== undefined) byId.set(op.id, op);
  const inOrder = invoice.log.filter((entry) => byId.has(entry.opId)).map((entry) => byId.get(entry.opId)!);
  const used = new Set(inOrder.map((op) => op.proof!.key));
  const signing = keys.filter((key) => used.has(key.key));
  const header: BundleHeader = { format: BUNDLE_FORMAT, invoiceId: invoice.invoiceId, origin, keys: signing };
  return [header, ...inOrder].map((line) => JSON.stringify(line)).join('\n') + '\n';
}

/** Who signed one decision (a status op). */
export interface SignedDecision {
  readonly opId: OpId;
  readonly type: OpType;
  readonly webId: string;
  readonly device: string;
  readonly key: string;
  readonly at: string;
  readonly state: 'accepted' | 'rejected' | 'pending';
}

export type BundleVerdict =
  | {
      readonly ok: true;
      readonly invoice: FoldedInvoice;
      readonly termsHash: TermsHash | null;
      readonly decisions: readonly SignedDecision[];
      readonly ops: number;
    }
  | { readonly ok: false; readonly problem: string; readonly opId: string | null };

const DECISIONS: ReadonlySet<OpType> = new Set<OpType>(['Propose', 'Accept', 'MarkShipped', 'MarkPaid', 'MarkReceived', 'Dispute']);
const HEX_ID = /"id":"([0-9a-f]{64})"/;

const fail = (problem: string, opId: string | null = null): BundleVerdict => ({ ok: false, problem, opId });

/**
 * Checks a bundle offline: every op is well formed, named by the hash of its content and signed by a key in the
 * header; then the fold of exactly those ops must place every one (an op left out leaves the ops built on it
 * waiting). The first op that fails is named.
 */
export function verifyBundle(text: string, verify: VerifySignature = sharedVerifier): BundleVerdict {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = parseLine(lines[0] ?? '') as Partial<BundleHeader> | undefined;
  if (header?.format !== BUNDLE_FORMAT || !Array.isArray(header.keys) || typeof header.origin !== 'string') {
    return fail(`this is not a fedinvoice evidence bundle (${BUNDLE_FORMAT}): its first line is missing, damaged or of another format`);
  }
  const keys = new Map(header.keys.map((key) => [key.key, key]));
  const ops: AnyOp[] = [];
  for (let i = 1; i < lines.length; i++) {
    const op = parseLine(lines[i]!) as AnyOp | undefined;
    const named = op && typeof op.id === 'string' ? op.id : (HEX_ID.exec(lines[i]!)?.[1] ?? null);
    const where = `line ${i + 1}${named ? ` (op ${named})` : ''}`;
    if (op === undefined) return fail(`${where} is not valid JSON: the bundle was altered`, named);
    const problem = problemOf(op, keys, verify);
    if (problem !== null) return fail(`${where}: ${problem}`, named);
    ops.push(op);
  }
  const policy: SignaturePolicy = { keys: header.keys, verify };
  const invoice = fold(
    ops.map((op) => ({ op, container: BUNDLE })),
    { invoiceId: header.invoiceId as InvoiceId, origin: header.origin as ContainerUrl, signatures: policy },
  );
  const missing = invoice.pending[0];
  if (missing) return fail(`op ${missing.opId} (${missing.type}) cannot be placed: ${missing.reason}`, missing.opId);
  const decisions = invoice.log
    .filter((entry) => DECISIONS.has(entry.type))
    .map((entry) => {
      const key = keys.get(ops.find((op) => op.id === entry.opId)!.proof!.key)!;
      const { opId, type, at, state } = entry;
      return { opId, type, webId: key.controller, device: key.label, key: key.key, at, state };
    });
  return { ok: true, invoice, termsHash: invoice.agreement?.termsHash ?? null, decisions, ops: ops.length };
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

function problemOf(op: AnyOp, keys: ReadonlyMap<string, PublishedKey>, verify: VerifySignature): string | null {
  const structure = validateOpStructure(op);
  if (structure !== null) return `not a valid op: ${structure}`;
  if (!hasVerifiedId(op)) return 'its content does not match its id: it was altered after it was signed';
  if (op.proof === undefined) return 'it is not signed';
  if (!keys.has(op.proof.key)) return `it is signed with key ${op.proof.key.slice(0, 12)}…, which the bundle does not list`;
  if (!verify(op.proof.key, signedText(op.id), op.proof.value)) return 'its signature does not verify: the op or its signature was altered';
  return null;
}
