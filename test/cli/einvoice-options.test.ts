import { describe, expect, it } from 'vitest';
import { DEMO_SELLER_INFO } from '../../src/cli/demo-legal.ts';
import { OP_COMMANDS, partyInfoFrom } from '../../src/cli/op-commands.ts';

// The CLI's e-invoice options become the op fields docs/einvoice.md lists (no pods: the payloads only).
const payloadOf = (type: string, args: string[], options: Record<string, string>) => OP_COMMANDS.find((c) => c.type === type)!.payload(args, options);

describe('e-invoice options of the CLI', () => {
  it('set-seller-info: address, VAT and legal ids, endpoint and contact', () => {
    const info = partyInfoFrom({
      name: 'Mr. Svarovsky Mobile',
      vatId: 'NL001234567B01',
      email: 'george@svarovsky.example',
      street: 'Koffiestraat 12',
      city: 'Utrecht',
      postalCode: '3511 AB',
      country: 'NL',
      legalId: '12345678',
      legalIdScheme: '0106',
      endpoint: '0106:12345678',
      contact: 'George Svarovsky',
    });
    expect(info).toEqual(DEMO_SELLER_INFO.info);
  });

  it('refuses half an address and an endpoint without its scheme, saying what to give', () => {
    expect(() => partyInfoFrom({ name: 'X', street: 'Main 1' })).toThrow('--city (with --street and --country) is required');
    expect(() => partyInfoFrom({ name: 'X', endpoint: '12345678' })).toThrow('--endpoint must be <scheme>:<id>, like 0106:12345678, got "12345678"');
  });

  it('quote-item, set-payment-terms, set-invoice-details and set-buyer-reference', () => {
    expect(payloadOf('QuoteItem', ['beans', '0.05'], { name: 'Coffee beans', unit: 'KGM', category: 'Z' })).toEqual({
      product: 'beans', unitPrice: '0.05', taxRate: '0', name: 'Coffee beans', unitCode: 'KGM', taxCategory: 'Z',
    });
    expect(payloadOf('SetPaymentTerms', ['Net 30'], { dueDays: '30', iban: 'NL91ABNA0417164300', bic: 'ABNANL2A', paymentReference: 'R1' })).toEqual({
      terms: 'Net 30', dueDays: 30, iban: 'NL91ABNA0417164300', bic: 'ABNANL2A', paymentReference: 'R1',
    });
    expect(payloadOf('SetInvoiceDetails', ['SV-1', '2026-12-01'], { note: 'Thanks' })).toEqual({ number: 'SV-1', issueDate: '2026-12-01', note: 'Thanks' });
    expect(payloadOf('SetBuyerReference', ['DEPT-7'], { order: 'PO-9' })).toEqual({ reference: 'DEPT-7', orderReference: 'PO-9' });
  });
});
