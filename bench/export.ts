/**
 * E-invoice export: how long building the UBL of an agreed invoice takes, and how long the official rules take to
 * validate it, for a 10-line and a 1,000-line invoice (each line with its own VAT group mix, an extra, a percent
 * and an amount discount, Dutch parties).
 *
 *   npx tsx bench/export.ts            # 10 and 1,000 lines
 *   npx tsx bench/export.ts --quick    # 10 lines
 *   npx tsx bench/export.ts --json
 *   npx tsx bench/export.ts --export-only   # no validation: the export against the JSON export only
 *
 * Baselines, measured in the same run: for the export, the same agreed invoice exported as the model's JSON; for
 * the validations (CEN's EN 16931 rules, Peppol BIS 3's rules, the UBL 2.1 XSD), Peppol's own base example
 * (`../shared/einvoice/examples/base-example.xml`, 2 lines). The validators run only here and in tests: the
 * exported file is the product. Each stylesheet is loaded once, before timing.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { DEMO_BUYER_INFO, DEMO_BUYER_REFERENCE, DEMO_INVOICE_DETAILS, DEMO_PAYMENT_TERMS, DEMO_SELLER_INFO } from '../src/cli/demo-legal.ts';
import { exportInvoice } from '../src/einvoice/export.ts';
import { acceptanceOf, makeOp, proposalOf } from '../src/model/builder.ts';
import { fold } from '../src/model/fold.ts';
import { asInvoiceId, type ContainerUrl, type OpId } from '../src/model/ids.ts';
import type { FoldedInvoice } from '../src/model/invoice.ts';
import type { AnyOp, Hlc, OpType, PayloadByType, SourcedOp } from '../src/model/ops.ts';
import { EINVOICE_DIR, failedAsserts, xsdErrors } from '../test/support/einvoice-rules.ts';
import { BUYER, SELLER, createPayload } from '../test/support/sim.ts';
import { arg, best, figure, note, quick, report, type Figure } from './lib.ts';

const exportOnly = process.argv.includes('--export-only');
const sizes = (arg('--sizes') ?? (quick ? '10' : '10,1000')).split(',').map(Number);
const invoiceId = asInvoiceId('BENCH-1');
const RATES = [['21', 'S'], ['9', 'S'], ['0', 'Z']] as const;

/** One device per party writing a chain of ops (each on the one before), then the seller proposes and the buyer accepts. */
function agreedInvoice(lines: number): FoldedInvoice {
  const ops: SourcedOp[] = [];
  let heads: OpId[] = [];
  let clock: Hlc = { wallMs: 0, counter: 0 };
  let now = 1_764_000_000_000;
  const write = <T extends OpType>(type: T, payload: PayloadByType[T], container: ContainerUrl) => {
    const op = makeOp(type, payload, { invoiceId, device: 'desktop', heads, latestClock: clock }, (now += 1000));
    ops.push({ op: op as AnyOp, container });
    heads = [op.id];
    clock = op.clock;
  };
  write('CreateInvoice', createPayload('EUR'), BUYER.container);
  for (let i = 0; i < lines; i++) {
    const [taxRate, taxCategory] = RATES[i % RATES.length]!;
    write('AddToCart', { product: `p${i}`, quantity: 1 + (i % 7) }, BUYER.container);
    write('QuoteItem', { product: `p${i}`, unitPrice: `${1 + (i % 50)}.${String(i % 100).padStart(2, '0')}`, taxRate, taxCategory, name: `Item ${i}` }, SELLER.container);
  }
  write('AddExtra', { key: 'shipping', description: 'Shipping', amount: '9.95', taxRate: '21' }, SELLER.container);
  write('AddDiscount', { key: 'loyal', description: 'Loyalty 5%', percent: '5' }, SELLER.container);
  write('AddDiscount', { key: 'voucher', description: 'Voucher', amount: '1.00', taxRate: '9' }, SELLER.container);
  write('SetSellerInfo', DEMO_SELLER_INFO, SELLER.container);
  write('SetInvoiceDetails', DEMO_INVOICE_DETAILS, SELLER.container);
  write('SetPaymentTerms', DEMO_PAYMENT_TERMS, SELLER.container);
  write('SetBuyerInfo', DEMO_BUYER_INFO, BUYER.container);
  write('SetBuyerReference', DEMO_BUYER_REFERENCE, BUYER.container);
  const folded = () => fold(ops, { invoiceId });
  write('Propose', proposalOf(folded()), SELLER.container);
  write('Accept', acceptanceOf(folded(), 'buyer'), BUYER.container);
  const invoice = folded();
  if (!invoice.agreement) throw new Error(`the bench invoice is not agreed: ${invoice.status}`);
  return invoice;
}

const ms = (x: number) => +x.toFixed(1);
const example = await readFile(path.join(EINVOICE_DIR, 'examples', 'base-example.xml'), 'utf8');
// Load and warm each validator once (the first document costs the stylesheet's set-up), then time the example.
if (!exportOnly) await Promise.all([failedAsserts('cen', example), failedAsserts('peppol', example), xsdErrors(example)]);
const rounds = (lines: number) => (lines >= 1000 ? 3 : 10);
// --quick (CI) checks that the bench still runs: the validators' best of fewer runs.
const validationRounds = quick ? 1 : 3;
const baselineOf = async (validate: () => Promise<unknown>) => (exportOnly ? 0 : (await best(validate, quick ? 2 : 5)).wallMs);
const baseline = {
  cen: await baselineOf(() => failedAsserts('cen', example)),
  peppol: await baselineOf(() => failedAsserts('peppol', example)),
  xsd: await baselineOf(() => xsdErrors(example)),
};

const figures: Figure[] = [];
for (const lines of sizes) {
  note(`building an agreed invoice of ${lines} lines…`);
  const built = performance.now();
  const invoice = agreedInvoice(lines);
  note(`  built and folded in ${Math.round(performance.now() - built)} ms`);
  const ubl = exportInvoice(invoice, 'ubl');
  const exportUbl = await best(() => exportInvoice(invoice, 'ubl'), rounds(lines));
  const exportJson = await best(() => exportInvoice(invoice, 'json'), rounds(lines));
  const exported = figure(`${lines} lines: UBL export (${Math.round(ubl.length / 1024)} KiB)`, ms(exportUbl.wallMs), 'ms', { name: 'the same invoice as JSON', value: ms(exportJson.wallMs) });
  if (exportOnly) {
    figures.push(exported);
    continue;
  }
  const fatal = [...(await failedAsserts('cen', ubl)), ...(await failedAsserts('peppol', ubl))].filter((a) => a.flag === 'fatal');
  const invalid = await xsdErrors(ubl);
  if (fatal.length || invalid.length) throw new Error(`the bench invoice is not valid: ${JSON.stringify({ fatal, invalid })}`);
  const cen = await best(() => failedAsserts('cen', ubl), Math.min(validationRounds, rounds(lines)), false);
  const peppol = await best(() => failedAsserts('peppol', ubl), Math.min(validationRounds, rounds(lines)), false);
  const xsd = await best(() => xsdErrors(ubl), Math.min(validationRounds, rounds(lines)), false);
  const example2 = (name: string, value: number) => ({ name: `${name} of Peppol's 2-line base example`, value: ms(value) });
  figures.push(
    exported,
    figure(`${lines} lines: CEN EN 16931 rules`, ms(cen.wallMs), 'ms', example2('CEN rules', baseline.cen)),
    figure(`${lines} lines: Peppol BIS 3 rules`, ms(peppol.wallMs), 'ms', example2('Peppol rules', baseline.peppol)),
    figure(`${lines} lines: UBL 2.1 XSD`, ms(xsd.wallMs), 'ms', example2('XSD', baseline.xsd)),
    figure(`${lines} lines: export and all three validations`, ms(exportUbl.wallMs + cen.wallMs + peppol.wallMs + xsd.wallMs), 'ms', null),
  );
}
report('e-invoice export (UBL 2.1, EN 16931, Peppol BIS 3)', figures);
