import * as patterns from './patterns.ts';

/**
 * Branded identifiers: a plain string cannot be passed where an OpId or a ContainerUrl is meant,
 * which catches the "passed the WebID where the container was expected" class of bug at compile time.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** SHA-256 (lowercase hex, 64 chars) of an op's canonical content. */
export type OpId = Brand<string, 'OpId'>;
export type InvoiceId = Brand<string, 'InvoiceId'>;
export type WebId = Brand<string, 'WebId'>;
/** URL of an LDP container holding one participant's ops for one invoice; ends with '/'. */
export type ContainerUrl = Brand<string, 'ContainerUrl'>;
/** SHA-256 (lowercase hex) of an invoice's canonical terms. */
export type TermsHash = Brand<string, 'TermsHash'>;

const HEX64 = new RegExp(patterns.HEX64);
const INVOICE_ID = new RegExp(patterns.INVOICE_ID);
const HTTP_URL = new RegExp(patterns.HTTP_URL);
const CONTAINER_URL = new RegExp(patterns.CONTAINER_URL);
/** Longest URL an op may carry (a WebID, a container, a tracking page). */
export const MAX_URL_LENGTH = 2000;

export const isOpId = (value: unknown): value is OpId => typeof value === 'string' && HEX64.test(value);
export const isTermsHash = (value: unknown): value is TermsHash => typeof value === 'string' && HEX64.test(value);
/** Invoice ids become path segments on pods, so they are restricted to URL-safe characters. */
export const isInvoiceId = (value: unknown): value is InvoiceId => typeof value === 'string' && INVOICE_ID.test(value);

/**
 * An http(s) URL in the one spelling a URL parser gives it (patterns.ts), so that comparing two WebIDs or two
 * containers as strings is comparing the resources.
 */
export const isHttpUrl = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_URL_LENGTH && HTTP_URL.test(value);
export const isWebId = (value: unknown): value is WebId => isHttpUrl(value);
export const isContainerUrl = (value: unknown): value is ContainerUrl =>
  typeof value === 'string' && value.length <= MAX_URL_LENGTH && CONTAINER_URL.test(value);

export const asInvoiceId = (value: string): InvoiceId => value as InvoiceId;
export const asOpId = (value: string): OpId => value as OpId;
export const asWebId = (value: string): WebId => value as WebId;
export const asContainerUrl = (value: string): ContainerUrl => value as ContainerUrl;
