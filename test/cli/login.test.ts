import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { asWebId } from '../../src/model/ids.ts';
import { createClientCredentials } from '../../src/pod/accounts.ts';
import { readPublishedKeys } from '../../src/pod/device-keys.ts';
import { resumeBrowserSession } from '../../src/pod/browser-login.ts';
import { writeSecretJson, type DeviceProfile, type StoredSession } from '../../src/pod/profile.ts';
import { consentThroughAccountApi } from '../support/css-consent.ts';
import { freePort, startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

// `fedinvoice login` and `whoami` against real Community Solid Servers: an account, client credentials, and the
// browser flow (CSS's login and consent driven through its JSON account API, as a person's browser would).
let pods: TestPods;
let dataDir: string;
const secrets: string[] = [];
/** Every login page the CLI asked to open. */
const opened: string[] = [];
let consentAs: TestParty | undefined;
/** The machine is shared: starting two servers and every CLI command (each loads the shapes) can take minutes under load. */
const LOAD_TIMEOUT_MS = 400_000;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const openUrl = async (url: string) => {
    opened.push(url);
    if (!consentAs) throw new Error('no browser in this test step');
    await consentThroughAccountApi(url, consentAs);
  };
  const code = await runCli(['--data', dataDir, ...argv], { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, isTTY: false, openUrl });
  const result = { code, out: out.join('\n'), err: err.join('\n') };
  for (const secret of secrets) expect(result.out + result.err).not.toContain(secret);
  return result;
}

const profileFile = (name: string) => join(dataDir, 'profiles', `${name}.json`);
const readProfile = async (name: string) => JSON.parse(await readFile(profileFile(name), 'utf8')) as DeviceProfile;
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const outboxOf = async (name: string) => readdir(join(dataDir, 'devices', name, 'outbox')).catch(() => [] as string[]);

beforeAll(async () => {
  pods = await startTestPods();
  dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-login-'));
  secrets.push(pods.buyer.password, pods.seller.password);
}, LOAD_TIMEOUT_MS);

afterAll(async () => {
  await pods?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('fedinvoice login', { timeout: LOAD_TIMEOUT_MS }, () => {
  it('logs in with a Community Solid Server account: new client credentials, the pod read from the WebID profile', async () => {
    const { code, out, err } = await cli('login', '--profile', 'acme-laptop', '--device', 'laptop', '--issuer', pods.buyer.baseUrl, '--email', pods.buyer.email, '--password', pods.buyer.password);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toContain(`WebID    ${pods.buyer.webId}`);
    const profile = await readProfile('acme-laptop');
    secrets.push(profile.clientSecret!);
    expect(profile).toMatchObject({ name: 'acme-laptop', device: 'laptop', webId: pods.buyer.webId, podRoot: pods.buyer.podRoot, oidcIssuer: pods.buyer.baseUrl });
    expect(profile.clientId).toMatch(/.+/);
    expect(await modeOf(profileFile('acme-laptop'))).toBe(0o600);
    expect(await modeOf(join(dataDir, 'profiles'))).toBe(0o700);

    const whoami = await cli('whoami', '--profile', 'acme-laptop');
    expect(whoami.code).toBe(0);
    expect(whoami.out.split('\n')).toEqual([
      'profile  acme-laptop',
      `WebID    ${pods.buyer.webId}`,
      `pod      ${pods.buyer.podRoot}`,
      `issuer   ${pods.buyer.baseUrl}`,
      'device   laptop',
      'login    client credentials',
      `key      ${profile.signingKey!.publicKeyMultibase}`,
    ]);
    // The device's signing key is published with the WebID at login, before any op needs it.
    expect((await readPublishedKeys(fetch, asWebId(pods.buyer.webId))).map(({ key, label, revoked }) => ({ key, label, revoked })))
      .toContainEqual({ key: profile.signingKey!.publicKeyMultibase, label: 'laptop', revoked: false });
    // The credentials work: a command that lists the pod answers without a login error.
    const list = await cli('list', '--profile', 'acme-laptop');
    expect({ code: list.code, err: list.err }).toEqual({ code: 0, err: '' });
  });

  it('logs in with client credentials the provider issued', async () => {
    const { id, secret } = await createClientCredentials(pods.seller.baseUrl, pods.seller.email, pods.seller.password, 'registered-app', pods.seller.webId);
    secrets.push(secret);
    const { code, err } = await cli('login', '--profile', 'shop-erp', '--device', 'erp', '--issuer', pods.seller.baseUrl, '--client-id', id, '--client-secret', secret);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const whoami = await cli('whoami', '--profile', 'shop-erp', '--json');
    expect(JSON.parse(whoami.out)).toEqual({
      profile: 'shop-erp',
      webId: pods.seller.webId,
      pod: pods.seller.podRoot,
      issuer: pods.seller.baseUrl,
      device: 'erp',
      login: 'client-credentials',
      key: expect.stringMatching(/^z[1-9A-HJ-NP-Za-km-z]+$/),
    });
  });

  it('logs in through the browser flow; later commands run on the stored refresh token without a browser', async () => {
    consentAs = pods.buyer;
    const login = await cli('login', '--profile', 'acme-phone', '--device', 'phone', '--issuer', pods.buyer.baseUrl, '--browser');
    consentAs = undefined;
    expect({ code: login.code, err: login.err }).toEqual({ code: 0, err: '' });
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatch(new RegExp(`^${pods.buyer.baseUrl}.oidc/auth\\?.*code_challenge_method=S256`));
    const profile = await readProfile('acme-phone');
    expect(profile).toMatchObject({ webId: pods.buyer.webId, podRoot: pods.buyer.podRoot, device: 'phone' });
    expect(profile.clientSecret).toBeUndefined();
    const stored = JSON.parse(profile.session!.storage[`solidClientAuthenticationUser:${profile.session!.id}`]!) as Record<string, string>;
    expect(stored).toMatchObject({ dpop: 'true', refreshToken: expect.any(String), privateKey: expect.stringContaining('"d"') });
    secrets.push(stored['refreshToken']!, JSON.parse(stored['privateKey']!).d as string, stored['clientSecret']!);
    for (const secret of secrets) expect(login.out + login.err).not.toContain(secret);
    expect(await modeOf(profileFile('acme-phone'))).toBe(0o600);

    // A write goes to the pod (not queued), with no login page opened.
    const created = await cli('create', 'B-1', '--profile', 'acme-phone', '--counterparty-webid', pods.seller.webId, '--counterparty-pod', pods.seller.podRoot, '--name', 'Acme', '--counterparty-name', 'Shop');
    expect(created.code).toBe(0);
    // The seller's pod in this test has no inbox, so the invitation cannot be posted: create says so and goes on.
    expect(created.err).toMatch(/^could not invite \S+ through its inbox \(.*advertises no inbox/);
    expect(created.out).toMatch(/^CreateInvoice [0-9a-f]{12}… written to /);
    const opId = created.out.match(/written to (\S+)/)![1]!;
    const listing = await pods.buyer.devices.desktop.fetch(opId);
    expect(listing.status).toBe(200);
    await listing.body?.cancel();
    expect(await outboxOf('acme-phone')).toEqual([]);
    // And again: the stored session keeps working across commands, with the same DPoP key.
    const shown = await cli('show', 'B-1', '--profile', 'acme-phone');
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('Acme');
    // The only note: the seller has not joined yet, so its folder is not readable; nothing about the login.
    expect(shown.err).not.toMatch(/offline|log in/i);
    expect(shown.err.split('\n').every((line) => line.startsWith(`stale: ${pods.seller.podRoot}`))).toBe(true);
    expect(opened).toHaveLength(1);
    const after = JSON.parse((await readProfile('acme-phone')).session!.storage[`solidClientAuthenticationUser:${profile.session!.id}`]!) as Record<string, string>;
    expect(after['publicKey']).toBe(stored['publicKey']);
    expect((await cli('whoami', '--profile', 'acme-phone')).out).toContain('login    browser login (stored session)');
  });

  it('a long-running session (the viewer) refreshes with the stored refresh token before its access token expires', async () => {
    const profile = await readProfile('acme-phone');
    const persisted: StoredSession[] = [];
    const options = { issuer: pods.buyer.baseUrl, webId: pods.buyer.webId, profile: 'acme-phone', persist: async (stored: StoredSession) => void persisted.push(stored) };
    // "Refresh when less than a day remains": every request refreshes first, as a session near its expiry would.
    const session = await resumeBrowserSession(profile.session!, { ...options, refreshBeforeMs: 86_400_000 });
    try {
      const first = session.expiresAt();
      expect(first).toBeGreaterThan(Date.now());
      // Expiry times are whole seconds: let one pass, so that a refreshed token's expiry is a later one.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const response = await session.fetch(pods.buyer.podRoot);
      expect(response.status).toBe(200);
      await response.body?.cancel();
      expect(session.expiresAt()).toBeGreaterThan(first);
      for (const stored of persisted) expect(stored.id).toBe(profile.session!.id);
    } finally {
      await session.logout();
    }
    await expect(session.fetch(pods.buyer.podRoot)).rejects.toThrow('has been logged out');
  });

  it('a stored login whose provider cannot be reached works offline: the write is queued, and pushed once it can', async () => {
    const profile = await readProfile('acme-phone');
    const key = `solidClientAuthenticationUser:${profile.session!.id}`;
    const entry = JSON.parse(profile.session!.storage[key]!) as Record<string, string>;
    const nowhere = `http://localhost:${await freePort()}/`;
    await writeSecretJson(profileFile('acme-phone'), { ...profile, session: { ...profile.session, storage: { ...profile.session!.storage, [key]: JSON.stringify({ ...entry, issuer: nowhere }) } } });
    const written = await cli('comment', 'B-1', 'while away', '--profile', 'acme-phone');
    expect(written.code).toBe(0);
    expect(written.err).toContain('offline: the pod of acme-phone could not be reached');
    expect(written.out).toMatch(/^Comment [0-9a-f]{12}… accepted on this device and queued: /);
    expect(await outboxOf('acme-phone')).toHaveLength(1);
    await writeSecretJson(profileFile('acme-phone'), profile);
    const synced = await cli('sync', 'B-1', '--profile', 'acme-phone');
    expect(synced.code).toBe(0);
    expect(await outboxOf('acme-phone')).toEqual([]);
    expect(opened).toHaveLength(1);
  });

  it('a stored login the provider no longer accepts fails the command with what to do, and queues nothing', async () => {
    const profile = await readProfile('acme-phone');
    const key = `solidClientAuthenticationUser:${profile.session!.id}`;
    const entry = JSON.parse(profile.session!.storage[key]!) as Record<string, string>;
    await writeSecretJson(profileFile('acme-phone'), { ...profile, session: { ...profile.session, storage: { ...profile.session!.storage, [key]: JSON.stringify({ ...entry, refreshToken: 'revoked' }) } } });
    const created = await cli('create', 'B-2', '--profile', 'acme-phone', '--counterparty-webid', pods.seller.webId, '--counterparty-pod', pods.seller.podRoot, '--name', 'Acme', '--counterparty-name', 'Shop');
    expect(created.code).toBe(1);
    expect(created.err).toContain('no longer accepts the stored login of acme-phone');
    expect(created.err).toContain(`fedinvoice login --profile acme-phone --browser --issuer ${pods.buyer.baseUrl}`);
    expect(await outboxOf('acme-phone')).toEqual([]);
    expect(opened).toHaveLength(1);
  });

  it('reads the pod the WebID profile names, wherever it is (not guessed from the WebID)', async () => {
    const card = pods.seller.webId.split('#')[0]!;
    const elsewhere = `${pods.seller.baseUrl}seller/shop-data/`;
    const original = await (await fetch(card, { headers: { accept: 'text/turtle' } })).text();
    const put = (body: string) => pods.seller.devices.desktop.fetch(card, { method: 'PUT', headers: { 'content-type': 'text/turtle' }, body });
    const replaced = original.replace(/pim:storage <[^>]+>/, `pim:storage <${elsewhere}>`);
    expect(replaced).not.toBe(original);
    expect((await put(replaced)).ok).toBe(true);
    try {
      const { code, err } = await cli('login', '--profile', 'shop-moved', '--device', 'tablet', '--issuer', pods.seller.baseUrl, '--email', pods.seller.email, '--password', pods.seller.password);
      expect({ code, err }).toEqual({ code: 0, err: '' });
      const profile = await readProfile('shop-moved');
      secrets.push(profile.clientSecret!);
      expect(profile.podRoot).toBe(elsewhere);
    } finally {
      expect((await put(original)).ok).toBe(true);
    }
  });

  it('refuses a profile name that belongs to another WebID, a bad device label, and no or two ways to log in', async () => {
    const taken = await cli('login', '--profile', 'acme-laptop', '--device', 'x', '--issuer', pods.seller.baseUrl, '--email', pods.seller.email, '--password', pods.seller.password);
    expect(taken.code).toBe(1);
    expect(taken.err).toContain(`The profile acme-laptop is ${pods.buyer.webId}'s, not ${pods.seller.webId}'s; choose another --profile name.`);
    expect((await readProfile('acme-laptop')).webId).toBe(pods.buyer.webId);
    const label = await cli('login', '--profile', 'p', '--device', 'my laptop', '--issuer', pods.buyer.baseUrl, '--browser');
    expect(label.code).toBe(1);
    expect(label.err).toContain('--device must be 1–64 of A–Z a–z 0–9 . _ -');
    const none = await cli('login', '--profile', 'p', '--device', 'x', '--issuer', pods.buyer.baseUrl);
    expect(none.err).toContain('choose one way to log in');
    const two = await cli('login', '--profile', 'p', '--device', 'x', '--issuer', pods.buyer.baseUrl, '--browser', '--email', 'a@b.test', '--password', 'p');
    expect(two.err).toContain('choose one way to log in');
    expect(opened).toHaveLength(1);
    expect(existsSync(profileFile('p'))).toBe(false);
  });
});

describe('an identity provider that cannot do client credentials', { timeout: LOAD_TIMEOUT_MS }, () => {
  /** A provider whose token endpoint answers 500 to the client-credentials grant, as some do. */
  let provider: http.Server;
  let issuer: string;
  const tokenRequests: string[] = [];

  beforeAll(async () => {
    provider = http.createServer((request, response) => {
      if (request.url === '/.well-known/openid-configuration') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}auth`,
          token_endpoint: `${issuer}token`,
          jwks_uri: `${issuer}jwks`,
          registration_endpoint: `${issuer}reg`,
          scopes_supported: ['openid', 'webid', 'offline_access'],
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
          dpop_signing_alg_values_supported: ['ES256'],
          id_token_signing_alg_values_supported: ['ES256'],
          subject_types_supported: ['public'],
          claims_supported: ['sub', 'webid', 'iss', 'aud'],
        }));
        return;
      }
      if (request.url === '/token') {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          tokenRequests.push(body);
          response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error","error_description":"unsupported"}');
        });
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    issuer = `http://localhost:${(provider.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    provider.closeAllConnections();
    await new Promise((resolve) => provider.close(resolve));
  });

  it('login says to use --browser (not "retry later") and writes no profile', async () => {
    const { code, err } = await cli('login', '--profile', 'other', '--device', 'laptop', '--issuer', issuer, '--client-id', 'app', '--client-secret', 'not-used');
    expect(code).toBe(1);
    expect(tokenRequests.some((body) => body.includes('grant_type=client_credentials'))).toBe(true);
    expect(err).toContain(`answered HTTP 500 to the client-credentials login: it cannot log devices in that way. Use --browser: fedinvoice login --browser --issuer ${issuer}`);
    expect(err).not.toMatch(/retry later/i);
    expect(existsSync(profileFile('other'))).toBe(false);
  });

  it('a command of a profile on that provider fails with the same advice and keeps no op queued', async () => {
    const profile: DeviceProfile = { name: 'other', device: 'laptop', webId: pods.stranger.webId, podRoot: pods.stranger.podRoot, oidcIssuer: issuer, clientId: 'app', clientSecret: 'not-used' };
    await writeSecretJson(profileFile('other'), profile);
    const created = await cli('create', 'O-1', '--profile', 'other', '--counterparty-webid', pods.seller.webId, '--counterparty-pod', pods.seller.podRoot, '--name', 'O', '--counterparty-name', 'S');
    expect(created.code).toBe(1);
    expect(created.err).toContain('Use --browser');
    expect(created.err).not.toContain('offline');
    expect(await outboxOf('other')).toEqual([]);
  });
});
