import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../../src/cli/main.ts';
import { createClientCredentials } from '../../src/pod/accounts.ts';
import type { DeviceProfile } from '../../src/pod/profile.ts';
import { writeFileAtomic } from '../../src/sync/file-store.ts';

/** What a device profile needs of a business: its account on its pod server, its WebID and pod. */
export interface Business {
  readonly baseUrl: string;
  readonly email: string;
  readonly password: string;
  readonly webId: string;
  readonly podRoot: string;
}

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * The CLI exactly as a person runs it (minus the process boundary) over one data folder: `profile` writes a device
 * profile with new client credentials, `run` runs a command and checks that no secret was printed.
 */
export function cliKit(dataDir: string) {
  const secrets: string[] = [];
  return {
    async profile(business: Business, name: string, device: string): Promise<void> {
      const profileName = `${name}-${device}`;
      const credentials = await createClientCredentials(business.baseUrl, business.email, business.password, `cli-${profileName}`, business.webId);
      secrets.push(credentials.secret);
      const profile: DeviceProfile = {
        name: profileName,
        business: name,
        device,
        webId: business.webId,
        podRoot: business.podRoot,
        oidcIssuer: business.baseUrl,
        clientId: credentials.id,
        clientSecret: credentials.secret,
      };
      await writeFileAtomic(join(dataDir, 'profiles', `${profileName}.json`), JSON.stringify(profile, null, 2));
    },
    async run(...argv: string[]): Promise<CliRun> {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['--data', dataDir, ...argv], { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, isTTY: false });
      const result = { code, out: out.join('\n'), err: err.join('\n') };
      for (const secret of secrets) expect(result.out + result.err).not.toContain(secret);
      return result;
    },
  };
}
