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
  /**
   * Set when the key counts without the profile: an op declared it (`signingKey`) and signed ops of this other
   * participant built on that declaration (`trustedKeys`).
   */
  readonly vouchedBy?: WebId;
}

export interface SignaturePolicy {
  readonly keys: readonly PublishedKey[];
  readonly verify: VerifySignature;
  /**
   * Whose word counts for a key that is only declared: a device takes its own business's (its devices built on the
   * declaration, so it verified the key then). A counterparty's word alone is not enough: it could declare a key of
   * its own making in the other party's name and build on that. Absent (an offline verifier, which reports on whose
   * word each key rests instead): any other participant's.
   */
  readonly vouchers?: ReadonlySet<WebId>;
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

/** The keys a fold counts, and what it knows of the keys it does not (declared ones nobody vouched for, contested ones). */
export interface TrustedKeys {
  readonly keys: ReadonlyMap<string, PublishedKey>;
  /** Declared but not counted: why, after the key's "(unknown key)" (`unknownKeyReason`). */
  readonly unvouched: ReadonlyMap<string, { readonly declaredBy: readonly OpId[]; readonly why: string }>;
}

interface Declaration {
  readonly controllers: Set<WebId>;
  /** The ops that declare the key, each signed by it. */
  readonly ops: AnyOp[];
}

/** The keys the ops declare (`signingKey`) on ops signed by that very key: a declaration is only its key's own word. */
export function declarationsOf(ops: Iterable<AnyOp>, verify: VerifySignature): Map<string, Declaration> {
  const declared = new Map<string, Declaration>();
  const seen = new Set<OpId>();
  for (const op of ops) {
    const binding = op.signingKey;
    if (binding === undefined || op.proof?.key !== binding.key || seen.has(op.id)) continue;
    if (!verify(binding.key, signedText(op.id), op.proof.value)) continue;
    seen.add(op.id);
    const declaration = declared.get(binding.key) ?? { controllers: new Set<WebId>(), ops: [] };
    declaration.controllers.add(binding.controller);
    declaration.ops.push(op);
    declared.set(binding.key, declaration);
  }
  return declared;
}

/** The signed ops that have `id` in their causal past, each op once (its deps name what its device had seen). */
function signedFuture(ops: readonly AnyOp[]): (id: OpId) => AnyOp[] {
  let children: Map<OpId, AnyOp[]> | null = null;
  return (start) => {
    if (children === null) {
      children = new Map();
      const seen = new Set<OpId>();
      for (const op of ops) {
        if (seen.has(op.id)) continue;
        seen.add(op.id);
        for (const dep of op.deps) children.set(dep, [...(children.get(dep) ?? []), op]);
      }
    }
    const found = new Map<OpId, AnyOp>();
    const todo = [start];
    while (todo.length > 0) {
      for (const child of children.get(todo.pop()!) ?? []) {
        if (found.has(child.id)) continue;
        found.set(child.id, child);
        todo.push(child.id);
      }
    }
    return [...found.values()].filter((op) => op.proof !== undefined);
  };
}

/**
 * The keys a fold counts. A key the profile publishes counts as published (a revocation there still wins). A key
 * only declared (removed from the profile since, or never read) counts when an op declaring it lies in the causal
 * past of an op signed by a counted, unrevoked key of ANOTHER participant whose word the policy takes (`vouchers`):
 * that participant's device verified the key when it built on the op. Whoever runs a party's pod can declare a fresh
 * key as the party's; nobody whose word counts then builds on it, so it does not count. A fixpoint over the
 * declarations (a vouched key can vouch in turn), each round judged from the keys counted before it, so the result is
 * the same in any order.
 */
export function trustedKeys(ops: readonly AnyOp[], policy: SignaturePolicy, participants: ReadonlySet<WebId>): TrustedKeys {
  const keys = new Map(policy.keys.map((key) => [key.key, key]));
  const unvouched = new Map<string, { declaredBy: OpId[]; why: string }>();
  const pending = new Map<string, Declaration>();
  for (const [key, declaration] of declarationsOf(ops, policy.verify)) {
    if (keys.has(key)) continue; // the profile says whose it is; judgeSignature rejects a declaration contradicting it
    const declaredBy = declaration.ops.map((op) => op.id).sort();
    if (declaration.controllers.size > 1) {
      const who = [...declaration.controllers].sort().join(', ');
      unvouched.set(key, { declaredBy, why: `declared as the key of several WebIDs (${who}), and a key belongs to one business` });
    } else pending.set(key, declaration);
  }
  const future = signedFuture(ops);
  for (let changed = pending.size > 0; changed; ) {
    // Each round judged from the keys counted before it: the least WebID that vouches for each pending declaration.
    const firstVoucher = (declaration: Declaration) => vouchersOf(declaration, keys, participants, policy, future)[0];
    const vouched = [...pending].map(([key, declaration]) => [key, declaration, firstVoucher(declaration)] as const);
    changed = false;
    for (const [key, declaration, voucher] of vouched) {
      if (voucher === undefined) continue;
      const first = [...declaration.ops].sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
      keys.set(key, { key, controller: first.signingKey!.controller, label: first.device, revoked: false, vouchedBy: voucher });
      pending.delete(key);
      changed = true;
    }
  }
  for (const [key, declaration] of pending) {
    const why =
      policy.vouchers === undefined
        ? 'vouched for by no other participant: no signed op of another participant builds on its declaration'
        : `vouched for by no participant whose word this device takes (${[...policy.vouchers].sort().join(', ')}): ` +
          "a key only declared, gone from its WebID profile or never there, counts when this device's own business built on its " +
          'declaration, as a counterparty could otherwise declare a key of its own making in another party’s name';
    unvouched.set(key, { declaredBy: declaration.ops.map((op) => op.id).sort(), why });
  }
  return { keys, unvouched };
}

/** The other participants, sorted, whose unrevoked keys in `keys` signed an op that has the declaration in its causal past. */
function vouchersOf(
  declaration: Declaration,
  keys: ReadonlyMap<string, PublishedKey>,
  participants: ReadonlySet<WebId>,
  { verify, vouchers }: SignaturePolicy,
  future: (id: OpId) => AnyOp[],
): WebId[] {
  const controller = [...declaration.controllers][0]!;
  if (declaration.controllers.size > 1 || !participants.has(controller)) return [];
  const found = new Set<WebId>();
  for (const declaring of declaration.ops) {
    for (const op of future(declaring.id)) {
      const key = keys.get(op.proof!.key);
      if (key === undefined || key.revoked || key.controller === controller || found.has(key.controller)) continue;
      if (!participants.has(key.controller) || (vouchers !== undefined && !vouchers.has(key.controller))) continue;
      if (verify(key.key, signedText(op.id), op.proof!.value)) found.add(key.controller);
    }
  }
  return [...found].sort();
}

/**
 * For every key the ops declare: the other participants whose keys (as `keys` gives them) signed ops built on the
 * declaration. What an offline verifier reports: a key that others built on does not rest on its holder's word alone.
 */
export function declaredKeyVouchers(
  ops: readonly AnyOp[],
  policy: SignaturePolicy,
  participants: ReadonlySet<WebId>,
): Map<string, WebId[]> {
  const keys = new Map(policy.keys.map((key) => [key.key, key]));
  const future = signedFuture(ops);
  const out = new Map<string, WebId[]>();
  for (const [key, declaration] of declarationsOf(ops, policy.verify)) {
    out.set(key, vouchersOf(declaration, keys, participants, policy, future));
  }
  return out;
}

/** Why an op signed with a key the fold does not count is rejected. */
function unknownKeyReason(op: AnyOp, key: string, trust: TrustedKeys): string {
  const base = `it is signed with key ${short(key)}, which no participant has published with its WebID (unknown key)`;
  const declared = trust.unvouched.get(key);
  if (declared === undefined) return base;
  const by = declared.declaredBy.includes(op.id) ? 'the op itself' : `op ${short(declared.declaredBy[0]!)}`;
  return `${base}, declared by ${by} but ${declared.why}`;
}

/** Why an op's own declaration of its key does not hold, or null when it does (or it declares none). */
function badDeclaration(op: AnyOp, key: PublishedKey): string | null {
  const binding = op.signingKey;
  if (binding === undefined) return null;
  if (binding.key !== op.proof!.key) return `it declares key ${short(binding.key)} but is signed with key ${short(op.proof!.key)}: a declaration names the key that signs it`;
  if (binding.controller !== key.controller) {
    return `it declares key ${short(binding.key)} as a key of ${binding.controller}, but it is a key of ${key.controller}: a key belongs to one business`;
  }
  return null;
}

/**
 * One copy of an op, judged by its signature. A signed op counts as its signer's wherever it was read (a
 * counterparty's evidence container, a bundle), so it is attributed to its signer's op containers; but a party's
 * own op container may hold only ops its own keys signed.
 */
export function judgeSignature(
  sourced: SourcedOp,
  policy: SignaturePolicy,
  trust: TrustedKeys,
  named: ReturnType<typeof namedContainers>,
): SignatureVerdict {
  const { op, container } = sourced;
  const proof = op.proof;
  if (proof === undefined) return { ok: false, reason: 'it is not signed: every op must carry the signature of a device key of its author' };
  const key = trust.keys.get(proof.key);
  if (key === undefined) return { ok: false, reason: unknownKeyReason(op, proof.key, trust) };
  if (!policy.verify(proof.key, signedText(op.id), proof.value)) {
    return { ok: false, reason: `its signature does not verify with key ${short(proof.key)} of ${key.controller}: it was altered or made by another key` };
  }
  const declaration = badDeclaration(op, key);
  if (declaration !== null) return { ok: false, reason: declaration };
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
