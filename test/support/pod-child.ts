/**
 * One file-backed Community Solid Server in its own process, for tests and scripts that kill it with SIGKILL
 * (bench/stress-kill.ts, test/reliability/cli-crash.test.ts). Arguments: a JSON object
 *   { "port": 3101, "dataDir": "/tmp/…", "seed": { "email", "password", "podName" } | null }
 * Prints one line `READY <baseUrl>` on stdout once it answers; runs until killed. The seed is only passed on a
 * first start (startPodServer creates nothing on a data folder that already has accounts anyway).
 */
import { startPodServer } from '../../src/pod/server.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as { port: number; dataDir: string; seed: { email: string; password: string; podName: string } | null };
const server = await startPodServer({
  port: options.port,
  storage: 'file',
  dataDir: options.dataDir,
  loggingLevel: 'error',
  ...(options.seed ? { seedAccounts: [options.seed] } : {}),
});
process.stdout.write(`READY ${server.baseUrl}\n`);
const stop = () => void server.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
