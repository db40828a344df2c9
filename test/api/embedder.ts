/**
 * A small program an embedder could write, importing fedinvoice by its package name (Node resolves a package's
 * own name through its "exports"). test/api/public-api.test.ts runs it in a plain Node process with tsx.
 */
import { asContainerUrl, asInvoiceId, FedinvoiceError, fold, HttpError, isRetryable, loadOpValidator, MemoryDeviceStore, messageOf } from 'fedinvoice';
import { runDeviceStoreTests } from 'fedinvoice/store-contract';

const invoiceId = asInvoiceId('INV-EMBED');
const store = new MemoryDeviceStore();
const ops = asContainerUrl('https://pod.example/erp/invoices/INV-EMBED/ops/');
await store.saveInvoice({ invoiceId, ownContainer: ops, origin: ops, seedContainers: [ops] });
const validator = await loadOpValidator();
const busy = new HttpError(503, 'https://pod.example/', 'The pod is busy; retry later.');

let checks = 0;
runDeviceStoreTests('memory', async () => new MemoryDeviceStore(), { describe: (_name, body) => body(), it: () => void checks++ });

console.log(
  JSON.stringify({
    status: fold([], { invoiceId }).status,
    invoices: (await store.listInvoices()).map((ref) => ref.invoiceId),
    validator: typeof validator,
    retryable: isRetryable(busy),
    oneRoot: busy instanceof FedinvoiceError,
    message: messageOf(busy),
    checks,
  }),
);
