import { acceptanceOf, makeOp, proposalOf } from '../../src/model/builder.ts';
import { compareClocks, ZERO_CLOCK } from '../../src/model/clock.ts';
import { fold } from '../../src/model/fold.ts';
import { asContainerUrl, asInvoiceId, asWebId, type ContainerUrl, type InvoiceId, type OpId } from '../../src/model/ids.ts';
import type { AnyOp, Hlc, OpType, PayloadByType, SourcedOp } from '../../src/model/ops.ts';
import { CALM, decide, type Persona } from './lifecycle.ts';
import { createPayload, BUYER, SELLER } from './sim.ts';

/**
 * Seeded generator of realistic negotiations: devices of both parties (and a carrier) write ops from what
 * they have seen, sync pairwise at random, and occasionally misbehave. Devices track heads with version
 * vectors instead of folding after every op, so 100k-op negotiations generate in about a second.
 */
export interface NegotiationOptions {
  seed: number;
  ops: number;
  products?: number;
  devicesPerParty?: number;
  /** Chance per step that a device writes an op its party may not write (into its own container). */
  hostileRate?: number;
  /** Chance per step of a pairwise sync. */
  syncRate?: number;
  /**
   * 'random': along the way, devices take the lifecycle's next step as their own view calls for it (propose, accept,
   * ship, pay, receive, dispute, change after agreement, and a few mistakes: test/support/lifecycle.ts; each step
   * folds, so keep `ops` small); 'end': a full flow to "received and paid" at the end.
   */
  statusFlow?: 'random' | 'end' | 'none';
  /** With 'random': the chance per step that a device takes its lifecycle step (default 0.6). */
  statusRate?: number;
  /** Add a carrier participant that writes tracking and comments. */
  carrier?: boolean;
}

export const CARRIER = { webId: asWebId('https://carrier.example/profile/card#me'), container: asContainerUrl('https://carrier.example/invoices/INV/ops/') };

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GenDevice {
  side: 'buyer' | 'seller' | 'carrier';
  label: string;
  index: number;
  container: ContainerUrl;
  skewMs: number;
  /** What the device has seen, as a version vector over devices: honest knowledge is closed under deps. */
  knownVv: number[];
  written: number;
  heads: Set<number>;
  latest: Hlc;
}

const BUYER_WEIGHTS: Array<[OpType, number]> = [
  ['AddToCart', 25], ['EditQuantity', 8], ['RemoveFromCart', 3], ['BidItem', 5], ['AddExtra', 3], ['RemoveExtra', 2],
  ['RequestPostponedDelivery', 2], ['ChooseDeliveryAddress', 2], ['SetBuyerInfo', 2], ['Comment', 4],
];
const SELLER_WEIGHTS: Array<[OpType, number]> = [
  ['SetProductStock', 6], ['AddProductStock', 8], ['ItemOutOfStock', 2], ['QuoteItem', 12], ['AddExtra', 3], ['RemoveExtra', 2],
  ['AddDiscount', 3], ['RemoveDiscount', 2], ['ProposeDeliveryDate', 3], ['SetPaymentTerms', 2], ['SetSellerInfo', 2], ['Comment', 4],
];
const CARRIER_WEIGHTS: Array<[OpType, number]> = [['SetTracking', 3], ['Comment', 1]];
const WEIGHTS_BY_SIDE: Partial<Record<string, Array<[OpType, number]>>> = { buyer: BUYER_WEIGHTS, seller: SELLER_WEIGHTS };
const HOSTILE_TYPES: OpType[] = ['QuoteItem', 'AddToCart', 'SetSellerInfo', 'SetBuyerInfo', 'AddDiscount', 'MarkShipped'];

export interface Negotiation {
  invoiceId: InvoiceId;
  ops: SourcedOp[];
  /** Ops known by each device at the end (before any final sync). */
  deviceKnowledge: SourcedOp[][];
}

export function generateNegotiation(options: NegotiationOptions): Negotiation {
  const random = prng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const weighted = (table: Array<[OpType, number]>): OpType => {
    const total = table.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = random() * total;
    for (const [type, weight] of table) if ((roll -= weight) < 0) return type;
    return table[0]![0];
  };
  const productCount = options.products ?? 50;
  const products = Array.from({ length: productCount }, (_, i) => `p${String(i).padStart(3, '0')}`);
  const keys = ['shipping', 'insurance', 'gift-wrap', 'express', 'packaging'];
  const invoiceId = asInvoiceId('INV-1');
  const perParty = options.devicesPerParty ?? 2;
  const labels = ['desktop', 'mobile', 'laptop', 'tablet', 'phone2', 'office'];

  const all: SourcedOp[] = [];
  const vectors: number[][] = [];
  const deviceOf: number[] = [];
  const seqOf: number[] = [];
  const devices: GenDevice[] = [];
  const addDevice = (side: GenDevice['side'], container: ContainerUrl, label: string) =>
    devices.push({ side, label, index: devices.length, container, skewMs: Math.floor(random() * 100) - 50, knownVv: [], written: 0, heads: new Set(), latest: ZERO_CLOCK });
  for (let i = 0; i < perParty; i++) addDevice('buyer', BUYER.container, labels[i]!);
  for (let i = 0; i < perParty; i++) addDevice('seller', SELLER.container, labels[i]!);
  if (options.carrier) addDevice('carrier', CARRIER.container, 'scanner');

  const isAncestor = (a: number, b: number) => (vectors[b]![deviceOf[a]!] ?? -1) >= seqOf[a]!;
  const mergeInto = (target: number[], source: readonly number[]) => {
    for (let c = 0; c < source.length; c++) target[c] = Math.max(target[c] ?? -1, source[c]!);
  };
  const record = (device: GenDevice, op: AnyOp) => {
    const index = all.length;
    all.push({ op, container: device.container });
    const vv: number[] = [];
    for (const dep of device.heads) mergeInto(vv, vectors[dep]!);
    vv[device.index] = device.written++;
    for (let c = 0; c < vv.length; c++) vv[c] ??= -1;
    vectors.push(vv);
    deviceOf.push(device.index);
    seqOf.push(vv[device.index]!);
    mergeInto(device.knownVv, vv);
    device.heads = new Set([index]);
    if (compareClocks(op.clock, device.latest) > 0) device.latest = op.clock;
  };
  let now = 1_763_700_000_000;
  const write = <T extends OpType>(device: GenDevice, type: T, payload: PayloadByType[T]) => {
    const heads = [...device.heads].map((i) => all[i]!.op.id as OpId);
    const op = makeOp(type, payload, { invoiceId, device: device.label, heads, latestClock: device.latest }, now + device.skewMs);
    record(device, op as AnyOp);
  };
  const knownOps = (device: GenDevice) => all.filter((_, i) => (device.knownVv[deviceOf[i]!] ?? -1) >= seqOf[i]!);
  const syncPair = (to: GenDevice, from: GenDevice) => {
    if (to === from) return;
    mergeInto(to.knownVv, from.knownVv);
    const candidates = [...to.heads, ...from.heads];
    to.heads = new Set(candidates.filter((a) => !candidates.some((b) => b !== a && isAncestor(a, b))));
    if (compareClocks(from.latest, to.latest) > 0) to.latest = from.latest;
  };

  const amount = () => (Math.floor(random() * 100000) / 100).toFixed(2);
  const rate = () => pick(['0', '9', '21']);
  const payloadFor = (type: OpType, device: GenDevice): PayloadByType[OpType] => {
    const product = pick(products);
    switch (type) {
      case 'AddToCart': return { product, quantity: 1 + Math.floor(random() * 20) };
      case 'EditQuantity': return { product, quantity: Math.floor(random() * 50) };
      case 'RemoveFromCart': case 'ItemOutOfStock': return { product };
      case 'SetProductStock': return { product, quantity: Math.floor(random() * 100) };
      case 'AddProductStock': return { product, delta: (random() < 0.7 ? 1 : -1) * (1 + Math.floor(random() * 30)) };
      case 'QuoteItem': case 'BidItem': return { product, unitPrice: amount(), taxRate: rate() };
      case 'AddExtra': return { key: pick(keys), description: 'extra', amount: amount(), taxRate: rate() };
      case 'RemoveExtra': case 'RemoveDiscount': return { key: pick(keys) };
      case 'AddDiscount': return random() < 0.5 ? { key: pick(keys), description: 'discount', percent: pick(['5', '10', '2.5']) } : { key: pick(keys), description: 'discount', amount: '3.50', taxRate: rate() };
      case 'ProposeDeliveryDate': case 'RequestPostponedDelivery': return { date: `2026-12-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}` };
      case 'ChooseDeliveryAddress': return { address: { streetAddress: `Main St ${Math.floor(random() * 99)}`, postalCode: '1011', addressLocality: 'Amsterdam', addressCountry: 'NL' } };
      case 'SetPaymentTerms': return { terms: 'net 30', dueDays: pick([14, 30, 60]) };
      case 'SetBuyerInfo': return { info: { name: `Michiel ${device.label}` } };
      case 'SetSellerInfo': return { info: { name: `George ${device.label}` } };
      case 'SetTracking': return { carrier: 'ParcelCo', trackingId: `TR${Math.floor(random() * 1e6)}` };
      case 'Comment': return { text: `note from ${device.label}` };
      case 'MarkShipped': case 'MarkPaid': case 'MarkReceived': return {};
      default: throw new Error(`no generator for ${type}`);
    }
  };

  /**
   * A device takes the next step of the lifecycle its own view calls for (test/support/lifecycle.ts), as a person at
   * that device would; when it waits for the other party, it first hears from one of that party's devices.
   */
  const advance = (device: GenDevice) => {
    if (device.side === 'carrier') return;
    const side = device.side;
    let decision = decide(fold(knownOps(device), { invoiceId }), side, random, persona);
    if ('waitsFor' in decision) {
      syncPair(device, pick(devices.filter((other) => other.side !== side && other.side !== 'carrier')));
      decision = decide(fold(knownOps(device), { invoiceId }), side, random, persona);
    }
    // Mistakes are written too: unlike a Replica, the generator does not refuse them, so the fold must.
    if ('move' in decision) write(device, decision.move.type, decision.move.payload);
  };

  write(devices[0]!, 'CreateInvoice', createPayload('EUR'));
  for (const device of devices) syncPair(device, devices[0]!);
  if (options.carrier) {
    const seller = devices[perParty]!;
    write(seller, 'AddParticipant', { role: 'carrier', webId: CARRIER.webId, container: CARRIER.container, allowedTypes: ['Comment', 'SetTracking'], name: 'ParcelCo' });
    for (const device of devices) syncPair(device, seller);
  }

  // How this negotiation goes: whether and when a party disputes, and a few mistakes the fold must reject.
  // (Drawn only for 'random', so that the other flows generate the same ops as before for the same seed.)
  const persona: Persona =
    options.statusFlow === 'random'
      ? { disputeAt: pick(['never', 'never', 'never', 'never', 'negotiating', 'agreed', 'received', 'received'] as const), disputer: pick(['buyer', 'seller'] as const), mistakeRate: 0.05 }
      : CALM;
  const syncRate = options.syncRate ?? 0.2;
  while (all.length < options.ops) {
    now += Math.floor(random() * 3);
    if (random() < syncRate) {
      const to = pick(devices);
      const from = pick(devices);
      if (to !== from) syncPair(to, from);
      continue;
    }
    const device = pick(devices);
    if (options.statusFlow === 'random' && random() < (options.statusRate ?? 0.6)) {
      advance(device);
      continue;
    }
    if (device.side !== 'carrier' && random() < (options.hostileRate ?? 0)) {
      const type = pick(HOSTILE_TYPES);
      write(device, type, payloadFor(type, device));
      continue;
    }
    const table = WEIGHTS_BY_SIDE[device.side] ?? CARRIER_WEIGHTS;
    const type = weighted(table);
    write(device, type, payloadFor(type, device));
  }

  if (options.statusFlow === 'end') {
    const [buyer, seller] = [devices[0]!, devices[perParty]!];
    const syncEveryone = () => {
      for (const device of devices) syncPair(devices[0]!, device);
      for (const device of devices) syncPair(device, devices[0]!);
    };
    syncEveryone();
    // Make sure every requested line is priced so the terms can be proposed.
    for (const product of products) write(seller, 'QuoteItem', { product, unitPrice: '999.99', taxRate: '21' });
    syncEveryone();
    write(seller, 'Propose', proposalOf(fold(knownOps(seller), { invoiceId })));
    syncPair(buyer, seller);
    write(buyer, 'Accept', acceptanceOf(fold(knownOps(buyer), { invoiceId }), 'buyer'));
    syncPair(seller, buyer);
    write(seller, 'MarkShipped', {});
    write(seller, 'MarkPaid', {});
    syncPair(buyer, seller);
    write(buyer, 'MarkReceived', {});
  }

  return { invoiceId, ops: all, deviceKnowledge: devices.map(knownOps) };
}
