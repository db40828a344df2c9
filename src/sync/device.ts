import { join } from 'node:path';
import { messageOf } from '../model/errors.ts';
import { asWebId } from '../model/ids.ts';
import { HttpError, isRetryable } from '../pod/http-error.ts';
import { profilePath, readDeviceProfile, type DeviceProfile } from '../pod/profile.ts';
import { loginDevice } from '../pod/session.ts';
import { generateDeviceKey, opSigner } from './device-key.ts';
import { FileDeviceStore, writeFileAtomic } from './file-store.ts';
import { Replica, type ReplicaOptions } from './replica.ts';
import { loadOpValidator } from './shapes.ts';

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
    throw new HttpError(0, String(input instanceof Request ? input.url : input), reason);
  }) as typeof fetch;

/**
 * The profile with a signing key: a profile that has none (written before signatures, or by a tool that does not
 * make keys) gets one now, written back with mode 0600. Its public key is published by the replica's first write.
 */
async function withSigningKey(path: string, profile: DeviceProfile): Promise<DeviceProfile> {
  if (profile.signingKey) return profile;
  const keyed = { ...profile, signingKey: generateDeviceKey() };
  await writeFileAtomic(path, `${JSON.stringify(keyed, null, 2)}\n`, 0o600);
  return keyed;
}

/** Logs a device profile in and opens its replica. A pod that is down gives an offline replica, not an error. */
export async function openDevice(
  dataDir: string,
  profileName: string,
  onProgress?: ReplicaOptions['onProgress'],
  now?: () => number,
): Promise<OpenDevice> {
  const profile = await withSigningKey(profilePath(dataDir, profileName), await readDeviceProfile(profilePath(dataDir, profileName)));
  // The SHACL shapes compile while the login waits for the identity provider: a command starts that much sooner.
  const [shapes, login] = await Promise.allSettled([
    loadOpValidator(),
    loginDevice({ clientId: profile.clientId, clientSecret: profile.clientSecret, oidcIssuer: profile.oidcIssuer, webId: profile.webId }),
  ]);
  if (shapes.status === 'rejected') {
    if (login.status === 'fulfilled') await login.value.logout();
    throw shapes.reason;
  }
  const validator = shapes.value;
  const store = new FileDeviceStore(join(dataDir, 'devices', profile.name));
  const identity = { webId: asWebId(profile.webId), podRoot: profile.podRoot, device: profile.device };
  try {
    if (login.status === 'rejected') throw login.reason;
    const session = login.value;
    const replica = new Replica({
      store,
      fetch: session.fetch,
      validator,
      identity,
      signer: opSigner(profile.signingKey!),
      ...(onProgress ? { onProgress } : {}),
      ...(now ? { now } : {}),
    });
    return { replica, profile, online: true, close: () => session.logout() };
  } catch (error) {
    if (!isRetryable(error)) throw error;
    const signer = opSigner(profile.signingKey!);
    const replica = new Replica({ store, fetch: unreachable(messageOf(error)), validator, identity, signer, ...(now ? { now } : {}) });
    return { replica, profile, online: false, close: async () => undefined };
  }
}
