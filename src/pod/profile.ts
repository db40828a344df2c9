import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FedinvoiceError } from '../model/errors.ts';

/**
 * A device profile: one device's client credentials for its party's pod. Kept apart from the pod server code
 * so that the CLI, which reads profiles on every command, never loads the Community Solid Server.
 */
export type Party = 'buyer' | 'seller';
export type Device = 'desktop' | 'mobile';

export interface DeviceProfile {
  name: string;
  party: Party;
  device: Device;
  webId: string;
  podRoot: string;
  oidcIssuer: string;
  clientId: string;
  clientSecret: string;
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

/** Reads a device profile written by `npm start`. */
export async function readDeviceProfile(path: string): Promise<DeviceProfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new FedinvoiceError(`No device profile at ${path}; run \`npm start\` first (or pass --data <dir>).`);
  }
  let p: Partial<DeviceProfile>;
  try {
    p = JSON.parse(text) as Partial<DeviceProfile>;
  } catch {
    throw new FedinvoiceError(`${path} is not valid JSON; delete it and run \`npm start\` again.`);
  }
  if (typeof p.clientId !== 'string' || typeof p.clientSecret !== 'string' || typeof p.oidcIssuer !== 'string' || typeof p.webId !== 'string') {
    throw new FedinvoiceError(`${path} is not a complete device profile (clientId, clientSecret, oidcIssuer, webId).`);
  }
  if (p.party !== 'buyer' && p.party !== 'seller') throw new FedinvoiceError(`${path} names no party (buyer or seller).`);
  return p as DeviceProfile;
}
