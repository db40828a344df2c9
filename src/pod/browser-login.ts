/**
 * The Solid-OIDC authorization-code flow (PKCE, DPoP) for any identity provider, and later sessions resumed from
 * what it stored, without a browser.
 *
 * `loginInBrowser` serves the redirect on a loopback port (127.0.0.1, a port the OS picks), hands the provider's
 * login URL to `openUrl` (print it, open a browser), and waits for the provider to redirect back. The client is
 * registered dynamically, or named by a Client ID Document when `clientId` is one. The login library keeps the
 * session (registered client, refresh token, DPoP key pair) in a storage we give it; that storage's entries are
 * the `StoredSession` a profile keeps. `resumeBrowserSession` rebuilds the session from those entries with the
 * refresh token (the same DPoP key), and refreshes again before the access token expires; each change to the
 * entries (a rotated refresh token) is handed to `persist`.
 *
 * Errors: a provider that cannot be reached is HttpError 0 (retryable: the device works offline); a refresh token
 * the provider no longer accepts is HttpError 401 saying to log in again (never retried, so no op waits forever).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getSessionFromStorage, refreshSession, Session, type IStorage } from '@inrupt/solid-client-authn-node';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { asWebId } from '../model/ids.ts';
import { HttpError, isRetryableStatus } from './http-error.ts';
import type { StoredSession } from './profile.ts';
import type { DeviceSession } from './session.ts';

/** The login library's storage, as plain entries a profile can hold. */
class EntryStorage implements IStorage {
  constructor(readonly entries: Record<string, string> = {}) {}
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(Object.hasOwn(this.entries, key) ? this.entries[key] : undefined);
  }
  set(key: string, value: string): Promise<void> {
    this.entries[key] = value;
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    delete this.entries[key];
    return Promise.resolve();
  }
}

/** Where the login library keeps a session's (or a pending login's) entries. */
const USER_PREFIX = 'solidClientAuthenticationUser:';

/** The entries one session needs later: its own, the session registry and issuer configs (not the spent states). */
function storedSession(id: string, storage: EntryStorage): StoredSession {
  const kept = Object.entries(storage.entries).filter(([key]) => !key.startsWith(USER_PREFIX) || key === `${USER_PREFIX}${id}`);
  return { id, storage: Object.fromEntries(kept) };
}

/** Whether a stored session can be resumed without a browser: the provider gave it a refresh token. */
function hasRefreshToken(stored: StoredSession): boolean {
  try {
    return typeof (JSON.parse(stored.storage[`${USER_PREFIX}${stored.id}`] ?? '{}') as { refreshToken?: unknown }).refreshToken === 'string';
  } catch {
    return false;
  }
}

export interface BrowserLoginOptions {
  issuer: string;
  /** Receives the provider's login URL: print it, open a browser. */
  openUrl: (url: string) => void | Promise<void>;
  /** A Client ID Document URL; without it the client registers dynamically. */
  clientId?: string;
  /** How the application is named on the provider's consent page. */
  clientName?: string;
  /** How long to wait for the person to log in. Default 5 minutes. */
  timeoutMs?: number;
}

export interface BrowserLogin {
  webId: string;
  stored: StoredSession;
  /** False when the provider gave no refresh token: later commands could not resume the session. */
  resumable: boolean;
}

const PAGE_DONE = '<!doctype html><meta charset="utf-8"><title>fedinvoice</title><p>Logged in. You can close this page and return to the terminal.</p>';
const PAGE_FAILED = '<!doctype html><meta charset="utf-8"><title>fedinvoice</title><p>The login did not complete; see the terminal.</p>';

/** Serves one redirect on 127.0.0.1 and resolves with its full URL (or rejects on an error the provider sent). */
async function loopbackRedirect(timeoutMs: number): Promise<{ redirectUrl: string; received: Promise<string>; close: () => void }> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const redirectUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  let timer: NodeJS.Timeout | undefined;
  const received = new Promise<string>((resolve, reject) => {
    timer = setTimeout(() => reject(new FedinvoiceError(`No login came back within ${Math.round(timeoutMs / 1000)} s; run fedinvoice login --browser again.`)), timeoutMs);
    server.on('request', (request, response) => {
      const url = new URL(request.url ?? '/', redirectUrl);
      if (url.pathname !== '/callback') return void response.writeHead(404).end();
      const error = url.searchParams.get('error');
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(error ? PAGE_FAILED : PAGE_DONE);
      if (error) reject(new FedinvoiceError(`The identity provider refused the login: ${error} ${url.searchParams.get('error_description') ?? ''}`.trim()));
      else resolve(url.href);
    });
  });
  // Awaited once the login page is open; an error redirect arriving earlier must not count as unhandled.
  received.catch(() => undefined);
  const close = () => {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  };
  return { redirectUrl, received, close };
}

/** Logs in through the provider's pages; returns the WebID and the session to store. */
export async function loginInBrowser(options: BrowserLoginOptions): Promise<BrowserLogin> {
  const storage = new EntryStorage();
  const id = randomUUID();
  const session = new Session({ storage, keepAlive: false }, id);
  const loopback = await loopbackRedirect(options.timeoutMs ?? 300_000);
  try {
    let loginUrl: string | undefined;
    await session
      .login({
        oidcIssuer: options.issuer,
        redirectUrl: loopback.redirectUrl,
        clientName: options.clientName ?? 'fedinvoice',
        ...(options.clientId ? { clientId: options.clientId } : {}),
        tokenType: 'DPoP',
        handleRedirect: (url) => {
          loginUrl = url;
        },
      })
      .catch((error: unknown) => {
        throw new FedinvoiceError(`The identity provider ${options.issuer} could not start a login (${messageOf(error)}); check --issuer.`, { cause: error });
      });
    if (!loginUrl) throw new FedinvoiceError(`The identity provider ${options.issuer} gave no login page.`);
    await options.openUrl(loginUrl);
    const info = await session.handleIncomingRedirect(await loopback.received);
    if (!info?.isLoggedIn || !info.webId) throw new FedinvoiceError(`The login at ${options.issuer} did not give a WebID; run fedinvoice login --browser again.`);
    const stored = storedSession(id, storage);
    return { webId: info.webId, stored, resumable: hasRefreshToken(stored) };
  } finally {
    loopback.close();
    await session.logout({ logoutType: 'app' }).catch(() => undefined);
  }
}

export interface ResumeOptions {
  issuer: string;
  /** Login fails unless the session is this WebID's. */
  webId: string;
  /** The profile's name, for messages. */
  profile: string;
  /** Stores changed session entries (a new refresh token) in the profile. */
  persist: (stored: StoredSession) => Promise<void>;
  /**
   * The session as stored now: another process of the same device (the viewer, a command) may have refreshed
   * meanwhile, and a provider that rotates refresh tokens accepts only the newest.
   */
  latest?: () => Promise<StoredSession | undefined>;
  /** Refresh when fewer than this many ms of the access token remain. Default 60 000. */
  refreshBeforeMs?: number;
}

const DEFAULT_LIFETIME_MS = 600_000;

/** HTTP status in the login library's error chain, if any. */
function statusIn(error: unknown): number | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const response = (e as { response?: { statusCode?: unknown; status?: unknown }; status?: unknown }).response;
    const status = response?.statusCode ?? response?.status ?? (e as { status?: unknown }).status;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

/** Whether nothing answered: the error chain says the request never got through. */
function isUnanswered(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/fetch failed/i.test(e.message) || /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT)$/.test(code)) return true;
  }
  return false;
}

function resumeError(error: unknown, options: ResumeOptions): HttpError {
  const status = statusIn(error);
  const again = `log in again: fedinvoice login --profile ${options.profile} --browser --issuer ${options.issuer}`;
  if (status === undefined ? isUnanswered(error) : isRetryableStatus(status)) {
    return new HttpError(status ?? 0, options.issuer, `The identity provider ${options.issuer} could not be reached to resume the login of ${options.profile}; retry later.`, { cause: error });
  }
  return new HttpError(401, options.issuer, `The identity provider ${options.issuer} no longer accepts the stored login of ${options.profile} (expired or revoked); ${again}.`, { cause: error });
}

/** The stored session, logged in with its refresh token: the profile's WebID's, or an error saying what to do. */
async function refreshedSession(id: string, storage: EntryStorage, options: ResumeOptions): Promise<Session> {
  let session: Session | undefined;
  try {
    session = await getSessionFromStorage(id, { storage });
  } catch (error) {
    throw resumeError(error, options);
  }
  if (!session?.info.isLoggedIn || !session.info.webId) throw resumeError(new Error('no session after refreshing'), options);
  if (session.info.webId !== options.webId) {
    await session.logout({ logoutType: 'app' }).catch(() => undefined);
    throw new FedinvoiceError(`The stored login of ${options.profile} is ${session.info.webId}'s, not ${options.webId}'s; log in again.`);
  }
  return session;
}

/** A device session from a stored browser login: refreshed now, and again before each expiry. */
export async function resumeBrowserSession(stored: StoredSession, options: ResumeOptions): Promise<DeviceSession> {
  const storage = new EntryStorage(structuredClone(stored.storage));
  let persisted = JSON.stringify(storage.entries);
  const persistIfChanged = async () => {
    const now = JSON.stringify(storage.entries);
    if (now === persisted) return;
    persisted = now;
    await options.persist(storedSession(stored.id, storage));
  };
  const current = await refreshedSession(stored.id, storage, options);
  await persistIfChanged();
  const expiry = () => current.info.expirationDate ?? Date.now() + DEFAULT_LIFETIME_MS;
  let expiresAt = expiry();
  let refreshing: Promise<void> | undefined;
  let closed = false;
  const ensureFresh = async () => {
    if (expiresAt - Date.now() > (options.refreshBeforeMs ?? 60_000)) return;
    refreshing ??= (async () => {
      try {
        const latest = await options.latest?.().catch(() => undefined);
        if (latest?.id === stored.id) Object.assign(storage.entries, latest.storage);
        await refreshSession(current, { storage });
      } catch (error) {
        throw resumeError(error, options);
      } finally {
        refreshing = undefined;
      }
      expiresAt = expiry();
      await persistIfChanged();
    })();
    await refreshing;
  };
  const authenticatedFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (closed) throw new FedinvoiceError(`The session of ${options.webId} has been logged out; log in again.`);
    await ensureFresh();
    return current.fetch(input, init);
  }) as typeof fetch;
  return {
    webId: asWebId(options.webId),
    fetch: authenticatedFetch,
    expiresAt: () => expiresAt,
    logout: async () => {
      if (closed) return;
      closed = true;
      await refreshing?.catch(() => undefined);
      await current.logout({ logoutType: 'app' });
    },
  };
}
