import { readFile } from 'node:fs/promises';
import { createOpValidator, type OpValidator } from '../rdf/shacl.ts';

export type { OpValidator } from '../rdf/shacl.ts';

/** The SHACL shapes every op resource must conform to, shipped with the package. */
export const OPS_SHAPES_URL = new URL('../../shapes/ops.shacl.ttl', import.meta.url);
/** The vocabulary the shapes use (documentation, checked against the op table by a test; validation does not need it). */
export const VOCAB_URL = new URL('../../shapes/vocab.ttl', import.meta.url);

let cached: Promise<OpValidator> | undefined;

/** The op validator, compiled from shapes/ops.shacl.ttl on first use and shared afterwards. */
export function loadOpValidator(): Promise<OpValidator> {
  if (!cached) {
    cached = readFile(OPS_SHAPES_URL, 'utf8').then(createOpValidator);
    // A failed load (missing file) is not cached, so a later call can try again.
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}
