/**
 * An evidence bundle: what a third party (an auditor, a tax authority, a court) needs to check an invoice's history
 * without any pod. JSON Lines: a header (format, invoice, origin, the device keys that signed) and then one signed
 * op a line: every op the fold accepted, so the agreed invoice's causal past and whatever followed (shipping,
 * payment, disputes). One op a line, so that a damaged line is still named by the op it held.
 */
import { fold } from '../model/fold.ts';
import { hasVerifiedId } from '../model/hash.ts';
import { asContainerUrl, type ContainerUrl, type InvoiceId, type OpId, type TermsHash, type WebId } from '../model/ids.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import type { AnyOp, OpType, SourcedOp } from '../model/ops.ts';
import {
  declaredKeyVouchers,
  namedContainers,
  signedText,
  trustedKeys,
  type PublishedKey,
  type SignaturePolicy,
  type VerifySignature,
} from '../model/signatures.ts';
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
  // Keys gone from the profiles but declared and vouched for by another party count too (signatures.ts): list them.
  const counted = trustedKeys(inOrder, { keys, verify: sharedVerifier }, new Set(namedContainers(inOrder).byWebId.keys())).keys;
  const signing = [...counted.values()]
    .filter((key) => used.has(key.key))
    .map(({ key, controller, label, revoked }) => ({ key, controller, label, revoked }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
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

/**
 * What the verdict rests on for one key that signed ops in the bundle: `pinned`, the verifier gave it (`--trust`);
 * `vouched`, another party's signed ops in the bundle built on the op that declared it (`vouchedBy`); `header`, only
 * the bundle's header says whose it is (the profile as read when the bundle was written).
 */
export interface KeyTrust {
  readonly webId: string;
  readonly key: string;
  readonly device: string;
  readonly basis: 'pinned' | 'vouched' | 'header';
  readonly vouchedBy: readonly string[];
}

/** A key the verifier trusts for a WebID, whatever the bundle says (`fedinvoice verify --trust <webid>=<key>`). */
export interface PinnedKey {
  readonly webId: string;
  readonly key: string;
}

export type BundleVerdict =
  | {
      readonly ok: true;
      readonly invoice: FoldedInvoice;
      readonly termsHash: TermsHash | null;
      readonly decisions: readonly SignedDecision[];
      readonly ops: number;
      readonly trust: readonly KeyTrust[];
    }
  | { readonly ok: false; readonly problem: string; readonly opId: string | null };

const DECISIONS: ReadonlySet<OpType> = new Set<OpType>(['Propose', 'Accept', 'MarkShipped', 'MarkPaid', 'MarkReceived', 'Dispute']);
const HEX_ID = /"id":"([0-9a-f]{64})"/;

const fail = (problem: string, opId: string | null = null): BundleVerdict => ({ ok: false, problem, opId });

/**
 * Checks a bundle offline: every op is well formed, named by the hash of its content, signed by a key in the header
 * and consistent with the key its author declared; then the keys must hold against the pins (a pinned WebID's other
 * keys count only where another party's signed ops vouch for them), and the fold of exactly those ops must place
 * every one (an op left out leaves the ops built on it waiting). The first op that fails is named.
 */
export function verifyBundle(text: string, options: { verify?: VerifySignature; pins?: readonly PinnedKey[] } = {}): BundleVerdict {
  const verify = options.verify ?? sharedVerifier;
  const pins = options.pins ?? [];
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = parseLine(lines[0] ?? '') as Partial<BundleHeader> | undefined;
  if (header?.format !== BUNDLE_FORMAT || !Array.isArray(header.keys) || typeof header.origin !== 'string') {
    return fail(`this is not a fedinvoice evidence bundle (${BUNDLE_FORMAT}): its first line is missing, damaged or of another format`);
  }
  const keys = new Map(header.keys.map((key) => [key.key, key]));
  const ops: AnyOp[] = [];
  const lineOf = new Map<OpId, number>();
  for (let i = 1; i < lines.length; i++) {
    const op = parseLine(lines[i]!) as AnyOp | undefined;
    const named = op && typeof op.id === 'string' ? op.id : (HEX_ID.exec(lines[i]!)?.[1] ?? null);
    const where = `line ${i + 1}${named ? ` (op ${named})` : ''}`;
    if (op === undefined) return fail(`${where} is not valid JSON: the bundle was altered`, named);
    const problem = problemOf(op, keys, verify);
    if (problem !== null) return fail(`${where}: ${problem}`, named);
    ops.push(op);
    lineOf.set(op.id, i + 1);
  }
  const policy: SignaturePolicy = { keys: trustedBase(header.keys, pins), verify };
  const participants = new Set(namedContainers(ops).byWebId.keys());
  const counted = trustedKeys(ops, policy, participants).keys;
  for (const op of ops) {
    const problem = pinProblem(op, keys, counted);
    if (problem !== null) return fail(`line ${lineOf.get(op.id)} (op ${op.id}): ${problem}`, op.id);
  }
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
  const trust = trustOf(ops, header.keys, pins, { keys: header.keys, verify }, participants);
  return { ok: true, invoice, termsHash: invoice.agreement?.termsHash ?? null, decisions, ops: ops.length, trust };
}

/** The keys counted before any declaration: the pinned ones for a pinned WebID, the header's for every other WebID. */
function trustedBase(header: readonly PublishedKey[], pins: readonly PinnedKey[]): PublishedKey[] {
  const pinned = new Set(pins.map((pin) => pin.webId));
  const labelOf = (key: string) => header.find((one) => one.key === key)?.label ?? 'pinned';
  return [
    ...header.filter((key) => !pinned.has(key.controller)),
    ...pins.map((pin) => ({ key: pin.key, controller: pin.webId as WebId, label: labelOf(pin.key), revoked: false })),
  ];
}

/** Why an op's key does not hold against the pins, or null: it must be counted, and for the WebID the header names. */
function pinProblem(op: AnyOp, header: ReadonlyMap<string, PublishedKey>, counted: ReadonlyMap<string, PublishedKey>): string | null {
  const claimed = header.get(op.proof!.key)!;
  const key = counted.get(op.proof!.key);
  if (key === undefined) {
    return (
      `it is signed with key ${op.proof!.key.slice(0, 12)}…, which the bundle's header gives as a key of ${claimed.controller}; ` +
      `you pinned other keys for ${claimed.controller} (--trust) and no other party's signed op in the bundle vouches for this one`
    );
  }
  if (key.controller !== claimed.controller) {
    return `the bundle's header gives key ${key.key.slice(0, 12)}… as a key of ${claimed.controller}, but it is a key of ${key.controller}: the header was altered`;
  }
  return null;
}

/** Per key that signed an op of the bundle: pinned, vouched for by other parties' signed ops in it, or resting on the header. */
function trustOf(
  ops: readonly AnyOp[],
  header: readonly PublishedKey[],
  pins: readonly PinnedKey[],
  policy: SignaturePolicy,
  participants: ReadonlySet<WebId>,
): KeyTrust[] {
  const used = new Set(ops.map((op) => op.proof!.key));
  const vouchers = declaredKeyVouchers(ops, policy, participants);
  return header
    .filter((key) => used.has(key.key))
    .map((key): KeyTrust => {
      const vouchedBy = vouchers.get(key.key) ?? [];
      let basis: KeyTrust['basis'] = vouchedBy.length > 0 ? 'vouched' : 'header';
      if (pins.some((pin) => pin.key === key.key && pin.webId === key.controller)) basis = 'pinned';
      return { webId: key.controller, key: key.key, device: key.label, basis, vouchedBy };
    })
    .sort((a, b) => (`${a.webId} ${a.key}` < `${b.webId} ${b.key}` ? -1 : 1));
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
  const declared = op.signingKey;
  if (declared !== undefined && declared.key !== op.proof.key) {
    return `it declares key ${declared.key.slice(0, 12)}… but is signed with key ${op.proof.key.slice(0, 12)}…: it was signed again by another key (the bundle's keys were swapped)`;
  }
  const listed = keys.get(op.proof.key)!;
  if (declared !== undefined && declared.controller !== listed.controller) {
    return `it declares its key as a key of ${declared.controller}, but the bundle's header gives it as a key of ${listed.controller}: the header was altered`;
  }
  return null;
}
