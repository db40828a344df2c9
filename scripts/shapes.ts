/**
 * Writes shapes/ops.shacl.ttl from the op table (src/model/op-table.ts). Run after changing the table:
 *
 *   npm run shapes            # write the file
 *   npm run shapes -- --check # exit 1 if the committed file differs from what the table gives
 */
import { readFile, writeFile } from 'node:fs/promises';
import { opShapesTurtle } from '../src/rdf/shapes.ts';
import { OPS_SHAPES_URL } from '../src/sync/shapes.ts';

const generated = opShapesTurtle();
if (process.argv.includes('--check')) {
  const committed = await readFile(OPS_SHAPES_URL, 'utf8');
  if (committed !== generated) {
    console.error(`${OPS_SHAPES_URL.pathname} differs from what the op table gives: run npm run shapes`);
    process.exit(1);
  }
  console.log(`${OPS_SHAPES_URL.pathname} is up to date`);
} else {
  await writeFile(OPS_SHAPES_URL, generated);
  console.log(`wrote ${OPS_SHAPES_URL.pathname}`);
}
