import { join } from 'node:path';
import { messageOf } from '../model/errors.ts';
import { asWebId } from '../model/ids.ts';
import { HttpError, isRetryable } from '../pod/http-error.ts';
import { profilePath, readDeviceProfile, type DeviceProfile } from '../pod/profile.ts';
import { openCachedSession } from '../pod/cached-session.ts';
import type { OpValidator } from '../rdf/shacl.ts';
import { FileDeviceStore } from './file-store.ts';
import { Replica, type ReplicaOptions } from './replica.ts';

/**
 * The SHACL validator, loaded (shacl-engine, the shapes compiled) only if something validates: the crawler reads ops
 * with the table-driven reader, so a command normally never pays for it.
 */
const lazyValidator: OpValidator = {
  validate: async (data, focus) => (await import('./shapes.ts').then((m) => m.loadOpValidator())).validate(data, focus),
  validateEach: async (data, foci) => (await import('./shapes.ts').then((m) => m.loadOpValidator())).validateEach(data, foci),
  get shapesByType(): never {
    throw new TypeError('the shapes of a device opened by openDevice are loaded on first validation: use loadOpValidator() for them');
  },
};

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

/** Logs a device profile in and opens its replica. A pod that is down gives an offline replica, not an error. */
export async function openDevice(
  dataDir: string,
  profileName: string,
  onProgress?: ReplicaOptions['onProgress'],
  now?: () => number,
): Promise<OpenDevice> {
  const profile = await readDeviceProfile(profilePath(dataDir, profileName));
  const deviceDir = join(dataDir, 'devices', profile.name);
  const { clientId, clientSecret, oidcIssuer, webId } = profile;
  const credentials = { clientId, clientSecret, oidcIssuer, webId };
  const store = new FileDeviceStore(deviceDir);
  const identity = { webId: asWebId(profile.webId), podRoot: profile.podRoot, device: profile.device };
  const validator = lazyValidator;
  try {
    // A warm command reuses the device's access token (kept until a minute before it expires): no login request.
    const session = await openCachedSession(credentials, join(deviceDir, 'session.json'));
    const replica = new Replica({
      store,
      fetch: session.fetch,
      validator,
      identity,
      ...(onProgress ? { onProgress } : {}),
      ...(now ? { now } : {}),
    });
    return { replica, profile, online: true, close: () => session.logout() };
  } catch (error) {
    if (!isRetryable(error)) throw error;
    const replica = new Replica({ store, fetch: unreachable(messageOf(error)), validator, identity, ...(now ? { now } : {}) });
    return { replica, profile, online: false, close: async () => undefined };
  }
}
