/**
 * The hostile corpus (test/fixtures/hostile/, described by its manifest.json): every resource is planted in a real
 * pod, in the container of the party the manifest names (written with that party's own device: a compromised device,
 * or the party itself), and must be refused by the crawler or rejected / held pending by the fold with its specific
 * reason, while the honest ops around it still fold into the same invoice on every device, and the negotiation
 * can go on to "agreed". Then thousands of junk members: the crawler caps what it fetches and says so.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/model/hash.ts';
import { invoiceKeyOf } from '../../src/model/invoice-key.ts';
import type { InvoiceId } from '../../src/model/ids.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import { putImmutable } from '../../src/pod/resources.ts';
import { parseOpTurtle } from '../../src/rdf/op-resource.ts';
import type { OpValidator } from '../../src/rdf/shacl.ts';
import { opIdToIri } from '../../src/rdf/vocabulary.ts';
import type { ContainerReport } from '../../src/sync/crawler.ts';
import { opsContainerOf, Replica, type SyncResult } from '../../src/sync/replica.ts';
import { loadOpValidator } from '../../src/sync/shapes.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import { startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

interface Fixture {
  file: string;
  plantIn: 'buyer' | 'seller';
  name: string;
  expect: 'crawler' | 'rejected' | 'pending' | 'accepted';
  reason?: string;
  what: string;
}

const FIXTURES = new URL('../fixtures/hostile/', import.meta.url);
let pods: TestPods;
let validator: OpValidator;
let manifest: Fixture[];

function replicaOf(party: TestParty, side: 'buyer' | 'seller', device: 'desktop' | 'mobile', limits?: { maxNewMembers: number }): Replica {
  return new Replica({
    store: new MemoryDeviceStore(),
    fetch: party.devices[device].fetch,
    identity: { webId: party.webId, podRoot: party.podRoot, device },
    ...(limits ? { limits } : {}),
  });
}

async function startInvoice(invoiceId: InvoiceId, limits?: { maxNewMembers: number }) {
  const bd = replicaOf(pods.buyer, 'buyer', 'desktop');
  const sd = replicaOf(pods.seller, 'seller', 'desktop');
  const bm = replicaOf(pods.buyer, 'buyer', 'mobile', limits);
  const sm = replicaOf(pods.seller, 'seller', 'mobile', limits);
  await bd.createInvoice(invoiceId, {
    currency: 'EUR',
    counterparty: { webId: pods.seller.webId, podRoot: pods.seller.podRoot },
    ownInfo: { name: 'Michiel' },
    counterpartyInfo: { name: 'George' },
  });
  for (const device of [sd, bm, sm]) await device.joinInvoice(invoiceId, bd.ownContainer(invoiceId));
  return { bd, sd, bm, sm };
}

const allRefused = (results: SyncResult[]): ContainerReport['refused'][number][] => results.flatMap((r) => r.containers.flatMap((c) => c.refused));

/** Fills a template's placeholders; {{PAD:n}} and {{COMMENTPAD:n}} make large bodies without large files. */
function fill(template: string, values: Record<string, string>): string {
  return template
    .replace(/\{\{PAD:(\d+)\}\}/g, (_, n: string) => 'x'.repeat(Number(n)))
    .replace(/\{\{COMMENTPAD:(\d+)\}\}/g, (_, n: string) => `# ${'y'.repeat(1022)}\n`.repeat(Math.ceil(Number(n) / 1024)))
    .replace(/\{\{([A-Z_]+)\}\}/g, (whole, key: string) => {
      const value = values[key];
      if (value === undefined) throw new Error(`no value for placeholder ${whole}`);
      return value;
    });
}

beforeAll(async () => {
  pods = await startTestPods();
  validator = await loadOpValidator();
  manifest = (JSON.parse(await readFile(new URL('manifest.json', FIXTURES), 'utf8')) as { fixtures: Fixture[] }).fixtures;
});
afterAll(async () => {
  await pods?.stop();
});

describe('the hostile corpus, planted in real pods', () => {
  it('has at least 50 resources that must be refused or rejected, each with a reason', () => {
    expect(manifest.filter((f) => f.expect !== 'accepted').length).toBeGreaterThanOrEqual(50);
    for (const fixture of manifest) if (fixture.expect !== 'accepted') expect(fixture.reason, fixture.file).toBeTruthy();
  });

  it('refuses or rejects every hostile resource with its reason, and everything else still folds', async () => {
    const invoiceId = invoiceKeyOf(pods.buyer.podRoot, 'HOSTILE-1');
    const { bd, sd, bm, sm } = await startInvoice(invoiceId);
    await bd.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 3 });
    await sd.sync(invoiceId);
    await sd.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '2.50', taxRate: '21' });
    await sd.write(invoiceId, 'SetProductStock', { product: 'beans', quantity: 10 });
    const baseline = (await sm.sync(invoiceId)).invoice;
    await bm.sync(invoiceId);
    expect(baseline.items[0]).toMatchObject({ productCode: 'beans', qty: 3, unitPrice: '2.5' });

    const buyerContainer = opsContainerOf(pods.buyer.podRoot, invoiceId);
    const sellerContainer = opsContainerOf(pods.seller.podRoot, invoiceId);
    const values: Record<string, string> = {
      INVOICE: invoiceId,
      OTHER_INVOICE: 'HOSTILE-OTHER',
      NOW: new Date(baseline.latestClock.wallMs + 60_000).toISOString(),
      HEAD: opIdToIri(baseline.heads[0]!),
      MISSING: opIdToIri(sha256Hex('an op that never arrives') as never),
      BUYER_WEBID: pods.buyer.webId,
      BUYER_CONTAINER: buyerContainer,
      SELLER_WEBID: pods.seller.webId,
      SELLER_CONTAINER: sellerContainer,
      STRANGER_WEBID: pods.stranger.webId,
      STRANGER_CONTAINER: opsContainerOf(pods.stranger.podRoot, invoiceId),
    };

    const planted: Array<Fixture & { url: string; id: string | null }> = [];
    for (const fixture of manifest) {
      const template = await readFile(new URL(fixture.file, FIXTURES), 'utf8');
      const body = fill(template, values);
      const container = fixture.plantIn === 'buyer' ? buyerContainer : sellerContainer;
      let id: string | null = null;
      let name = fixture.name;
      if (name === 'id') {
        const parsed = await parseOpTurtle(body, `${container}x`, validator);
        if (!parsed.ok) throw new Error(`${fixture.file} should be a well-formed op, but: ${parsed.reason}`);
        id = name = parsed.op.id;
      } else if (name === 'random') {
        name = randomBytes(32).toString('hex');
      }
      if (fixture.file === 'deps-never-arrive.ttl') values['PENDING'] = opIdToIri(id as never);
      const owner = fixture.plantIn === 'buyer' ? pods.buyer : pods.seller;
      const url = `${container}${name}`;
      expect(await putImmutable(owner.devices.desktop.fetch, url, body), fixture.file).toBe('created');
      planted.push({ ...fixture, url, id });
    }

    // Both parties' observers crawl everything once: no crash, no hang, every refusal reported.
    const [sellerView, buyerView] = [await sm.sync(invoiceId), await bm.sync(invoiceId)];
    const problems: string[] = [];
    for (const [who, result] of [['seller', sellerView], ['buyer', buyerView]] as const) {
      const refused = allRefused([result]);
      const invoice = result.invoice;
      for (const fixture of planted) {
        const expected = fixture.reason ? new RegExp(fixture.reason) : null;
        const say = (message: string) => problems.push(`${who} device, ${fixture.file}: ${message}`);
        if (fixture.expect === 'crawler') {
          const found = refused.filter((r) => r.url === fixture.url);
          if (found.length !== 1) say(`expected one refusal by the crawler, got ${found.length}${entryState(invoice, fixture.id)}`);
          else if (!expected!.test(found[0]!.reason)) say(`refused for "${found[0]!.reason}", expected /${fixture.reason}/`);
          continue;
        }
        const entry = invoice.log.find((e) => e.opId === fixture.id);
        if (!entry) {
          say(`not in the folded log (crawler: ${refused.find((r) => r.url === fixture.url)?.reason ?? 'not refused'})`);
          continue;
        }
        if (entry.state !== fixture.expect) say(`${entry.state}${entry.reason ? ` (${entry.reason})` : ''}, expected ${fixture.expect}`);
        else if (expected && !expected.test(entry.reason ?? '')) say(`${entry.state} for "${entry.reason}", expected /${fixture.reason}/`);
      }
    }
    expect(problems).toEqual([]);

    // Everything honest still folds, identically on both sides: the hostile ops changed nothing but the log.
    const seller = sellerView.invoice;
    expect(JSON.stringify(buyerView.invoice)).toBe(JSON.stringify(seller));
    expect(seller.items).toEqual(baseline.items);
    expect(seller.totals).toEqual(baseline.totals);
    expect(seller.currency).toBe('EUR');
    expect(seller.status).toBe('draft');
    expect(seller.participants.map((p) => p.role).sort()).toEqual(['buyer', 'seller']);
    for (const entry of baseline.log) expect(seller.log.find((e) => e.opId === entry.opId)?.state).toBe('accepted');

    // Refused members are judged once and never fetched again: the next sync is two 304s.
    const again = await sm.sync(invoiceId);
    expect(again.requests).toBe(2);
    expect(allRefused([again])).toEqual([]);

    // The negotiation goes on to an agreement, after a far-future clock too.
    await bd.sync(invoiceId);
    await bd.write(invoiceId, 'AddToCart', { product: 'beans', quantity: 2 });
    const proposed = (await sd.sync(invoiceId)).invoice;
    expect(proposed.items[0]?.qty).toBe(5);
    await sd.propose(invoiceId);
    await bd.sync(invoiceId);
    await bd.accept(invoiceId);
    const agreed = [(await sm.sync(invoiceId)).invoice, (await bm.sync(invoiceId)).invoice];
    expect(agreed[0]!.status).toBe('agreed');
    expect(agreed[0]!.totals.gross).toBe('15.13');
    expect(JSON.stringify(agreed[1])).toBe(JSON.stringify(agreed[0]));
  }, 300_000);

  it('caps what it fetches from a container flooded with thousands of junk members, says so, and still gets every honest op', async () => {
    const invoiceId = invoiceKeyOf(pods.buyer.podRoot, 'HOSTILE-JUNK');
    const cap = 100;
    const { sd, bm } = await startInvoice(invoiceId, { maxNewMembers: cap });
    const container = opsContainerOf(pods.seller.podRoot, invoiceId);
    const junkNamed = 1200; // names that are not op ids: refused from the listing alone, never fetched
    const junkHashed = 240; // op-id names with junk content: each costs one capped GET, once
    const names = [
      ...Array.from({ length: junkNamed }, (_, i) => `junk-${String(i).padStart(5, '0')}.ttl`),
      ...Array.from({ length: junkHashed }, () => randomBytes(32).toString('hex')),
    ];
    const put = pods.seller.devices.desktop.fetch;
    for (let i = 0; i < names.length; i += 16) {
      await Promise.all(names.slice(i, i + 16).map((name) => putImmutable(put, `${container}${name}`, `junk ${name} <<<`)));
    }
    const honest = await sd.write(invoiceId, 'QuoteItem', { product: 'beans', unitPrice: '1.25', taxRate: '9' });

    const first = await bm.sync(invoiceId);
    const report = first.containers.find((c) => c.container === container)!;
    expect(report.deferred).toBe(junkHashed + 1 - cap);
    expect(report.refused.filter((r) => /its name is not an op id/.test(r.reason))).toHaveLength(junkNamed);
    expect(report.refused.filter((r) => /^malformed Turtle/.test(r.reason)).length).toBeLessThanOrEqual(cap);

    // Each later crawl fetches the next `cap` members, until nothing is deferred.
    let syncs = 1;
    let last = first;
    while (last.containers.find((c) => c.container === container)!.deferred > 0 && syncs < 10) {
      last = await bm.sync(invoiceId);
      syncs++;
    }
    expect(syncs).toBe(Math.ceil((junkHashed + 1) / cap));
    expect(last.invoice.log.find((e) => e.opId === honest.op.id)?.state).toBe('accepted');
    expect(last.invoice.catalog.find((c) => c.productCode === 'beans')?.unitPrice).toBe('1.25');
    // Every junk member was judged exactly once; a later sync fetches nothing.
    const quiet = await bm.sync(invoiceId);
    expect(quiet.requests).toBe(2);
    const states = await bm.containerStates(invoiceId);
    expect(states[container]!.refused).toHaveLength(junkNamed + junkHashed);
  }, 300_000);
});

function entryState(invoice: FoldedInvoice, id: string | null): string {
  const entry = id ? invoice.log.find((e) => e.opId === id) : undefined;
  return entry ? `; the fold says ${entry.state} ${entry.reason ?? ''}` : '';
}
