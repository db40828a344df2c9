import type { SingleBar } from 'cli-progress';
import { Command, CommanderError } from 'commander';
import { writeFile } from 'node:fs/promises';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { asContainerUrl, asInvoiceId, asWebId, isContainerUrl, type InvoiceId, type WebId } from '../model/ids.ts';
import { invoiceKeyOf, isLegacyKey, numberOfKey, splitOpsContainer } from '../model/invoice-key.ts';
import type { ExportFormat } from '../einvoice/export.ts';
import type { OpType, PayloadByType } from '../model/ops.ts';
import { dataDirOf, profilePath, readDeviceProfile } from '../pod/profile.ts';
import type { OpenDevice } from '../sync/device.ts';
import type { InvoiceRef } from '../sync/store.ts';
import type { Replica, SyncResult, WriteResult } from '../sync/replica.ts';
import { addEvidenceCommands } from './evidence-commands.ts';
import { formatInvoice, formatLog, formatSyncNotes } from './format.ts';
import { addLoginCommands } from './login.ts';
import { deliveryNote, invitationLine } from './invitation-text.ts';
import { kebab, OP_COMMANDS, partyInfoFrom } from './op-commands.ts';

// Start-up time is most of a command's time: the device code (login, sync, Turtle, SHACL) and the progress bar
// are imported by the commands that use them, so that `--help` and usage errors load neither.
const loadDevice = () => import('../sync/device.ts');
const loadReplica = () => import('../sync/replica.ts');
const loadInvitations = () => import('../sync/invitations.ts');
const loadExport = () => import('../einvoice/export.ts');

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Progress bars only on a terminal, never when piped or with --json. */
  readonly isTTY: boolean;
  /** Opens a login page (`login --browser`); default: print it and try the system's browser. */
  readonly openUrl?: (url: string) => void | Promise<void>;
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

  const profileName = (): string => {
    const name = globals().profile ?? io.env['FEDINVOICE_PROFILE'];
    if (!name) throw new FedinvoiceError('which device? pass --profile <name> (e.g. buyer-desktop) or set FEDINVOICE_PROFILE');
    return name;
  };

  async function withDevice<T>(work: (device: OpenDevice) => Promise<T>): Promise<T> {
    const name = profileName();
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

  /** Syncs what changed since the last run (change feeds: one request per counterparty); every invoice known after it. */
  const refreshAll = async (replica: Replica): Promise<readonly InvoiceRef[]> => {
    const result = await replica.refresh();
    for (const sync of result.synced.values()) printSync(sync);
    for (const feed of result.feeds.unusable) {
      if (feed.outcome === 'failed') io.stderr(`could not read the change feed ${feed.feed} (${feed.error}): its invoices were synced one by one`);
    }
    if (result.outbox.error) io.stderr(`outbox: ${result.outbox.error}`);
    if (globals().verbose) io.stderr(`list: ${result.requests} HTTP request(s), ${result.feeds.read} change feed(s), ${result.synced.size} invoice(s) synced`);
    return result.invoices;
  };

  /**
   * Every write first brings the invoice up to date (so its deps name what the device can see): through the change
   * feeds, one conditional request per participant's pod when nothing changed; then writes and pushes.
   */
  async function writeWith(invoice: string, write: (replica: Replica, invoiceId: InvoiceId) => Promise<WriteResult>) {
    await withDevice(async ({ replica }) => {
      const invoiceId = await replica.resolveInvoice(invoice);
      printSync(await replica.syncChanged(invoiceId));
      printWrite(await write(replica, invoiceId), replica);
    });
  }

  const writeOp = <T extends OpType>(invoice: string, type: T, payload: PayloadByType[T]) =>
    writeWith(invoice, (replica, invoiceId) => replica.write(invoiceId, type, payload));

  const { stdout, stderr, env, openUrl } = io;
  const json = () => globals().json === true;
  addLoginCommands(program, { profileName, dataDir, env, json, stdout, stderr, ...(openUrl ? { openUrl } : {}) });
  /** Posts an invitation to `recipient`'s inbox once the op naming it is on the pod (else it would name an op nobody can read). */
  async function invite(replica: Replica, write: WriteResult, recipient: WebId, admission?: WriteResult['op']['id']): Promise<void> {
    if (write.outbox.queued > 0) return;
    const { invitationFor, sendInvitation } = await loadInvitations();
    const invitation = invitationFor(replica, await replica.view(write.op.invoiceId), recipient, admission);
    if (invitation) io.stderr(deliveryNote(recipient, await sendInvitation(replica.fetch, invitation)));
  }

  /** AddParticipant: written, then a sync grants the new participant read on this party's ops, then it is invited. */
  const admit = (invoice: string, payload: PayloadByType['AddParticipant']) =>
    withDevice(async ({ replica }) => {
      const invoiceId = await replica.resolveInvoice(invoice);
      printSync(await replica.syncChanged(invoiceId));
      // A pod root stands for the participant's folder of this invoice on it, as every participant's folder is named.
      const container = splitOpsContainer(payload.container) ? payload.container : (await loadReplica()).opsContainerOf(payload.container.replace(/\/?$/, '/'), invoiceId);
      const result = await replica.write(invoiceId, 'AddParticipant', { ...payload, container });
      printWrite(result, replica);
      printSync(await replica.sync(invoiceId));
      await invite(replica, result, payload.webId, result.op.id);
    });

  /** Joins `invoice` from the invitations in this business's inbox: the first whose claims hold; the refused are reported and removed. */
  async function joinFromInbox(replica: Replica, invoice: string) {
    const { readInbox, invitationsTo, acceptInvitation } = await loadInvitations();
    const candidates = invitationsTo((await readInbox(replica)).entries, invoice);
    const keys = [...new Set(candidates.map((entry) => entry.invitation.invoiceId))];
    if (keys.length > 1) throw new FedinvoiceError(`invitations to several invoices numbered ${invoice} wait in your inbox: join one by its key (${keys.join(', ')})`);
    const refusals: string[] = [];
    for (const candidate of candidates) {
      try {
        return await acceptInvitation(replica, candidate);
      } catch (error) {
        if (!(error instanceof FedinvoiceError) || candidates.length === 1) throw error;
        refusals.push(messageOf(error));
      }
    }
    if (refusals.length) throw new FedinvoiceError(refusals.join('\n'));
    throw new FedinvoiceError(`no invitation to ${invoice} waits in your inbox (see \`fedinvoice invitations\`); or join with --from <the creator's op container>`);
  }

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
        await invite(replica, result, asWebId(webId!));
        if (!globals().json) io.stdout(`the counterparty joins with: fedinvoice join ${invoice} --from ${replica.ownContainer(result.op.invoiceId)}`);
      });
    });

  program
    .command('join <invoice>')
    .description('join an invoice the counterparty created: from the invitation in your inbox, or from --from / --with')
    .option('--from <container>', "the creator's op container, as printed by `create` (when no invitation reached your inbox)")
    .option('--with <profile>', 'the creator as a local profile')
    .action(async (invoice: string, options: Record<string, string | undefined>) => {
      let from = options['from'];
      if (options['with']) {
        const creatorPod = (await readDeviceProfile(profilePath(dataDir(), options['with']))).podRoot;
        const { opsContainerOf } = await loadReplica();
        from = opsContainerOf(creatorPod, isLegacyKey(invoice) ? invoiceKeyOf(creatorPod, invoice) : asInvoiceId(invoice));
      }
      const printJoined = (result: SyncResult) => {
        printSync(result);
        io.stdout(globals().json ? JSON.stringify(result.invoice, null, 2) : `joined ${invoice}\n\n${formatInvoice(result.invoice)}`);
      };
      if (from === undefined) {
        await withDevice(async ({ replica }) => printJoined(await joinFromInbox(replica, invoice)));
        return;
      }
      if (!isContainerUrl(from)) throw new FedinvoiceError("--from must be the creator's op container URL (ending in /), or use --with <profile>");
      const key = splitOpsContainer(from)?.key;
      if (!key || (key !== invoice && numberOfKey(key) !== invoice)) {
        throw new FedinvoiceError(`${from} is not the op container of invoice ${invoice}: it must be <pod>invoices/${invoice}.<hash>/ops/, as \`fedinvoice create\` printed`);
      }
      const invoiceId = asInvoiceId(key);
      await withDevice(async ({ replica }) => printJoined(await replica.joinInvoice(invoiceId, asContainerUrl(from!))));
    });

  program
    .command('invitations')
    .description('the invitations waiting in your inbox (made on first use); ones that are not invitations are removed')
    .action(async () => {
      await withDevice(async ({ replica }) => {
        const { readInbox, discardRefused } = await loadInvitations();
        const { inbox, entries } = await readInbox(replica);
        const removed = await discardRefused(replica, entries);
        const waiting = entries.flatMap((entry) => ('invitation' in entry ? [entry.invitation] : []));
        if (globals().json) {
          io.stdout(JSON.stringify({ inbox, invitations: waiting, removed }, null, 2));
          return;
        }
        for (const entry of removed) io.stderr(`removed ${entry.url}: ${'refused' in entry ? entry.refused : ''}`);
        for (const invitation of waiting) io.stdout(invitationLine(invitation));
        if (waiting.length === 0) io.stdout(`no invitations wait in your inbox ${inbox}`);
      });
    });

  program
    .command('show <invoice>')
    .description('bring the invoice up to date (through the change feeds: a crawl only if one names it), fold, and print it')
    .option('--offline', 'do not touch the network: fold what this device holds')
    .action(async (invoice: string, options: { offline?: boolean }) => {
      await withDevice(async ({ replica }) => {
        const invoiceId = await replica.resolveInvoice(invoice);
        const folded = options.offline ? await replica.view(invoiceId) : await syncedView(replica, invoiceId);
        io.stdout(globals().json ? JSON.stringify(folded, null, 2) : formatInvoice(folded));
      });
    });

  program
    .command('sync [invoice]')
    .description('push the outbox and crawl every participant\'s containers, whatever the change feeds say (every known invoice if none is named)')
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
    .description('the invoices this profile takes part in, brought up to date through change feeds (one request per counterparty, plus what changed)')
    .option('--offline', "do not touch the network: each invoice as of this device's last sync")
    .action(async (options: { offline?: boolean }) => {
      await withDevice(async ({ replica }) => {
        const { onPod, error } = options.offline ? { onPod: [], error: null } : await replica.invoicesOnPod();
        if (error) io.stderr(`could not list the pod: ${error}`);
        const local = options.offline ? await replica.listLocalInvoices() : await refreshAll(replica);
        const notJoined = onPod.filter((id) => !local.some((ref) => ref.invoiceId === id));
        type Row = { invoiceId: InvoiceId; number: string; you: string | null; status: string; currency: string | null; gross: string };
        const rows: Array<Row & { buyer: string | null; seller: string | null }> = [];
        for (const ref of local) {
          // Each invoice's summary was written by its last fold (the refresh's, for those that changed).
          const { status, currency, gross, buyer, seller, side } = ref.summary ?? (await replica.summary(ref.invoiceId));
          rows.push({ invoiceId: ref.invoiceId, number: numberOfKey(ref.invoiceId), you: side, status, currency, gross, buyer, seller });
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
        const folded = await syncedView(replica, await replica.resolveInvoice(invoice));
        io.stdout(globals().json ? JSON.stringify(folded.log, null, 2) : formatLog(folded.log));
      });
    });

  program
    .command('propose <invoice>')
    .description('propose the invoice as this device sees it (names its terms hash and op heads)')
    .action((invoice: string) =>
      writeWith(invoice, async (replica, invoiceId) => {
        const result = await replica.propose(invoiceId);
        const gaps = (await loadExport()).exportGaps(await replica.view(invoiceId));
        if (gaps.length) io.stderr(`warning: these terms cannot be exported as an e-invoice yet; they lack:\n${gaps.map((gap) => `  - ${gap}`).join('\n')}`);
        return result;
      }),
    );

  program
    .command('export <invoice>')
    .description('write the agreed invoice as an e-invoice (UBL 2.1 for EN 16931 and Peppol BIS Billing 3.0) or as JSON')
    .option('--format <format>', 'ubl (the e-invoice) or json (the model)', 'ubl')
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--offline', 'do not touch the network: export what this device holds')
    .action(async (invoice: string, options: { format: string; out?: string; offline?: boolean }) => {
      const { EXPORT_FORMATS, exportInvoice } = await loadExport();
      const format = options.format as ExportFormat;
      if (!EXPORT_FORMATS.includes(format)) throw new FedinvoiceError(`--format must be ${EXPORT_FORMATS.join(' or ')}, not "${options.format}"`);
      await withDevice(async ({ replica }) => {
        const invoiceId = await replica.resolveInvoice(invoice);
        const folded = options.offline ? await replica.view(invoiceId) : await syncedView(replica, invoiceId);
        const text = exportInvoice(folded, format);
        if (!options.out) return io.stdout(text.trimEnd());
        await writeFile(options.out, text);
        io.stderr(`wrote the agreed invoice ${numberOfKey(invoiceId)} as ${format === 'ubl' ? 'a UBL e-invoice' : 'JSON'} to ${options.out}`);
      });
    });

  /** The invoice brought up to date through the change feeds (a crawl only when one names it). */
  async function syncedView(replica: Replica, invoiceId: InvoiceId) {
    const result = await replica.syncChanged(invoiceId);
    printSync(result);
    return result.invoice;
  }

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
      const type: OpType = entry.type;
      if (type === 'AddParticipant') await admit(invoice, payload as PayloadByType['AddParticipant']);
      else await writeOp(invoice, type as OpType, payload);
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

