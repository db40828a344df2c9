/**
 * The RDF names fedinvoice uses (the op table holds each field's predicate; shapes/vocab.ttl describes the fi:
 * terms), the IRI form of op ids, and how terms are shown in messages.
 */
import type { Literal, Term } from '@rdfjs/types';
import { isOpId, type OpId } from '../model/ids.ts';
import { FI, SCHEMA, SEC } from '../model/op-table.ts';
import type { OpType } from '../model/ops.ts';

export { FI, SCHEMA, SEC };
export const FI_SHAPES = 'https://w3id.org/fedinvoice/shapes#';
export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
export const RDFS = 'http://www.w3.org/2000/01/rdf-schema#';
export const XSD = 'http://www.w3.org/2001/XMLSchema#';
export const SH = 'http://www.w3.org/ns/shacl#';

export const RDF_TYPE = RDF + 'type';
export const XSD_STRING = XSD + 'string';
export const XSD_INTEGER = XSD + 'integer';
export const XSD_DECIMAL = XSD + 'decimal';
export const XSD_DATE = XSD + 'date';
export const XSD_DATETIME = XSD + 'dateTime';

/** The op's subject in a single-op resource, relative to the resource's URL. */
export const OP_FRAGMENT = '#op';
/** Op ids (deps, proposal heads) are written as `urn:hash::sha256:<hex>` IRIs. */
export const OP_ID_IRI_PREFIX = 'urn:hash::sha256:';

export const opIdToIri = (id: OpId): string => OP_ID_IRI_PREFIX + id;
export function iriToOpId(iri: string): OpId | undefined {
  if (!iri.startsWith(OP_ID_IRI_PREFIX)) return undefined;
  const hex = iri.slice(OP_ID_IRI_PREFIX.length);
  return isOpId(hex) ? hex : undefined;
}
export const opTypeIri = (type: OpType): string => FI + type;

/** Prefixes written in op resources. */
export const PREFIXES: Readonly<Record<string, string>> = { fi: FI, schema: SCHEMA, xsd: XSD, rdf: RDF, sec: SEC };

/** Prefixes used only to make messages readable. */
const MESSAGE_PREFIXES: Readonly<Record<string, string>> = {
  ...PREFIXES,
  fis: FI_SHAPES,
  sh: SH,
  dct: 'http://purl.org/dc/terms/',
  dc: 'http://purl.org/dc/elements/1.1/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  prov: 'http://www.w3.org/ns/prov#',
  as: 'https://www.w3.org/ns/activitystreams#',
};

/** Compact an IRI with a known prefix for messages; anything else is shown in angle brackets. */
export function compactIri(value: string): string {
  for (const [prefix, ns] of Object.entries(MESSAGE_PREFIXES)) {
    if (value.startsWith(ns) && /^[A-Za-z_][\w.-]*$/.test(value.slice(ns.length))) return `${prefix}:${value.slice(ns.length)}`;
  }
  return `<${value}>`;
}

/** A term as a message shows it: a compact IRI, "a blank node", or a (shortened) literal with its datatype. */
export function termForMessage(term: Term | undefined): string {
  if (!term) return '';
  if (term.termType === 'NamedNode') return compactIri(term.value);
  if (term.termType === 'BlankNode') return 'a blank node';
  if (term.termType === 'Literal') {
    const shown = term.value.length > 60 ? `${term.value.slice(0, 57)}…` : term.value;
    const literal = term as Literal;
    return `${JSON.stringify(shown)}${literalSuffix(literal)}`;
  }
  return term.value;
}

/** "@en" for a language, "^^xsd:decimal" for a datatype; nothing for a plain string. */
function literalSuffix(literal: Literal): string {
  if (literal.language) return `@${literal.language}`;
  return literal.datatype.value === XSD_STRING ? '' : `^^${compactIri(literal.datatype.value)}`;
}

/** A map key for a term: IRIs by value, blank nodes prefixed so they cannot collide with IRIs. */
export const termKey = (term: Term): string => (term.termType === 'BlankNode' ? `_:${term.value}` : term.value);
