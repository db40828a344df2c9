/**
 * Runs the CLI's CommonJS bundle (bin/build-cli.mjs) through V8's code cache, so that a command compiles almost no
 * JavaScript: parsing and compiling the bundle's functions was the largest cost of a short command after Node's own
 * start. The cache sits beside the bundle (`fedinvoice.cjs.v8-cache`) and goes with it: a build replaces the whole
 * folder.
 *
 * The first command after a build that does more than print help writes the cache as it exits, with every function
 * that command compiled; V8 checks a cache against the source and its own version and flags, and a command whose
 * cache was refused (or unreadable) runs without it and writes a new one. A folder that cannot be written (a
 * read-only install) only means no cache.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';

/** Commands that load next to none of the bundle: a cache written by them would leave out what others need. */
const HELP_ONLY = new Set([undefined, '--help', '-h', 'help', '--version', '-V']);

/** Runs `bundleFile` as Node runs a CommonJS main module, through and for the code cache. */
export function runBundle(bundleFile, argv = process.argv.slice(2)) {
  // The cache is only taken by a process with the same V8 flags as the one that made it: set before compiling.
  // (--liftoff-only: src/cli/entry.ts says why.)
  setFlagsFromString('--liftoff-only');
  const cacheFile = `${bundleFile}.v8-cache`;
  const cachedData = readOrUndefined(cacheFile);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundleFile, 'utf8')}\n})`, {
    filename: bundleFile,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if ((cachedData === undefined || script.cachedDataRejected) && !HELP_ONLY.has(argv[0])) {
    process.once('exit', () => keepCache(script, cacheFile));
  }
  const module = { exports: {}, filename: bundleFile };
  script.runInThisContext()(module.exports, createRequire(bundleFile), module, bundleFile, dirname(bundleFile));
}

function readOrUndefined(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the cache of everything compiled so far, whole or not at all (a command running meanwhile reads the old). */
function keepCache(script, cacheFile) {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, cacheFile);
  } catch {
    // Not writable: commands run without a cache.
  }
}
