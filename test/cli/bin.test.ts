/**
 * bin/fedinvoice as a person runs it (a process, a profile on disk, a real pod): through the bundle that `npm ci`
 * builds while it is fresh, through the TypeScript sources once it is not, with the same answers either way.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asciiOnly, buildCli, bundleFile, isBuildFresh } from '../../bin/build-cli.mjs';
import { createClientCredentials } from '../../src/pod/accounts.ts';
import type { DeviceProfile } from '../../src/pod/profile.ts';
import { writeFileAtomic } from '../../src/sync/file-store.ts';
import { startSinglePod, type SinglePod } from '../support/pods.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = join(dirname(bundleFile), 'build.json');

type Run = { code: number; out: string; err: string };

function run(file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FEDINVOICE_') && name !== 'NODE_ENV')), ...extraEnv };
  return new Promise((resolve) =>
    execFile(file, args, { cwd: tmpdir(), env }, (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err })),
  );
}

const fedinvoice = (...args: string[]): Promise<Run> => run(join(root, 'bin', 'fedinvoice'), args);

let pod: SinglePod;
let dataDir: string;

beforeAll(async () => {
  pod = await startSinglePod('memory');
  dataDir = await mkdtemp(join(tmpdir(), 'fedinvoice-bin-'));
  const { party } = pod;
  const { id, secret } = await createClientCredentials(party.baseUrl, party.email, party.password, 'bin-desktop', party.webId);
  const profile: DeviceProfile = { name: 'buyer-desktop', business: 'buyer', device: 'desktop', webId: party.webId, podRoot: party.podRoot, oidcIssuer: party.baseUrl, clientId: id, clientSecret: secret };
  await writeFileAtomic(join(dataDir, 'profiles', 'buyer-desktop.json'), JSON.stringify(profile));
  await buildCli();
});

afterAll(async () => {
  await pod?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('bin/fedinvoice', () => {
  it('runs the fresh bundle and, once the sources are newer, the sources, with the same answers', async () => {
    expect(isBuildFresh()).toBe(true);
    // list logs in, loads the SHACL shapes (found relative to the bundle) and asks the pod.
    const built = await fedinvoice('list', '--profile', 'buyer-desktop', '--data', dataDir);
    expect(built).toEqual({ code: 0, out: expect.stringContaining('no invoices yet') as unknown as string, err: '' });
    const usage = await fedinvoice('show');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("missing required argument 'invoice'");

    const saved = await readFile(manifest, 'utf8');
    try {
      // As if every source had been edited after the build.
      await writeFile(manifest, JSON.stringify({ ...JSON.parse(saved), builtAt: 0 }));
      expect(isBuildFresh()).toBe(false);
      expect(await fedinvoice('list', '--profile', 'buyer-desktop', '--data', dataDir)).toEqual(built);
      expect(await fedinvoice('show')).toEqual(usage);
    } finally {
      await writeFile(manifest, saved);
    }
    expect(isBuildFresh()).toBe(true);
  });

  it('talks to the pod without loading the platform fetch (undici), which would add ~90 ms to every command', async () => {
    const probe = { NODE_OPTIONS: `--import=${pathToFileURL(join(root, 'test', 'support', 'report-undici.mjs')).href}` };
    // The probe sees undici when something loads it...
    expect((await run(process.execPath, ['-e', "fetch('http://127.0.0.1:1/').catch(() => {})"], probe)).err).toContain('undici loaded: true');
    // ...and a command that logs in and lists the pod does not.
    const listed = await run(join(root, 'bin', 'fedinvoice'), ['list', '--profile', 'buyer-desktop', '--data', dataDir], probe);
    expect(listed.out).toContain('no invoices yet');
    expect(listed.err).toContain('undici loaded: false');
  });

  it('keeps the compiled bundle in a code cache written by the first command that does more than help, and replaces a bad one', async () => {
    const cache = `${bundleFile}.v8-cache`;
    await rm(cache, { force: true });
    expect((await fedinvoice('--help')).code).toBe(0);
    await expect(readFile(cache)).rejects.toThrow(/ENOENT/);
    const listed = await fedinvoice('list', '--profile', 'buyer-desktop', '--data', dataDir);
    expect(listed.out).toContain('no invoices yet');
    const written = await readFile(cache);
    expect(written.length).toBeGreaterThan(100_000);
    // A cache V8 refuses (here: garbage) is not trusted: the command runs without it, and writes a good one.
    await writeFile(cache, 'not a code cache');
    expect(await fedinvoice('list', '--profile', 'buyer-desktop', '--data', dataDir)).toEqual(listed);
    expect((await readFile(cache)).length).toBeGreaterThan(100_000);
  });

  it('writes the bundle in ASCII alone, each other character escaped to mean the same (a single one costs every start ~5 ms)', async () => {
    expect(await readFile(bundleFile, 'utf8')).not.toMatch(/[\u0080-\uffff]/);
    const source = "[/['‘’]/g.test('’'), 'é€🧾', `é${1}`, /🧾/u.test('🧾')]";
    const escaped = asciiOnly(source);
    expect(escaped).not.toMatch(/[\u0080-\uffff]/);
    expect(eval(escaped)).toEqual(eval(source));
    expect(eval(escaped)).toEqual([true, 'é€🧾', 'é1', true]);
    expect(() => asciiOnly('/\\‘/')).toThrow(/after a backslash/);
  });

  it('treats a missing bundle or a vanished source as stale', async () => {
    const saved = await readFile(manifest, 'utf8');
    try {
      await writeFile(manifest, JSON.stringify({ ...JSON.parse(saved), inputs: ['src/cli/no-such-file.ts'] }));
      expect(isBuildFresh()).toBe(false);
      await rm(manifest);
      expect(isBuildFresh()).toBe(false);
    } finally {
      await writeFile(manifest, saved);
    }
  });
});
