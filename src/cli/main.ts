import type { SingleBar } from 'cli-progress';
import { Command, CommanderError } from 'commander';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { asContainerUrl, asInvoiceId, asWebId, isContainerUrl, type InvoiceId } from '../model/ids.ts';
import { invoiceKeyOf, isLegacyKey, numberOfKey, splitOpsContainer } from '../model/invoice-key.ts';
import type { OpType, PayloadByType } from '../model/ops.ts';
import { dataDirOf, profilePath, readDeviceProfile } from '../pod/profile.ts';
import type { OpenDevice } from '../sync/device.ts';
import { sideOn } from '../model/sides.ts';
import type { Replica, SyncResult, WriteResult } from '../sync/replica.ts';
import { addEvidenceCommands } from './evidence-commands.ts';
import { formatInvoice, formatLog, formatSyncNotes } from './format.ts';
import { kebab, OP_COMMANDS, partyInfoFrom } from './op-commands.ts';

// Start-up time is most of a command's time: the device code (login, sync, Turtle, SHACL) and the progress bar
// are imported by the commands that use them, so that `--help` and usage errors load neither.
const loadDevice = () => import('../sync/device.ts');
const loadReplica = () => import('../sync/replica.ts');

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Progress bars only on a terminal, never when piped or with --json. */
  readonly isTTY: boolean;
}

interface GlobalOptions {
  profile?: string;
  data?: string;
  json?: boolean;
  verbose?: boolean;
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 refused or failed, 2 usage). Never calls process.exit. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command('fedinvoice')
    .description('Compose an invoice with your counterparty: ops go to your own Solid pod, every device folds both pods into the same invoice.')
    .option('-p, --profile <name>', 'device profile under <data>/profiles/ (or $FEDINVOICE_PROFILE), e.g. buyer-desktop')
    .option('--data <dir>', 'data folder (or $FEDINVOICE_DATA)', undefined)
    .option('--json', "print the model's JSON instead of text")
    .option('-v, --verbose', 'print HTTP request counts and per-container outcomes')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const dataDir = () => dataDirOf(globals().data, io.env);

  async function withDevice<T>(work: (device: OpenDevice) => Promise<T>): Promise<T> {
    const name = globals().profile ?? io.env['FEDINVOICE_PROFILE'];
    if (!name) throw new FedinvoiceError('which device? pass --profile <name> (e.g. buyer-desktop) or set FEDINVOICE_PROFILE');
    let bar: SingleBar | undefined;
    const showProgress = io.isTTY && !globals().json;
    const [{ openDevice }, cliProgress] = await Promise.all([loadDevice(), showProgress ? import('cli-progress').then((m) => m.default) : undefined]);
    const device = await openDevice(dataDir(), name, ({ done, total }) => {
      if (!cliProgress || total < 20) return;
      if (!bar) {
        bar = new cliProgress.SingleBar({ format: 'fetching ops [{bar}] {value}/{total}', stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(total, done);
      }
      bar.setTotal(total);
      bar.update(done);
    });
    if (!device.online) io.stderr(`offline: the pod of ${device.profile.name} could not be reached; ops are kept in the outbox and shown state may be stale`);
    try {
      return await work(device);
    } finally {
      bar?.stop();
      await device.close();
    }
  }

  const printSync = (result: SyncResult) => {
    for (const note of formatSyncNotes(result.containers, result.outbox)) io.stderr(note);
    if (globals().verbose) {
      io.stderr(`${result.requests} HTTP request(s), ${result.newOps} new op(s)`);
      for (const report of result.containers) io.stderr(`  ${report.outcome.padEnd(9)} ${report.container} (+${report.newOps})`);
    }
  };

  const printWrite = (result: WriteResult, replica: Replica) => {
    const { op, outbox } = result;
    if (globals().json) io.stdout(JSON.stringify({ op, outbox }, null, 2));
    else if (outbox.queued === 0) io.stdout(`${op.type} ${op.id.slice(0, 12)}… written to ${replica.ownContainer(op.invoiceId)}`);
    else io.stdout(`${op.type} ${op.id.slice(0, 12)}… accepted on this device and queued: ${outbox.error}`);
  };

  /** Every write first syncs (so its deps name what the device can see), then writes and pushes. */
  async function writeWith(invoice: string, write: (replica: Replica, invoiceId: InvoiceId) => Promise<WriteResult>) {
    await withDevice(async ({ replica }) => {
      const invoiceId = await replica.resolveInvoice(invoice);
      printSync(await replica.sync(invoiceId));
      printWrite(await write(replica, invoiceId), replica);
    });
  }

  const writeOp = <T extends OpType>(invoice: string, type: T, payload: PayloadByType[T]) =>
    writeWith(invoice, (replica, invoiceId) => replica.write(invoiceId, type, payload));

  program
    .command('create <invoice>')
    .description('start an invoice with a counterparty and grant them read access to your ops')
    .option('--with <profile>', 'the counterparty as a local profile (its WebID and pod; no secret is read)')
    .option('--counterparty-webid <webId>', "the counterparty's WebID")
    .option('--counterparty-pod <url>', "the counterparty's pod root, e.g. http://localhost:3002/seller/")
    .option('--as <side>', 'your side on this invoice: buyer or seller', 'buyer')
    .option('--currency <code>', 'ISO 4217 currency', 'EUR')
    .option('--name <name>', 'your name on the invoice (required)')
    .option('--counterparty-name <name>', "the counterparty's name on the invoice (required)")
    .action(async (invoice: string, options: Record<string, string | undefined>) => {
      let webId = options['counterpartyWebid'];
      let podRoot = options['counterpartyPod'];
      if (options['with']) {
        const other = await readDeviceProfile(profilePath(dataDir(), options['with']));
        webId = other.webId;
        podRoot = other.podRoot;
      }
      if (!webId || !podRoot) throw new FedinvoiceError('name the counterparty: --with <profile>, or --counterparty-webid and --counterparty-pod');
      const side = options['as'] ?? 'buyer';
      if (side !== 'buyer' && side !== 'seller') throw new FedinvoiceError(`--as must be buyer or seller, not "${side}"`);
      const own = partyInfoFrom({ name: options['name'] });
      const theirs = partyInfoFrom({ name: options['counterpartyName'] ?? undefined });
      await withDevice(async ({ replica }) => {
        const result = await replica.createInvoice(invoice, {
          as: side,
          currency: options['currency'] ?? 'EUR',
          counterparty: { webId: asWebId(webId!), podRoot: podRoot!.endsWith('/') ? podRoot! : `${podRoot}/` },
          ownInfo: own,
          counterpartyInfo: theirs,
        });
        printWrite(result, replica);
        if (!globals().json) io.stdout(`the counterparty joins with: fedinvoice join ${invoice} --from ${replica.ownContainer(result.op.invoiceId)}`);
      });
    });

  program
    .command('join <invoice>')
    .description('join an invoice the counterparty created')
    .option('--from <container>', "the creator's op container, as printed by `create`")
    .option('--with <profile>', 'the creator as a local profile')
    .action(async (invoice: string, options: Record<string, string | undefined>) => {
      let from = options['from'];
      if (options['with']) {
        const creatorPod = (await readDeviceProfile(profilePath(dataDir(), options['with']))).podRoot;
        const { opsContainerOf } = await loadReplica();
        from = opsContainerOf(creatorPod, isLegacyKey(invoice) ? invoiceKeyOf(creatorPod, invoice) : asInvoiceId(invoice));
      }
      if (!from || !isContainerUrl(from)) throw new FedinvoiceError("--from must be the creator's op container URL (ending in /), or use --with <profile>");
      const key = splitOpsContainer(from)?.key;
      if (!key || (key !== invoice && numberOfKey(key) !== invoice)) {
        throw new FedinvoiceError(`${from} is not the op container of invoice ${invoice}: it must be <pod>invoices/${invoice}.<hash>/ops/, as \`fedinvoice create\` printed`);
      }
      const invoiceId = asInvoiceId(key);
      await withDevice(async ({ replica }) => {
        const result = await replica.joinInvoice(invoiceId, asContainerUrl(from!));
        printSync(result);
        io.stdout(globals().json ? JSON.stringify(result.invoice, null, 2) : `joined ${invoice}\n\n${formatInvoice(result.invoice)}`);
      });
    });

  program
    .command('show <invoice>')
    .description('crawl both pods, fold, and print the invoice')
    .option('--offline', 'do not touch the network: fold what this device holds')
    .action(async (invoice: string, options: { offline?: boolean }) => {
      await withDevice(async ({ replica }) => {
        const invoiceId = await replica.resolveInvoice(invoice);
        const folded = options.offline ? await replica.view(invoiceId) : await (async () => {
          const result = await replica.sync(invoiceId);
          printSync(result);
          return result.invoice;
        })();
        io.stdout(globals().json ? JSON.stringify(folded, null, 2) : formatInvoice(folded));
      });
    });

  program
    .command('sync [invoice]')
    .description('push the outbox and fetch what is new (every known invoice if none is named)')
    .action(async (invoice: string | undefined) => {
      await withDevice(async ({ replica }) => {
        const ids = invoice ? [await replica.resolveInvoice(invoice)] : (await replica.listInvoices()).local.map((ref) => ref.invoiceId);
        for (const invoiceId of ids) {
          const result = await replica.sync(invoiceId);
          printSync(result);
          io.stdout(globals().json ? JSON.stringify({ invoiceId, newOps: result.newOps, requests: result.requests, outbox: result.outbox }) : `${invoiceId}: ${result.newOps} new op(s), ${result.invoice.status}`);
        }
      });
    });

  program
    .command('list')
    .description('the invoices this profile takes part in, synced (conditional requests: cheap when nothing changed)')
    .option('--offline', "do not touch the network: each invoice as of this device's last sync")
    .action(async (options: { offline?: boolean }) => {
      await withDevice(async ({ replica }) => {
        const { local, onPod, error } = options.offline
          ? { local: await replica.listLocalInvoices(), onPod: [], error: null }
          : await replica.listInvoices();
        if (error) io.stderr(`could not list the pod: ${error}`);
        const notJoined = onPod.filter((id) => !local.some((ref) => ref.invoiceId === id));
        type Row = { invoiceId: InvoiceId; number: string; you: string | null; status: string; currency: string | null; gross: string };
        const rows: Array<Row & { buyer: string | null; seller: string | null }> = [];
        for (const ref of local) {
          const view = options.offline ? await replica.view(ref.invoiceId) : (await replica.sync(ref.invoiceId)).invoice;
          const { status, currency, totals } = view;
          const [buyer, seller] = [view.buyer?.info.name ?? null, view.seller?.info.name ?? null];
          const [number, you] = [numberOfKey(ref.invoiceId), sideOn(view, replica.identity.webId)];
          rows.push({ invoiceId: ref.invoiceId, number, you, status, currency, gross: totals.gross, buyer, seller });
        }
        if (globals().json) {
          io.stdout(JSON.stringify({ invoices: rows, onPodNotOnThisDevice: notJoined }, null, 2));
          return;
        }
        // A number several invoices share (made by different creators) is shown with its key, which tells them apart.
        const shared = (number: string) => rows.filter((row) => row.number === number).length > 1;
        for (const row of rows) {
          const name = shared(row.number) ? `${row.number} (${row.invoiceId})` : row.number;
          io.stdout(`${name}  ${row.status}  ${row.currency ?? ''} ${row.gross}  ${row.buyer ?? '?'} ← ${row.seller ?? '?'}  (you: ${row.you ?? 'participant'})`);
        }
        for (const id of notJoined) io.stdout(`${numberOfKey(id)}  (on your pod, not on this device: fedinvoice join ${numberOfKey(id)} --from ${replica.ownContainer(id)})`);
        if (rows.length === 0 && notJoined.length === 0) io.stdout('no invoices yet: fedinvoice create <invoice> --with <counterparty profile> --name … --counterparty-name …');
      });
    });

  program
    .command('log <invoice>')
    .description('every op with author, device, time, and whether it was accepted, rejected (why) or pending')
    .action(async (invoice: string) => {
      await withDevice(async ({ replica }) => {
        const result = await replica.sync(await replica.resolveInvoice(invoice));
        printSync(result);
        io.stdout(globals().json ? JSON.stringify(result.invoice.log, null, 2) : formatLog(result.invoice.log));
      });
    });

  program
    .command('propose <invoice>')
    .description('propose the invoice as this device sees it (names its terms hash and op heads)')
    .action((invoice: string) => writeWith(invoice, (replica, invoiceId) => replica.propose(invoiceId)));

  program
    .command('accept <invoice>')
    .description("accept the counterparty's open proposal")
    .option('--terms <hash>', 'the terms hash you accept (or its first 8+ characters); refused if the open proposal differs')
    .action((invoice: string, options: { terms?: string }) =>
      writeWith(invoice, (replica, invoiceId) => replica.accept(invoiceId, options.terms)),
    );

  addEvidenceCommands(program, withDevice, io.stdout, () => globals().json === true);

  for (const entry of OP_COMMANDS) {
    const sub = program.command([kebab(entry.type), '<invoice>', ...entry.args.map((arg) => `<${arg}>`)].join(' ')).description(entry.summary);
    for (const option of entry.options ?? []) sub.option(option.flags, option.description);
    sub.action(async (...params: unknown[]) => {
      const invoice = params[0] as string;
      const args = params.slice(1, 1 + entry.args.length) as string[];
      const options = params[1 + entry.args.length] as Record<string, string | undefined>;
      const payload = entry.payload(args, options);
      await writeOp(invoice, entry.type, payload);
    });
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    exitCode = 1;
    const unexpected = error instanceof Error && !(error instanceof FedinvoiceError) ? ' (unexpected; please report)' : '';
    io.stderr(`fedinvoice: ${messageOf(error)}${unexpected}`);
  }
  return exitCode;
}

