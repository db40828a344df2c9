/**
 * `npm run viewer [-- --profile seller-mobile] [--port 3000]`: the invoice viewer alone, for pods that are
 * already running (e.g. started by `npm start` in another terminal). Data folder: $FEDINVOICE_DATA or ./data.
 * Profile: --profile, else $FEDINVOICE_PROFILE, else buyer-desktop. Listens on 127.0.0.1 only.
 */
import { FedinvoiceError } from '../model/errors.ts';
import { dataDirOf } from '../pod/profile.ts';
import { startProfileViewer } from './profiles.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dataDir = dataDirOf(arg('--data'), process.env);
const profile = arg('--profile') ?? process.env['FEDINVOICE_PROFILE'];
const port = Number(arg('--port') ?? process.env['FEDINVOICE_VIEWER_PORT'] ?? 3000);
const verbose = process.argv.includes('--verbose');

try {
  const viewer = await startProfileViewer({
    dataDir,
    port,
    ...(profile ? { profile } : {}),
    ...(verbose ? { log: (m: string) => console.log(m) } : {}),
  });
  console.log(`Invoice viewer: http://localhost:${viewer.port}/  (acting as ${profile ?? 'buyer-desktop'}; Ctrl+C to stop)`);
  const stop = async () => {
    await viewer.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
} catch (error) {
  console.error(error instanceof FedinvoiceError ? error.message : error);
  process.exit(1);
}
