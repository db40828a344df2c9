import { Parser } from 'n3';
import { FedinvoiceError } from '../model/errors.ts';
import { asContainerUrl, type ContainerUrl, type InvoiceId } from '../model/ids.ts';
import { isNotFound } from '../pod/http-error.ts';
import { getResource, putImmutable } from '../pod/resources.ts';

/**
 * Each invoice folder on a party's pod names the invoice it belongs to: `<pod>invoices/<key>/origin`, written
 * once (If-None-Match: *) by the first device of the party that creates or joins the invoice, holding the
 * creator's op container. A device refuses to use a folder whose origin names another invoice, so one folder
 * never holds two invoices' ops, nor grants one invoice's participants read on another's.
 */
const ORIGIN_PREDICATE = 'https://w3id.org/fedinvoice/ns#origin';

export const invoiceFolderOf = (podRoot: string, invoiceId: InvoiceId): string => `${podRoot}invoices/${invoiceId}/`;
export const opsContainerOf = (podRoot: string, invoiceId: InvoiceId): ContainerUrl => asContainerUrl(`${invoiceFolderOf(podRoot, invoiceId)}ops/`);
/**
 * A party's evidence container of an invoice: copies of the other participants' signed ops its own ops build on,
 * next to its op container (`…/<key>/ops/` → `…/<key>/evidence/`), under the folder's ACL: only the party writes,
 * every participant reads.
 */
export const evidenceContainerOf = (opsContainer: ContainerUrl): ContainerUrl =>
  asContainerUrl(opsContainer.endsWith('/ops/') ? `${opsContainer.slice(0, -'ops/'.length)}evidence/` : `${opsContainer}evidence/`);
const markerOf = (podRoot: string, invoiceId: InvoiceId): string => `${invoiceFolderOf(podRoot, invoiceId)}origin`;

export class FolderTakenError extends FedinvoiceError {}

/** The origin an invoice folder's marker names, or null when it has none (a new folder, or one of the legacy layout). */
export async function folderOrigin(fetchFn: typeof fetch, podRoot: string, invoiceId: InvoiceId): Promise<string | null> {
  const url = markerOf(podRoot, invoiceId);
  try {
    const { body } = await getResource(fetchFn, url, { maxBytes: 4096 });
    const quad = new Parser({ baseIRI: url }).parse(body).find((q) => q.predicate.value === ORIGIN_PREDICATE);
    return quad?.object.value ?? '';
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Makes the folder of `invoiceId` on this party's pod the invoice whose CreateInvoice lives at `origin`, or
 * confirms it already is. Throws FolderTakenError, with what the folder holds, when it belongs to another invoice.
 */
export async function claimInvoiceFolder(fetchFn: typeof fetch, podRoot: string, invoiceId: InvoiceId, origin: ContainerUrl): Promise<'claimed' | 'already'> {
  const turtle = `<> <${ORIGIN_PREDICATE}> <${origin}> .\n`;
  if ((await putImmutable(fetchFn, markerOf(podRoot, invoiceId), turtle)) === 'created') return 'claimed';
  const held = await folderOrigin(fetchFn, podRoot, invoiceId);
  if (held === origin) return 'already';
  throw new FolderTakenError(
    `your folder ${invoiceFolderOf(podRoot, invoiceId)} already holds another invoice (created at ${held || 'an unreadable origin'}), ` +
      `not the one created at ${origin}: refusing to mix their ops or to let this invoice's participants read it`,
  );
}
