/**
 * `fedinvoice login` and `fedinvoice whoami`: a device of a business whose WebID and pod already exist, on any
 * Solid server. `loginAndWriteProfile` is the one place a logged-in device becomes a profile on disk (a step that
 * must happen when a device is added belongs there).
 */
import type { Command } from 'commander';
import { FedinvoiceError } from '../model/errors.ts';
import type { WebId } from '../model/ids.ts';
import { DEVICE_LABEL } from '../model/patterns.ts';
import { readDeviceProfile, profilePath, writeSecretJson, type DeviceProfile } from '../pod/profile.ts';
import type { DeviceSession } from '../pod/session.ts';
import type { WebIdProfile } from '../pod/webid-profile.ts';

export type LoginMethod =
  | { kind: 'account'; email: string; password: string; webId?: string }
  | { kind: 'client'; clientId: string; clientSecret: string }
  | { kind: 'browser'; openUrl: (url: string) => void | Promise<void>; clientIdDocument?: string };

export interface LoginInput {
  dataDir: string;
  profile: string;
  device: string;
  issuer: string;
  method: LoginMethod;
  /** The business the identity belongs to; default the profile's name. */
  business?: string;
  /** The pod, when the WebID profile names several (or none). */
  pod?: string;
  /** Where a note that does not fail the login goes (a key not published yet). */
  stderr?: (text: string) => void;
}

type Login = { webId: string; credentials: Pick<DeviceProfile, 'clientId' | 'clientSecret' | 'session'> };

/** Client credentials, checked by logging in with them once. */
async function withClientCredentials(issuer: string, clientId: string, clientSecret: string, webId?: string): Promise<Login> {
  const { loginDevice } = await import('../pod/session.ts');
  const session: DeviceSession = await loginDevice({ clientId, clientSecret, oidcIssuer: issuer, ...(webId ? { webId } : {}) });
  await session.logout();
  return { webId: session.webId, credentials: { clientId, clientSecret } };
}

/** New client credentials from a Community Solid Server account (its account API lives at the issuer). */
async function withAccount(input: LoginInput, method: Extract<LoginMethod, { kind: 'account' }>): Promise<Login> {
  const { createClientCredentials, getAccountWebId } = await import('../pod/accounts.ts');
  const webId = method.webId ?? (await getAccountWebId(input.issuer, method.email, method.password));
  const { id, secret } = await createClientCredentials(input.issuer, method.email, method.password, `fedinvoice-${input.profile}`, webId);
  return withClientCredentials(input.issuer, id, secret, webId);
}

/** The browser flow; a session without a refresh token could not serve a later command, so it is refused. */
async function withBrowser(input: LoginInput, method: Extract<LoginMethod, { kind: 'browser' }>): Promise<Login> {
  const { loginInBrowser } = await import('../pod/browser-login.ts');
  const { webId, stored, resumable } = await loginInBrowser({
    issuer: input.issuer,
    openUrl: method.openUrl,
    clientName: `fedinvoice (${input.profile})`,
    ...(method.clientIdDocument ? { clientId: method.clientIdDocument } : {}),
  });
  if (!resumable) {
    throw new FedinvoiceError(`${input.issuer} gave no refresh token, so later commands could not log in without a browser: log in again and allow fedinvoice to stay logged in ("remember" on the consent page).`);
  }
  return { webId, credentials: { session: stored } };
}

/** The pod the WebID profile names (or the one chosen among several); the issuer must be one it trusts. */
function podFrom(webIdProfile: WebIdProfile, input: LoginInput, podOf: (p: WebIdProfile) => string): string {
  const { webId, issuers, storages } = webIdProfile;
  const sameIssuer = (url: string) => new URL(url).href === new URL(input.issuer).href;
  if (issuers.length > 0 && !issuers.some(sameIssuer)) {
    throw new FedinvoiceError(`The WebID profile of ${webId} trusts ${issuers.join(', ')}, not ${input.issuer}: pods would refuse this device. Log in with --issuer ${issuers[0]}.`);
  }
  if (!input.pod) return podOf(webIdProfile);
  const pod = input.pod.endsWith('/') ? input.pod : `${input.pod}/`;
  if (storages.length > 0 && !storages.includes(pod)) throw new FedinvoiceError(`The WebID profile of ${webId} names the pod(s) ${storages.join(', ')}, not ${pod}.`);
  return pod;
}

function checkInput(input: LoginInput): void {
  if (!new RegExp(DEVICE_LABEL).test(input.device)) throw new FedinvoiceError(`--device must be 1–64 of A–Z a–z 0–9 . _ - (e.g. desktop), not "${input.device}".`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(input.profile)) throw new FedinvoiceError(`--profile must be 1–64 of A–Z a–z 0–9 . _ - (e.g. acme-laptop), not "${input.profile}".`);
}

/** A profile name stays with one WebID: its device store holds that business's invoices. */
/** The profile already at `path` (logging in again), refused when it is another WebID's. */
async function sameIdentity(path: string, webId: string, name: string): Promise<DeviceProfile | undefined> {
  const existing = await readDeviceProfile(path).catch(() => undefined);
  if (existing && existing.webId !== webId) {
    throw new FedinvoiceError(`The profile ${name} is ${existing.webId}'s, not ${webId}'s; choose another --profile name.`);
  }
  return existing;
}

/**
 * Publishes the device's public key with its WebID now, so that a counterparty can verify this device's first op.
 * A pod that cannot be reached is no reason to fail the login: the device's first write or sync publishes it.
 */
async function publishKeyOf(profile: DeviceProfile, path: string, stderr?: (text: string) => void): Promise<void> {
  const [{ loginProfile }, { publishDeviceKey }, { isRetryable }] = await Promise.all([
    import('../pod/profile-session.ts'),
    import('../pod/device-keys.ts'),
    import('../pod/http-error.ts'),
  ]);
  try {
    const session = await loginProfile(profile, path);
    try {
      await publishDeviceKey(session.fetch, profile.webId as WebId, profile.device, profile.signingKey!.publicKeyMultibase);
    } finally {
      await session.logout();
    }
  } catch (error) {
    if (!isRetryable(error)) throw error;
    stderr?.(`The device key could not be published yet (${error instanceof Error ? error.message : String(error)}); the first write or sync publishes it.`);
  }
}

/** Logs a device in by the chosen method, reads its pod from the WebID profile, and writes its profile (0600). */
export async function loginAndWriteProfile(input: LoginInput): Promise<DeviceProfile> {
  checkInput(input);
  const { method } = input;
  let login: Login;
  if (method.kind === 'account') login = await withAccount(input, method);
  else if (method.kind === 'client') login = await withClientCredentials(input.issuer, method.clientId, method.clientSecret);
  else login = await withBrowser(input, method);
  const { readWebIdProfile, podOf } = await import('../pod/webid-profile.ts');
  const podRoot = podFrom(await readWebIdProfile(login.webId), input, podOf);
  const path = profilePath(input.dataDir, input.profile);
  const existing = await sameIdentity(path, login.webId, input.profile);
  // A device keeps its signing key across logins: its ops stay verifiable by the key it has published.
  const signingKey = existing?.signingKey ?? (await import('../sync/device-key.ts')).generateDeviceKey();
  const profile: DeviceProfile = {
    name: input.profile,
    business: input.business ?? input.profile,
    device: input.device,
    webId: login.webId,
    podRoot,
    oidcIssuer: input.issuer,
    ...login.credentials,
    signingKey,
  };
  await writeSecretJson(path, profile);
  await publishKeyOf(profile, path, input.stderr);
  return profile;
}

interface LoginOptions {
  device?: string;
  issuer?: string;
  email?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  browser?: boolean;
  webid?: string;
  pod?: string;
  business?: string;
}

export interface LoginCommandContext {
  profileName: () => string;
  dataDir: () => string;
  env: NodeJS.ProcessEnv;
  json: () => boolean;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Opens the login page; default: print it and try the system's browser. */
  openUrl?: (url: string) => void | Promise<void>;
}

/** An issuer URL as providers name themselves: absolute, http(s), with a path ending in '/' when it is the root. */
function issuerOf(text: string | undefined): string {
  if (!text) throw new FedinvoiceError('name your identity provider: --issuer <url> (e.g. https://login.inrupt.com/ or your Community Solid Server, http://localhost:3001/)');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FedinvoiceError(`--issuer must be a URL, not "${text}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FedinvoiceError(`--issuer must be an http(s) URL, not "${text}".`);
  return url.href;
}

function methodOf(options: LoginOptions, context: LoginCommandContext): LoginMethod {
  const password = options.password ?? context.env['FEDINVOICE_PASSWORD'];
  const clientSecret = options.clientSecret ?? context.env['FEDINVOICE_CLIENT_SECRET'];
  const ways = [options.email !== undefined, options.browser === true, options.clientId !== undefined && !options.browser];
  const chosen = ways.filter(Boolean).length;
  if (chosen !== 1) throw new FedinvoiceError('choose one way to log in: --email and --password (a Community Solid Server account), --client-id and --client-secret, or --browser');
  if (options.email !== undefined) {
    if (!password) throw new FedinvoiceError('--email needs --password (or $FEDINVOICE_PASSWORD)');
    return { kind: 'account', email: options.email, password, ...(options.webid ? { webId: options.webid } : {}) };
  }
  if (options.browser) {
    const openUrl = context.openUrl ?? ((url: string) => openInBrowser(url, context.stderr));
    return { kind: 'browser', openUrl, ...(options.clientId ? { clientIdDocument: options.clientId } : {}) };
  }
  if (!clientSecret) throw new FedinvoiceError('--client-id needs --client-secret (or $FEDINVOICE_CLIENT_SECRET)');
  return { kind: 'client', clientId: options.clientId!, clientSecret };
}

async function openInBrowser(url: string, stderr: (text: string) => void): Promise<void> {
  stderr(`Log in at:\n  ${url}\n(waiting for the login to come back to this computer…)`);
  try {
    const { default: open } = await import('open');
    await open(url);
  } catch {
    // No browser here (a server, a container): the printed URL works from any browser on this machine.
  }
}

const howLoggedIn = (profile: DeviceProfile): string => (profile.session ? 'browser login (stored session)' : 'client credentials');

function describe(profile: DeviceProfile): string {
  return [
    `profile  ${profile.name}`,
    `WebID    ${profile.webId}`,
    `pod      ${profile.podRoot}`,
    `issuer   ${profile.oidcIssuer}`,
    `device   ${profile.device}`,
    `login    ${howLoggedIn(profile)}`,
    `key      ${profile.signingKey?.publicKeyMultibase ?? 'none yet (made on the first command)'}`,
  ].join('\n');
}

const publicView = (profile: DeviceProfile) => ({
  profile: profile.name,
  webId: profile.webId,
  pod: profile.podRoot,
  issuer: profile.oidcIssuer,
  device: profile.device,
  login: profile.session ? 'browser' : 'client-credentials',
  key: profile.signingKey?.publicKeyMultibase ?? null,
});

/** Adds `login` and `whoami` to the program. */
export function addLoginCommands(program: Command, context: LoginCommandContext): void {
  program
    .command('login')
    .description('log this device in with an existing WebID and write its profile (--profile NAME)')
    .option('--device <label>', 'this device\'s label on its ops, e.g. "laptop"')
    .option('--issuer <url>', 'your identity provider (your Solid server for a Community Solid Server account)')
    .option('--email <email>', 'a Community Solid Server account: client credentials through its account API')
    .option('--password <password>', 'the account password (or $FEDINVOICE_PASSWORD)')
    .option('--webid <webId>', 'the WebID to use when the account has several')
    .option('--client-id <id>', 'client credentials the provider issued; with --browser: a Client ID Document URL')
    .option('--client-secret <secret>', 'the client secret (or $FEDINVOICE_CLIENT_SECRET)')
    .option('--browser', 'log in on the provider\'s pages (any Solid provider); later commands need no browser')
    .option('--pod <url>', 'the pod to use when your WebID profile names several')
    .option('--business <name>', 'the business this identity belongs to (default: the profile name)')
    .action(async (options: LoginOptions) => {
      if (!options.device) throw new FedinvoiceError('name this device: --device <label> (e.g. laptop)');
      const profile = await loginAndWriteProfile({
        dataDir: context.dataDir(),
        profile: context.profileName(),
        device: options.device,
        issuer: issuerOf(options.issuer),
        method: methodOf(options, context),
        ...(options.business ? { business: options.business } : {}),
        ...(options.pod ? { pod: options.pod } : {}),
        stderr: context.stderr,
      });
      const text = context.json() ? JSON.stringify(publicView(profile), null, 2) : `logged in\n${describe(profile)}`;
      context.stdout(text);
    });

  program
    .command('whoami')
    .description('the WebID, pod, identity provider and device label of a profile')
    .action(async () => {
      const profile = await readDeviceProfile(profilePath(context.dataDir(), context.profileName()));
      context.stdout(context.json() ? JSON.stringify(publicView(profile), null, 2) : describe(profile));
    });
}
