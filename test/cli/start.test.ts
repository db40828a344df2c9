/**
 * `npm start` when a port is taken: one line that names the port and how to choose another, no stack trace. The
 * port is held by a real pod server, as it is when a second `npm start` runs beside the first.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortInUseError, startPodServer, type PodServer } from '../../src/pod/server.ts';
import { freePort } from '../support/pods.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `npm start`'s script as a person would (tsx, the repository as working directory), with a clean environment. */
function npmStart(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FEDINVOICE_') && name !== 'NODE_ENV'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/start.ts', ...args], { cwd: root, env: { ...inherited, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('npm start on a port in use', () => {
  let pod: PodServer;
  let taken: number;
  let dataDir: string;

  beforeAll(async () => {
    taken = await freePort();
    pod = await startPodServer({ port: taken, storage: 'memory', loggingLevel: 'error' });
    dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-start-'));
  });
  afterAll(async () => {
    await pod?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("says in one line which port is taken and how to choose another (the seller's pod, by option)", async () => {
    const [buyer, viewer] = [await freePort(), await freePort()];
    const run = await npmStart(['--buyer-port', String(buyer), '--seller-port', String(taken), '--viewer-port', String(viewer)], { FEDINVOICE_DATA: dataDir });
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err.trimEnd().split('\n')).toEqual([
      `npm start: port ${taken} (the seller's pod) is already in use on 127.0.0.1, perhaps by another npm start; stop that program, or choose another port: npm start -- --seller-port <port> (or FEDINVOICE_SELLER_PORT=<port>).`,
    ]);
  });

  it('names every taken port in its one line, ports chosen by environment variables too', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const viewer = (holder.address() as net.AddressInfo).port;
    try {
      const run = await npmStart([], {
        FEDINVOICE_DATA: dataDir,
        FEDINVOICE_BUYER_PORT: String(taken),
        FEDINVOICE_SELLER_PORT: String(await freePort()),
        FEDINVOICE_VIEWER_PORT: String(viewer),
      });
      expect(run.code).toBe(1);
      expect(run.err.trimEnd().split('\n')).toEqual([
        `npm start: ports ${taken} (the buyer's pod) and ${viewer} (the invoice viewer) are already in use on 127.0.0.1, perhaps by another npm start; stop that program, or choose other ports: npm start -- --buyer-port <port> --viewer-port <port> (or FEDINVOICE_BUYER_PORT=<port> FEDINVOICE_VIEWER_PORT=<port>).`,
      ]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('refuses a port that is not a number in one line', async () => {
    const run = await npmStart(['--viewer-port', '30x0'], { FEDINVOICE_DATA: dataDir });
    expect(run.code).toBe(1);
    expect(run.err.trimEnd()).toBe('npm start: --viewer-port (or FEDINVOICE_VIEWER_PORT) must be a TCP port from 0 to 65535, not "30x0".');
  });

  it('a pod server that loses the port after the check fails with PortInUseError, not an uncaught error', async () => {
    const second = startPodServer({ port: taken, storage: 'memory', loggingLevel: 'error' });
    await expect(second).rejects.toBeInstanceOf(PortInUseError);
    await expect(second).rejects.toMatchObject({ port: taken, host: '127.0.0.1' });
    // The first server still answers: the failed start took nothing from it.
    expect((await fetch(pod.baseUrl, { method: 'HEAD' })).status).toBeLessThan(500);
  });
});
