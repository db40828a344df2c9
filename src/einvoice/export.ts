import { FedinvoiceError } from '../model/errors.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import { toUbl } from './ubl.ts';

export const EXPORT_FORMATS = ['ubl', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The export refused an invoice: not agreed, or lacking what an e-invoice must say (`missing`, one entry each). */
export class ExportRefusedError extends FedinvoiceError {
  override readonly name: string = 'ExportRefusedError';
  constructor(
    message: string,
    readonly missing: readonly string[] = [],
  ) {
    super(missing.length ? `${message}:\n${missing.map((gap) => `  - ${gap}`).join('\n')}` : message);
  }
}

/** What an export of this invoice lacks, seller's first: empty when it can be exported. */
export function exportGaps(invoice: FoldedInvoice): string[] {
  return [...invoice.eInvoiceGaps.seller, ...invoice.eInvoiceGaps.buyer];
}

/**
 * The agreed invoice as a file: UBL 2.1 (EN 16931, Peppol BIS Billing 3.0) or the model's JSON. Pure. Refuses an
 * invoice that is not agreed, and (for UBL) one that lacks mandatory data, listing each gap. The folded invoice
 * of an agreed invoice shows the agreed terms, never later changes.
 */
export function exportInvoice(invoice: FoldedInvoice, format: ExportFormat): string {
  if (!invoice.agreement) {
    throw new ExportRefusedError(`invoice ${invoice.invoiceId ?? '?'} is not agreed (it is ${invoice.status}): only agreed terms can be exported`);
  }
  if (format === 'json') return `${JSON.stringify(invoice, null, 2)}\n`;
  const missing = exportGaps(invoice);
  if (missing.length > 0) throw new ExportRefusedError(`invoice ${invoice.invoiceId} cannot be an e-invoice yet; it lacks`, missing);
  return toUbl(invoice);
}
