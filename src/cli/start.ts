import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { localPodPorts, startLocalPods, type LocalPods } from '../pod/local-pods.ts';
import { assertPortFree, PortInUseError } from '../pod/ports.ts';
import type { Viewer } from '../viewer/server.ts';
import { dataDirOf } from '../pod/profile.ts';

/**
 * `npm start`: four businesses (buyer, seller, customer, carrier) on two Community Solid Servers, file-backed under ./data, with six
 * device profiles, and the invoice viewer on http://localhost:3000/ acting as one profile. Options (or their
 * environment variables) are listed in USAGE. The pods listen on 127.0.0.1 only unless FEDINVOICE_HOST says
 * otherwise; the viewer always listens on 127.0.0.1 only.
 *
 * A failure the user can act on (a port in use, a data folder made for other ports) is one line on stderr and
 * exit code 1; every port is checked before the pods' seconds-long start.
 */

/** Each port npm start opens: the option and the environment variable that choose it. */
const PORTS = {
  buyer: { flag: '--buyer-port', env: 'FEDINVOICE_BUYER_PORT', what: "the buyer's pod" },
  seller: { flag: '--seller-port', env: 'FEDINVOICE_SELLER_PORT', what: "the seller's pod" },
  viewer: { flag: '--viewer-port', env: 'FEDINVOICE_VIEWER_PORT', what: 'the invoice viewer' },
} as const;
type PortRole = keyof typeof PORTS;
const DEFAULT_VIEWER_PORT = 3000;
const VIEWER_HOST = '127.0.0.1';

const USAGE = `Usage: npm start [-- options]
  --profile <name>      the device the viewer acts as (or FEDINVOICE_PROFILE; default buyer-desktop)
  --buyer-port <port>   the buyer's pod (or FEDINVOICE_BUYER_PORT; default 3001, or the port the data folder was made with)
  --seller-port <port>  the seller's pod (or FEDINVOICE_SELLER_PORT; default 3002, or the port the data folder was made with)
  --viewer-port <port>  the invoice viewer (or FEDINVOICE_VIEWER_PORT; default ${DEFAULT_VIEWER_PORT}; 0 picks a free port)
Environment: FEDINVOICE_DATA (data folder, default ./data), FEDINVOICE_HOST (interface the pods listen on, default 127.0.0.1)`;

interface StartOptions {
  profile: string | undefined;
  ports: Partial<Record<PortRole, number>>;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): StartOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    const portOptions = Object.fromEntries(Object.values(PORTS).map(({ flag }) => [flag.slice(2), { type: 'string' as const }]));
    ({ values } = parseArgs({ args: argv, options: { profile: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...portOptions } }));
  } catch (error) {
    throw new FedinvoiceError(`${messageOf(error)} (npm start -- --help lists the options)`);
  }
  if (values['help']) return 'help';
  const ports: Partial<Record<PortRole, number>> = {};
  for (const role of Object.keys(PORTS) as PortRole[]) {
    const { flag, env: name } = PORTS[role];
    const text = (values[flag.slice(2)] as string | undefined) ?? env[name];
    if (text === undefined || text === '') continue;
    const port = Number(text);
    const lowest = role === 'viewer' ? 0 : 1;
    if (!/^\d+$/.test(text) || port < lowest || port > 65535) throw new FedinvoiceError(`${flag} (or ${name}) must be a TCP port from ${lowest} to 65535, not "${text}".`);
    ports[role] = port;
  }
  return { profile: (values['profile'] as string | undefined) ?? env['FEDINVOICE_PROFILE'], ports };
}

interface WantedPort {
  role: PortRole;
  port: number;
  host: string;
}

/** The one line for ports in use: which server wanted each, and how to choose others. */
function portsTakenMessage(taken: readonly WantedPort[], dataDir: string, podPortsFixed: boolean): string {
  const named = taken.map(({ role, port }) => `${port} (${PORTS[role].what})`);
  const which = named.length === 1 ? `port ${named[0]} is` : `ports ${named.slice(0, -1).join(', ')} and ${named.at(-1)} are`;
  const said = `${which} already in use on ${[...new Set(taken.map(({ host }) => host))].join(' and ')}, perhaps by another npm start`;
  const flags = taken.map(({ role }) => `${PORTS[role].flag} <port>`).join(' ');
  if (podPortsFixed && taken.some(({ role }) => role !== 'viewer')) {
    const data = relative(process.cwd(), dataDir) || '.';
    return `${said}; stop that program, or start a new data folder on other ports: FEDINVOICE_DATA=${data}-2 npm start -- ${flags} (the pods in ${data}/ keep their ports: their WebIDs contain them).`;
  }
  return `${said}; stop that program, or choose ${taken.length === 1 ? 'another port' : 'other ports'}: npm start -- ${flags} (or ${taken.map(({ role }) => `${PORTS[role].env}=<port>`).join(' ')}).`;
}

/** Checks every port before the pods' seconds-long start, so that one line can name all that are taken. */
async function assertPortsFree(wanted: readonly WantedPort[], dataDir: string, podPortsFixed: boolean): Promise<void> {
  const checks = await Promise.allSettled(wanted.map(({ port, host }) => assertPortFree(port, host)));
  const reasons = checks.flatMap((check) => (check.status === 'rejected' ? [check.reason as unknown] : []));
  const other = reasons.find((reason) => !(reason instanceof PortInUseError));
  if (other) throw other;
  const taken = wanted.filter((_, i) => checks[i]!.status === 'rejected');
  if (taken.length > 0) throw new FedinvoiceError(portsTakenMessage(taken, dataDir, podPortsFixed));
}

async function start(options: StartOptions): Promise<{ pods: LocalPods; viewer: Viewer | undefined; viewerNote: string }> {
  const dataDir = dataDirOf(undefined, process.env);
  const host = process.env['FEDINVOICE_HOST'] ?? '127.0.0.1';
  const { ports, fixed } = await localPodPorts(dataDir, { buyer: options.ports.buyer, seller: options.ports.seller });
  const viewerPort = options.ports.viewer ?? DEFAULT_VIEWER_PORT;
  if (viewerPort === ports.buyer || viewerPort === ports.seller) throw new FedinvoiceError(`The viewer and a pod cannot share port ${viewerPort}; choose another with ${PORTS.viewer.flag}.`);
  const wanted: WantedPort[] = [
    { role: 'buyer', port: ports.buyer, host },
    { role: 'seller', port: ports.seller, host },
    ...(viewerPort === 0 ? [] : [{ role: 'viewer' as const, port: viewerPort, host: VIEWER_HOST }]),
  ];
  await assertPortsFree(wanted, dataDir, fixed);

  let pods: LocalPods;
  try {
    console.log(`Starting the pods of the buyer, the seller, the customer and the carrier on ports ${ports.buyer} and ${ports.seller} (data in ${relative(process.cwd(), dataDir) || '.'}/, listening on ${host})…`);
    pods = await startLocalPods({ dataDir, host, buyerPort: ports.buyer, sellerPort: ports.seller });
  } catch (error) {
    // Taken between the check and the listen.
    if (!(error instanceof PortInUseError)) throw error;
    const role = error.port === ports.buyer ? 'buyer' : 'seller';
    throw new FedinvoiceError(portsTakenMessage([{ role, port: error.port, host: error.host }], dataDir, fixed), { cause: error });
  }

  // The viewer (and the device code it brings) loads only once the pods run, so that a port error comes first.
  const { DEFAULT_PROFILE, startProfileViewer } = await import('../viewer/profiles.ts');
  const profile = options.profile ?? DEFAULT_PROFILE;
  try {
    const viewer = await startProfileViewer({ dataDir, profile, port: viewerPort });
    return { pods, viewer, viewerNote: `Invoice viewer: http://localhost:${viewer.port}/   (acting as ${profile}; switch profiles on the page)` };
  } catch (error) {
    return { pods, viewer: undefined, viewerNote: `The invoice viewer did not start: ${messageOf(error)}` };
  }
}

function printWelcome({ pods, viewerNote }: { pods: LocalPods; viewerNote: string }): void {
  const cli = 'fedinvoice';
  const data = relative(process.cwd(), dataDirOf(undefined, process.env)) || '.';
  console.log(`
${viewerNote}

${pods.notes.map((note) => `${note}\n`).join('')}
Businesses (for local use only: the accounts are in ${data}/accounts.json, mode 0600):
${[pods.buyer, pods.seller, pods.customer, pods.carrier].map((b) => `  ${b.name.padEnd(9)} WebID ${b.webId}\n            log in at ${b.baseUrl} as ${b.email}, password ${b.password}`).join('\n')}

Device profiles (client credentials, mode 0600):
${pods.profiles.map((path) => `  ${relative(process.cwd(), path)}`).join('\n')}

Try it, in another terminal:
  npm run demo                                   # invoice 0001-03 composed from four devices
or by hand:
  export PATH="$PWD/bin:$PATH"                   # once per terminal, in this folder
  ${cli} create INV-1 --profile buyer-desktop --with seller-desktop --name Michiel --counterparty-name George
  ${cli} invitations --profile seller-desktop      # the invitation create posted to the seller's inbox
  ${cli} join INV-1 --profile seller-desktop       # accepts it (checked against the pods first)
  ${cli} join INV-1 --profile seller-mobile --with buyer-desktop
  ${cli} join INV-1 --profile buyer-mobile --with buyer-desktop
  ${cli} add-to-cart INV-1 beans 520 --profile buyer-mobile
  ${cli} quote-item INV-1 beans 0.05 --tax 21 --profile seller-mobile
  ${cli} show INV-1 --profile seller-desktop
A carrier that sets the tracking, admitted by the seller and invited through its inbox:
  ${cli} add-participant INV-1 carrier '${pods.carrier.webId}' ${pods.carrier.podRoot} --allow SetTracking,Comment --name ParcelCo --profile seller-desktop
  ${cli} sync INV-1 --profile buyer-desktop        # the buyer grants the carrier read on its ops
  ${cli} join INV-1 --profile carrier-desktop
  ${cli} set-tracking INV-1 ParcelCo PC-123 --profile carrier-desktop
The seller's second customer, with the seller's own number:
  ${cli} create INV-1 --profile customer-desktop --with seller-desktop --name Clara --counterparty-name George
  ${cli} join INV-1 --profile seller-desktop       # the customer's invitation (the buyer's was used)
  ${cli} list --profile seller-desktop           # two invoices INV-1, told apart by their keys

Press Ctrl+C to stop.`);
}

let running: Awaited<ReturnType<typeof start>>;
try {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  running = await start(options);
} catch (error) {
  if (!(error instanceof FedinvoiceError)) throw error;
  console.error(`npm start: ${error.message}`);
  process.exit(1);
}
printWelcome(running);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping the viewer and the pods…');
  await running.viewer?.stop().catch(() => undefined);
  await running.pods.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
