import { FedinvoiceError } from '../model/errors.ts';
import { resumeBrowserSession } from './browser-login.ts';
import { readDeviceProfile, writeSecretJson, type DeviceProfile } from './profile.ts';
import { loginDevice, type DeviceSession } from './session.ts';

/**
 * Logs a device profile in the way it was made: its stored browser session (refreshed without a browser; a new
 * refresh token is written back to the profile at `path`), or its client credentials.
 */
export async function loginProfile(profile: DeviceProfile, path: string): Promise<DeviceSession> {
  const { session, clientId, clientSecret } = profile;
  if (session) {
    let latest = profile;
    return resumeBrowserSession(session, {
      issuer: profile.oidcIssuer,
      webId: profile.webId,
      profile: profile.name,
      persist: async (stored) => {
        latest = { ...latest, session: stored };
        await writeSecretJson(path, latest);
      },
      latest: async () => (await readDeviceProfile(path)).session,
    });
  }
  if (clientId === undefined || clientSecret === undefined) throw new FedinvoiceError(`${path} holds no login; run fedinvoice login --profile ${profile.name} again.`);
  return loginDevice({ clientId, clientSecret, oidcIssuer: profile.oidcIssuer, webId: profile.webId });
}
