/**
 * Client for the CSS 7 account API (`{base}.account/`). These calls are not Solid-authenticated: they use the
 * global `fetch` with an account token (`Authorization: CSS-Account-Token …`) obtained by email/password login.
 *
 * CSS quirk: a GET that carries `content-type: application/json` (without a body) is answered 500, so only
 * POSTs with a JSON body send that header.
 *
 * Flow: GET `.account/` → controls; POST `controls.password.login` {email,password} → {authorization}; GET
 * `.account/` again with the token → account controls (`controls.account.webId`, `.pod`, `.clientCredentials`).
 */
import { FedinvoiceError } from '../model/errors.ts';
import { asWebId, type WebId } from '../model/ids.ts';
import { HttpError } from './http-error.ts';

/** Controls CSS hands out; only the ones fedinvoice uses are typed. */
export interface AccountControls {
  account?: {
    create?: string;
    webId?: string;
    pod?: string;
    clientCredentials?: string;
  };
  password?: {
    create?: string;
    login?: string;
  };
  [key: string]: unknown;
}

export interface AccountLogin {
  baseUrl: string;
  /** Value for `Authorization: CSS-Account-Token <token>`. */
  token: string;
  controls: AccountControls;
}

export interface ClientCredentials {
  /** The client id (CSS calls it `id`); use as `clientId` when logging a device in. */
  id: string;
  secret: string;
  /** Account-API URL of this credential (to delete it later). */
  resource?: string;
}

/** The account API refused or returned something unusable (wrong password, email taken, pod name taken…). */
export class AccountApiError extends HttpError {
  override readonly name = 'AccountApiError';
}

function accountRoot(baseUrl: string): string {
  return new URL('.account/', baseUrl).href;
}

async function call(
  url: string,
  init: { method?: 'GET' | 'POST'; token?: string; body?: unknown },
  what: string,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.token) headers.authorization = `CSS-Account-Token ${init.token}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  let response: Response;
  try {
    response = await fetch(url, { method: init.method ?? 'GET', headers, body });
  } catch (error) {
    throw new AccountApiError(0, url, `The pod server at ${new URL(url).origin}/ could not be reached (${what}); check that it is running and retry later.`, { cause: error });
  }
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // Non-JSON answers are reported below by status.
  }
  if (!response.ok) {
    const detail = typeof json.message === 'string' ? `: ${json.message}` : '';
    throw new AccountApiError(response.status, url, `The pod server refused to ${what} (HTTP ${response.status})${detail}.`);
  }
  return json;
}

function controlsOf(json: Record<string, unknown>, url: string): AccountControls {
  const controls = json.controls;
  if (!controls || typeof controls !== 'object') {
    throw new AccountApiError(502, url, `${url} did not answer with account controls; is this a Community Solid Server 7?`);
  }
  return controls as AccountControls;
}

function need(value: string | undefined, url: string, name: string): string {
  if (!value) throw new AccountApiError(502, url, `The account API at ${url} offers no "${name}" control; is this a Community Solid Server 7 with accounts enabled?`);
  return value;
}

/** Logs in with email and password; returns the account token and the account's controls. */
export async function loginAccount(baseUrl: string, email: string, password: string): Promise<AccountLogin> {
  const root = accountRoot(baseUrl);
  const anonymous = controlsOf(await call(root, {}, 'list its account controls'), root);
  const loginUrl = need(anonymous.password?.login, root, 'password.login');
  const answer = await call(loginUrl, { method: 'POST', body: { email, password } }, `log in ${email}`);
  const token = answer.authorization;
  if (typeof token !== 'string') throw new AccountApiError(502, loginUrl, `Logging in ${email} returned no account token.`);
  const controls = controlsOf(await call(root, { token }, 'list the account controls'), root);
  return { baseUrl, token, controls };
}

/** The WebIDs linked to the logged-in account. */
async function getWebIds(login: AccountLogin): Promise<WebId[]> {
  const url = need(login.controls.account?.webId, accountRoot(login.baseUrl), 'account.webId');
  const answer = await call(url, { token: login.token }, 'list the account WebIDs');
  const links = answer.webIdLinks;
  return links && typeof links === 'object' ? Object.keys(links).map(asWebId) : [];
}

/** The pods of the logged-in account (pod root URLs). */
export async function getPods(login: AccountLogin): Promise<string[]> {
  const url = need(login.controls.account?.pod, accountRoot(login.baseUrl), 'account.pod');
  const answer = await call(url, { token: login.token }, 'list the account pods');
  const pods = answer.pods;
  return pods && typeof pods === 'object' ? Object.keys(pods) : [];
}

/**
 * Creates a NEW client credential (id + secret) for `webId`. Every call makes another one: callers store it.
 * `name` is a label shown in the account page (e.g. "buyer-desktop").
 */
export async function createClientCredentials(
  baseUrl: string,
  email: string,
  password: string,
  name: string,
  webId: string,
): Promise<ClientCredentials> {
  const login = await loginAccount(baseUrl, email, password);
  const url = need(login.controls.account?.clientCredentials, accountRoot(baseUrl), 'account.clientCredentials');
  const answer = await call(url, { method: 'POST', token: login.token, body: { name, webId } }, `create client credentials "${name}"`);
  if (typeof answer.id !== 'string' || typeof answer.secret !== 'string') {
    throw new AccountApiError(502, url, `Creating client credentials "${name}" returned no id/secret.`);
  }
  return { id: answer.id, secret: answer.secret, resource: typeof answer.resource === 'string' ? answer.resource : undefined };
}

export interface CreatedAccount {
  webId: WebId;
  /** Pod root, ends with '/'. */
  podRoot: string;
}

/**
 * Creates an account with an email/password login and one pod named `podName`, through the account API
 * (create account → add password login → create pod). Fails if the email or the pod name is taken; note that
 * CSS has then already created an empty account record (harmless, but it cannot be removed through the API).
 */
export async function createAccountWithPod(
  baseUrl: string,
  email: string,
  password: string,
  podName: string,
): Promise<CreatedAccount> {
  const root = accountRoot(baseUrl);
  const anonymous = controlsOf(await call(root, {}, 'list its account controls'), root);
  const createUrl = need(anonymous.account?.create, root, 'account.create');
  const created = await call(createUrl, { method: 'POST' }, 'create an account');
  const token = created.authorization;
  if (typeof token !== 'string') throw new AccountApiError(502, createUrl, 'Creating an account returned no account token.');
  const controls = controlsOf(await call(root, { token }, 'list the account controls'), root);
  const passwordUrl = need(controls.password?.create, root, 'password.create');
  await call(passwordUrl, { method: 'POST', token, body: { email, password } }, `add a password login for ${email}`);
  const podUrl = need(controls.account?.pod, root, 'account.pod');
  // linkStorage, as CSS's own "create pod" page does by default: the WebID profile names the pod (pim:storage).
  const pod = await call(podUrl, { method: 'POST', token, body: { name: podName, settings: { linkStorage: true } } }, `create the pod "${podName}"`);
  if (typeof pod.webId !== 'string' || typeof pod.pod !== 'string') {
    throw new AccountApiError(502, podUrl, `Creating the pod "${podName}" returned no WebID or pod URL.`);
  }
  return { webId: asWebId(pod.webId), podRoot: pod.pod };
}

/** Convenience: log in and return the single WebID of an account with one pod. */
export async function getAccountWebId(baseUrl: string, email: string, password: string): Promise<WebId> {
  const webIds = await getWebIds(await loginAccount(baseUrl, email, password));
  const [webId] = webIds;
  if (!webId) throw new FedinvoiceError(`The account ${email} on ${baseUrl} has no WebID; create a pod for it first.`);
  return webId;
}
