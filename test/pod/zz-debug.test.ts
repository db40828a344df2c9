import { it, expect } from 'vitest';
import { startPodServer } from '../../src/pod/server.ts';
it('debug', async () => {
  const s = await startPodServer({ port: 3903, storage: 'file', dataDir: '/tmp/dbgcss' });
  const r = await fetch('http://localhost:3903/.well-known/openid-configuration'); console.log(r.status, (await r.text()).slice(0, 1500));
  await s.stop();
  expect(1).toBe(1);
});
