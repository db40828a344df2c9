// Minimal typings for shacl-engine 1.x (the package ships none). Only what src/rdf uses.
declare module 'shacl-engine' {
  import type { DatasetCore, NamedNode, Term, Literal } from '@rdfjs/types';

  export interface ShaclPathStep {
    readonly quantifier: string;
    readonly start: string;
    readonly predicates: readonly NamedNode[];
  }

  export interface ShaclResult {
    readonly constraintComponent: NamedNode;
    readonly severity: NamedNode;
    readonly path: readonly ShaclPathStep[] | null | undefined;
    readonly message: readonly Literal[];
    readonly value: { readonly term?: Term } | undefined;
    readonly focusNode: { readonly term?: Term };
    readonly shape: { readonly ptr: { readonly term: Term } };
    readonly results: readonly ShaclResult[];
  }

  export interface ShaclReport {
    readonly conforms: boolean;
    readonly results: readonly ShaclResult[];
  }

  /** Passed to a compiled constraint: shacl-engine's Context (only the members used here). */
  export interface ShaclContext {
    readonly factory: { literal(value: string, languageOrDatatype?: string | NamedNode): Literal };
    readonly valueOrNode: { readonly term: Term };
    test(success: boolean, constraintComponent: NamedNode, args: Record<string, unknown>): void;
  }

  export interface ShaclShape {
    readonly ptr: { out(predicates: readonly NamedNode[]): { readonly term: Term | undefined } };
  }

  export type ShaclCompiler = (shape: ShaclShape) => { generic?: (context: ShaclContext) => void } | null;

  export interface ValidatorOptions {
    factory: unknown;
    debug?: boolean;
    details?: boolean;
    trace?: boolean;
    coverage?: boolean;
    validations?: Iterable<readonly [NamedNode, ShaclCompiler]>;
  }

  export class Validator {
    constructor(shapes: DatasetCore, options: ValidatorOptions);
    validate(
      data: { dataset: DatasetCore; terms?: Iterable<Term> },
      shapes?: ReadonlyArray<{ terms: Term[] }>,
    ): Promise<ShaclReport>;
  }
}

// @rdfjs/data-model 2.x ships no typings: its default export is an RDF/JS DataFactory whose terms are plain
// objects (n3's own terms re-parse their id string on every .value / .datatype access).
declare module '@rdfjs/data-model' {
  import type { DataFactory } from '@rdfjs/types';
  const factory: DataFactory;
  export default factory;
}
