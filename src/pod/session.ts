/**
 * A device's authenticated session from client credentials (from the account API or the provider): the one
 * implementation of that grant, done with node:crypto and fetch alone (no OpenID client library is loaded). A browser
 * login's session is resumed by `browser-login.ts`.
 *
 * The protocol is the one CSS documents for client credentials: discover the token endpoint, POST
 * `grant_type=client_credentials` with the id and secret as HTTP Basic and a DPoP proof; every request then carries
 * `Authorization: DPoP <token>` and a fresh proof (RFC 9449: htm, htu, iat, jti, ath) signed by the same key.
 *
 * CSS issues 600 s tokens and the grant has no refresh token, so `fetch` logs in again by itself when fewer than
 * `refreshBeforeMs` (default 60 s) remain, and once when a pod answers 401 to a token (a server that no longer knows
 * it); requests running together share one login. With `cacheFile`, the DPoP key and access token are kept in that
 * file (mode 0600, beside the client secret, which is more powerful) so that a later process makes no login request
 * while the token is good: a short command's time was mostly that login (docs/many-invoices.md).
 *
 * Every request, the login's too, goes through `options.fetch`: by default Node's HTTP client behind fetch's API
 * (http-client.ts), which a short command starts ~90 ms sooner than the platform's fetch.
 *
 * Errors: the login (and a re-login inside `fetch`) throws HttpError: status 0 (retryable) when the identity provider
 * cannot be reached, 429/5xx (retryable) when it is busy, 401 when it refuses the credentials, 400 when it answers
 * 500/501 to the grant (a provider without client credentials: "use --browser", never retried). `fetch` itself is
 * the raw authenticated fetch: a network failure rejects with the platform's TypeError, non-OK answers are returned.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FedinvoiceError } from '../model/errors.ts';
import { asWebId, type WebId } from '../model/ids.ts';
import { headerRecord, methodOf, nodeHttpFetch, urlOf } from './http-client.ts';
import { cannotGrant, cannotGrantError, HttpError, isRetryableStatus } from './http-error.ts';

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
  /** Ends the session: its fetch refuses from then on. Idempotent. */
  logout(): Promise<void>;
}

export interface LoginOptions {
  /** Log in again when fewer than this many ms of token lifetime remain. Default 60 000. */
  refreshBeforeMs?: number;
  /** Keep the DPoP key and access token in this file (0600) and start from it while its token is good. */
  cacheFile?: string;
  /** What sends the requests (the login's and the session's); default nodeHttpFetch. */
  fetch?: typeof fetch;
}

/** Assumed token lifetime when the provider does not say (CSS: 600 s). */
const DEFAULT_LIFETIME_S = 600;

interface Token {
  readonly clientId: string;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly privateJwk: JsonWebKey;
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly webId: string;
}

interface Live extends Token {
  readonly key: KeyObject;
  readonly publicJwk: JsonWebKey;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** A DPoP proof for one request (RFC 9449), bound to the access token when there is one. */
function proof(live: Pick<Live, 'key' | 'publicJwk'>, method: string, url: string, accessToken?: string): string {
  const target = new URL(url);
  const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: live.publicJwk };
  const claims = {
    htu: `${target.origin}${target.pathname}`,
    htm: method.toUpperCase(),
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    ...(accessToken ? { ath: base64url(createHash('sha256').update(accessToken).digest()) } : {}),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${base64url(sign('sha256', Buffer.from(signingInput), { key: live.key, dsaEncoding: 'ieee-p1363' }))}`;
}

function withKey(token: Token): Live {
  const key = createPrivateKey({ key: token.privateJwk, format: 'jwk' });
  const { kty, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
  return { ...token, key, publicJwk: { kty, crv, x, y } };
}

async function readCache(file: string, credentials: DeviceCredentials): Promise<Live | null> {
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as Token;
    if (cached.clientId !== credentials.clientId || cached.issuer !== credentials.oidcIssuer) return null;
    if (credentials.webId && cached.webId !== credentials.webId) return null;
    return withKey(cached);
  } catch {
    return null; // No cache yet, or an unreadable one: log in.
  }
}

async function writeCache(file: string, live: Live): Promise<void> {
  const { key: _key, publicJwk: _public, ...token } = live;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(token));
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/** Calls the identity provider; a network failure or a 5xx is "retry later", anything else refuses the credentials. */
async function askIssuer(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  credentials: DeviceCredentials,
): Promise<Record<string, unknown>> {
  const issuer = credentials.oidcIssuer;
  let response: Response;
  try {
    response = await fetchFn(url, init);
  } catch (error) {
    throw new HttpError(0, issuer, `The identity provider ${issuer} could not be reached; check that the pod server is running and retry later.`, { cause: error });
  }
  if (response.ok) return (await response.json()) as Record<string, unknown>;
  await response.body?.cancel().catch(() => undefined);
  if (init.method === 'POST' && cannotGrant(response.status)) throw cannotGrantError(issuer, response.status);
  if (isRetryableStatus(response.status)) {
    throw new HttpError(response.status, issuer, `The identity provider ${issuer} answered HTTP ${response.status} while logging the device in; retry later.`);
  }
  throw new HttpError(401, issuer, `The identity provider ${issuer} refused the device credentials (client id ${credentials.clientId}); they may have been deleted: create new ones for this device.`);
}

/** The WebID an access token names (its `webid` claim), checked against the one the credentials are for. */
function webIdOf(accessToken: string, credentials: DeviceCredentials): string {
  const issuer = credentials.oidcIssuer;
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { webid?: string };
  if (!claims.webid) throw new HttpError(401, issuer, `Logging in at ${issuer} with client id ${credentials.clientId} did not give a WebID; create new credentials for this device.`);
  if (credentials.webId && credentials.webId !== claims.webid) {
    throw new FedinvoiceError(`The credentials for ${credentials.webId} belong to ${claims.webid}; check the device profile.`);
  }
  return claims.webid;
}

/** A new access token for the credentials, with the previous session's key and endpoint if there is one. */
async function logIn(fetchFn: typeof fetch, credentials: DeviceCredentials, previous: Live | null): Promise<Live> {
  const issuer = credentials.oidcIssuer;
  const discovery = new URL('.well-known/openid-configuration', issuer).href;
  const tokenEndpoint = previous?.tokenEndpoint ?? String((await askIssuer(fetchFn, discovery, {}, credentials))['token_endpoint']);
  const privateJwk = previous?.privateJwk ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const keyed = withKey({ clientId: credentials.clientId, issuer, tokenEndpoint, privateJwk, accessToken: '', expiresAt: 0, webId: '' });
  const basic = Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64');
  const token = await askIssuer(fetchFn, tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', dpop: proof(keyed, 'POST', tokenEndpoint) },
    body: 'grant_type=client_credentials&scope=webid',
  }, credentials);
  const accessToken = String(token['access_token']);
  const webId = webIdOf(accessToken, credentials);
  const expiresAt = Date.now() + Number(token['expires_in'] ?? DEFAULT_LIFETIME_S) * 1000;
  return { ...keyed, accessToken, expiresAt, webId };
}

/**
 * Logs a device in with client credentials, or (with `cacheFile`) starts from the token kept there while more than
 * `refreshBeforeMs` of it remain. Long-running processes (the viewer) use it too: it logs in again by itself.
 */
export async function loginDevice(credentials: DeviceCredentials, options: LoginOptions = {}): Promise<DeviceSession> {
  const refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
  const { cacheFile } = options;
  const base = options.fetch ?? nodeHttpFetch;
  let live = cacheFile ? await readCache(cacheFile, credentials) : null;
  let renewing: Promise<void> | undefined;
  let closed = false;
  // Requests running together share one login.
  const renew = () =>
    (renewing ??= (async () => {
      try {
        live = await logIn(base, credentials, live);
        if (cacheFile) await writeCache(cacheFile, live).catch(() => undefined); // Only a cache: the next process logs in again.
      } finally {
        renewing = undefined;
      }
    })());
  const due = () => !live || live.expiresAt - Date.now() < refreshBeforeMs;
  if (due()) await renew();
  const webId = asWebId(live!.webId);
  const send = (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = urlOf(input);
    const method = methodOf(input, init);
    const headers = { ...headerRecord(init?.headers), authorization: `DPoP ${live!.accessToken}`, dpop: proof(live!, method, url, live!.accessToken) };
    return base(input, { ...init, headers });
  };
  const authenticatedFetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    if (closed) throw new FedinvoiceError(`The session of ${webId} has been logged out; log in again.`);
    if (due()) await renew();
    const response = await send(input, init);
    const resendable = init?.body === undefined || init.body === null || typeof init.body === 'string';
    if (response.status !== 401 || !resendable) return response;
    await response.body?.cancel().catch(() => undefined);
    await renew();
    return send(input, init);
  }) as typeof fetch;
  const logout = async () => {
    closed = true;
    await renewing?.catch(() => undefined);
  };
  return { webId, fetch: authenticatedFetch, expiresAt: () => live!.expiresAt, logout };
}
