/**
 * The SHACL adapter: validates op nodes against shapes/ops.shacl.ttl with shacl-engine, and turns its reports
 * into readable lines ("schema:orderQuantity must be exactly one whole number > 0 … (got "0")"). The shapes are
 * the published contract; the crawler reads ops with the table-driven decoder (codec.ts), which gives the same
 * verdicts (test/rdf/agreement.test.ts) at a fraction of the cost.
 */
import rdfDataModel from '@rdfjs/data-model';
import type { DatasetCore, Literal, Quad, Term } from '@rdfjs/types';
import { DataFactory, Store } from 'n3';
import { Validator } from 'shacl-engine';
import type { ShaclCompiler, ShaclContext, ShaclResult, ShaclShape } from 'shacl-engine';
import { codePointLength, isXsdString } from '../model/validate.ts';
import { isOpType, type OpType } from '../model/ops.ts';
import { parseTurtle } from './graph.ts';
import { QuadIndex } from './quad-index.ts';
import { compactIri, FI, RDF_TYPE, SH, termForMessage, termKey, XSD } from './vocabulary.ts';

const { namedNode } = DataFactory;
const RDF_TYPE_NODE = namedNode(RDF_TYPE);

export interface ValidationOutcome {
  readonly conforms: boolean;
  /** One readable line per violation, e.g. "schema:orderQuantity must be exactly one whole number > 0 … (got "0")". */
  readonly messages: string[];
}

export interface OpValidator {
  /**
   * Validates op data against the op shapes. With `focus`, only that node is validated, against the shapes
   * of its rdf:type(s) (fast path used by parseOpTurtle); without it, every node targeted by a shape is.
   */
  validate(data: DatasetCore | Iterable<Quad>, focus?: Term): Promise<ValidationOutcome>;
  /**
   * Validates several op nodes of one dataset (a pack), each against the shapes of its rdf:type, in one pass
   * per op type: one outcome per focus, in the order given.
   */
  validateEach(data: DatasetCore, foci: readonly Term[]): Promise<ValidationOutcome[]>;
  /** The NodeShapes that target each op class. */
  readonly shapesByType: ReadonlyMap<OpType, readonly Term[]>;
}

const SH_CLOSED = SH + 'ClosedConstraintComponent';
const SH_NODE = SH + 'NodeConstraintComponent';
const SH_VIOLATION = SH + 'Violation';

function pathForMessage(result: ShaclResult): string {
  if (!result.path || result.path.length === 0) return '';
  return result.path
    .map((step) => {
      const names = step.predicates.map((p) => compactIri(p.value)).join('|');
      return step.start === 'object' ? `^${names}` : names;
    })
    .join('/');
}

function describeResults(results: readonly ShaclResult[], prefix: string, out: string[]): void {
  for (const result of results) {
    if (result.severity.value !== SH_VIOLATION) continue;
    const path = pathForMessage(result);
    const fullPath = prefix && path ? `${prefix}/${path}` : prefix || path;
    if (result.constraintComponent.value === SH_CLOSED) {
      out.push(
        `unexpected property ${fullPath}: the shape is closed and does not allow it` +
          (result.value?.term ? ` (value ${termForMessage(result.value.term)})` : ''),
      );
      continue;
    }
    if (result.constraintComponent.value === SH_NODE && result.results.length > 0) {
      describeResults(result.results, fullPath, out);
      continue;
    }
    const message = result.message.map((m) => m.value).join(' ') || 'violates a constraint';
    out.push(`${fullPath ? `${fullPath} ` : ''}${message}${foundForMessage(result)}`);
  }
}

/** What the shape found, for the end of a message: " (missing)", " (got "0")". */
function foundForMessage(result: ShaclResult): string {
  const component = result.constraintComponent.value;
  if (component === SH + 'MinCountConstraintComponent') return ' (missing)';
  if (component === SH + 'MaxCountConstraintComponent') return ' (found more than allowed)';
  return result.value?.term ? ` (got ${termForMessage(result.value.term)})` : '';
}

/** Turn a shacl-engine report into readable lines, without duplicates (one property shape may fail twice). */
export function reportMessages(results: readonly ShaclResult[]): string[] {
  const out: string[] = [];
  describeResults(results, '', out);
  return [...new Set(out)];
}

// Lexical checks for sh:datatype. shacl-engine's own (from rdf-validation) rejects every string containing a
// character outside the BMP (its xsd:string regex lacks the `u` flag), so an emoji in a comment would fail.
// This replacement checks the datatype IRI and, for the datatypes the shapes use, the lexical form.
const LEXICAL: Readonly<Record<string, (value: string) => boolean>> = {
  [XSD + 'string']: isXsdString,
  [XSD + 'decimal']: (v) => /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(v),
  [XSD + 'integer']: (v) => /^[+-]?[0-9]+$/.test(v),
  [XSD + 'nonNegativeInteger']: (v) => /^(\+?[0-9]+|-0+)$/.test(v),
  [XSD + 'date']: (v) => /^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$/.test(v),
  [XSD + 'dateTime']: (v) =>
    /^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$/.test(v),
  [XSD + 'boolean']: (v) => /^(true|false|1|0)$/.test(v),
};

const compileDatatype: ShaclCompiler = (shape: ShaclShape) => {
  const datatype = shape.ptr.out([namedNode(SH + 'datatype')]).term;
  if (!datatype) return null;
  const lexical = LEXICAL[datatype.value];
  const component = namedNode(SH + 'DatatypeConstraintComponent');
  return {
    generic: (context: ShaclContext) => {
      const term = context.valueOrNode.term;
      const ok =
        term.termType === 'Literal' &&
        (term as Literal).datatype.equals(datatype) &&
        (lexical === undefined || lexical(term.value));
      context.test(ok, component, {
        args: { datatype },
        message: [context.factory.literal('Value does not have datatype {$datatype}')],
        value: context.valueOrNode,
      });
    },
  };
};

// sh:minLength and sh:maxLength count characters (XPath's string-length: Unicode code points), as the op table
// does; shacl-engine's own count UTF-16 units, so an emoji would count twice.
const compileLength = (bound: 'minLength' | 'maxLength'): ShaclCompiler => (shape: ShaclShape) => {
  const limit = Number(shape.ptr.out([namedNode(SH + bound)]).term?.value);
  const component = namedNode(`${SH}${bound === 'minLength' ? 'Min' : 'Max'}LengthConstraintComponent`);
  return {
    generic: (context: ShaclContext) => {
      const term = context.valueOrNode.term;
      const length = term.termType === 'BlankNode' ? NaN : codePointLength(term.value);
      context.test(bound === 'minLength' ? length >= limit : length <= limit, component, {
        args: { [bound]: limit },
        message: [context.factory.literal(`Value has ${bound === 'minLength' ? 'less' : 'more'} than {$${bound}} characters`)],
        value: context.valueOrNode,
      });
    },
  };
};

/** shacl-engine builds report datasets with `factory.dataset()`; n3's Store is a DatasetCore. */
const SHACL_FACTORY = {
  namedNode: rdfDataModel.namedNode.bind(rdfDataModel),
  blankNode: rdfDataModel.blankNode.bind(rdfDataModel),
  literal: rdfDataModel.literal.bind(rdfDataModel),
  variable: rdfDataModel.variable?.bind(rdfDataModel),
  defaultGraph: rdfDataModel.defaultGraph.bind(rdfDataModel),
  quad: rdfDataModel.quad.bind(rdfDataModel),
  dataset: (quads?: Quad[]) => new QuadIndex(quads ? [...quads] : []),
};

const isDatasetCore = (data: DatasetCore | Iterable<Quad>): data is DatasetCore =>
  typeof (data as DatasetCore).match === 'function' && typeof (data as DatasetCore).has === 'function';

/**
 * Compile the op shapes once (Turtle text of shapes/ops.shacl.ttl); the returned validator is reused for
 * every op. Throws if the shapes themselves are not valid Turtle: that is a packaging bug, not bad input.
 */
export function createOpValidator(shapesTurtle: string): OpValidator {
  return new ShaclOpValidator(shapesTurtle);
}

const noShape = (focus: Term): ValidationOutcome => ({ conforms: false, messages: [`${termForMessage(focus)} has no rdf:type that an op shape targets`] });

class ShaclOpValidator implements OpValidator {
  readonly shapesByType = new Map<OpType, readonly Term[]>();
  private readonly engine: Validator;
  /** The NodeShapes targeting each class, by class IRI. */
  private readonly byClass = new Map<string, Term[]>();

  constructor(shapesTurtle: string) {
    const shapes = new Store(parseTurtle(shapesTurtle));
    this.engine = new Validator(shapes, {
      factory: SHACL_FACTORY,
      validations: [
        [namedNode(SH + 'datatype'), compileDatatype],
        [namedNode(SH + 'minLength'), compileLength('minLength')],
        [namedNode(SH + 'maxLength'), compileLength('maxLength')],
      ],
    });
    for (const q of shapes.match(null, namedNode(SH + 'targetClass'), null)) {
      const list = this.byClass.get(q.object.value) ?? [];
      list.push(q.subject);
      this.byClass.set(q.object.value, list);
    }
    for (const [cls, terms] of this.byClass) {
      if (cls.startsWith(FI) && isOpType(cls.slice(FI.length))) this.shapesByType.set(cls.slice(FI.length) as OpType, terms);
    }
  }

  /** The shapes that target the focus node's rdf:type(s). */
  private shapesOf(dataset: DatasetCore, focus: Term): Term[] {
    return [...dataset.match(focus, RDF_TYPE_NODE, null)].flatMap((q) => this.byClass.get(q.object.value) ?? []);
  }

  async validate(data: DatasetCore | Iterable<Quad>, focus?: Term): Promise<ValidationOutcome> {
    const dataset: DatasetCore = isDatasetCore(data) ? data : new QuadIndex([...data]);
    let report;
    if (focus) {
      const shapeTerms = this.shapesOf(dataset, focus);
      if (shapeTerms.length === 0) return noShape(focus);
      report = await this.engine.validate({ dataset, terms: [focus] }, shapeTerms.map((term) => ({ terms: [term] })));
    } else {
      report = await this.engine.validate({ dataset }, [...this.byClass.values()].flat().map((term) => ({ terms: [term] })));
    }
    return { conforms: report.conforms, messages: report.conforms ? [] : reportMessages(report.results) };
  }

  async validateEach(dataset: DatasetCore, foci: readonly Term[]): Promise<ValidationOutcome[]> {
    const outcomes: ValidationOutcome[] = foci.map(() => ({ conforms: true, messages: [] }));
    // Foci with the same shapes are validated in one pass.
    const groups = new Map<string, { shapes: Term[]; at: number[] }>();
    foci.forEach((focus, at) => {
      const shapeTerms = this.shapesOf(dataset, focus);
      if (shapeTerms.length === 0) {
        outcomes[at] = noShape(focus);
        return;
      }
      const key = shapeTerms.map((term) => term.value).join(' ');
      const group = groups.get(key) ?? { shapes: shapeTerms, at: [] };
      group.at.push(at);
      groups.set(key, group);
    });
    for (const { shapes: shapeTerms, at } of groups.values()) {
      const report = await this.engine.validate({ dataset, terms: at.map((i) => foci[i]!) }, shapeTerms.map((term) => ({ terms: [term] })));
      if (!report.conforms) attribute(report.results, at, foci, outcomes);
    }
    return outcomes;
  }
}

/** Gives each focus of a validation pass the violations about it. */
function attribute(results: readonly ShaclResult[], at: readonly number[], foci: readonly Term[], outcomes: ValidationOutcome[]): void {
  const byFocus = new Map<string, ShaclResult[]>();
  for (const result of results) {
    const term = result.focusNode?.term;
    const key = term ? termKey(term) : '';
    const list = byFocus.get(key) ?? [];
    list.push(result);
    byFocus.set(key, list);
  }
  for (const i of at) {
    const mine = byFocus.get(termKey(foci[i]!));
    if (!mine) continue;
    const messages = reportMessages(mine);
    if (messages.length) outcomes[i] = { conforms: false, messages };
  }
  // A violation not attributed to any focus node must not let every op pass.
  const attributed = at.some((i) => byFocus.has(termKey(foci[i]!)));
  if (!attributed) for (const i of at) outcomes[i] = { conforms: false, messages: reportMessages(results) };
}
