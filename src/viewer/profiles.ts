/**
 * The viewer over the device profiles `npm start` writes (<dataDir>/profiles/*.json): each profile is logged in
 * on first use, on the server side only. Used by `npm start` and by `npm run viewer` (pods already running).
 */
import { FedinvoiceError } from '../model/errors.ts';
import { listProfiles, profilesDirOf } from '../pod/profile.ts';
import { openDevice, type OpenDevice } from '../sync/device.ts';
import { startViewer, type Viewer, type ViewerOptions } from './server.ts';

export const DEFAULT_PROFILE = 'buyer-desktop';

export interface ProfileViewerOptions extends Omit<ViewerOptions, 'replica' | 'replicaFor' | 'profiles' | 'defaultProfile'> {
  readonly dataDir: string;
  /** Default buyer-desktop. */
  readonly profile?: string;
}

/** Starts the viewer acting as `profile` (switchable on the page to any other profile of the data folder). */
export async function startProfileViewer(options: ProfileViewerOptions): Promise<Viewer> {
  const profiles = await listProfiles(options.dataDir);
  const profile = options.profile ?? DEFAULT_PROFILE;
  if (!profiles.includes(profile)) {
    throw new FedinvoiceError(
      profiles.length
        ? `There is no device profile "${profile}" in ${profilesDirOf(options.dataDir)}; choose one of ${profiles.join(', ')}.`
        : `There are no device profiles in ${profilesDirOf(options.dataDir)}: run \`npm start\` first (or set FEDINVOICE_DATA).`,
    );
  }
  const opened: OpenDevice[] = [];
  const log = options.log;
  const viewer = await startViewer({
    ...options,
    profiles,
    defaultProfile: profile,
    replicaFor: async (name) => {
      const device = await openDevice(options.dataDir, name);
      opened.push(device);
      if (!device.online) log?.(`${name}: its pod could not be reached to log in; the viewer shows the last known state.`);
      return device.replica;
    },
  });
  return {
    ...viewer,
    stop: async () => {
      await viewer.stop();
      await Promise.all(opened.map((device) => device.close().catch(() => undefined)));
    },
  };
}
