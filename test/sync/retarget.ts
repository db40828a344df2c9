/**
 * A generated negotiation (test/support/negotiation.ts) moved onto real pods: the CreateInvoice names the
 * given parties' WebIDs and op containers, every op gets the given invoice id, deps and proposal heads follow
 * the new ids, and terms hashes are recomputed, so the stream folds exactly as the original did. For the
 * sync tests and benches that write thousands of realistic ops to in-memory pods without a device per op.
 */
import { fold } from '../../src/model/fold.ts';
import { withId } from '../../src/model/hash.ts';
import type { ContainerUrl, InvoiceId, OpId, TermsHash, WebId } from '../../src/model/ids.ts';
import type { AnyOp, OpContent, PayloadByType, SourcedOp } from '../../src/model/ops.ts';
import { generateNegotiation, type NegotiationOptions } from '../support/negotiation.ts';
import { BUYER, SELLER } from '../support/sim.ts';

export interface PartyAt {
  readonly webId: WebId;
  readonly container: ContainerUrl;
}

export function retarget(ops: readonly SourcedOp[], invoiceId: InvoiceId, buyer: PartyAt, seller: PartyAt): SourcedOp[] {
  const ids = new Map<OpId, OpId>();
  const hashes = new Map<TermsHash, TermsHash>();
  const containerOf = new Map<string, ContainerUrl>([
    [BUYER.container, buyer.container],
    [SELLER.container, seller.container],
  ]);
  const out: SourcedOp[] = [];
  const byId = new Map<OpId, SourcedOp>();
  const pastOf = (heads: readonly OpId[]): SourcedOp[] => {
    const seen = new Set<OpId>();
    const stack = [...heads];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(byId.get(id)?.op.deps ?? []));
    }
    return [...seen].map((id) => byId.get(id)!).filter(Boolean);
  };
  for (const { op, container } of ops) {
    let payload = op.payload as PayloadByType[keyof PayloadByType];
    if (op.type === 'CreateInvoice') {
      payload = {
        ...op.payload,
        buyer: { ...op.payload.buyer, webId: buyer.webId, container: buyer.container },
        seller: { ...op.payload.seller, webId: seller.webId, container: seller.container },
      };
    } else if (op.type === 'Propose') {
      const heads = op.payload.heads.map((head) => ids.get(head)!).sort();
      const view = fold(pastOf(heads), { invoiceId, origin: out[0]?.container });
      const termsHash = view.termsHash as TermsHash;
      hashes.set(op.payload.termsHash, termsHash);
      payload = { termsHash, heads };
    } else if (op.type === 'Accept') {
      payload = { termsHash: hashes.get(op.payload.termsHash) ?? op.payload.termsHash };
    }
    const deps = op.deps.map((dep) => ids.get(dep) ?? dep).sort();
    const content = { invoiceId, type: op.type, payload, device: op.device, clock: op.clock, deps } as OpContent;
    const moved = withId(content) as AnyOp;
    ids.set(op.id, moved.id);
    const sourced = { op: moved, container: containerOf.get(container) ?? container };
    byId.set(moved.id, sourced);
    out.push(sourced);
  }
  return out;
}

/** A seeded negotiation of `ops` ops between the two parties (2 devices each, 50 products, every op type). */
export function negotiationOn(invoiceId: InvoiceId, buyer: PartyAt, seller: PartyAt, options: NegotiationOptions): SourcedOp[] {
  return retarget(generateNegotiation(options).ops, invoiceId, buyer, seller);
}
