import { sha256Hex } from './hash.ts';
import { asInvoiceId, type InvoiceId } from './ids.ts';

/**
 * An invoice's key: the name of its folder on every participant's pod (`<pod>invoices/<key>/`) and the
 * `invoiceId` of its ops. It is `<number>.<hash>`, where the hash is SHA-256 of the creator's pod root and the
 * number: the number stays readable, and two invoices made on different pods never share a key, whatever
 * numbers their creators pick. Each participant checks the key against the pod its CreateInvoice was read from
 * (`keyFitsOrigin`), and a pod's WAC is what decides who may write on a pod, so nobody can make a key that names
 * another party's invoice. Keys without a hash are invoices made before keys were derived (the legacy layout).
 */
const HASH_CHARS = 32;
/** Invoice numbers, what people see and type: the key (at most 64 characters) keeps room for "." and the hash. */
const NUMBER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/;
const DERIVED = /^(.+)\.([0-9a-f]{32})$/;
const ORIGIN = /^(https?:\/\/.+\/)invoices\/([^/]+)\/ops\/$/;

export const isInvoiceNumber = (value: string): boolean => NUMBER.test(value);

/** The key of invoice `number` created on the pod at `creatorPodRoot`. */
export function invoiceKeyOf(creatorPodRoot: string, number: string): InvoiceId {
  return asInvoiceId(`${number}.${sha256Hex(`${creatorPodRoot}\n${number}`).slice(0, HASH_CHARS)}`);
}

/** The number people see: the key without its hash (a legacy key is its own number). */
export function numberOfKey(key: string): string {
  return DERIVED.exec(key)?.[1] ?? key;
}

export const isLegacyKey = (key: string): boolean => !DERIVED.test(key);

/** The pod root and key of an op container `<pod>invoices/<key>/ops/`, or null for any other URL. */
export function splitOpsContainer(container: string): { podRoot: string; key: string } | null {
  const match = ORIGIN.exec(container);
  return match ? { podRoot: match[1]!, key: match[2]! } : null;
}

/**
 * Whether `key` may be the invoice whose CreateInvoice lives at `origin`: 'derived' when the key is derived from
 * the pod the origin is on, 'legacy' for a key without a hash in its own folder, 'mismatch' otherwise (a key
 * copied from another pod's invoice, or a folder that is not the key's).
 */
export function keyFitsOrigin(key: string, origin: string): 'derived' | 'legacy' | 'mismatch' {
  const parts = splitOpsContainer(origin);
  if (!parts || parts.key !== key) return 'mismatch';
  if (isLegacyKey(key)) return 'legacy';
  return invoiceKeyOf(parts.podRoot, numberOfKey(key)) === key ? 'derived' : 'mismatch';
}
