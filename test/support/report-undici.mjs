// Preloaded (node --import) by test/cli/bin.test.ts: says on stderr, as the process exits, whether it loaded undici,
// the module behind the platform's fetch.
process.on('exit', () => process.stderr.write(`undici loaded: ${process.moduleLoadList.some((name) => name.includes('undici'))}\n`));
