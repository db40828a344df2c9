/**
 * A device's authenticated session: client credentials (from the account API or the provider) → DPoP-bound access
 * token. (A browser login's session is resumed by `browser-login.ts`.)
 *
 * CSS issues 600 s tokens and the client-credentials flow has no refresh token, so `DeviceSession.fetch` logs in
 * again transparently when fewer than `refreshBeforeMs` (default 60 s) remain. Concurrent calls share one re-login.
 *
 * Errors:
 * - `loginDevice` (and a re-login inside `fetch`) throws HttpError: status 0 (retryable) when the identity provider
 *   cannot be reached, 429/502/503/504 (retryable) when it is busy, 401 when it refuses the credentials, 400 when it
 *   answers 500/501 to the grant (a provider without client credentials: "use --browser", never retried).
 * - `fetch` itself is the raw authenticated fetch: a network failure on the request proper rejects with the
 *   platform's TypeError ("fetch failed"); non-OK answers are returned as Responses. The primitives in
 *   resources.ts / acl.ts wrap both into HttpError.
 */
import { Session } from '@inrupt/solid-client-authn-node';
import { FedinvoiceError } from '../model/errors.ts';
import { cannotGrant, cannotGrantError, HttpError, isRetryableStatus } from './http-error.ts';
import { asWebId, type WebId } from '../model/ids.ts';

export interface DeviceCredentials {
  clientId: string;
  clientSecret: string;
  /** The pod server that issued the credentials, e.g. http://localhost:3001/ */
  oidcIssuer: string;
  /** If given, login fails unless the credentials belong to this WebID. */
  webId?: string;
}

export interface DeviceSession {
  webId: WebId;
  /** Authenticated fetch (DPoP); re-logs in before the token expires. */
  fetch: typeof fetch;
  /** When the current access token expires (ms since epoch). */
  expiresAt(): number;
  /** Ends the session locally (logoutType 'app'): no timer keeps the process alive. Idempotent. */
  logout(): Promise<void>;
}

export interface LoginOptions {
  /** Log in again when fewer than this many ms of token lifetime remain. Default 60 000. */
  refreshBeforeMs?: number;
}

/** Assumed token lifetime when the library does not report one (CSS: 600 s). */
const DEFAULT_LIFETIME_MS = 600_000;

function isNetworkFailure(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT') return true;
    if (e instanceof TypeError && /fetch failed/i.test(e.message)) return true;
  }
  return false;
}

/**
 * The login library's errors carry the token request, whose Authorization header holds the client secret.
 * Only the message chain is kept, so that an error logged anywhere never leaks a credential.
 */
function withoutSecrets(error: unknown): Error {
  const messages: string[] = [];
  for (let e: unknown = error; e instanceof Error && messages.length < 5; e = e.cause) messages.push(`${e.name}: ${e.message}`);
  return new Error(messages.length ? messages.join(' <- ') : String(error));
}

/** HTTP status of an openid-client OPError (`error.response.statusCode`), if any. */
function statusOf(error: unknown): number | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const status = (e as { response?: { statusCode?: unknown; status?: unknown } }).response;
    const code = status?.statusCode ?? status?.status;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

async function openSession(credentials: DeviceCredentials): Promise<{ session: Session; webId: WebId; expiresAt: number }> {
  const session = new Session();
  const issuer = credentials.oidcIssuer;
  try {
    await session.login({
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      oidcIssuer: issuer,
      tokenType: 'DPoP',
    });
  } catch (error) {
    await session.logout({ logoutType: 'app' }).catch(() => undefined);
    if (isNetworkFailure(error)) {
      throw new HttpError(0, issuer, `The identity provider ${issuer} could not be reached; check that the pod server is running and retry later.`, { cause: withoutSecrets(error) });
    }
    const status = statusOf(error);
    if (status !== undefined && cannotGrant(status)) throw cannotGrantError(issuer, status, withoutSecrets(error));
    if (status !== undefined && isRetryableStatus(status)) {
      throw new HttpError(status, issuer, `The identity provider ${issuer} answered HTTP ${status} while logging the device in; retry later.`, { cause: withoutSecrets(error) });
    }
    throw new HttpError(401, issuer, `The identity provider ${issuer} refused the device credentials (client id ${credentials.clientId}); they may have been deleted: create new ones for this device.`, { cause: withoutSecrets(error) });
  }
  const { isLoggedIn, webId } = session.info;
  if (!isLoggedIn || !webId) {
    await session.logout({ logoutType: 'app' }).catch(() => undefined);
    throw new HttpError(401, issuer, `Logging in at ${issuer} with client id ${credentials.clientId} did not give a WebID; create new credentials for this device.`);
  }
  if (credentials.webId && credentials.webId !== webId) {
    await session.logout({ logoutType: 'app' }).catch(() => undefined);
    throw new FedinvoiceError(`The credentials for ${credentials.webId} belong to ${webId}; check the device profile.`);
  }
  const expiresAt = session.info.expirationDate ?? Date.now() + DEFAULT_LIFETIME_MS;
  return { session, webId: asWebId(webId), expiresAt };
}

export async function loginDevice(credentials: DeviceCredentials, options: LoginOptions = {}): Promise<DeviceSession> {
  const refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
  let current = await openSession(credentials);
  const webId = current.webId;
  let relogin: Promise<void> | undefined;
  let closed = false;

  const ensureFresh = async (): Promise<void> => {
    if (current.expiresAt - Date.now() > refreshBeforeMs) return;
    relogin ??= (async () => {
      try {
        const next = await openSession({ ...credentials, webId });
        const previous = current;
        current = next;
        // Requests already sent by the previous session carry their own token and proof; it only holds timers now.
        await previous.session.logout({ logoutType: 'app' }).catch(() => undefined);
        if (closed) await next.session.logout({ logoutType: 'app' }).catch(() => undefined);
      } finally {
        relogin = undefined;
      }
    })();
    await relogin;
  };

  const authenticatedFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (closed) throw new FedinvoiceError(`The session of ${webId} has been logged out; log in again.`);
    await ensureFresh();
    return current.session.fetch(input, init);
  }) as typeof fetch;

  return {
    webId,
    fetch: authenticatedFetch,
    expiresAt: () => current.expiresAt,
    logout: async () => {
      if (closed) return;
      closed = true;
      await relogin?.catch(() => undefined);
      await current.session.logout({ logoutType: 'app' });
    },
  };
}
