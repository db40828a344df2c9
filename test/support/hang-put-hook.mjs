// Preloaded (node --import) into a CLI child process by test/reliability/cli-crash.test.ts. Inert unless
// FEDINVOICE_TEST_HANG_PUT=1: then every PUT of an op resource announces itself on stderr and never gets an answer
// (its body is never sent, so the server waits), so that the test can kill the process after the outbox was written
// and fsynced, while the PUT is in flight. It hooks node:http, which device sessions send through
// (src/pod/http-client.ts), before any module imports it.
import { createRequire, syncBuiltinESMExports } from 'node:module';

if (process.env.FEDINVOICE_TEST_HANG_PUT === '1') {
  const http = createRequire(import.meta.url)('node:http');
  const original = http.request;
  http.request = (url, options, callback) => {
    const request = original(url, options, callback);
    const target = String(url);
    if (options?.method === 'PUT' && target.includes('/ops/')) {
      process.stderr.write(`HANGING-PUT ${target}\n`);
      request.end = () => request;
    }
    return request;
  };
  syncBuiltinESMExports();
}
