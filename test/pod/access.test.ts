/**
 * Two real servers (buyer, seller) plus a stranger account on the buyer's server: who may read and write an
 * invoice container after setInvoiceAccess, across servers, and which interfaces the servers listen on.
 */
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FedinvoiceError } from '../../src/model/errors.ts';
import { HttpError } from '../../src/pod/http-error.ts';
import { setInvoiceAccess } from '../../src/pod/acl.ts';
import { createClientCredentials } from '../../src/pod/accounts.ts';
import { getResource, listContainer, putImmutable } from '../../src/pod/resources.ts';
import { loginDevice } from '../../src/pod/session.ts';
import { canConnect, startTestPods, type TestPods } from '../support/pods.ts';

const op = (n: number) => `<#op> <https://example.test/ns#n> ${n} .\n`;

async function statusOf(promise: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof HttpError) return error.status;
    throw error;
  }
}

describe('access between two pod servers', () => {
  let pods: TestPods;
  let container: string;
  let member: string;

  beforeAll(async () => {
    pods = await startTestPods();
    container = `${pods.buyer.podRoot}invoices/inv-1/`;
    member = `${container}buyer/ops/op-1.ttl`;
    await setInvoiceAccess(pods.buyer.devices.desktop.fetch, container, pods.buyer.webId, [pods.seller.webId]);
    expect(await putImmutable(pods.buyer.devices.desktop.fetch, member, op(1))).toBe('created');
  });
  afterAll(async () => {
    await pods?.stop();
  });

  it('gives each party its own WebID and pod on its own server', () => {
    expect(pods.buyer.baseUrl).toMatch(/^http:\/\/localhost:\d+\/$/);
    expect(pods.seller.baseUrl).not.toBe(pods.buyer.baseUrl);
    expect(pods.buyer.webId).toBe(`${pods.buyer.podRoot}profile/card#me`);
    expect(pods.seller.webId).toBe(`${pods.seller.podRoot}profile/card#me`);
    expect(pods.buyer.devices.mobile.webId).toBe(pods.buyer.webId);
  });

  it("accepts the seller's token (issued by the seller's server) on the buyer's server for reading", async () => {
    const sellerFetch = pods.seller.devices.desktop.fetch;
    const listed = await sellerFetch(container, { headers: { accept: 'text/turtle' } });
    expect(listed.status).toBe(200);
    await listed.text();
    const ops = await listContainer(sellerFetch, `${container}buyer/ops/`);
    if (ops.notModified) throw new Error('unexpected notModified');
    expect(ops.members).toEqual([member]);
    const read = await getResource(sellerFetch, member, { maxBytes: 10_000 });
    expect(read.body).toContain('1');
    // The seller's other device too.
    expect((await pods.seller.devices.mobile.fetch(member)).status).toBe(200);
  });

  it('lets the owner write from a second device', async () => {
    expect(await putImmutable(pods.buyer.devices.mobile.fetch, `${container}buyer/ops/op-2.ttl`, op(2))).toBe('created');
  });

  it('refuses anonymous reads and writes with 401', async () => {
    expect((await fetch(container)).status).toBe(401);
    expect((await fetch(member)).status).toBe(401);
    expect(await statusOf(putImmutable(fetch, `${container}buyer/ops/anon.ttl`, op(3)))).toBe(401);
    expect(await statusOf(listContainer(fetch, container))).toBe(401);
  });

  it('refuses the counterparty writing into my container with 403', async () => {
    const sellerFetch = pods.seller.devices.desktop.fetch;
    const error = await putImmutable(sellerFetch, `${container}seller/ops/x.ttl`, op(4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(403);
    expect((error as HttpError).message).toContain('may not write');
    // Nor may it change the ACL.
    expect((await sellerFetch(`${container}.acl`, { method: 'PUT', headers: { 'content-type': 'text/turtle' }, body: '' })).status).toBe(403);
    // And what it tried to write is not there.
    expect((await pods.buyer.devices.desktop.fetch(`${container}seller/ops/x.ttl`)).status).toBe(404);
  });

  it("refuses a stranger's WebID with 403", async () => {
    const strangerFetch = pods.stranger.devices.desktop.fetch;
    expect(await statusOf(listContainer(strangerFetch, container))).toBe(403);
    expect(await statusOf(getResource(strangerFetch, member, { maxBytes: 10_000 }))).toBe(403);
    expect(await statusOf(putImmutable(strangerFetch, `${container}buyer/ops/s.ttl`, op(5)))).toBe(403);
  });

  it('grants a later reader by calling setInvoiceAccess again', async () => {
    const strangerFetch = pods.stranger.devices.desktop.fetch;
    const other = `${pods.buyer.podRoot}invoices/inv-2/`;
    await setInvoiceAccess(pods.buyer.devices.desktop.fetch, other, pods.buyer.webId, [pods.seller.webId]);
    await putImmutable(pods.buyer.devices.desktop.fetch, `${other}a.ttl`, op(6));
    expect((await strangerFetch(`${other}a.ttl`)).status).toBe(403);
    await setInvoiceAccess(pods.buyer.devices.desktop.fetch, other, pods.buyer.webId, [pods.seller.webId, pods.stranger.webId]);
    expect((await strangerFetch(`${other}a.ttl`)).status).toBe(200);
    expect((await pods.seller.devices.desktop.fetch(`${other}a.ttl`)).status).toBe(200);
  });

  it('listens on 127.0.0.1 only', async () => {
    for (const party of [pods.buyer, pods.seller]) {
      expect(party.server.address.address).toBe('127.0.0.1');
      expect(party.server.address.port).toBe(Number(new URL(party.baseUrl).port));
    }
    // Connecting through any non-loopback address of this machine must fail.
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === 'IPv4')
      .map((a) => a!.address);
    const port = pods.buyer.server.address.port;
    for (const address of external) {
      expect(await canConnect(address, port)).toBe(false);
    }
    expect(await canConnect('127.0.0.1', port)).toBe(true);
  });

  it('re-logs a device in before its token expires, and refuses fetch after logout', async () => {
    const { buyer } = pods;
    const { id, secret } = await createClientCredentials(buyer.baseUrl, buyer.email, buyer.password, 'buyer-relogin', buyer.webId);
    // A margin longer than the token lifetime forces a re-login on every fetch.
    const session = await loginDevice({ clientId: id, clientSecret: secret, oidcIssuer: buyer.baseUrl }, { refreshBeforeMs: 3_600_000 });
    try {
      const first = session.expiresAt();
      expect(first).toBeGreaterThan(Date.now());
      await new Promise((r) => setTimeout(r, 1100));
      const response = await session.fetch(member);
      expect(response.status).toBe(200);
      await response.text();
      expect(session.expiresAt()).toBeGreaterThan(first);
    } finally {
      await session.logout();
    }
    await expect(session.fetch(member)).rejects.toBeInstanceOf(FedinvoiceError);
  });

  it('reports refused client credentials as a 401 HttpError', async () => {
    const error = await loginDevice({ clientId: 'nobody', clientSecret: 'wrong', oidcIssuer: pods.buyer.baseUrl }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(401);
    expect((error as HttpError).retryable).toBe(false);
  });

  it('reports an unreachable pod server as a retryable HttpError with status 0', async () => {
    const closed = await closedPort();
    const error = await listContainer(pods.buyer.devices.desktop.fetch, `http://localhost:${closed}/buyer/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(0);
    expect((error as HttpError).retryable).toBe(true);
    const login = await loginDevice({ clientId: 'x', clientSecret: 'y', oidcIssuer: `http://localhost:${closed}/` }).catch((e: unknown) => e);
    expect(login).toBeInstanceOf(HttpError);
    expect((login as HttpError).status).toBe(0);
  });
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
