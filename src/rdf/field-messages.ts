/**
 * What the shapes say about each field of the op table, in words: the `sh:message` of its property shape, which
 * is also the message of the strict reader when it refuses the field ("schema:orderQuantity must be exactly one
 * whole number > 0 and ≤ 1000000000"). Messages follow the property's name, so they start with "must be".
 */
import { OP_TABLE, type Count, type Field, type NodeSpec, type Rule, type Value } from '../model/op-table.ts';
import type { OpType } from '../model/ops.ts';
import { compactIri, OP_ID_IRI_PREFIX } from './vocabulary.ts';

/** The second check of a date, reported on its own so that the message says which rule failed. */
export const CALENDAR_MESSAGE = 'must be a real calendar date YYYY-MM-DD';

const decimalRange = (v: Extract<Value, { kind: 'decimal' }>): string => {
  if (v.max === undefined) return `${v.minExclusive ? '>' : '≥'} ${v.min}`;
  return v.minExclusive ? `> ${v.min} and ≤ ${v.max}` : `from ${v.min} to ${v.max}`;
};

const integerWords = (v: Extract<Value, { kind: 'integer' }>): string => {
  if (v.nonZero) return `non-zero whole number from ${v.min} to ${v.max}`;
  if (v.min === 1) return `whole number > 0 and ≤ ${v.max}`;
  if (v.min === 0) return `whole number ≥ 0 and ≤ ${v.max}`;
  return `whole number from ${v.min} to ${v.max}`;
};

/** The predicates a node's fields put on it (inline nodes' fields included), required ones first. */
export function nodePredicates(node: NodeSpec): { required: string[]; optional: string[] } {
  const out = { required: [] as string[], optional: [] as string[] };
  for (const field of node.fields) {
    if (field.predicate === undefined && field.value.kind === 'node') {
      const inner = nodePredicates(field.value.node);
      out.required.push(...inner.required);
      out.optional.push(...inner.optional);
    } else if (field.predicate !== undefined) {
      (field.count === 'one' ? out.required : out.optional).push(compactIri(field.predicate));
    }
  }
  return out;
}

const andList = (items: readonly string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** One value of the field, in words ("tax rate: an xsd:decimal from 0 to 100 in canonical form …"). */
function valueWords(field: Field): string {
  const v = field.value;
  const named = (article: string, words: string) => (field.noun ? `${field.noun}: ${article}${words}` : words);
  switch (v.kind) {
    case 'text': {
      const length = v.minLength === v.maxLength ? `exactly ${v.minLength}` : `${v.minLength}–${v.maxLength}`;
      return `${field.noun ?? 'text'}: a string of ${length} characters${v.pattern ? ` ${v.pattern.says}` : ''}`;
    }
    case 'choice':
      return v.says ?? `of ${v.choices.map((choice) => JSON.stringify(choice)).join(', ')}`;
    case 'integer':
      return named('a ', integerWords(v));
    case 'decimal': {
      const digits = `at most ${v.digits.integer} digits before the point and ${v.digits.fraction} after`;
      return named('an ', `xsd:decimal ${decimalRange(v)} in canonical form (like 0.05 or 21; ${digits})`);
    }
    case 'date':
      return named('an ', 'xsd:date YYYY-MM-DD without a time zone');
    case 'instant': {
      const years = `from ${new Date(v.min).getUTCFullYear()} to ${new Date(v.max).getUTCFullYear()}`;
      return named('an ', `xsd:dateTime in UTC with milliseconds (YYYY-MM-DDThh:mm:ss.sssZ), ${years}`);
    }
    case 'url':
      return `${field.noun ?? 'URL'}: ${v.pattern.says}`;
    case 'opId':
      return `op ids written as IRIs ${OP_ID_IRI_PREFIX}<64 lowercase hex digits>`;
    case 'opType':
      return 'op classes of this vocabulary (fi:AddToCart, fi:Comment, …)';
    case 'node': {
      const { required, optional } = nodePredicates(v.node);
      return `blank node with ${andList(required)}${optional.length ? ` (and optionally ${andList(optional)})` : ''}`;
    }
  }
}

function countWords(count: Count): string {
  if (count === 'one') return 'must be exactly one';
  if (count === 'optional') return 'is optional; if present, it must be one';
  return 'must be';
}

function countNote(count: Count): string {
  if (typeof count !== 'object') return '';
  return count.min === 0 ? ` (at most ${count.max})` : ` (${count.min} to ${count.max} of them)`;
}

/** The sh:message of a field's property shape. */
export function fieldMessage(field: Field): string {
  return `${countWords(field.count)} ${valueWords(field)}${countNote(field.count)}`;
}

/** The sh:message of a rule's shape ("needs either a fixed amount (schema:discount with fi:taxRate) or …"). */
export function ruleMessage(type: OpType, rule: Rule): string {
  if (rule.kind === 'different') return rule.says;
  const predicateOf = (key: string) => compactIri(OP_TABLE[type].fields.find((field) => field.key === key)?.predicate ?? key);
  return `needs either ${rule.groups.map((group) => `${group.name} (${group.keys.map(predicateOf).join(' with ')})`).join(' or ')}, not both`;
}
