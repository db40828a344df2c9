import { FedinvoiceError } from '../model/errors.ts';

/**
 * An HTTP answer from a pod that was not what fedinvoice needed, or no answer at all (status 0: the pod could not
 * be reached). Callers ask the predicates below what it means rather than comparing status codes themselves.
 */
export class HttpError extends FedinvoiceError {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** "Try again later": keep the data and retry instead of failing. */
  get retryable(): boolean {
    return isRetryableStatus(this.status);
  }
}

/** No answer (0), too many requests (429) or a server error (5xx): the same request may succeed later. */
export const isRetryableStatus = (status: number): boolean => status === 0 || status === 429 || status >= 500;

export const isHttpError = (error: unknown): error is HttpError => error instanceof HttpError;

/** The pod (or identity provider) could not answer now; retrying later may work. */
export const isRetryable = (error: unknown): boolean => isHttpError(error) && error.retryable;

/** The device is not logged in (401) or its WebID may not do this (403). */
export const isDenied = (error: unknown): boolean => isHttpError(error) && (error.status === 401 || error.status === 403);

export const isNotFound = (error: unknown): boolean => isHttpError(error) && error.status === 404;

/** The server understood the request and refused it for good (4xx): repeating it would not help. */
export const isRefused = (error: unknown): boolean => isHttpError(error) && error.status >= 400 && error.status < 500;

/**
 * The server will never serve this resource as asked: it cannot give it in the type asked for (406, e.g. Turtle of
 * a binary file) or cannot convert it at all (501: what CSS answers a Turtle request for an image). Asking again
 * gets the same answer, so a reader refuses the resource once instead of retrying it.
 */
export const isUnservable = (error: unknown): boolean => isHttpError(error) && (error.status === 406 || error.status === 501);

/** The HTTP status of an error, 0 for anything that is not an HttpError (no answer). */
export const statusOf = (error: unknown): number => (isHttpError(error) ? error.status : 0);

/**
 * The status an HttpError carries when the provider cannot do the client-credentials grant: a refusal (4xx, not
 * retryable), whatever server error the provider answered.
 */
export const CLIENT_CREDENTIALS_UNSUPPORTED = 400;

/** A server error that is not "busy" or "a proxy could not reach it": the grant itself fails, and will again. */
export const cannotGrant = (status: number): boolean => status === 500 || status === 501;

/**
 * Some providers do not implement the client-credentials grant and fail it with a server error every time: retrying
 * would keep this device's ops queued forever, so this is a refusal that says what to do instead.
 */
export function cannotGrantError(issuer: string, status: number, cause?: unknown): HttpError {
  return new HttpError(
    CLIENT_CREDENTIALS_UNSUPPORTED,
    issuer,
    `The identity provider ${issuer} answered HTTP ${status} to the client-credentials login: it cannot log devices in that way. Use --browser: fedinvoice login --browser --issuer ${issuer} …`,
    cause === undefined ? undefined : { cause },
  );
}
