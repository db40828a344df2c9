import { join } from 'node:path';
import { HttpError } from '../model/errors.ts';
import { asWebId } from '../model/ids.ts';
import { readDeviceProfile, type DeviceProfile } from '../pod/profile.ts';
import { loginDevice } from '../pod/session.ts';
import { FileDeviceStore } from '../sync/file-store.ts';
import { Replica, type ReplicaOptions } from '../sync/replica.ts';
import { loadOpValidator } from '../sync/shapes.ts';
import { profilePath } from './paths.ts';

export { dataDirOf, profilePath } from './paths.ts';

export interface OpenDevice {
  readonly replica: Replica;
  readonly profile: DeviceProfile;
  /** False when the pod could not be reached to log in: ops are queued, reads show the last known state. */
  readonly online: boolean;
  close(): Promise<void>;
}

/** A fetch for a device whose pod cannot be reached: every request fails as "retry later". */
const unreachable = (reason: HttpError): typeof fetch =>
  (async (input: Parameters<typeof fetch>[0]) => {
    throw new HttpError(0, String(input instanceof Request ? input.url : input), reason.message);
  }) as typeof fetch;

/** Logs a device profile in and opens its replica. A pod that is down gives an offline replica, not an error. */
export async function openDevice(
  dataDir: string,
  profileName: string,
  onProgress?: ReplicaOptions['onProgress'],
  now?: () => number,
): Promise<OpenDevice> {
  const profile = await readDeviceProfile(profilePath(dataDir, profileName));
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
  const identity = { webId: asWebId(profile.webId), side: profile.party, podRoot: profile.podRoot, device: profile.device };
  try {
    if (login.status === 'rejected') throw login.reason;
    const session = login.value;
    const replica = new Replica({ store, fetch: session.fetch, validator, identity, ...(onProgress ? { onProgress } : {}), ...(now ? { now } : {}) });
    return { replica, profile, online: true, close: () => session.logout() };
  } catch (error) {
    if (!(error instanceof HttpError) || !error.retryable) throw error;
    const replica = new Replica({ store, fetch: unreachable(error), validator, identity, ...(now ? { now } : {}) });
    return { replica, profile, online: false, close: async () => undefined };
  }
}
