/**
 * What a person does in the browser during `fedinvoice login --browser` against a Community Solid Server, through
 * CSS's JSON account API with a cookie jar: open the login URL, log in with email and password, pick the WebID,
 * consent (staying logged in, so the provider issues a refresh token), and follow the redirects back to the
 * CLI's loopback port.
 */
export interface ConsentAccount {
  email: string;
  password: string;
  webId: string;
}

/** Drives the provider's login and consent for `loginUrl`; resolves once the CLI's redirect page answered. */
export async function consentThroughAccountApi(loginUrl: string, account: ConsentAccount): Promise<void> {
  const cookies = new Map<string, string>();
  const origin = new URL(loginUrl).origin;
  const request = async (url: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/json', cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers, redirect: 'manual', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  /** Follows redirects like a browser; stops at a page of the provider, or after the CLI's page answered. */
  const follow = async (start: string): Promise<boolean> => {
    let url = start;
    for (let hop = 0; hop < 20; hop++) {
      const response = await request(url);
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (new URL(url).origin !== origin) {
        if (!response.ok) throw new Error(`the CLI's redirect page answered ${response.status}`);
        return true;
      }
      if (!location) return false;
      url = new URL(location, url).href;
    }
    throw new Error(`too many redirects from ${start}`);
  };
  const json = async (response: Response): Promise<Record<string, unknown>> => {
    const value = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${JSON.stringify(value)}`);
    return value;
  };
  if (await follow(loginUrl)) return;
  const index = await json(await request(`${origin}/.account/`));
  const controls = index['controls'] as { password: { login: string } };
  await json(await request(controls.password.login, { email: account.email, password: account.password, remember: true }));
  const logged = (await json(await request(`${origin}/.account/`)))['controls'] as { oidc: { webId: string; consent: string } };
  const picked = await json(await request(logged.oidc.webId, { webId: account.webId, remember: true }));
  if (await follow(String(picked['location']))) return;
  const consented = await json(await request(logged.oidc.consent, { remember: true }));
  if (!(await follow(String(consented['location'])))) throw new Error('the provider never redirected back to the CLI');
}
