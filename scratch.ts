import fc from 'fast-check';
import { arbitraryOp } from './test/support/op-arbitraries.ts';
import { validateOpStructure } from './src/model/validate.ts';
import { opToTurtle } from './src/rdf/codec.ts';
import { decodeOpTurtle } from './src/rdf/op-resource.ts';
const t = Date.now();
const ops = fc.sample(arbitraryOp(), { numRuns: 3000, seed: 5 });
console.log('sampled', Date.now() - t, 'ms');
let bad = 0;
for (const op of ops) {
  const p = validateOpStructure(op);
  const d = decodeOpTurtle(opToTurtle(op), 'https://x.example/a/b');
  const same = d.ok && JSON.stringify(d.op) === JSON.stringify(op);
  if (p || !same) { bad++; if (bad < 6) console.log(op.type, p, d.ok ? (same ? 'same' : JSON.stringify(d.op).slice(0,300) + '\n' + JSON.stringify(op).slice(0,300)) : d.reason); }
}
console.log('bad', bad, 'avg bytes', ops.reduce((a, o) => a + opToTurtle(o).length, 0) / ops.length);
