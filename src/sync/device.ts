import { join } from 'node:path';
import { messageOf } from '../model/errors.ts';
import { asWebId } from '../model/ids.ts';
import { urlOf } from '../pod/http-client.ts';
import { HttpError, isRetryable } from '../pod/http-error.ts';
import { profilePath, readDeviceProfile, writeSecretJson, type DeviceProfile } from '../pod/profile.ts';
import { loginProfile } from '../pod/profile-session.ts';
import { generateDeviceKey, opSigner } from './device-key.ts';
import { FileDeviceStore } from './file-store.ts';
import { Replica, type ReplicaOptions } from './replica.ts';

/**
 * A device of the local data folder (`npm start` writes it): its profile logged in, and its replica over the file
 * store `<dataDir>/devices/<profile>/`. What the CLI and the viewer both act as.
 */
export interface OpenDevice {
  readonly replica: Replica;
  readonly profile: DeviceProfile;
  /** False when the pod could not be reached to log in: ops are queued, reads show the last known state. */
  readonly online: boolean;
  close(): Promise<void>;
}

/** A fetch for a device whose pod cannot be reached: every request fails as "retry later". */
const unreachable = (reason: string): typeof fetch =>
  (async (input: Parameters<typeof fetch>[0]) => {
    throw new HttpError(0, urlOf(input), reason);
  }) as typeof fetch;

/**
 * The profile with a signing key: a profile that has none (written before signatures, or by a tool that does not
 * make keys) gets one now, written back with mode 0600. Its public key is published by the replica's first write.
 */
async function withSigningKey(path: string, profile: DeviceProfile): Promise<DeviceProfile> {
  if (profile.signingKey) return profile;
  const keyed = { ...profile, signingKey: generateDeviceKey() };
  await writeSecretJson(path, keyed);
  return keyed;
}

/** Logs a device profile in and opens its replica. A pod that is down gives an offline replica, not an error. */
export async function openDevice(
  dataDir: string,
  profileName: string,
  onProgress?: ReplicaOptions['onProgress'],
  now?: () => number,
): Promise<OpenDevice> {
  const path = profilePath(dataDir, profileName);
  const profile = await withSigningKey(path, await readDeviceProfile(path));
  const deviceDir = join(dataDir, 'devices', profile.name);
  const store = new FileDeviceStore(deviceDir);
  const identity = { webId: asWebId(profile.webId), podRoot: profile.podRoot, device: profile.device };
  try {
    // A warm command reuses the device's access token (kept until a minute before it expires): no login request.
    const session = await loginProfile(profile, path, join(deviceDir, 'session.json'));
    const replica = new Replica({
      store,
      fetch: session.fetch,
      identity,
      signer: opSigner(profile.signingKey!),
      ...(onProgress ? { onProgress } : {}),
      ...(now ? { now } : {}),
    });
    return { replica, profile, online: true, close: () => session.logout() };
  } catch (error) {
    if (!isRetryable(error)) throw error;
    const signer = opSigner(profile.signingKey!);
    const replica = new Replica({ store, fetch: unreachable(messageOf(error)), identity, signer, ...(now ? { now } : {}) });
    return { replica, profile, online: false, close: async () => undefined };
  }
}
