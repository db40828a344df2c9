import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { withId } from '../model/hash.ts';
import { isInvoiceId, isOpId, type InvoiceId, type OpId } from '../model/ids.ts';
import type { AnyOp, SourcedOp } from '../model/ops.ts';
import type { PublishedKey } from '../model/signatures.ts';
import { outboxOrder, type ContainerState, type DeviceStore, type FeedState, type InvoiceRef, type KnownKeys, type OutboxEntry } from './store.ts';

/**
 * A device's store as plain files under one folder (`./data/devices/<profile>/` for the CLI):
 *   invoices/<id>/ref.json, invoices/<id>/ops.jsonl (append-only), invoices/<id>/containers.json, outbox/<opId>.json,
 *   feeds.json
 * Every write is fsynced before it resolves, and whole-file writes go through a rename, so a crash leaves
 * either the old or the new file, never half of one. Ops read back are re-hashed: a corrupted line is dropped.
 */
export class FileDeviceStore implements DeviceStore {
  constructor(private readonly dir: string) {}

  private invoiceDir(invoiceId: InvoiceId): string {
    if (!isInvoiceId(invoiceId)) throw new TypeError(`not an invoice id: ${invoiceId}`);
    return join(this.dir, 'invoices', invoiceId);
  }

  async listInvoices(): Promise<InvoiceRef[]> {
    const refs = await Promise.all((await this.invoiceIds()).map((name) => this.getInvoice(name)));
    return refs.filter((ref): ref is InvoiceRef => ref !== undefined);
  }

  /** The invoice folders' names: a folder whose reference was never written is among them (listInvoices skips it). */
  async invoiceIds(): Promise<InvoiceId[]> {
    const names = await readdir(join(this.dir, 'invoices')).catch(() => [] as string[]);
    return names.filter(isInvoiceId).sort();
  }

  async getInvoice(invoiceId: InvoiceId): Promise<InvoiceRef | undefined> {
    return readJson<InvoiceRef>(join(this.invoiceDir(invoiceId), 'ref.json'));
  }

  async saveInvoice(ref: InvoiceRef): Promise<void> {
    await writeFileAtomic(join(this.invoiceDir(ref.invoiceId), 'ref.json'), JSON.stringify(ref, null, 2));
  }

  async loadOps(invoiceId: InvoiceId): Promise<SourcedOp[]> {
    const text = await readFile(join(this.invoiceDir(invoiceId), 'ops.jsonl'), 'utf8').catch(() => '');
    const result = new Map<string, SourcedOp>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const { op, container } = JSON.parse(line) as SourcedOp;
        const verified = withId(op) as AnyOp;
        // A line torn by a crash, or edited by hand, no longer hashes to its id: it is not an op we fetched.
        if (verified.id === op.id) result.set(`${op.id} ${container}`, { op: verified, container });
      } catch {
        // A partial last line from an interrupted append: the op is still on its pod and is fetched again.
      }
    }
    return [...result.values()];
  }

  async appendOps(invoiceId: InvoiceId, ops: readonly SourcedOp[]): Promise<void> {
    if (ops.length === 0) return;
    const dir = this.invoiceDir(invoiceId);
    // Business data of one company: readable by this user only, like the credentials beside it.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(join(dir, 'ops.jsonl'), 'a', 0o600);
    try {
      await handle.write(ops.map(({ op, container }) => JSON.stringify({ container, op }) + '\n').join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async loadContainerStates(invoiceId: InvoiceId): Promise<Record<string, ContainerState>> {
    return (await readJson<Record<string, ContainerState>>(join(this.invoiceDir(invoiceId), 'containers.json'))) ?? {};
  }

  async saveContainerStates(invoiceId: InvoiceId, states: Record<string, ContainerState>): Promise<void> {
    await writeFileAtomic(join(this.invoiceDir(invoiceId), 'containers.json'), JSON.stringify(states));
  }

  async loadFeeds(): Promise<Record<string, FeedState>> {
    return (await readJson<Record<string, FeedState>>(join(this.dir, 'feeds.json'))) ?? {};
  }

  async saveFeeds(feeds: Record<string, FeedState>): Promise<void> {
    await writeFileAtomic(join(this.dir, 'feeds.json'), JSON.stringify(feeds));
  }

  async enqueue(entry: OutboxEntry): Promise<void> {
    await writeFileAtomic(join(this.dir, 'outbox', `${entry.op.id}.json`), JSON.stringify(entry));
  }

  async outbox(invoiceId?: InvoiceId): Promise<OutboxEntry[]> {
    const names = await readdir(join(this.dir, 'outbox')).catch(() => [] as string[]);
    const entries: OutboxEntry[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.json') || !isOpId(name.slice(0, -5))) continue;
      const entry = await readJson<OutboxEntry>(join(this.dir, 'outbox', name));
      if (!entry) continue;
      const op = withId(entry.op) as AnyOp;
      if (op.id !== entry.op.id) continue;
      if (invoiceId === undefined || op.invoiceId === invoiceId) entries.push({ ...entry, op });
    }
    return entries.sort(outboxOrder);
  }

  async dequeue(opId: OpId): Promise<void> {
    await rm(join(this.dir, 'outbox', `${opId}.json`), { force: true });
  }

  async loadKeys(): Promise<KnownKeys> {
    const stored = await readJson<KnownKeys | PublishedKey[]>(join(this.dir, 'keys.json'));
    // A list alone is what an earlier version kept: its profiles count as never read, so the next sync reads them.
    if (stored === undefined || Array.isArray(stored)) return { keys: stored ?? [], readAt: {} };
    return stored;
  }

  async saveKeys(known: KnownKeys): Promise<void> {
    await writeFileAtomic(join(this.dir, 'keys.json'), JSON.stringify(known));
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as T;
}

/** Write to a temporary file, fsync, then rename over the target: readers see the old or the new file. */
export async function writeFileAtomic(path: string, content: string, mode = 0o600): Promise<void> {
  const dir = join(path, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}
