import type { DatasetCore, Quad, Term } from '@rdfjs/types';
import { termKey } from './vocabulary.ts';

/**
 * A minimal read-mostly DatasetCore over the few quads of one op resource. SHACL validation asks almost only
 * "what does subject S say with predicate P", so quads are grouped by subject (lazily) and filtered; building
 * it costs next to nothing, where an n3 Store's three indexes cost more than the validation of a small op.
 */
export class QuadIndex implements DatasetCore {
  private bySubject: Map<string, Quad[]> | undefined;
  constructor(private readonly quads: Quad[] = []) {}

  get size(): number {
    return this.quads.length;
  }
  [Symbol.iterator](): Iterator<Quad> {
    return this.quads[Symbol.iterator]();
  }
  add(q: Quad): this {
    if (!this.has(q)) {
      this.quads.push(q);
      if (this.bySubject) this.index(q);
    }
    return this;
  }
  delete(q: Quad): this {
    const at = this.quads.findIndex((x) => x.equals(q));
    if (at >= 0) {
      this.quads.splice(at, 1);
      this.bySubject = undefined;
    }
    return this;
  }
  has(q: Quad): boolean {
    return this.candidates(q.subject).some((x) => x.equals(q));
  }
  match(subject?: Term | null, predicate?: Term | null, object?: Term | null, graph?: Term | null): QuadIndex {
    const out: Quad[] = [];
    for (const q of subject ? this.candidates(subject) : this.quads) {
      if (predicate && !predicate.equals(q.predicate)) continue;
      if (object && !object.equals(q.object)) continue;
      if (graph && !graph.equals(q.graph)) continue;
      if (subject && !subject.equals(q.subject)) continue;
      out.push(q);
    }
    return new QuadIndex(out);
  }
  private candidates(subject: Term): Quad[] {
    if (!this.bySubject) {
      this.bySubject = new Map();
      for (const q of this.quads) this.index(q);
    }
    return this.bySubject.get(termKey(subject)) ?? [];
  }
  private index(q: Quad): void {
    const key = termKey(q.subject);
    const list = this.bySubject?.get(key);
    if (list) list.push(q);
    else this.bySubject?.set(key, [q]);
  }
}
