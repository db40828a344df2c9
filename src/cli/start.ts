import { relative } from 'node:path';
import { startLocalPods } from '../pod/local-pods.ts';
import { dataDirOf } from './device.ts';

/**
 * `npm start`: the buyer's and the seller's Community Solid Servers, file-backed under ./data, with four
 * device profiles. Listens on 127.0.0.1 only unless FEDINVOICE_HOST says otherwise.
 */
const dataDir = dataDirOf(undefined, process.env);
const host = process.env['FEDINVOICE_HOST'] ?? '127.0.0.1';
console.log(`Starting the buyer's and the seller's pods (data in ${relative(process.cwd(), dataDir) || '.'}/, listening on ${host})…`);
const pods = await startLocalPods({ dataDir, host });

const cli = 'npx fedinvoice';
console.log(`
Buyer pod:  ${pods.buyer.baseUrl}   WebID ${pods.buyer.webId}
Seller pod: ${pods.seller.baseUrl}   WebID ${pods.seller.webId}

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

Press Ctrl+C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping the pods…');
  await pods.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
