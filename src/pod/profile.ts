import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FedinvoiceError } from '../model/errors.ts';

/**
 * A device profile: a business's identity (WebID, pod, identity provider) and one device's label and its login:
 * client credentials (`clientId`, `clientSecret`), or the stored session of a browser login (`session`: its refresh
 * token and DPoP key, which later commands use without a browser). Which side the device is on is not here: each
 * invoice says it. Kept apart from the pod server code so that the CLI, which reads profiles on every command, never
 * loads the Community Solid Server. Profiles hold secrets: files 0600, their folder 0700.
 */
export interface DeviceProfile {
  name: string;
  /** The business the identity belongs to, e.g. "buyer" (absent in profiles written before businesses). */
  business?: string;
  /** Any short device label put on its ops: "desktop", "mobile", "warehouse-tablet", "erp". */
  device: string;
  webId: string;
  podRoot: string;
  oidcIssuer: string;
  clientId?: string;
  clientSecret?: string;
  session?: StoredSession;
  /**
   * The device's Ed25519 signing key (src/sync/device-key.ts): made on the device's first use and never sent; its
   * public half is published with the WebID. Absent in profiles written before signatures.
   */
  signingKey?: { privateKeyPem: string; publicKeyMultibase: string };
}

/** A browser login's session as the login library stores it (its storage entries), under a session id. */
export interface StoredSession {
  id: string;
  storage: Record<string, string>;
}

/** Writes a secret file atomically with mode 0600 (its folder, if created, 0700). */
export async function writeSecretJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Where pods, profiles and device stores live: the option (--data), else $FEDINVOICE_DATA, else ./data. */
export function dataDirOf(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(option ?? env['FEDINVOICE_DATA'] ?? 'data');
}

/** The folder of a data folder's device profiles, one `<name>.json` each. */
export const profilesDirOf = (dataDir: string): string => join(dataDir, 'profiles');

export const profilePath = (dataDir: string, name: string): string => join(profilesDirOf(dataDir), `${name}.json`);

/** The names of the device profiles in a data folder, sorted (none when it has no profiles folder). */
export async function listProfiles(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(profilesDirOf(dataDir))).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length)).sort();
  } catch {
    return [];
  }
}

/** Reads a device profile written by `npm start` or `fedinvoice login`. */
export async function readDeviceProfile(path: string): Promise<DeviceProfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new FedinvoiceError(`No device profile at ${path}; run \`npm start\` first, or log this device in with \`fedinvoice login\` (or pass --data <dir>).`);
  }
  let p: Partial<DeviceProfile>;
  try {
    p = JSON.parse(text) as Partial<DeviceProfile>;
  } catch {
    throw new FedinvoiceError(`${path} is not valid JSON; delete it and run \`npm start\` again.`);
  }
  const hasCredentials = typeof p.clientId === 'string' && typeof p.clientSecret === 'string';
  const hasSession = typeof p.session?.id === 'string' && typeof p.session.storage === 'object' && p.session.storage !== null;
  if (!(hasCredentials || hasSession) || typeof p.oidcIssuer !== 'string' || typeof p.webId !== 'string') {
    throw new FedinvoiceError(`${path} is not a complete device profile (oidcIssuer, webId, and clientId with clientSecret or a login session); log in again with \`fedinvoice login\`.`);
  }
  if (typeof p.podRoot !== 'string' || typeof p.device !== 'string' || p.device === '') throw new FedinvoiceError(`${path} names no pod root or device label.`);
  return p as DeviceProfile;
}
