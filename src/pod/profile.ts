import { readFile } from 'node:fs/promises';
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
