/**
 * The committed shapes are the table's: shapes/ops.shacl.ttl is what `npm run shapes` writes from the op table,
 * and shapes/vocab.ttl declares exactly the fi: terms the table uses, with the ranges the table gives them.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ENVELOPE, OP_TABLE, type Field } from '../../src/model/op-table.ts';
import { OP_TYPES } from '../../src/model/ops.ts';
import { parseTurtle } from '../../src/rdf/graph.ts';
import { opShapesTurtle } from '../../src/rdf/shapes.ts';
import { createOpValidator } from '../../src/rdf/shacl.ts';
import { compactIri, FI, RDF_TYPE, RDFS, SCHEMA, XSD } from '../../src/rdf/vocabulary.ts';
import { OPS_SHAPES_URL, VOCAB_URL } from '../../src/sync/shapes.ts';

/** Every field of the table (envelope, payloads, nested nodes), each once. */
function allFields(): Field[] {
  const found = new Set<Field>();
  const visit = (fields: readonly Field[]): void => {
    for (const field of fields) {
      found.add(field);
      if (field.value.kind === 'node') visit(field.value.node.fields);
    }
  };
  visit(ENVELOPE);
  for (const type of OP_TYPES) visit(OP_TABLE[type].fields);
  return [...found];
}

const RANGE_OF_KIND: Partial<Record<Field['value']['kind'], string>> = {
  text: `${XSD}string`,
  choice: `${XSD}string`,
  integer: `${XSD}integer`,
  decimal: `${XSD}decimal`,
  date: `${XSD}date`,
  instant: `${XSD}dateTime`,
  opId: `${FI}Op`,
  opType: `${RDFS}Class`,
  node: `${FI}Party`,
};

describe('shapes/ops.shacl.ttl', () => {
  it('is exactly what the op table generates (run `npm run shapes` after changing the table)', async () => {
    expect(await readFile(OPS_SHAPES_URL, 'utf8')).toBe(opShapesTurtle());
  });

  it('compiles, and has one shape targeting each op class', () => {
    const validator = createOpValidator(opShapesTurtle());
    expect([...validator.shapesByType.keys()].sort()).toEqual([...OP_TYPES].sort());
  });
});

describe('shapes/vocab.ttl', () => {
  const vocabulary = readFile(VOCAB_URL, 'utf8').then((text) => ({ text, quads: parseTurtle(text, FI) }));
  const fields = allFields();
  const predicates = new Set(fields.flatMap((field) => (field.predicate ? [field.predicate] : [])));

  it('declares every op class, and every fi: property the table uses, and nothing else', async () => {
    const { quads } = await vocabulary;
    const declared = (type: string) =>
      quads.filter((q) => q.predicate.value === RDF_TYPE && q.object.value === type).map((q) => q.subject.value);
    const nodes = [`${FI}Op`, `${FI}Party`, `${FI}PartyAddress`, `${FI}Endpoint`, `${FI}KeyBinding`];
    expect(declared(`${RDFS}Class`).sort()).toEqual([...OP_TYPES.map((type) => FI + type), ...nodes].sort());
    expect(declared('http://www.w3.org/1999/02/22-rdf-syntax-ns#Property').sort()).toEqual([...predicates].filter((p) => p.startsWith(FI)).sort());
  });

  it('gives each fi: property the range its fields have in the table', async () => {
    const { quads } = await vocabulary;
    for (const field of fields) {
      if (!field.predicate?.startsWith(FI)) continue;
      const range = quads.find((q) => q.subject.value === field.predicate && q.predicate.value === `${RDFS}range`)?.object.value;
      if (range === undefined) expect(field.value.kind, compactIri(field.predicate)).toBe('url');
      else if (field.value.kind === 'node' && !['PartyRef', 'PartyInfo'].includes(field.value.node.name)) expect(range, compactIri(field.predicate)).toBe(FI + field.value.node.name);
      else expect(range, compactIri(field.predicate)).toBe(RANGE_OF_KIND[field.value.kind]);
    }
  });

  it('lists exactly the schema.org terms ops use', async () => {
    const { text } = await vocabulary;
    const listed = new Set(text.match(/schema:[A-Za-z]+/g));
    const classes = fields.flatMap((field) => (field.value.kind === 'node' && field.value.node.class ? [field.value.node.class] : []));
    const used = new Set([...predicates, ...classes].filter((iri) => iri.startsWith(SCHEMA)).map(compactIri));
    expect([...listed].sort()).toEqual([...used].sort());
  });
});
