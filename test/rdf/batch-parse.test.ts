import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyOp } from '../../src/model/ops.ts';
import { opToTurtle } from '../../src/rdf/codec.ts';
import { parseOpTurtle, parseOpTurtles } from '../../src/rdf/op-resource.ts';
import type { OpValidator } from '../../src/rdf/shacl.ts';
import { loadOpValidator } from '../../src/sync/shapes.ts';
import { fcParams, PROPERTY_RUNS } from '../support/fc.ts';
import { arbitraryOp } from '../support/op-arbitraries.ts';

// The crawler validates single op resources in batches (cheaper per op); every document must get exactly the verdict
// it gets alone, whatever else is in the batch.
let validator: OpValidator;
beforeAll(async () => {
  validator = await loadOpValidator();
});

/** Ways a document can go wrong, each producing a different refusal. */
const MUTATIONS: Array<(turtle: string) => string> = [
  (t) => t,
  (t) => t.replace(/fi:counter \d+/, 'fi:counter "NaN"^^xsd:integer'),
  (t) => `${t}\n<#op> <http://schema.org/author> <https://mallory.example/#me> .`,
  (t) => t.replace(/\.\s*$/, ''),
  (t) => t.replace('fi:invoiceId', 'fi:invoiceIdentifier'),
  (t) => `${t}\n<#other> a <https://w3id.org/fedinvoice/ns#Comment> .`,
];

const documentArb = fc.record({ op: arbitraryOp(), mutation: fc.nat(MUTATIONS.length - 1), sameBase: fc.boolean() });

describe('parseOpTurtles', () => {
  it('gives every document the verdict parseOpTurtle gives it alone (valid, invalid, malformed, shared subjects)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(documentArb, { minLength: 1, maxLength: 12 }), async (docs) => {
        // A document with `sameBase` reuses the first document's URL, so its <#op> names the same subject.
        const documents = docs.map(({ op, mutation, sameBase }, i) => ({
          turtle: MUTATIONS[mutation]!(opToTurtle(op as AnyOp)),
          baseIri: `http://localhost:1/buyer/invoices/I/ops/${sameBase && i > 0 ? 0 : i}`,
        }));
        const alone = await Promise.all(documents.map(({ turtle, baseIri }) => parseOpTurtle(turtle, baseIri, validator)));
        const together = await parseOpTurtles(documents, validator);
        expect(together).toEqual(alone);
      }),
      fcParams(PROPERTY_RUNS),
    );
  });

  it('the mutations above really produce refusals, each of its own kind (the property is not vacuous)', async () => {
    const ops = fc.sample(arbitraryOp(), { numRuns: 20, seed: 7 });
    for (let m = 1; m < MUTATIONS.length; m++) {
      const results = await parseOpTurtles(ops.map((op, i) => ({ turtle: MUTATIONS[m]!(opToTurtle(op as AnyOp)), baseIri: `http://localhost:1/x/${i}` })), validator);
      expect(results.filter((r) => !r.ok).length, `mutation ${m}`).toBeGreaterThan(0);
    }
    const valid = await parseOpTurtles(ops.map((op, i) => ({ turtle: opToTurtle(op as AnyOp), baseIri: `http://localhost:1/x/${i}` })), validator);
    expect(valid.every((r) => r.ok)).toBe(true);
  });

  it('refuses a document that only a batch-mate makes look complete', async () => {
    const [complete] = fc.sample(arbitraryOp(), { numRuns: 1, seed: 42 });
    const full = opToTurtle(complete as AnyOp);
    const stripped = full.replace(/\n\s*fi:device [^;]*;/, '\n');
    const base = 'http://localhost:1/buyer/invoices/I/ops/shared';
    const [good, bad] = await parseOpTurtles([{ turtle: full, baseIri: base }, { turtle: stripped, baseIri: base }], validator);
    expect(good).toEqual(await parseOpTurtle(full, base, validator));
    expect(bad).toEqual(await parseOpTurtle(stripped, base, validator));
    expect(bad?.ok).toBe(stripped === full);
  });
});
