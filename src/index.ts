/**
 * fedinvoice for an application that embeds it (an ERP): `import { … } from 'fedinvoice'`.
 *
 * - The model is pure: `fold` turns ops, each tagged with the container it was read from, into the invoice.
 * - A device is a `Replica` over a `DeviceStore` (memory, files, or the embedder's own: run
 *   `runDeviceStoreTests` from 'fedinvoice/store-contract' against it) and a logged-in session's `fetch`. The op
 *   validator checks Turtle against the published SHACL shapes; a Replica's reader gives the same verdicts without it.
 * - Every error fedinvoice throws on purpose is a `FedinvoiceError`; the predicates say what an HttpError means.
 *
 * Anything not exported here is internal and may change.
 */

// The model.
export { fold, type FoldOptions } from './model/fold.ts';
export { asContainerUrl, asInvoiceId, asWebId, isInvoiceId, type ContainerUrl, type InvoiceId, type OpId, type TermsHash, type WebId } from './model/ids.ts';
export type {
  Agreement,
  Author,
  FoldedInvoice,
  InvoiceLine,
  InvoiceStatus,
  LogEntry,
  Participant,
  Proposal,
  TaxLine,
  Totals,
} from './model/invoice.ts';
export type { AnyOp, Hlc, Op, OpType, PartyInfo, PayloadByType, PostalAddress, SourcedOp } from './model/ops.ts';
export type { Role, Side } from './model/roles.ts';

// A device.
export {
  invoiceContainerOf,
  opsContainerOf,
  Replica,
  type BatchEntry,
  type BatchResult,
  type CheckpointResult,
  type CreateInvoiceInput,
  type DeviceIdentity,
  type ReplicaOptions,
  type SyncResult,
  type WriteResult,
} from './sync/replica.ts';
export type { OutboxReport } from './sync/outbox.ts';
export type { ContainerReport, CrawlLimits } from './sync/crawler.ts';
export { loadOpValidator, type OpValidator } from './sync/shapes.ts';

// The stores.
export {
  emptyContainerState,
  MemoryDeviceStore,
  outboxOrder,
  type ContainerState,
  type DeviceStore,
  type FeedDayState,
  type FeedState,
  type InvoiceRef,
  type KnownKeys,
  type OutboxEntry,
} from './sync/store.ts';
export { FileDeviceStore } from './sync/file-store.ts';

// Signatures and evidence (docs/signatures.md).
export { generateDeviceKey, opSigner, type DeviceKey, type OpSigner } from './sync/device-key.ts';
export { publishDeviceKey, readPublishedKeys, revokeDeviceKey } from './pod/device-keys.ts';
export { verifyBundle, type BundleVerdict, type SignedDecision } from './sync/evidence-bundle.ts';
export type { PublishedKey, SignaturePolicy } from './model/signatures.ts';
export type { Proof } from './model/ops.ts';

// Logging a device in.
export { loginDevice, type DeviceCredentials, type DeviceSession, type LoginOptions } from './pod/session.ts';

// Errors.
export { FedinvoiceError, messageOf, OpRefusedError } from './model/errors.ts';
export { HttpError, isDenied, isNotFound, isRetryable } from './pod/http-error.ts';
