/**
 * The SHACL shapes of op resources (shapes/ops.shacl.ttl), written from the op table: `npm run shapes` saves
 * what `opShapesTurtle()` returns, and a test fails when the committed file differs. PURE.
 */
import { ENVELOPE, OP_TABLE, type Field, type NodeSpec, type NodeValue, type Rule } from '../model/op-table.ts';
import { OP_TYPES, type OpType } from '../model/ops.ts';
import * as patterns from '../model/patterns.ts';
import { CALENDAR_MESSAGE, fieldMessage, ruleMessage } from './field-messages.ts';
import { compactIri, FI, FI_SHAPES, OP_ID_IRI_PREFIX, RDF, RDFS, SCHEMA, SEC, SH, XSD } from './vocabulary.ts';

/** One predicate and its object(s), already in Turtle. */
type Statement = readonly [string, string];

const NOT_PRINTABLE = /[\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff0-\uffff\ud800-\udfff]/g;

/** A Turtle string literal; characters that would not be visible are written as \u escapes. */
export function turtleString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(NOT_PRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  return `"${escaped}"`;
}

const typed = (value: string, datatype: string): string => `${turtleString(value)}^^${compactIri(XSD + datatype)}`;
const list = (items: readonly string[]): string => `( ${items.join(' ')} )`;
const closed: readonly Statement[] = [['sh:closed', 'true'], ['sh:ignoredProperties', '( rdf:type )']];

function countStatements(field: Field): Statement[] {
  const { count } = field;
  if (count === 'one') return [['sh:minCount', '1'], ['sh:maxCount', '1']];
  if (count === 'optional') return [['sh:maxCount', '1']];
  return [...(count.min > 0 ? [['sh:minCount', String(count.min)] as const] : []), ['sh:maxCount', String(count.max)]];
}

/** The constraints on one value of the field, by its kind. */
function valueStatements(field: Field): Statement[] {
  const v = field.value;
  switch (v.kind) {
    case 'text':
      return [
        ['sh:datatype', 'xsd:string'],
        ['sh:minLength', String(v.minLength)],
        ['sh:maxLength', String(v.maxLength)],
        ...(v.pattern ? [['sh:pattern', turtleString(v.pattern.source)] as const] : []),
      ];
    case 'choice':
      return [['sh:datatype', 'xsd:string'], ['sh:in', list(v.choices.map(turtleString))]];
    case 'integer':
      return [
        ['sh:datatype', 'xsd:integer'],
        ['sh:pattern', turtleString(patterns.integerPattern(v))],
        ['sh:minInclusive', String(v.min)],
        ['sh:maxInclusive', String(v.max)],
      ];
    case 'decimal':
      return [
        ['sh:datatype', 'xsd:decimal'],
        ['sh:pattern', turtleString(patterns.decimalPattern(v))],
        [v.minExclusive ? 'sh:minExclusive' : 'sh:minInclusive', typed(v.min, 'decimal')],
        ...(v.max !== undefined ? [['sh:maxInclusive', typed(v.max, 'decimal')] as const] : []),
      ];
    case 'date':
      return [['sh:datatype', 'xsd:date'], ['sh:pattern', turtleString('^[0-9]{4}-[0-9]{2}-[0-9]{2}$')]];
    case 'instant':
      return [
        ['sh:datatype', 'xsd:dateTime'],
        ['sh:pattern', turtleString(patterns.UTC_INSTANT)],
        ['sh:minInclusive', typed(new Date(v.min).toISOString(), 'dateTime')],
        ['sh:maxInclusive', typed(new Date(v.max).toISOString(), 'dateTime')],
      ];
    case 'url':
      return [['sh:nodeKind', 'sh:IRI'], ['sh:maxLength', String(v.maxLength)], ['sh:pattern', turtleString(v.pattern.source)]];
    case 'opId':
      return [['sh:nodeKind', 'sh:IRI'], ['sh:pattern', turtleString(`^${OP_ID_IRI_PREFIX}${patterns.HEX64.slice(1)}`)]];
    case 'opType':
      return [['sh:nodeKind', 'sh:IRI'], ['sh:in', list(OP_TYPES.map((type) => `fi:${type}`))]];
    case 'node':
      return [['sh:nodeKind', 'sh:BlankNode'], ['sh:node', nodeShapeName(v.node)]];
  }
}

const nodeShapeName = (node: NodeSpec): string => `fis:${node.name}Shape`;

/** The property shapes of a field: one, and a second for a date's calendar check (so each has its own message). */
function propertyShapes(field: Field): Statement[][] {
  const path: Statement = ['sh:path', compactIri(field.predicate!)];
  const main = [path, ...countStatements(field), ...valueStatements(field), ['sh:message', turtleString(fieldMessage(field))] as const];
  if (field.value.kind !== 'date') return [main];
  return [main, [path, ['sh:pattern', turtleString(patterns.CALENDAR_DATE)], ['sh:message', turtleString(CALENDAR_MESSAGE)]]];
}

/** The property shapes of a node's fields, inline nodes' fields included. */
function fieldShapes(fields: readonly Field[]): Statement[][] {
  return fields.flatMap((field) => {
    const inline = field.predicate === undefined && field.value.kind === 'node';
    return inline ? fieldShapes((field.value as NodeValue).node.fields) : propertyShapes(field);
  });
}

/** Statements that read best on one line: a count, a length, a range. */
const lineGroup = (predicate: string): string | null =>
  /^sh:(min|max)(Count|Length|Inclusive|Exclusive)$/.exec(predicate)?.[2]?.replace('Exclusive', 'Inclusive') ?? null;

/** Statements as lines ("p o ; p o" for a count, a length or a range), joined by " ;" and `indent`. */
function lines(statements: readonly Statement[], indent: string): string {
  const out: string[] = [];
  statements.forEach(([p, o], i) => {
    const group = lineGroup(p);
    if (i > 0 && group !== null && group === lineGroup(statements[i - 1]![0])) out[out.length - 1] += ` ; ${p} ${o}`;
    else out.push(o.startsWith('\n') ? `${p}${o}` : `${p} ${o}`);
  });
  return out.join(` ;\n${indent}`);
}

/** `subject` with its statements, then " .". */
const block = (subject: string, statements: readonly Statement[]): string => `${subject}\n  ${lines(statements, '  ')} .\n`;

const blankShape = (statements: readonly Statement[]): string => `[ ${lines(statements, '      ')} ]`;

/** What a shared property shape is named after: its path, and "Pattern" without counts or "optional" with a sh:maxCount alone. */
function sharedShapeStem(shape: readonly Statement[], local: string): string {
  const counts = shape.filter(([p]) => p === 'sh:minCount' || p === 'sh:maxCount').length;
  if (counts === 0) return `${local}Pattern`;
  if (counts === 1 && shape.some(([p]) => p === 'sh:maxCount')) return `optional${local[0]!.toUpperCase()}${local.slice(1)}`;
  return local;
}

/**
 * Property shapes used in more than one place are written once, as named shapes (fis:productIDProperty), and
 * referred to by name; the others are written in place, as blank nodes.
 */
class SharedShapes {
  private readonly names = new Map<string, string>();
  readonly named: Array<{ name: string; statements: Statement[] }> = [];

  constructor(all: readonly Statement[][], reserved: readonly string[]) {
    const uses = new Map<string, number>();
    for (const shape of all) uses.set(JSON.stringify(shape), (uses.get(JSON.stringify(shape)) ?? 0) + 1);
    const taken = new Set(reserved);
    for (const shape of all) {
      const key = JSON.stringify(shape);
      if (uses.get(key)! < 2 || this.names.has(key)) continue;
      const path = shape.find(([p]) => p === 'sh:path')![1];
      const local = path.slice(path.indexOf(':') + 1);
      let name = `fis:${sharedShapeStem(shape, local)}Property`;
      for (let n = 2; taken.has(name); n++) name = name.replace(/\d*Property$/, `${n}Property`);
      taken.add(name);
      this.names.set(key, name);
      this.named.push({ name, statements: shape });
    }
  }

  /** The sh:property statements of a node with these property shapes (and, first, these named ones). */
  properties(shapes: readonly Statement[][], alsoNamed: readonly string[] = []): Statement[] {
    const named = [...alsoNamed, ...shapes.flatMap((shape) => this.names.get(JSON.stringify(shape)) ?? [])];
    const inline = shapes.filter((shape) => !this.names.has(JSON.stringify(shape)));
    return [
      ...(named.length ? [['sh:property', named.join(' , ')] as const] : []),
      ...(inline.length ? [['sh:property', `\n    ${inline.map(blankShape).join(' ,\n    ')}`] as const] : []),
    ];
  }
}

const ENVELOPE_FIELDS = ENVELOPE.flatMap((field) => (field.predicate === undefined && field.value.kind === 'node' ? field.value.node.fields : [field]));
// The local name after the namespace (fi:, or sec: for the signature): "fis:deviceProperty", "fis:proofProperty".
const envelopeName = (field: Field): string => `fis:${field.predicate!.slice(field.predicate!.lastIndexOf('#') + 1)}Property`;

function envelopeShapes(): string {
  return ENVELOPE_FIELDS.map((field) => {
    const [shape, ...more] = propertyShapes(field);
    if (more.length) throw new Error('an envelope field needs one property shape');
    return block(`${envelopeName(field)} a sh:PropertyShape ;`, shape!);
  }).join('\n');
}

const nodeShape = (node: NodeSpec, shared: SharedShapes): string =>
  block(`${nodeShapeName(node)} a sh:NodeShape ;`, [['rdfs:comment', turtleString(node.comment)], ...closed, ...shared.properties(fieldShapes(node.fields))]);

const opShape = (type: OpType, shared: SharedShapes): string =>
  block(`fis:${type} a sh:NodeShape ;`, [
    ['sh:targetClass', `fi:${type}`],
    ...closed,
    ...shared.properties(fieldShapes(OP_TABLE[type].fields), ENVELOPE_FIELDS.map(envelopeName)),
  ]);

/** The predicates along a JSON path of the payload (inline nodes add none). */
function predicatesOf(type: OpType, keys: readonly string[]): string[] {
  const steps: string[] = [];
  let fields: readonly Field[] = OP_TABLE[type].fields;
  for (const key of keys) {
    const field = fields.find((f) => f.key === key)!;
    if (field.predicate !== undefined) steps.push(compactIri(field.predicate));
    fields = field.value.kind === 'node' ? field.value.node.fields : [];
  }
  return steps;
}

const sequence = (steps: readonly string[]): string => (steps.length === 1 ? steps[0]! : list(steps));

/**
 * One path that leads to the values at two JSON paths which differ in their first step only
 * ("( [ sh:alternativePath ( fi:buyer fi:seller ) ] fi:webId )"): the form shacl-engine evaluates.
 */
function eitherPath(type: OpType, paths: readonly [readonly string[], readonly string[]]): string {
  const [a, b] = paths.map((path) => predicatesOf(type, path)) as [string[], string[]];
  if (a.length !== b.length || a.slice(1).join() !== b.slice(1).join()) {
    throw new Error(`${type}: a "different" rule needs paths that differ in their first step only`);
  }
  return sequence([`[ sh:alternativePath ( ${a[0]} ${b[0]} ) ]`, ...a.slice(1)]);
}

/** A rule relating several fields, as a second shape on the op class (so its message stands on its own). */
function ruleShape(type: OpType, rule: Rule, n: number): string {
  const message: Statement = ['sh:message', turtleString(ruleMessage(type, rule))];
  const head: Statement = ['sh:targetClass', `fi:${type}`];
  if (rule.kind === 'different') {
    const paths = eitherPath(type, rule.paths);
    // Two values are different when the paths together lead to two distinct nodes.
    return block(`fis:${type}Rule${n} a sh:NodeShape ;`, [head, ['sh:not', `[ sh:property [ sh:path ${paths} ; sh:maxCount 1 ] ]`], message]);
  }
  const alternatives = rule.groups.map((group) => {
    const others = rule.groups.filter((g) => g !== group).flatMap((g) => g.keys);
    const count = (key: string, bound: string) => `[ sh:path ${sequence(predicatesOf(type, [key]))} ; ${bound} ]`;
    const constraints = [...group.keys.map((key) => count(key, 'sh:minCount 1')), ...others.map((key) => count(key, 'sh:maxCount 0'))];
    return `[ sh:property ${constraints.join(' , ')} ]`;
  });
  return block(`fis:${type}Rule${n} a sh:NodeShape ;`, [head, ['sh:xone', `(\n    ${alternatives.join('\n    ')}\n  )`], message]);
}

const HEADER = `# SHACL shapes for fedinvoice op resources (vocabulary: shapes/vocab.ttl).
#
# GENERATED from the op table (src/model/op-table.ts) by \`npm run shapes\`: do not edit. A test fails when this
# file differs from what the table gives. The fold accepts exactly the ops these shapes accept (besides rules
# that need other ops: who may write what, causality, the status machine).
#
# One closed NodeShape per op class: the envelope's property shapes (invoice id, device, wall time, counter,
# deps) and its payload's. Anything else on the op subject (schema:author, dct:creator…) is a violation: an op
# never says who wrote it, the container it was read from does. Nested nodes (parties, a postal address) are
# blank nodes with closed shapes of their own; their rdf:type is ignored.
#
# Every property shape has an sh:message that follows the property's name ("schema:orderQuantity must be …").
# - Integers and decimals are in canonical form: no "+", no leading zeros, no trailing fractional zeros, no "-0",
#   no exponent ("0.05", "21"), so one value has one spelling and one hash.
# - Lengths count characters (Unicode code points). xsd:string excludes lone surrogates, U+FFFE and U+FFFF.
# - URLs are written as a URL parser writes them (lower-case host, no default port, no "." segments).
# - Patterns use only what XPath and JavaScript regular expressions share.
`;

/** The whole shapes document. */
export function opShapesTurtle(): string {
  const prefixes = [['fi', FI], ['fis', FI_SHAPES], ['rdf', RDF], ['rdfs', RDFS], ['sh', SH], ['xsd', XSD], ['schema', SCHEMA], ['sec', SEC]];
  const section = (title: string) => `# ${'='.repeat(99)}\n# ${title}\n\n`;
  const rules = OP_TYPES.flatMap((type) => (OP_TABLE[type].rules ?? []).map((rule, i) => ruleShape(type, rule, i + 1)));
  const nodes = blankNodeSpecs();
  const all = [...nodes.flatMap((node) => fieldShapes(node.fields)), ...OP_TYPES.flatMap((type) => fieldShapes(OP_TABLE[type].fields))];
  const shared = new SharedShapes(all, ENVELOPE_FIELDS.map(envelopeName));
  return [
    HEADER,
    prefixes.map(([p, iri]) => `@prefix ${p}: <${iri}> .`).join('\n'),
    '\n\n',
    section('Envelope: on every op'),
    envelopeShapes(),
    '\n',
    section('Property shapes of more than one op or node'),
    shared.named.map(({ name, statements }) => block(`${name} a sh:PropertyShape ;`, statements)).join('\n'),
    '\n',
    section('Nested nodes'),
    nodes.map((node) => nodeShape(node, shared)).join('\n'),
    '\n',
    section('Op shapes'),
    OP_TYPES.map((type) => opShape(type, shared)).join('\n'),
    '\n',
    section('Rules relating several fields of one op'),
    rules.join('\n'),
  ].join('');
}

/** The nodes that fields put on blank nodes of their own, each once, in the order the table first uses them. */
function blankNodeSpecs(): NodeSpec[] {
  const found: NodeSpec[] = [];
  const visit = (fields: readonly Field[]): void => {
    for (const field of fields) {
      if (field.value.kind !== 'node') continue;
      if (field.predicate !== undefined && !found.includes(field.value.node)) found.push(field.value.node);
      visit(field.value.node.fields);
    }
  };
  visit(ENVELOPE);
  for (const type of OP_TYPES) visit(OP_TABLE[type].fields);
  return found;
}
