// Preloaded (node --import) into a CLI child process by test/reliability/cli-crash.test.ts. Inert unless
// FEDINVOICE_TEST_HANG_PUT=1: then every PUT of an op resource announces itself on stderr and never gets an answer,
// so that the test can kill the process after the outbox was written and fsynced, while the PUT is in flight.
if (process.env.FEDINVOICE_TEST_HANG_PUT === '1') {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = (init && init.method) || (input instanceof Request ? input.method : 'GET');
    if (method === 'PUT' && url.includes('/ops/')) {
      process.stderr.write(`HANGING-PUT ${url}\n`);
      return new Promise(() => {});
    }
    return original(input, init);
  };
}
