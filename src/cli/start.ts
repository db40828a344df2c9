import { relative } from 'node:path';
import { messageOf } from '../model/errors.ts';
import { startLocalPods } from '../pod/local-pods.ts';
import { dataDirOf } from '../pod/profile.ts';
import { DEFAULT_PROFILE, startProfileViewer } from '../viewer/profiles.ts';
import type { Viewer } from '../viewer/server.ts';

/**
 * `npm start`: the buyer's and the seller's Community Solid Servers, file-backed under ./data, with four
 * device profiles, and the invoice viewer on http://localhost:3000/ acting as one profile (`--profile NAME` or
 * FEDINVOICE_PROFILE, default buyer-desktop; port: FEDINVOICE_VIEWER_PORT). The pods listen on 127.0.0.1 only
 * unless FEDINVOICE_HOST says otherwise; the viewer always listens on 127.0.0.1 only.
 */
const argAfter = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const viewerProfile = argAfter('--profile') ?? process.env['FEDINVOICE_PROFILE'] ?? DEFAULT_PROFILE;
const viewerPort = Number(argAfter('--viewer-port') ?? process.env['FEDINVOICE_VIEWER_PORT'] ?? 3000);
const dataDir = dataDirOf(undefined, process.env);
const host = process.env['FEDINVOICE_HOST'] ?? '127.0.0.1';
console.log(`Starting the pods of the buyer, the seller and the customer (data in ${relative(process.cwd(), dataDir) || '.'}/, listening on ${host})…`);
const pods = await startLocalPods({ dataDir, host });

let viewer: Viewer | undefined;
let viewerNote: string;
try {
  viewer = await startProfileViewer({ dataDir, profile: viewerProfile, port: viewerPort });
  viewerNote = `Invoice viewer: http://localhost:${viewer.port}/   (acting as ${viewerProfile}; switch profiles on the page)`;
} catch (error) {
  viewerNote = `The invoice viewer did not start: ${messageOf(error)}`;
}

const cli = 'npx fedinvoice';
console.log(`
${viewerNote}

${pods.notes.map((note) => `${note}\n`).join('')}
Businesses (for local use only: the accounts are in ${relative(process.cwd(), dataDir) || '.'}/accounts.json, mode 0600):
${[pods.buyer, pods.seller, pods.customer].map((b) => `  ${b.name.padEnd(9)} WebID ${b.webId}\n            log in at ${b.baseUrl} as ${b.email}, password ${b.password}`).join('\n')}

Device profiles (client credentials, mode 0600):
${pods.profiles.map((path) => `  ${relative(process.cwd(), path)}`).join('\n')}

Try it, in another terminal:
  npm run demo                                   # seed 000's scenario: invoice 0001-03 from four devices
or by hand:
  ${cli} create INV-1 --profile buyer-desktop --with seller-desktop --name Michiel --counterparty-name George
  ${cli} join INV-1 --profile seller-desktop --with buyer-desktop
  ${cli} join INV-1 --profile seller-mobile --with buyer-desktop
  ${cli} join INV-1 --profile buyer-mobile --with buyer-desktop
  ${cli} add-to-cart INV-1 beans 520 --profile buyer-mobile
  ${cli} quote-item INV-1 beans 0.05 --tax 21 --profile seller-mobile
  ${cli} show INV-1 --profile seller-desktop
The seller's second customer, with the seller's own number:
  ${cli} create INV-1 --profile customer-desktop --with seller-desktop --name Clara --counterparty-name George
  ${cli} join INV-1 --profile seller-desktop --with customer-desktop
  ${cli} list --profile seller-desktop           # two invoices INV-1, told apart by their keys

Press Ctrl+C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping the viewer and the pods…');
  await viewer?.stop().catch(() => undefined);
  await pods.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
