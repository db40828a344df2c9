import type { PayloadByType } from '../model/ops.ts';

/**
 * What the demo's two businesses state for an e-invoice (`npm run demo -- --agree`): both Dutch, so Peppol's
 * Dutch rules apply (street, city and postal code; KvK numbers; a payment account). The numbers are examples
 * in the right form (the IBAN's check digits are valid), not real businesses.
 */
export const DEMO_SELLER_INFO: PayloadByType['SetSellerInfo'] = {
  info: {
    name: 'Mr. Svarovsky Mobile',
    vatId: 'NL001234567B01',
    email: 'george@svarovsky.example',
    postalAddress: { streetAddress: 'Koffiestraat 12', addressLocality: 'Utrecht', postalCode: '3511 AB', countryCode: 'NL' },
    legalId: '12345678',
    legalIdScheme: '0106',
    endpoint: { scheme: '0106', id: '12345678' },
    contactName: 'George Svarovsky',
  },
};

export const DEMO_BUYER_INFO: PayloadByType['SetBuyerInfo'] = {
  info: {
    name: 'Michiel',
    vatId: 'NL009876543B01',
    email: 'michiel@buyer.example',
    postalAddress: { streetAddress: 'Bonenlaan 3', addressLocality: 'Amsterdam', postalCode: '1011 AA', countryCode: 'NL' },
    legalId: '87654321',
    legalIdScheme: '0106',
    endpoint: { scheme: '0106', id: '87654321' },
  },
};

/** The seller re-quotes beans at the same price, now naming the item (the lowest quote, of equal ones the latest, is the price). */
export const DEMO_BEANS_QUOTE: PayloadByType['QuoteItem'] = {
  product: 'beans',
  unitPrice: '0.05',
  taxRate: '0',
  name: 'Coffee beans',
  unitCode: 'C62',
  taxCategory: 'Z',
};

export const DEMO_INVOICE_DETAILS: PayloadByType['SetInvoiceDetails'] = { number: 'SV-2021-0103', issueDate: '2021-06-14' };

export const DEMO_PAYMENT_TERMS: PayloadByType['SetPaymentTerms'] = {
  terms: 'Payment within 30 days',
  dueDays: 30,
  iban: 'NL91ABNA0417164300',
  bic: 'ABNANL2A',
  paymentReference: 'SV-2021-0103',
};

export const DEMO_BUYER_REFERENCE: PayloadByType['SetBuyerReference'] = { reference: 'MICHIEL-BEANS', orderReference: '0001-03' };
