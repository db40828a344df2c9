/**
 * The CLI's ahead-of-time build: src/cli/entry.ts and everything it imports, node_modules included, bundled by
 * esbuild into one CommonJS file, dist/cli/fedinvoice.cjs. `npm ci` runs it (the `prepare` script; by hand:
 * `npm run build`). bin/fedinvoice runs the bundle while it is fresh (through V8's code cache, bin/run-bundle.mjs)
 * and the TypeScript sources through tsx otherwise, so a build can never make the command run stale code, only
 * faster: no TypeScript compiled at start, one file read instead of hundreds, and from the second command on no
 * JavaScript compiled either. CommonJS because Node 20 can keep compiled code only for scripts, not ES modules.
 *
 * dist/cli/build.json lists the project files the bundle was built from, with the build's start time; the bundle is
 * fresh while none of them is newer (an edit, a checkout or a pull makes it stale) and none is missing.
 *
 * The bundle sits two folders below the package root, as the sources do (src/<dir>/<file>.ts), so that files found
 * relative to a module (`new URL('../../shapes/…', import.meta.url)`, import.meta.url being the bundle's URL there)
 * are the same files.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'cli');
const manifestFile = join(outDir, 'build.json');
/** The bundle's entry module, as bin/fedinvoice imports it. */
export const bundleFile = join(outDir, 'fedinvoice.cjs');

/** True when dist/cli holds a bundle built from the project files as they are now. */
export function isBuildFresh() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    return false;
  }
  if (!Array.isArray(manifest.inputs) || typeof manifest.builtAt !== 'number') return false;
  return manifest.inputs.every((file) => {
    try {
      return statSync(join(root, file)).mtimeMs <= manifest.builtAt;
    } catch {
      return false;
    }
  });
}

/** Builds into a new folder, then swaps it in: a command started meanwhile sees the old bundle or none, never half. */
export async function buildCli() {
  const { build } = await import('esbuild');
  const builtAt = Date.now();
  const staging = join(root, 'dist', `cli-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: { fedinvoice: 'src/cli/entry.ts' },
      outdir: staging,
      outExtension: { '.js': '.cjs' },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      metafile: true,
      logLevel: 'warning',
      // n3 imports the userland copy of Node's streams; Node's own are the same API and already in the process.
      alias: { 'readable-stream': 'node:stream' },
      // Less source for V8 to parse at every start; names are kept, so stack traces still read.
      minifyWhitespace: true,
      minifySyntax: true,
      // The sources' import.meta.url, which a CommonJS file does not have: the bundle's own URL.
      define: { 'import.meta.url': '__fedinvoiceUrl' },
      banner: { js: "const __fedinvoiceUrl = require('node:url').pathToFileURL(__filename).href;" },
    });
    const bundle = join(staging, 'fedinvoice.cjs');
    await writeFile(bundle, asciiOnly(await readFile(bundle, 'utf8')));
    const inputs = Object.keys(result.metafile.inputs)
      .map((input) => relative(root, join(root, input)))
      .filter((file) => !file.split(/[\\/]/).includes('node_modules'));
    inputs.push(relative(root, fileURLToPath(import.meta.url)));
    await writeFile(join(staging, 'build.json'), `${JSON.stringify({ builtAt, inputs }, null, 2)}\n`);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(dirname(outDir), { recursive: true });
    await rename(staging, outDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The bundle with every character outside ASCII written as a `\\u` escape. esbuild escapes them in strings but leaves
 * them in regular expressions (a dependency has one), and a single one makes Node decode the whole file the slow
 * way and V8 keep it as a two-byte string: about 15 ms of every command. The escape means the same character in a
 * string, a template, a regular expression or an identifier; after a backslash it would not, so that stops the build.
 */
export function asciiOnly(text) {
  return text.replace(/[\u0080-\uffff]/g, (char, at) => {
    if (text[at - 1] === '\\') throw new Error(`bundle: cannot escape "${char}" after a backslash at ${at}: ${text.slice(at - 40, at + 10)}`);
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  try {
    await buildCli();
    console.log(`fedinvoice CLI built into ${relative(process.cwd(), outDir) || '.'}/ in ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    // An install must not fail for it: without a bundle, bin/fedinvoice runs the sources, which show the error too.
    console.error(`fedinvoice CLI not built (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); bin/fedinvoice will run the TypeScript sources through tsx.`);
  }
}
