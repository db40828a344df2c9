import type { CausalGraph } from './causality.ts';
import type { ContainerUrl, OpId, WebId } from './ids.ts';
import type { AnyOp, SourcedOp } from './ops.ts';

/**
 * Who made an op, proven by its signature rather than by where it was read. PURE: the cryptography is passed in
 * (`VerifySignature`, node:crypto's Ed25519 in src/sync/device-key.ts); this module says what is signed and which
 * signed ops count, and why the others do not.
 *
 * A device signs `SIGNATURE_DOMAIN + op id`: the id already covers every field of the op, and the prefix keeps a
 * signature of an op from ever being read as a signature of anything else a key might sign.
 */
export const SIGNATURE_DOMAIN = 'fedinvoice/op-signature/v1\n';

/** The text a device signs for an op (UTF-8 encoded by the signer). */
export const signedText = (id: OpId): string => SIGNATURE_DOMAIN + id;

/** Whether `signature` (multibase) is `key`'s (a multibase Multikey) over `text`. Must never throw. */
export type VerifySignature = (key: string, text: string, signature: string) => boolean;

/** A device key a business published with its WebID (src/pod/device-keys.ts reads them). */
export interface PublishedKey {
  /** The Ed25519 public key as a Multikey (base58btc multibase, "z6Mk…"). */
  readonly key: string;
  /** The WebID that controls it: the business whose ops it signs. */
  readonly controller: WebId;
  /** The device's label. */
  readonly label: string;
  /** Revoked by its business: its ops count only where another device of the business had built on them. */
  readonly revoked: boolean;
}

export interface SignaturePolicy {
  readonly keys: readonly PublishedKey[];
  readonly verify: VerifySignature;
}

const short = (text: string): string => `${text.slice(0, 12)}…`;

/** What judging one sourced op's signature gives: where it counts as read from, or why it does not count. */
export type SignatureVerdict =
  | { readonly ok: true; readonly containers: readonly ContainerUrl[]; readonly key: PublishedKey }
  | { readonly ok: false; readonly reason: string };

/**
 * The participants' op containers as the set's CreateInvoice and AddParticipant ops name them. The fold still
 * decides which of those ops count: a container named by a rejected op is never a participant's there.
 */
export function namedContainers(ops: Iterable<AnyOp>): { byWebId: Map<WebId, ContainerUrl[]>; owners: Map<ContainerUrl, WebId> } {
  const byWebId = new Map<WebId, ContainerUrl[]>();
  const owners = new Map<ContainerUrl, WebId>();
  const name = (webId: WebId, container: ContainerUrl): void => {
    const list = byWebId.get(webId) ?? [];
    if (!list.includes(container)) byWebId.set(webId, [...list, container].sort());
    owners.set(container, webId);
  };
  for (const op of ops) {
    if (op.type === 'CreateInvoice') {
      name(op.payload.buyer.webId, op.payload.buyer.container);
      name(op.payload.seller.webId, op.payload.seller.container);
    } else if (op.type === 'AddParticipant') {
      name(op.payload.webId, op.payload.container);
    }
  }
  return { byWebId, owners };
}

/**
 * One copy of an op, judged by its signature. A signed op counts as its signer's wherever it was read (a
 * counterparty's evidence container, a bundle), so it is attributed to its signer's op containers; but a party's
 * own op container may hold only ops its own keys signed.
 */
export function judgeSignature(
  sourced: SourcedOp,
  policy: SignaturePolicy,
  keys: ReadonlyMap<string, PublishedKey>,
  named: ReturnType<typeof namedContainers>,
): SignatureVerdict {
  const { op, container } = sourced;
  const proof = op.proof;
  if (proof === undefined) return { ok: false, reason: 'it is not signed: every op must carry the signature of a device key of its author' };
  const key = keys.get(proof.key);
  if (key === undefined) return { ok: false, reason: `it is signed with key ${short(proof.key)}, which no participant has published with its WebID (unknown key)` };
  if (!policy.verify(proof.key, signedText(op.id), proof.value)) {
    return { ok: false, reason: `its signature does not verify with key ${short(proof.key)} of ${key.controller}: it was altered or made by another key` };
  }
  const owner = named.owners.get(container);
  if (owner !== undefined && owner !== key.controller) {
    return {
      ok: false,
      reason: `it is signed with a key of ${key.controller} (device ${key.label}) but was read from the op container of ${owner}: a party's container holds only ops its own devices signed`,
    };
  }
  const containers = owner === undefined ? (named.byWebId.get(key.controller) ?? []) : [container];
  if (containers.length === 0) return { ok: false, reason: `it is signed by ${key.controller}, which this invoice does not name as a participant` };
  return { ok: true, containers, key };
}

/**
 * Ops signed with a revoked key that count: those another (unrevoked) device of the same business had built on.
 * The revocation is placed by causal order, not by the clock an op claims: what the business's other devices had
 * seen and built on before they stopped trusting the key stays; whatever they never built on does not count.
 */
export function vouchedFor(graph: CausalGraph, signerAt: (position: number) => PublishedKey | undefined): Set<OpId> {
  const honest = new Map<WebId, number[]>();
  const revoked: number[] = [];
  for (let pos = 0; pos < graph.order.length; pos++) {
    const key = signerAt(pos);
    if (key === undefined) continue;
    if (key.revoked) revoked.push(pos);
    else honest.set(key.controller, [...(honest.get(key.controller) ?? []), pos]);
  }
  const kept = new Set<OpId>();
  const pasts = new Map<WebId, ReturnType<CausalGraph['pastOf']>>();
  for (const pos of revoked) {
    const controller = signerAt(pos)!.controller;
    const positions = honest.get(controller);
    if (positions === undefined) continue;
    let past = pasts.get(controller);
    if (past === undefined) pasts.set(controller, (past = graph.pastOf(positions)));
    if (graph.inVector(pos, past)) kept.add(graph.order[pos]!.id);
  }
  return kept;
}

export const revokedReason = (key: PublishedKey): string =>
  `it is signed with the revoked key ${short(key.key)} of device ${key.label} of ${key.controller}, and no other device of that business had built on it: made after the revocation, or never vouched for`;
