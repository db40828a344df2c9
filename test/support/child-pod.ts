/**
 * Parent side of test/support/pod-child.ts: start a file-backed CSS in a child process, kill it with SIGKILL
 * (no chance to flush or close anything), start it again on the same port and data folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./pod-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildPod {
  readonly port: number;
  readonly baseUrl: string;
  readonly running: boolean;
  start(): Promise<number>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function childPod(options: { port: number; dataDir: string; seed: { email: string; password: string; podName: string } }): ChildPod {
  let child: ChildProcess | undefined;
  let started = false;
  const pod: ChildPod = {
    port: options.port,
    baseUrl: `http://localhost:${options.port}/`,
    get running() {
      return child !== undefined;
    },
    /** Starts the server; resolves with the milliseconds it took to answer. */
    start: () =>
      new Promise<number>((resolve, reject) => {
        const begin = Date.now();
        const args = JSON.stringify({ port: options.port, dataDir: options.dataDir, seed: started ? null : options.seed });
        const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
        let out = '';
        let err = '';
        proc.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('READY ')) {
            started = true;
            child = proc;
            resolve(Date.now() - begin);
          }
        });
        proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
        proc.once('exit', (code, signal) => {
          if (child === proc) child = undefined;
          if (!out.includes('READY ')) reject(new Error(`pod child exited (${code ?? signal}) before it was ready: ${err.slice(-2000)}`));
        });
      }),
    kill: async () => {
      const proc = child;
      if (!proc) return;
      child = undefined;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      const proc = child;
      if (!proc) return;
      child = undefined;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    },
  };
  return pod;
}
