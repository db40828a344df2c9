/**
 * The one error root of fedinvoice. Every error the library throws on purpose is a FedinvoiceError,
 * so an embedding ERP can tell "fedinvoice refused this, here is why" from a bug.
 * Messages are written for the person at the keyboard: what happened and what to do.
 */
export class FedinvoiceError extends Error {
  override readonly name: string = 'FedinvoiceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An op or an op's input that breaks the model's rules (wrong role, bad amount, unknown product…). */
export class OpRefusedError extends FedinvoiceError {
  override readonly name: string = 'OpRefusedError';
}

/** Input that is not well-formed (bad Turtle, a shape violation, a hash that does not match its name). */
export class MalformedOpError extends FedinvoiceError {
  override readonly name: string = 'MalformedOpError';
}

/**
 * An HTTP answer from a pod that was not what fedinvoice needed. `retryable` is true for answers that mean
 * "try again later" (network failure, 5xx, 429): callers keep their data and retry instead of failing.
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
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}
