import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { FedinvoiceError } from '../model/errors.ts';
import { asWebId } from '../model/ids.ts';
import type { OpenDevice } from '../sync/device.ts';
import type { BundleVerdict, KeyTrust, PinnedKey } from '../sync/evidence-bundle.ts';
import { formatInvoice } from './format.ts';

type WithDevice = <T>(work: (device: OpenDevice) => Promise<T>) => Promise<T>;

/**
 * Non-repudiation commands: `evidence` writes an invoice's evidence bundle, `verify` checks one offline (or an
 * invoice from the pods), `device revoke` revokes a device's key (docs/signatures.md).
 */
export function addEvidenceCommands(program: Command, withDevice: WithDevice, print: (text: string) => void, json: () => boolean): void {
  program
    .command('evidence <invoice>')
    .description('write a self-contained, signed evidence bundle of the invoice that `fedinvoice verify FILE` checks offline')
    .requiredOption('--out <file>', 'where to write the bundle')
    .action(async (invoice: string, options: { out: string }) => {
      await withDevice(async ({ replica }) => {
        const bundle = await replica.evidenceBundle(await replica.resolveInvoice(invoice));
        await writeFile(options.out, bundle, { mode: 0o644 });
        print(`wrote ${options.out}: ${bundle.trimEnd().split('\n').length - 1} signed op(s); check it anywhere with: fedinvoice verify ${options.out}`);
      });
    });

  program
    .command('verify <bundle-or-invoice>')
    .description('check an evidence bundle offline (no pod), or an invoice from the pods: the agreed invoice, who signed each decision, the terms hash')
    .option('--trust <webid=key>', "trust only this key for this WebID, whatever the bundle's header says (repeat for more keys or WebIDs)", collectPin, [])
    .action(async (target: string, options: { trust: PinnedKey[] }) => {
      const { verifyBundle } = await import('../sync/evidence-bundle.ts');
      const text = await readFile(target, 'utf8').catch(() => null);
      const bundle = text ?? (await withDevice(async ({ replica }) => replica.evidenceBundle(await replica.resolveInvoice(target))));
      const verdict = verifyBundle(bundle, { pins: options.trust });
      if (!verdict.ok) throw new FedinvoiceError(`verification FAILED: ${verdict.problem}`);
      print(json() ? JSON.stringify(verdict, null, 2) : formatVerdict(verdict));
    });

  program
    .command('device')
    .description("this business's device keys")
    .command('revoke <label>')
    .description("revoke the signing key of the device <label> (a lost or stolen device): its ops count only where this business's other devices had built on them")
    .action(async (label: string) => {
      await withDevice(async ({ replica, profile }) => {
        const { revokeDeviceKey } = await import('../pod/device-keys.ts');
        const keys = await revokeDeviceKey(replica.fetch, asWebId(profile.webId), label);
        print(`revoked ${keys.length} key(s) of device ${label} in ${profile.webId.split('#')[0]}: ${keys.map((key) => key.key).join(', ')}`);
      });
    });
}

/** One `--trust <webid>=<key>`: the WebID is everything before the last '=' (a WebID may hold one, a Multikey never does). */
function collectPin(value: string, pins: PinnedKey[]): PinnedKey[] {
  const at = value.lastIndexOf('=');
  const webId = value.slice(0, at);
  const key = value.slice(at + 1);
  if (at <= 0 || !/^https?:\/\//.test(webId) || !/^z[1-9A-HJ-NP-Za-km-z]+$/.test(key)) {
    throw new FedinvoiceError(`--trust takes <webid>=<key>, like https://pod.example/profile/card#me=z6Mk…; got "${value}"`);
  }
  return [...pins, { webId, key }];
}

const BASIS: Record<KeyTrust['basis'], (trust: KeyTrust) => string> = {
  pinned: () => 'pinned by you (--trust)',
  vouched: (trust) => `vouched for by the signed ops of ${trust.vouchedBy.join(', ')} in the bundle, which built on the op declaring it`,
  header: (trust) => `rests on the bundle's header only (the profile as read when it was written): pin it with --trust ${trust.webId}=${trust.key}`,
};

function formatTrust(trust: readonly KeyTrust[]): string[] {
  return trust.map((one) => `  ${one.webId}  key ${one.key.slice(0, 16)}… (device ${one.device}): ${BASIS[one.basis](one)}`);
}

function formatVerdict(verdict: Extract<BundleVerdict, { ok: true }>): string {
  const decisions = verdict.decisions.map(
    (d) => `  ${d.at}  ${d.type.padEnd(12)} ${d.state.padEnd(8)} signed by ${d.webId} (device ${d.device}, key ${d.key.slice(0, 16)}…)`,
  );
  return [
    `verified: ${verdict.ops} op(s), each named by the hash of its content and signed by a device key of its author`,
    `terms hash: ${verdict.termsHash ?? '(not agreed)'}`,
    formatInvoice(verdict.invoice),
    'decisions:',
    ...decisions,
    'keys relied on:',
    ...formatTrust(verdict.trust),
  ].join('\n');
}
