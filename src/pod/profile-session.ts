import { FedinvoiceError } from '../model/errors.ts';
import { readDeviceProfile, writeSecretJson, type DeviceProfile } from './profile.ts';
import type { DeviceSession } from './session.ts';

/**
 * Logs a device profile in the way it was made: its stored browser session (refreshed without a browser; a new
 * refresh token is written back to the profile at `path`), or its client credentials. With `cacheFile`, client
 * credentials reuse the access token kept there (session.ts): a warm command makes no login request. The browser
 * login's library loads only on its branch, so a command of a client-credentials device never loads it.
 */
export async function loginProfile(profile: DeviceProfile, path: string, cacheFile?: string): Promise<DeviceSession> {
  const { session, clientId, clientSecret } = profile;
  if (session) {
    const { resumeBrowserSession } = await import('./browser-login.ts');
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
  const credentials = { clientId, clientSecret, oidcIssuer: profile.oidcIssuer, webId: profile.webId };
  return (await import('./session.ts')).loginDevice(credentials, cacheFile ? { cacheFile } : {});
}
