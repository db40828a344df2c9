import { setFlagsFromString } from 'node:v8';
import { runCli } from './main.ts';

// fetch parses HTTP with a WebAssembly module that V8 goes on optimising in the background, and a process waits for
// that work before it exits: 100–250 ms after a short command has printed. The baseline compiler alone is enough for
// a command; set before the first fetch loads that module.
setFlagsFromString('--liftoff-only');

// The process boundary: everything below it takes its output streams and environment as arguments.
const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  isTTY: Boolean(process.stderr.isTTY),
});
process.exitCode = code;
