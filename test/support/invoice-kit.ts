import { withId } from '../../src/model/hash.ts';
import { asContainerUrl, asInvoiceId, asWebId, type ContainerUrl, type InvoiceId, type OpId } from '../../src/model/ids.ts';
import type { FoldedInvoice, LogEntry } from '../../src/model/invoice.ts';
import type { AnyOp, Hlc, Op, OpType, PayloadByType } from '../../src/model/ops.ts';
import { SimDevice, BUYER, SELLER, createPayload, syncAll } from './sim.ts';

/**
 * Small helpers for the rule, money and negotiation tests: a started invoice with two devices per party,
 * a clock that only moves forward, one-way sync, and ops forged past the builder's checks.
 */
export const T0 = 1_764_000_000_000;

export const party = (name: string) => ({
  webId: asWebId(`https://${name}.example/profile/card#me`),
  container: asContainerUrl(`https://${name}.example/invoices/INV/ops/`),
});
export const BUYER_DEPT = party('purchasing');
export const SELLER_DEPT = party('warehouse');
export const CARRIER_P = party('parcelco');
export const TAX = party('taxoffice');
export const STRANGER = party('mallory');

export interface Started {
  readonly invoiceId: InvoiceId;
  readonly bd: SimDevice;
  readonly bm: SimDevice;
  readonly sd: SimDevice;
  readonly sm: SimDevice;
  readonly all: SimDevice[];
  readonly create: Op<'CreateInvoice'>;
  /** A wall-clock time one second after the previous call. */
  now(): number;
}

/** Buyer desktop creates the invoice; every device of both parties has seen it. */
export function started(currency = 'EUR', invoiceId: InvoiceId = asInvoiceId('INV-1')): Started {
  let t = T0;
  const now = () => (t += 1000);
  const bd = new SimDevice('buyer', 'desktop', BUYER.container, invoiceId);
  const bm = new SimDevice('buyer', 'mobile', BUYER.container, invoiceId);
  const sd = new SimDevice('seller', 'desktop', SELLER.container, invoiceId);
  const sm = new SimDevice('seller', 'mobile', SELLER.container, invoiceId);
  const all = [bd, bm, sd, sm];
  const create = bd.write('CreateInvoice', createPayload(currency), now());
  syncAll(all);
  return { invoiceId, bd, bm, sd, sm, all, create, now };
}

/** `to` learns everything `from` knows (one direction only). */
export function send(from: SimDevice, to: SimDevice): void {
  to.receive(from.all());
}

/** A device of a participant other than the buyer and seller, that has seen everything `from` knows. */
export function participantDevice(who: { container: ContainerUrl }, label: string, from: SimDevice, side: 'buyer' | 'seller' | 'other' = 'other'): SimDevice {
  const device = new SimDevice(side, label, who.container, from.invoiceId);
  send(from, device);
  return device;
}

export function entryOf(invoice: FoldedInvoice, opId: OpId | string): LogEntry | undefined {
  return invoice.log.find((entry) => entry.opId === opId);
}

/** The reason the fold gave for rejecting `opId`, or a marker string when it was not rejected. */
export function rejection(invoice: FoldedInvoice, opId: OpId | string): string | null {
  const entry = invoice.rejected.find((e) => e.opId === opId);
  return entry ? entry.reason : `(not rejected: ${entryOf(invoice, opId)?.state ?? 'absent'})`;
}

export const short = (id: string) => `${id.slice(0, 12)}…`;

/**
 * An op made as `device` would make it, but without the builder's structural checks (for negative quantities,
 * "NaN" amounts, backwards clocks…). It is kept by the device like any other op.
 */
export function forge<T extends OpType>(
  device: SimDevice,
  type: T,
  payload: PayloadByType[T],
  overrides: { clock?: Hlc; deps?: OpId[]; invoiceId?: InvoiceId } = {},
): Op<T> {
  const view = device.view();
  const op = withId({
    invoiceId: overrides.invoiceId ?? device.invoiceId,
    type,
    payload,
    device: device.device,
    clock: overrides.clock ?? { wallMs: view.latestClock.wallMs + 1, counter: 0 },
    deps: overrides.deps ?? [...view.heads].sort(),
  });
  device.receive([{ op: op as AnyOp, container: device.container }]);
  return op;
}

export { BUYER, SELLER, SimDevice, syncAll, createPayload };
