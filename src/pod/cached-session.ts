/**
 * A device session that survives the process: the client-credentials login of session.ts, done with node:crypto
 * and fetch alone, whose DPoP key and access token are kept in a file of the device's own folder (mode 0600, beside
 * its client secret) until the token is about to expire. A warm command then makes no login request at all, and
 * never loads the OpenID client library: most of a short command's time was those two (docs/many-invoices.md).
 *
 * The protocol is the one CSS documents for client credentials: discover the token endpoint, POST
 * `grant_type=client_credentials` with the id and secret as HTTP Basic and a DPoP proof; every request then carries
 * `Authorization: DPoP <token>` and a fresh proof (RFC 9449: htm, htu, iat, jti, ath) signed by the same key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FedinvoiceError } from '../model/errors.ts';
import { asWebId } from '../model/ids.ts';
import { cannotGrant, cannotGrantError, HttpError, isRetryableStatus } from './http-error.ts';
import type { DeviceCredentials, DeviceSession } from './session.ts';

/** Log in again when fewer than this many ms of the token's lifetime remain (a command must not outlive it). */
const REFRESH_BEFORE_MS = 60_000;

interface Cached {
  readonly clientId: string;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly privateJwk: JsonWebKey;
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly webId: string;
}

interface Live extends Cached {
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

function withKey(cached: Cached): Live {
  const key = createPrivateKey({ key: cached.privateJwk, format: 'jwk' });
  const { kty, crv, x, y } = createPublicKey(key).export({ format: 'jwk' });
  return { ...cached, key, publicJwk: { kty, crv, x, y } };
}

async function readCache(file: string, credentials: DeviceCredentials): Promise<Live | null> {
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as Cached;
    if (cached.clientId !== credentials.clientId || cached.issuer !== credentials.oidcIssuer) return null;
    if (credentials.webId && cached.webId !== credentials.webId) return null;
    return withKey(cached);
  } catch {
    return null; // No cache yet, or an unreadable one: log in.
  }
}

async function writeCache(file: string, live: Live): Promise<void> {
  const { key: _key, publicJwk: _public, ...cached } = live;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(cached));
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/** Calls the identity provider; a network failure or a 5xx is "retry later", anything else refuses the credentials. */
async function askIssuer(url: string, init: RequestInit, credentials: DeviceCredentials): Promise<Record<string, unknown>> {
  const issuer = credentials.oidcIssuer;
  let response: Response;
  try {
    response = await fetch(url, init);
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

/** A new access token for the credentials, with the previous session's key and endpoint if there is one. */
async function logIn(credentials: DeviceCredentials, previous: Live | null): Promise<Live> {
  const issuer = credentials.oidcIssuer;
  const tokenEndpoint = previous?.tokenEndpoint ?? String((await askIssuer(new URL('.well-known/openid-configuration', issuer).href, {}, credentials))['token_endpoint']);
  const privateJwk = previous?.privateJwk ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const keyed = withKey({ clientId: credentials.clientId, issuer, tokenEndpoint, privateJwk, accessToken: '', expiresAt: 0, webId: '' });
  const basic = Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64');
  const token = await askIssuer(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', dpop: proof(keyed, 'POST', tokenEndpoint) },
    body: 'grant_type=client_credentials&scope=webid',
  }, credentials);
  const accessToken = String(token['access_token']);
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { webid?: string };
  if (!claims.webid) throw new HttpError(401, issuer, `Logging in at ${issuer} with client id ${credentials.clientId} did not give a WebID; create new credentials for this device.`);
  if (credentials.webId && credentials.webId !== claims.webid) {
    throw new FedinvoiceError(`The credentials for ${credentials.webId} belong to ${claims.webid}; check the device profile.`);
  }
  const expiresAt = Date.now() + Number(token['expires_in'] ?? 600) * 1000;
  return { ...keyed, accessToken, expiresAt, webId: claims.webid };
}

/**
 * Opens the device's session from `cacheFile` when its token has more than a minute left, else logs in (and keeps
 * the new token there). The session logs in again by itself before its token expires, and once when a pod answers
 * 401 to a cached token (a server that no longer knows it): long-running processes (the viewer) use it too.
 */
export async function openCachedSession(credentials: DeviceCredentials, cacheFile: string): Promise<DeviceSession> {
  let live = await readCache(cacheFile, credentials);
  let renewing: Promise<void> | undefined;
  // Requests running together share one login.
  const renew = () =>
    (renewing ??= (async () => {
      try {
        live = await logIn(credentials, live);
        await writeCache(cacheFile, live).catch(() => undefined); // Only a cache: the next command logs in again.
      } finally {
        renewing = undefined;
      }
    })());
  if (!live || live.expiresAt - Date.now() < REFRESH_BEFORE_MS) await renew();
  const webId = asWebId(live!.webId);
  const send = (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const headers = new Headers(init?.headers);
    headers.set('authorization', `DPoP ${live!.accessToken}`);
    headers.set('dpop', proof(live!, method, url, live!.accessToken));
    return fetch(input, { ...init, headers });
  };
  const authenticatedFetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    if (live!.expiresAt - Date.now() < REFRESH_BEFORE_MS) await renew();
    const response = await send(input, init);
    const resendable = init?.body === undefined || init.body === null || typeof init.body === 'string';
    if (response.status !== 401 || !resendable) return response;
    await response.body?.cancel().catch(() => undefined);
    await renew();
    return send(input, init);
  }) as typeof fetch;
  return { webId, fetch: authenticatedFetch, expiresAt: () => live!.expiresAt, logout: async () => undefined };
}
