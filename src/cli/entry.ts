import { setFlagsFromString } from 'node:v8';
import { runCli } from './main.ts';

// The platform's fetch (pod requests do not use it, a browser login's library does) parses HTTP with a WebAssembly
// module that V8 goes on optimising in the background, and a process waits for that work before it exits: 100–250 ms
// after a short command has printed. The baseline compiler alone is enough for a command; set before the first fetch
// loads that module. (bin/run-bundle.mjs sets it too, before it compiles the bundle.)
setFlagsFromString('--liftoff-only');

// The process boundary: everything below it takes its output streams and environment as arguments.
// No top-level await: the bundle is CommonJS (bin/build-cli.mjs).
void runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  isTTY: Boolean(process.stderr.isTTY),
}).then((code) => {
  process.exitCode = code;
});
