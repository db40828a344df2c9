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

/** The message of anything thrown: an Error's message, or the value itself as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
