/**
 * Runs a Community Solid Server (CSS 7.2) in this process, listening on one host only.
 *
 * - Config: `css-config.json` (file backend) or `css-config.memory.json` (memory backend, no logging) at the
 *   package root, resolved from this file's location so the working directory does not matter.
 * - Base URL is always `http://localhost:PORT/`: CSS's token verifier accepts plain http only for hosts ending
 *   in `localhost`, and clients must use the same host spelling.
 * - Listen host: CSS 7.2 calls `server.listen(port)` with no host (all interfaces) and has no option to change
 *   that. While the app starts we register the port in `pendingHosts`; a one-time wrapper around
 *   `net.Server.prototype.listen` turns exactly the call `listen(port)` for a registered port into
 *   `listen(port, host)`. Every other listen call in the process is passed through untouched, and two servers
 *   can start concurrently (each has its own port entry). The wrapper also captures the server so that we wait
 *   for 'listening' (CSS does not) and turn EADDRINUSE into a PortInUseError instead of an uncaught 'error' event.
 * - Ports: `assertPortFree` (ports.ts, which loads no CSS) answers in milliseconds whether a port can be bound,
 *   so that a caller can check its ports before spending seconds loading and starting CSS.
 * - Seeding: see `seedAccounts` below. CSS's own seeding (seedConfig variable) runs during initialisation, before
 *   the server listens. A seed passed again to CSS on a restart leaves an orphan account, so for the file backend
 *   with existing account data we do NOT hand the seed to CSS; instead each seed account is checked by logging in
 *   through the account API and only created (account → password → pod) when that login fails.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '@solid/community-server';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { isRefused } from './http-error.ts';
import { createAccountWithPod, loginAccount } from './accounts.ts';
import { filterCssLogging } from './css-logging.ts';
import { createCssApp } from './css-runner.ts';
import { PodServerError, PortInUseError } from './ports.ts';

export interface SeedAccount {
  email: string;
  password: string;
  podName: string;
}

export interface PodServerOptions {
  port: number;
  storage: 'memory' | 'file';
  /** Root folder of the file backend (required for 'file'); created if missing. */
  dataDir?: string;
  /**
   * Accounts (one pod each) to create. Memory backend and a file backend with no account data yet: handed to CSS's
   * seeding. File backend with existing account data: each account is created through the account API only if
   * logging in with its email and password fails (so a restart with the same seed creates nothing).
   */
  seedAccounts?: SeedAccount[];
  /** Interface to listen on; default '127.0.0.1'. The base URL stays http://localhost:PORT/ regardless. */
  listenHost?: string;
  /** CSS log level for the file backend (the memory config logs nothing). Default 'warn'. */
  loggingLevel?: 'error' | 'warn' | 'info' | 'debug';
  /**
   * Offer Solid Notifications (default true). False: the same server without them (no subscription service in the
   * storage description), like other Solid servers people run; see docs/servers.md.
   */
  notifications?: boolean;
}

export interface PodServer {
  /** `http://localhost:PORT/` */
  baseUrl: string;
  /** Host and port actually bound (e.g. { address: '127.0.0.1', port: 3001 }). */
  address: { address: string; port: number };
  stop(): Promise<void>;
}

export { assertPortFree, PodServerError, PortInUseError } from './ports.ts';

/** As CSS's own "create pod" page does by default: the WebID profile names its pod (`pim:storage`). */
export const POD_SETTINGS = { linkStorage: true } as const;

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CSS_CONFIG_FILE = join(packageRoot, 'css-config.json');
const CSS_CONFIG_MEMORY = join(packageRoot, 'css-config.memory.json');

// ---- listen-host wrapper -------------------------------------------------------------------------------------------

interface PendingListen {
  host: string;
  captured?: (server: net.Server) => void;
}
const pendingHosts = new Map<number, PendingListen>();
let listenWrapped = false;

function wrapListenOnce(): void {
  if (listenWrapped) return;
  listenWrapped = true;
  const original = net.Server.prototype.listen as (this: net.Server, ...args: unknown[]) => net.Server;
  // Only the exact call shape CSS uses (`listen(port)`, a registered port, no host) is changed.
  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]) {
    const port = args[0];
    if (args.length === 1 && typeof port === 'number') {
      const pending = pendingHosts.get(port);
      if (pending) {
        pendingHosts.delete(port);
        pending.captured?.(this);
        return original.call(this, port, pending.host);
      }
    }
    return original.apply(this, args);
  } as typeof net.Server.prototype.listen;
}

// ---- start ---------------------------------------------------------------------------------------------------------

/** True if a file-backed CSS data folder already holds account data (`.internal/accounts/`). */
function hasAccountData(dataDir: string): boolean {
  const accounts = join(dataDir, '.internal', 'accounts');
  return existsSync(accounts) && readdirSync(accounts).length > 0;
}

export async function startPodServer(options: PodServerOptions): Promise<PodServer> {
  const { port, storage } = options;
  const listenHost = options.listenHost ?? '127.0.0.1';
  const baseUrl = `http://localhost:${port}/`;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new PodServerError(`Pod server port ${port} is not a valid TCP port (1–65535).`);
  }
  if (storage === 'file' && !options.dataDir) {
    throw new PodServerError('A file-backed pod server needs a data folder (dataDir).');
  }
  if (pendingHosts.has(port)) {
    throw new PodServerError(`Another pod server is already starting on port ${port}.`);
  }
  const pending: PendingListen = { host: listenHost };
  pendingHosts.set(port, pending);

  try {
    return await startReserved(options, port, storage, listenHost, baseUrl, pending);
  } finally {
    pendingHosts.delete(port);
  }
}

async function startReserved(
  options: PodServerOptions,
  port: number,
  storage: 'memory' | 'file',
  listenHost: string,
  baseUrl: string,
  pending: PendingListen,
): Promise<PodServer> {
  const seeds = options.seedAccounts ?? [];
  let dataDir: string | undefined;
  let existingData = false;
  if (storage === 'file') {
    dataDir = resolve(options.dataDir!);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    existingData = hasAccountData(dataDir);
  }
  const seedThroughCss = seeds.length > 0 && !existingData;

  // CSS reads the seed from a file: write it (0600, it holds passwords) and remove it as soon as CSS has started.
  let seedFile: string | undefined;
  if (seedThroughCss) {
    seedFile = join(tmpdir(), `fedinvoice-seed-${process.pid}-${randomBytes(6).toString('hex')}.json`);
    const seed = seeds.map((s) => ({ email: s.email, password: s.password, pods: [{ name: s.podName, settings: POD_SETTINGS }] }));
    await writeFile(seedFile, JSON.stringify(seed), { mode: 0o600 });
  }

  const loggingLevel = options.loggingLevel ?? 'warn';
  const shorthand: Record<string, unknown> = {
    port,
    baseUrl,
    loggingLevel,
  };
  if (dataDir) shorthand.rootFilePath = dataDir;
  if (seedFile) shorthand.seedConfig = seedFile;

  filterCssLogging(loggingLevel);
  let app: App | undefined;
  let server: net.Server | undefined;
  let config = storage === 'file' ? CSS_CONFIG_FILE : CSS_CONFIG_MEMORY;
  wrapListenOnce();
  try {
    if (options.notifications === false) config = await withoutNotifications(config);
    const keep = config === CSS_CONFIG_FILE || config === CSS_CONFIG_MEMORY;
    app = await createCssApp({ config, shorthand, keep });
    pending.captured = (s) => (server = s);
    await app.start();
    if (!server) throw new PodServerError(`The pod server on port ${port} did not open its HTTP listener.`);
    await waitListening(server, port, listenHost);
  } catch (error) {
    if (app) await app.stop().catch(() => undefined);
    if (error instanceof FedinvoiceError) throw error;
    throw new PodServerError(
      `The pod server on port ${port} could not start: ${messageOf(error)}`,
      { cause: error },
    );
  } finally {
    if (seedFile) await rm(seedFile, { force: true });
    if (config !== CSS_CONFIG_FILE && config !== CSS_CONFIG_MEMORY) await rm(dirname(config), { recursive: true, force: true });
  }

  const running = app;
  const bound = server.address() as net.AddressInfo;
  // CSS's stop waits for open keep-alive and notification sockets, which may never close on their own; a
  // stopped pod must look like a pod that is down, so every socket is cut shortly after stopping begins.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    const stopping = running.stop();
    const cut = setTimeout(() => {
      for (const socket of sockets) socket.destroy();
    }, 100);
    try {
      await stopping;
    } finally {
      clearTimeout(cut);
      for (const socket of sockets) socket.destroy();
    }
  };
  const podServer: PodServer = {
    baseUrl,
    address: { address: bound.address, port: bound.port },
    stop: () => (stopped ??= stop()),
  };

  try {
    await warmUp(baseUrl);
  } catch (error) {
    await podServer.stop();
    throw error;
  }

  if (seeds.length > 0 && !seedThroughCss) {
    try {
      for (const seed of seeds) await ensureSeedAccount(baseUrl, seed);
    } catch (error) {
      await podServer.stop();
      throw error;
    }
  }
  return podServer;
}

/**
 * A copy of `config` (in a temp folder; the caller removes it) whose notification parts are replaced by CSS's own
 * `disabled.json`: derived rather than kept as a second config, so the two cannot drift apart.
 */
async function withoutNotifications(config: string): Promise<string> {
  const parsed = JSON.parse(await readFile(config, 'utf8')) as { import: string[] };
  parsed.import = [...parsed.import.filter((entry) => !entry.includes('/http/notifications/')), 'css:config/http/notifications/disabled.json'];
  const folder = await mkdtemp(join(tmpdir(), 'fedinvoice-css-config-'));
  const derived = join(folder, 'css-config.no-notifications.json');
  await writeFile(derived, JSON.stringify(parsed, null, 2));
  return derived;
}

function waitListening(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, host, { cause: error }) : new PodServerError(`The pod server could not listen: ${error.message}.`, { cause: error }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolvePromise();
    };
    if (server.listening) return resolvePromise();
    server.once('error', onError);
    server.once('listening', onListening);
  });
}

/**
 * Builds CSS's OIDC provider right after start, with one request:
 * - CSS 7.2 builds it lazily on the first identity request and does not share the pending build
 *   (IdentityProviderFactory.getProvider), so concurrent first logins could race.
 * - CSS imports oidc-provider through `jest.requireActual` whenever NODE_ENV is 'test' (IdentityUtil.js, a Jest
 *   workaround). Vitest sets NODE_ENV=test but has no `jest`, so every login answered 500 "jest is not defined".
 *   While the provider is built we hide NODE_ENV=test (only when not running under Jest); afterwards CSS never
 *   imports it again.
 */
let envOverrides = 0;
let savedNodeEnv: string | undefined;
async function warmUp(baseUrl: string): Promise<void> {
  // (envOverrides > 0: another server is warming up right now and has already hidden it.)
  const hide = envOverrides > 0 || (process.env.NODE_ENV === 'test' && !process.env.JEST_WORKER_ID);
  if (hide && envOverrides++ === 0) {
    savedNodeEnv = process.env.NODE_ENV;
    delete process.env.NODE_ENV;
  }
  try {
    const url = `${baseUrl}.well-known/openid-configuration`;
    const response = await fetch(url);
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new PodServerError(`The pod server's identity provider is not working (${url} answered HTTP ${response.status}).`);
  } finally {
    if (hide && --envOverrides === 0) process.env.NODE_ENV = savedNodeEnv;
  }
}

async function ensureSeedAccount(baseUrl: string, seed: SeedAccount): Promise<void> {
  try {
    await loginAccount(baseUrl, seed.email, seed.password);
    return; // already there
  } catch (error) {
    // A 4xx login refusal means: no such account (or another password; then creating it fails below).
    if (!isRefused(error)) throw error;
  }
  await createAccountWithPod(baseUrl, seed.email, seed.password, seed.podName);
}
