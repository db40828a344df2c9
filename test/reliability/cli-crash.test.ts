/**
 * A crash of the CLI between writing its outbox and the PUT loses nothing: a real `fedinvoice add-to-cart` child
 * process whose PUT never gets an answer (test/support/hang-put-hook.mjs) is killed with SIGKILL once the op is in
 * its fsynced outbox; the next run of the CLI pushes it, exactly once, and the counterparty sees it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { invoiceKeyOf } from '../../src/model/invoice-key.ts';
import type { FoldedInvoice } from '../../src/model/invoice.ts';
import { createClientCredentials } from '../../src/pod/accounts.ts';
import type { DeviceProfile } from '../../src/pod/profile.ts';
import { listContainer } from '../../src/pod/resources.ts';
import { writeFileAtomic } from '../../src/sync/file-store.ts';
import { startTestPods, type TestParty, type TestPods } from '../support/pods.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOK = new URL('../support/hang-put-hook.mjs', import.meta.url).href;
let pods: TestPods;
let dataDir: string;

async function writeProfile(party: TestParty, side: 'buyer' | 'seller'): Promise<void> {
  const { id, secret } = await createClientCredentials(party.baseUrl, party.email, party.password, `crash-${side}`, party.webId);
  const profile: DeviceProfile = { name: `${side}-desktop`, device: 'desktop', webId: party.webId, podRoot: party.podRoot, oidcIssuer: party.baseUrl, clientId: id, clientSecret: secret };
  await writeFileAtomic(join(dataDir, 'profiles', `${side}-desktop.json`), JSON.stringify(profile));
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['--data', dataDir, ...argv], { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  pods = await startTestPods();
  dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-crash-'));
  await writeProfile(pods.buyer, 'buyer');
  await writeProfile(pods.seller, 'seller');
});
afterAll(async () => {
  await pods?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a CLI killed between its outbox and its PUT', () => {
  it('loses nothing: the next run pushes the op, once', async () => {
    expect((await cli('create', 'CRASH-1', '--profile', 'buyer-desktop', '--with', 'seller-desktop', '--name', 'Michiel', '--counterparty-name', 'George')).code).toBe(0);
    expect((await cli('join', 'CRASH-1', '--profile', 'seller-desktop', '--with', 'buyer-desktop')).code).toBe(0);
    const container = `${pods.buyer.podRoot}invoices/${invoiceKeyOf(pods.buyer.podRoot, 'CRASH-1')}/ops/`;
    const outbox = join(dataDir, 'devices', 'buyer-desktop', 'outbox');

    const child = spawn(process.execPath, ['--import', 'tsx', '--import', HOOK, 'src/cli/entry.ts', '--data', dataDir, '--profile', 'buyer-desktop', 'add-to-cart', 'CRASH-1', 'beans', '7'], {
      cwd: ROOT,
      env: { ...process.env, FEDINVOICE_TEST_HANG_PUT: '1', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const hanging = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /HANGING-PUT (\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before its PUT: ${stderr}`)));
    });
    // The op is on disk (fsynced before the PUT started), and not on the pod.
    const queued = (await readdir(outbox)).filter((name) => name.endsWith('.json'));
    expect(queued).toHaveLength(1);
    const opId = queued[0]!.slice(0, -'.json'.length);
    expect(hanging).toBe(`${container}${opId}`);
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const before = await listContainer(pods.buyer.devices.desktop.fetch, container);
    // A 304 would hold no members, and "not listed" would pass without looking: it must be a real listing.
    if (before.notModified) expect.fail('the listing without an ETag answered 304');
    expect(before.members).not.toContain(`${container}${opId}`);

    // The next run (any command: sync here) pushes it.
    const next = await cli('sync', 'CRASH-1', '--profile', 'buyer-desktop');
    expect(next.code).toBe(0);
    expect(existsSync(join(outbox, `${opId}.json`))).toBe(false);
    const after = await listContainer(pods.buyer.devices.desktop.fetch, container);
    if (after.notModified) expect.fail('the listing without an ETag answered 304');
    const members = after.members;
    expect(members.filter((url) => url === `${container}${opId}`)).toHaveLength(1);
    const shown = JSON.parse((await cli('show', 'CRASH-1', '--json', '--profile', 'seller-desktop')).out) as FoldedInvoice;
    expect(shown.items[0]).toMatchObject({ productCode: 'beans', desired: 7 });
    expect(shown.log.filter((entry) => entry.opId === opId)).toHaveLength(1);
  }, 120_000);
});
