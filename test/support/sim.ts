import { makeOp, assertPartyMayWrite } from '../../src/model/builder.ts';
import { fold } from '../../src/model/fold.ts';
import { asContainerUrl, asInvoiceId, asWebId, type ContainerUrl, type InvoiceId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import type { AnyOp, Op, OpType, PayloadByType, SourcedOp } from '../../src/model/ops.ts';
import type { Side } from '../../src/model/roles.ts';

/**
 * In-memory devices for model tests: each device holds the ops it has seen (with the container each came
 * from), makes new ops from its own fold, and "syncs" by exchanging sourced ops. No pods, no network.
 */
export const BUYER = { webId: asWebId('https://buyer.example/profile/card#me'), container: asContainerUrl('https://buyer.example/invoices/INV/ops/') };
export const SELLER = { webId: asWebId('https://seller.example/profile/card#me'), container: asContainerUrl('https://seller.example/invoices/INV/ops/') };

export class SimDevice {
  readonly known = new Map<string, SourcedOp>();
  constructor(
    readonly side: Side | 'other',
    readonly device: string,
    readonly container: ContainerUrl,
    readonly invoiceId: InvoiceId = asInvoiceId('INV-1'),
  ) {}

  view(): FoldedInvoice {
    return fold([...this.known.values()], { invoiceId: this.invoiceId });
  }

  /** Makes an op as this device would (from its own fold) and keeps it; returns it. */
  write<T extends OpType>(type: T, payload: PayloadByType[T], nowMs: number, options: { skipLocalCheck?: boolean } = {}): Op<T> {
    if (!options.skipLocalCheck && this.side !== 'other') assertPartyMayWrite(this.side, type);
    const view = this.view();
    const op = makeOp(type, payload, { invoiceId: this.invoiceId, device: this.device, heads: view.heads, latestClock: view.latestClock }, nowMs);
    this.receive([{ op: op as AnyOp, container: this.container }]);
    return op;
  }

  receive(ops: Iterable<SourcedOp>): void {
    for (const sourced of ops) this.known.set(`${sourced.op.id} ${sourced.container}`, sourced);
  }

  all(): SourcedOp[] {
    return [...this.known.values()];
  }
}

/** Every device learns every op any of them knows. */
export function syncAll(devices: SimDevice[]): void {
  const union = devices.flatMap((device) => device.all());
  for (const device of devices) device.receive(union);
}

export function createPayload(currency = 'EUR'): PayloadByType['CreateInvoice'] {
  return {
    currency,
    buyer: { ...BUYER, info: { name: 'Michiel' } },
    seller: { ...SELLER, info: { name: 'George' } },
  };
}

/** Strips the parts of a folded invoice that legitimately differ in presentation order only: none do. */
export const comparable = (invoice: FoldedInvoice) => JSON.parse(JSON.stringify(invoice)) as unknown;
