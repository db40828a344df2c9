/**
 * Packs: several ops in one Turtle document, each the subject `<#<op id>>` (relative to the pack's URL), so that
 * every op in it stays addressable (`<pack URL>#<op id>`) and verifiable (its content must hash to that id).
 * PURE: no file system, no network.
 */
import type { Term } from '@rdfjs/types';
import { DataFactory, Writer } from 'n3';
import { compareCodeUnits } from '../model/causality.ts';
import { isOpId, type OpId } from '../model/ids.ts';
import type { AnyOp, OpType } from '../model/ops.ts';
import { readCanonicalPack } from './canonical.ts';
import { decodeOp, endWriter, writeOp, type ParseOpResult } from './codec.ts';
import { readGraph, type Edges } from './graph.ts';
import { shownMessages } from './op-resource.ts';
import { QuadIndex } from './quad-index.ts';
import type { OpValidator, ValidationOutcome } from './shacl.ts';
import { compactIri, PREFIXES, RDF_TYPE, termForMessage, termKey } from './vocabulary.ts';

/**
 * The Turtle document for a pack. Ops are written sorted by id, so the same set of ops always gives the same
 * bytes.
 */
export function opsToPackTurtle(ops: readonly AnyOp[]): string {
  const writer = new Writer({ prefixes: PREFIXES });
  const unique = new Map<string, AnyOp>();
  for (const op of ops) unique.set(op.id, op);
  for (const id of [...unique.keys()].sort()) writeOp(writer, DataFactory.namedNode(`#${id}`), unique.get(id)!);
  return endWriter(writer);
}

/** One op of a pack: the id its subject names (`<#<id>>`), and the op read from it or why it was refused. */
export interface PackEntry {
  /** The id named by the op's subject, or null when the subject does not name one. */
  readonly id: OpId | null;
  /** The op's subject as written, for reports. */
  readonly subject: string;
  readonly result: ParseOpResult;
}

export type ParsePackResult =
  | {
      readonly ok: true;
      /** Every op subject of the pack, sorted by subject; bad ops are refused one by one, never the whole pack. */
      readonly entries: PackEntry[];
      /** Triples that describe no op (ignored): reported, since a fedinvoice writer never writes them. */
      readonly problems: string[];
    }
  | { readonly ok: false; readonly reason: string };

export interface ParsePackOptions {
  /** Most op subjects read from one pack; a pack with more is refused whole (untrusted input is capped). */
  readonly maxOps?: number;
  /** Validate every op with the SHACL shapes before reading it (the same verdicts, at a higher cost). */
  readonly validator?: OpValidator;
}

interface Candidate {
  readonly entry: number;
  readonly term: Term;
  readonly type: OpType;
  readonly edges: Edges;
}

/**
 * Parses a pack (the Turtle of `opsToPackTurtle`): one parse for the whole document, then every op subject is
 * checked like a single op resource (exactly one op type, only its own triples and the blank nodes it points
 * to), read (and, with a validator, SHACL-validated first: one pass per op type for the whole pack) and hashed.
 * Without a validator, a pack in canonical form whose every op is valid is read on the fast path (canonical.ts),
 * with the same result. Never throws. The caller compares each entry's rebuilt id with `entry.id`, the id the
 * pack names it by.
 */
export async function parseOpPack(turtle: string, baseIri: string, options: ParsePackOptions = {}): Promise<ParsePackResult> {
  const canonical = options.validator ? null : readCanonicalPack(turtle, baseIri, options.maxOps ?? 100_000);
  if (!canonical) return parseOpPackStrict(turtle, baseIri, options);
  return { ok: true, entries: canonical.map(({ id, subject, op }) => ({ id, subject, result: { ok: true, op } })), problems: [] };
}

/** parseOpPack with n3 and the strict reader, whatever the pack's form. */
export async function parseOpPackStrict(turtle: string, baseIri: string, options: ParsePackOptions = {}): Promise<ParsePackResult> {
  const maxOps = options.maxOps ?? 100_000;
  const graph = readGraph(turtle, baseIri, 'a pack');
  if ('reason' in graph) return { ok: false, reason: graph.reason };
  if (graph.opSubjects.size > maxOps) return { ok: false, reason: `it holds ${graph.opSubjects.size} ops, more than the ${maxOps} a pack may hold` };
  const owner = blankNodeOwners(graph.opSubjects.keys(), graph.nodes);
  const problems: string[] = [];
  for (const key of graph.nodes.keys()) {
    if (graph.opSubjects.has(key) || owner.has(key)) continue;
    problems.push(`triples about ${key.startsWith('_:') ? 'a blank node' : compactIri(key)} that describe no op were ignored`);
  }
  const { entries, candidates } = packEntries(graph.opSubjects, graph.nodes, owner, `${baseIri}#`);
  let outcomes: ValidationOutcome[] | undefined;
  try {
    outcomes = await options.validator?.validateEach(new QuadIndex([...graph.quads]), candidates.map((c) => c.term));
  } catch (error) {
    return { ok: false, reason: `could not validate the pack: ${error instanceof Error ? error.message : String(error)}` };
  }
  candidates.forEach((candidate, i) => {
    const outcome = outcomes?.[i];
    const result: ParseOpResult =
      outcome && !outcome.conforms
        ? { ok: false, reason: `does not conform to shape ${candidate.type}: ${shownMessages(outcome.messages)}` }
        : decodeOp(candidate.type, candidate.edges, graph.nodes);
    entries[candidate.entry] = { ...entries[candidate.entry]!, result };
  });
  return { ok: true, entries, problems };
}

/**
 * Which op each blank node belongs to (reached from it, through blank nodes: a party's info holds its address);
 * a blank node reached from two ops belongs to neither (null).
 */
function blankNodeOwners(opKeys: Iterable<string>, nodes: ReadonlyMap<string, Edges>): Map<string, string | null> {
  const owner = new Map<string, string | null>();
  for (const key of opKeys) {
    const seen = new Set<string>();
    const queue: Edges[] = [nodes.get(key)!];
    while (queue.length > 0) {
      for (const objects of queue.pop()!.values()) {
        for (const o of objects) {
          const blank = termKey(o);
          if (o.termType !== 'BlankNode' || seen.has(blank)) continue;
          seen.add(blank);
          owner.set(blank, owner.has(blank) && owner.get(blank) !== key ? null : key);
          const next = nodes.get(blank);
          if (next) queue.push(next);
        }
      }
    }
  }
  return owner;
}

/** One entry per op subject, sorted: refused already when its subject, types or blank nodes are wrong. */
function packEntries(
  opSubjects: ReadonlyMap<string, { readonly term: Term; readonly types: OpType[] }>,
  nodes: ReadonlyMap<string, Edges>,
  owner: ReadonlyMap<string, string | null>,
  prefix: string,
): { entries: PackEntry[]; candidates: Candidate[] } {
  const entries: PackEntry[] = [];
  const candidates: Candidate[] = [];
  for (const [key, { term, types }] of [...opSubjects].sort(([a], [b]) => compareCodeUnits(a, b))) {
    const named = term.termType === 'NamedNode' && key.startsWith(prefix) ? key.slice(prefix.length) : '';
    const id = isOpId(named) ? named : null;
    const refuse = (reason: string) => entries.push({ id, subject: key, result: { ok: false, reason } });
    if (id === null) {
      refuse(`its subject ${term.termType === 'NamedNode' ? `<${key}>` : 'is a blank node and'} does not name an op id (<#<64 hex>> in the pack)`);
      continue;
    }
    const edges = nodes.get(key)!;
    const allTypes = edges.get(RDF_TYPE) ?? [];
    if (types.length !== 1 || allTypes.length !== 1) {
      refuse(`the op must have exactly one rdf:type, found ${allTypes.map(termForMessage).join(', ')}`);
      continue;
    }
    if ([...edges.values()].flat().some((o) => o.termType === 'BlankNode' && owner.get(termKey(o)) === null)) {
      refuse('it shares a blank node with another op of the pack');
      continue;
    }
    candidates.push({ entry: entries.length, term, type: types[0]!, edges });
    entries.push({ id, subject: key, result: { ok: false, reason: 'not read' } });
  }
  return { entries, candidates };
}
