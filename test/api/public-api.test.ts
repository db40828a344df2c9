import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as api from 'fedinvoice';

// The package's public surface: what 'fedinvoice' exports is chosen, not whatever src/ happens to export.
describe("the public API ('fedinvoice')", () => {
  it('exports exactly the curated values (types are checked by tsc through test/api/embedder.ts)', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'FedinvoiceError',
        'FileDeviceStore',
        'HttpError',
        'MemoryDeviceStore',
        'OpRefusedError',
        'Replica',
        'asContainerUrl',
        'asInvoiceId',
        'asWebId',
        'emptyContainerState',
        'fold',
        'invoiceContainerOf',
        'isDenied',
        'isInvoiceId',
        'isNotFound',
        'isRetryable',
        'loadOpValidator',
        'loginDevice',
        'messageOf',
        'opsContainerOf',
        'outboxOrder',
        'generateDeviceKey',
        'opSigner',
        'publishDeviceKey',
        'readPublishedKeys',
        'revokeDeviceKey',
        'verifyBundle',
      ].sort(),
    );
  });

  it('works from a plain Node process importing it by package name, subpath included', async () => {
    const script = fileURLToPath(new URL('./embedder.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    expect(JSON.parse(stdout)).toEqual({
      status: 'no invoice',
      invoices: ['INV-EMBED'],
      validator: 'object',
      retryable: true,
      oneRoot: true,
      message: 'The pod is busy; retry later.',
      checks: 6,
    });
  });
});
