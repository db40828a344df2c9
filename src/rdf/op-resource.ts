/**
 * Reading one op resource (subject `<#op>`): parse it, find the one op subject, check that the resource describes
 * nothing else, then judge the op. The judges give the same verdicts (test/rdf/agreement.test.ts):
 * - `decodeOpTurtle`, what the crawler uses: the canonical fast path (canonical.ts), and for anything it does not
 *   accept, `decodeOpTurtleStrict`: n3's parse and the table-driven strict reader;
 * - `parseOpTurtle`: SHACL validation against the published shapes first, then the strict reader.
 * Both return the op with its id computed from its content: the caller compares it with the resource's name.
 * PURE: no file system, no network. Never throws: every refusal is `{ ok: false, reason }`.
 */
import type { Term } from '@rdfjs/types';
import type { OpType } from '../model/ops.ts';
import { readCanonicalOp } from './canonical.ts';
import { decodeOp, type ParseOpResult } from './codec.ts';
import { readGraph, type Edges, type Graph } from './graph.ts';
import { QuadIndex } from './quad-index.ts';
import type { OpValidator, ValidationOutcome } from './shacl.ts';
import { compactIri, RDF_TYPE, termForMessage, termKey } from './vocabulary.ts';

export type { ParseOpResult };

interface PreparedOp {
  readonly ok: true;
  readonly graph: Graph;
  readonly subject: Term;
  readonly type: OpType;
  readonly edges: Edges;
}

/** Everything short of judging the op: parse, find the one op subject, check the resource describes nothing else. */
function prepareOp(turtle: string, baseIri: string): PreparedOp | { ok: false; reason: string } {
  const graph = readGraph(turtle, baseIri, 'an op resource');
  if ('reason' in graph) return { ok: false, reason: graph.reason };
  const { nodes, opSubjects } = graph;
  if (opSubjects.size === 0) return { ok: false, reason: 'no op found: expected one subject typed with an op class (fi:AddToCart, …)' };
  if (opSubjects.size > 1) {
    const names = [...opSubjects.values()].map((s) => termForMessage(s.term)).join(', ');
    return { ok: false, reason: `expected exactly one op subject, found ${opSubjects.size}: ${names}` };
  }
  const [{ term: subject, types }] = [...opSubjects.values()] as [{ term: Term; types: OpType[] }];
  if (subject.termType !== 'NamedNode') return { ok: false, reason: 'the op subject must be an IRI (<#op>), not a blank node' };
  const edges = nodes.get(termKey(subject)) ?? new Map<string, Term[]>();
  const allTypes = edges.get(RDF_TYPE) ?? [];
  if (types.length !== 1 || allTypes.length !== 1) {
    return { ok: false, reason: `the op must have exactly one rdf:type, found ${allTypes.map(termForMessage).join(', ')}` };
  }
  const stray = strayTriple(graph, subject, edges);
  if (stray) return { ok: false, reason: stray };
  return { ok: true, graph, subject, type: types[0]!, edges };
}

/** Everything in an op resource must be about the op: its own triples, or blank nodes it points to. */
function strayTriple(graph: Graph, subject: Term, edges: Edges): string | null {
  if (graph.nodes.size === 1) return null;
  // Blank nodes reachable from the op, through blank nodes (a party's info holds its address): visited once each.
  const reachable = new Set<string>([termKey(subject)]);
  const queue: Edges[] = [edges];
  while (queue.length > 0) {
    for (const objects of queue.pop()!.values()) {
      for (const o of objects) {
        const key = termKey(o);
        if (o.termType !== 'BlankNode' || reachable.has(key)) continue;
        reachable.add(key);
        const next = graph.nodes.get(key);
        if (next) queue.push(next);
      }
    }
  }
  for (const key of graph.nodes.keys()) {
    if (reachable.has(key)) continue;
    const q = graph.quads.find((x) => termKey(x.subject) === key)!;
    const about = `${termForMessage(q.subject)} (${compactIri(q.predicate.value)})`;
    return `unexpected triple about ${about}: an op resource may only describe the op and the blank nodes it points to`;
  }
  return null;
}

/**
 * Reads one op resource: in canonical form, on the fast path; otherwise with n3 and the strict reader, which
 * also says why an op is refused. `baseIri` is the URL the resource was read from (relative IRIs, `<#op>`
 * included, resolve against it).
 */
export function decodeOpTurtle(turtle: string, baseIri: string): ParseOpResult {
  const op = readCanonicalOp(turtle);
  return op ? { ok: true, op } : decodeOpTurtleStrict(turtle, baseIri);
}

/** Reads one op resource with n3 and the table-driven strict reader, whatever its form. */
export function decodeOpTurtleStrict(turtle: string, baseIri: string): ParseOpResult {
  const prepared = prepareOp(turtle, baseIri);
  return prepared.ok ? decodeOp(prepared.type, prepared.edges, prepared.graph.nodes) : prepared;
}

/** `decodeOpTurtle` for many resources: one verdict per document, in order. */
export function decodeOpTurtles(documents: ReadonlyArray<{ turtle: string; baseIri: string }>): ParseOpResult[] {
  return documents.map(({ turtle, baseIri }) => decodeOpTurtle(turtle, baseIri));
}

/** The verdict on a prepared op given its SHACL outcome: the shape's messages, or the op read and hashed. */
function finishOp(prepared: PreparedOp, outcome: ValidationOutcome): ParseOpResult {
  if (outcome.conforms) return decodeOp(prepared.type, prepared.edges, prepared.graph.nodes);
  return { ok: false, reason: `does not conform to shape ${prepared.type}: ${shownMessages(outcome.messages)}` };
}

/** The first three messages of a SHACL report, and how many more there are. */
export function shownMessages(messages: readonly string[]): string {
  const more = messages.length > 3 ? ` (and ${messages.length - 3} more)` : '';
  return `${messages.slice(0, 3).join('; ')}${more}`;
}

/** Reads one op resource, validating it with the SHACL shapes before reading it. */
export async function parseOpTurtle(turtle: string, baseIri: string, validator: OpValidator): Promise<ParseOpResult> {
  const prepared = prepareOp(turtle, baseIri);
  if (!prepared.ok) return prepared;
  return finishOp(prepared, await validator.validate(new QuadIndex([...prepared.graph.quads]), prepared.subject));
}

/**
 * Reads many single-op resources at once, with the same result for each as `parseOpTurtle`, but SHACL-validates
 * them in one pass per op type (cheaper per op, as for a pack). Ops whose subject IRI another document of the
 * batch also uses are validated on their own, so that no document's triples can affect another's verdict.
 */
export async function parseOpTurtles(
  documents: ReadonlyArray<{ turtle: string; baseIri: string }>,
  validator: OpValidator,
): Promise<ParseOpResult[]> {
  const prepared = documents.map(({ turtle, baseIri }) => prepareOp(turtle, baseIri));
  const results: Array<ParseOpResult | undefined> = prepared.map((p) => (p.ok ? undefined : p));
  const subjectCount = new Map<string, number>();
  for (const p of prepared) if (p.ok) subjectCount.set(termKey(p.subject), (subjectCount.get(termKey(p.subject)) ?? 0) + 1);
  const together: number[] = [];
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i]!;
    if (!p.ok) continue;
    if (subjectCount.get(termKey(p.subject)) === 1) together.push(i);
    else results[i] = finishOp(p, await validator.validate(new QuadIndex([...p.graph.quads]), p.subject));
  }
  if (together.length > 0) {
    const items = together.map((i) => prepared[i] as PreparedOp);
    const outcomes = await validator.validateEach(
      new QuadIndex(items.flatMap((item) => [...item.graph.quads])),
      items.map((item) => item.subject),
    );
    together.forEach((i, k) => (results[i] = finishOp(items[k]!, outcomes[k]!)));
  }
  return results as ParseOpResult[];
}
