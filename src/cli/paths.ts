import { join, resolve } from 'node:path';

// Kept apart from device.ts (which loads the login, sync and SHACL code) so that commands that only need paths
// (`--help`, `npm start`'s port checks) start without it.

/** Where the CLI keeps pods, profiles and device stores: --data, else $FEDINVOICE_DATA, else ./data. */
export function dataDirOf(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(option ?? env['FEDINVOICE_DATA'] ?? 'data');
}

export const profilePath = (dataDir: string, name: string) => join(dataDir, 'profiles', `${name}.json`);
