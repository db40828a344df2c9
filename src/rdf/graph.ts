/**
 * Turtle in, an indexed graph out: the quads of a document, grouped by subject and predicate, and the subjects
 * typed with an op class. What both readers (the table-driven decoder and the SHACL path) start from.
 */
import rdfDataModel from '@rdfjs/data-model';
import type { Quad, Term } from '@rdfjs/types';
import { Parser } from 'n3';
import { isOpType, type OpType } from '../model/ops.ts';
import { FI, RDF_TYPE, termKey } from './vocabulary.ts';

/** Outgoing edges of one node: its objects by predicate IRI. */
export type Edges = Map<string, Term[]>;

export interface Graph {
  readonly quads: readonly Quad[];
  /** Edges by subject (termKey). */
  readonly nodes: Map<string, Edges>;
  /** The subjects typed with an op class, with every op type they claim. */
  readonly opSubjects: Map<string, { readonly term: Term; readonly types: OpType[] }>;
}

/** Parse Turtle into plain RDF/JS terms (cheaper to read repeatedly than n3's string-backed terms). Throws on bad Turtle. */
export function parseTurtle(turtle: string, baseIri?: string): Quad[] {
  return new Parser({ format: 'text/turtle', factory: rdfDataModel, ...(baseIri !== undefined ? { baseIRI: baseIri } : {}) }).parse(turtle);
}

/** Parses and indexes a document; the reason when it is not Turtle or holds named graphs (`what` names it). */
export function readGraph(turtle: string, baseIri: string, what: string): Graph | { reason: string } {
  let quads: Quad[];
  try {
    quads = parseTurtle(turtle, baseIri);
  } catch (error) {
    return { reason: `malformed Turtle: ${error instanceof Error ? error.message : String(error)}` };
  }
  return indexGraph(quads, what);
}

export function indexGraph(quads: readonly Quad[], what: string): Graph | { reason: string } {
  const nodes = new Map<string, Edges>();
  const opSubjects = new Map<string, { term: Term; types: OpType[] }>();
  for (const q of quads) {
    if (q.graph.termType !== 'DefaultGraph') return { reason: `${what} must not contain named graphs` };
    const key = termKey(q.subject);
    let edges = nodes.get(key);
    if (!edges) nodes.set(key, (edges = new Map()));
    const objects = edges.get(q.predicate.value);
    if (objects) objects.push(q.object);
    else edges.set(q.predicate.value, [q.object]);
    if (q.predicate.value === RDF_TYPE && q.object.termType === 'NamedNode' && q.object.value.startsWith(FI)) {
      const local = q.object.value.slice(FI.length);
      if (isOpType(local)) {
        let entry = opSubjects.get(key);
        if (!entry) opSubjects.set(key, (entry = { term: q.subject, types: [] }));
        entry.types.push(local);
      }
    }
  }
  return { quads, nodes, opSubjects };
}
