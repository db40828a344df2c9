/**
 * Puts a generated negotiation on two real pods, as the parties' devices would have: the buyer's ops in the
 * buyer's op container, the seller's in the seller's, each party granting the other read. For sync tests and
 * benches (bench/sync.ts) that need hundreds of realistic ops on pods without a device writing each one.
 */
import type { ContainerUrl, InvoiceId } from '../../src/model/ids.ts';
import type { AnyOp, SourcedOp } from '../../src/model/ops.ts';
import { setInvoiceAccess } from '../../src/pod/acl.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { packResource } from '../../src/sync/packs.ts';
import { invoiceContainerOf, opsContainerOf, Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import type { TestParty, TestPods } from '../support/pods.ts';
import { negotiationOn } from './retarget.ts';

export interface SeededInvoice {
  readonly invoiceId: InvoiceId;
  readonly ops: SourcedOp[];
  readonly buyerContainer: ContainerUrl;
  readonly sellerContainer: ContainerUrl;
}

/** PUTs each op as its own resource `<container><op id>`, `concurrency` at a time. */
export async function putSingles(fetchFn: typeof fetch, container: ContainerUrl, ops: readonly AnyOp[], concurrency = 8): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ops.length) {
      const op = ops[next++]!;
      await putImmutable(fetchFn, `${container}${op.id}`, opToTurtle(op));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ops.length) }, worker));
}

/** PUTs the ops as one pack or checkpoint resource; returns its URL. */
export async function putPack(fetchFn: typeof fetch, container: ContainerUrl, kind: 'pack' | 'checkpoint', ops: readonly AnyOp[]): Promise<string> {
  const pack = packResource(kind, ops);
  await putImmutable(fetchFn, `${container}${pack.name}`, pack.turtle);
  return `${container}${pack.name}`;
}

/** Grants each party read on the other's invoice folder, then writes a generated negotiation of `ops` ops as singles. */
export async function seedNegotiation(pods: Pick<TestPods, 'buyer' | 'seller'>, invoiceId: InvoiceId, ops: number, seed = 1): Promise<SeededInvoice> {
  const { buyer, seller } = pods;
  const buyerContainer = opsContainerOf(buyer.podRoot, invoiceId);
  const sellerContainer = opsContainerOf(seller.podRoot, invoiceId);
  await setInvoiceAccess(buyer.devices.desktop.fetch, invoiceContainerOf(buyer.podRoot, invoiceId), buyer.webId, [seller.webId]);
  await setInvoiceAccess(seller.devices.desktop.fetch, invoiceContainerOf(seller.podRoot, invoiceId), seller.webId, [buyer.webId]);
  const sourced = negotiationOn(invoiceId, { webId: buyer.webId, container: buyerContainer }, { webId: seller.webId, container: sellerContainer }, { seed, ops, statusFlow: 'end' });
  return { invoiceId, ops: sourced, buyerContainer, sellerContainer };
}

export const opsIn = (seeded: SeededInvoice, container: ContainerUrl): AnyOp[] =>
  seeded.ops.filter((s) => s.container === container).map((s) => s.op);

/** A device's Replica over a real pod, with a memory store, joined to the invoice (the buyer's container is its origin). */
export async function joinedReplica(party: TestParty, side: 'buyer' | 'seller', device: 'desktop' | 'mobile', seeded: SeededInvoice, options: { useCheckpoints?: boolean; checkpointEvery?: number; fetch?: typeof fetch } = {}): Promise<Replica> {
  const store = new MemoryDeviceStore();
  const own = side === 'buyer' ? seeded.buyerContainer : seeded.sellerContainer;
  const create = seeded.ops[0]!.op;
  if (create.type !== 'CreateInvoice') throw new Error('a seeded invoice starts with its CreateInvoice');
  const other = side === 'buyer' ? create.payload.seller.webId : create.payload.buyer.webId;
  // The seeding granted the other party read already, and a join has opened the change feeds: no ACL write in the
  // requests measured.
  await store.saveInvoice({
    invoiceId: seeded.invoiceId,
    ownContainer: own,
    origin: seeded.buyerContainer,
    seedContainers: [seeded.buyerContainer],
    readers: [other],
    feedReaders: [other, party.webId].sort(),
  });
  return new Replica({
    store,
    fetch: options.fetch ?? party.devices[device].fetch,
    identity: { webId: party.webId, podRoot: party.podRoot, device },
    limits: { useCheckpoints: options.useCheckpoints ?? true },
    checkpointEvery: options.checkpointEvery ?? 0,
  });
}
