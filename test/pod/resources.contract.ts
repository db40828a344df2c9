/**
 * One contract for the pod primitives (resources.ts, acl.ts), run against every storage backend
 * (resources.memory.test.ts, resources.file.test.ts). Each run starts ONE server with one party.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/pod/http-error.ts';
import { setInvoiceAccess } from '../../src/pod/acl.ts';
import { BodyTooLargeError, ensureContainer, getResource, listContainer, putImmutable } from '../../src/pod/resources.ts';
import type { SinglePod, TestParty } from '../support/pods.ts';

const op = (n: number) => `<#op> <https://example.test/ns#n> ${n} .\n`;

export function resourcesContract(backend: string, start: () => Promise<SinglePod>): void {
  describe(`pod primitives on a ${backend} CSS`, () => {
    let pod: SinglePod;
    let me: TestParty;
    let f: typeof fetch;
    beforeAll(async () => {
      pod = await start();
      me = pod.party;
      f = me.devices.desktop.fetch;
    });
    afterAll(async () => {
      await pod?.stop();
    });

    it('putImmutable creates once, then reports existed without changing the content', async () => {
      const url = `${me.podRoot}invoices/put-1/ops/a.ttl`;
      expect(await putImmutable(f, url, op(1))).toBe('created');
      expect(await putImmutable(f, url, op(2))).toBe('existed');
      // A second device of the same party retrying the same op is also 'existed'.
      expect(await putImmutable(me.devices.mobile.fetch, url, op(1))).toBe('existed');
      const got = await getResource(f, url, { maxBytes: 10_000 });
      expect(got.body).toContain('1');
      expect(got.body).not.toContain(' 2');
      expect(got.contentType).toMatch(/^text\/turtle/);
      const listing = await listContainer(f, `${me.podRoot}invoices/put-1/ops/`);
      expect(listing.notModified).toBe(false);
      if (!listing.notModified) expect(listing.members).toEqual([url]);
    });

    it('listContainer lists members, answers notModified for an unchanged container, and sees a new member', async () => {
      const container = `${me.podRoot}invoices/list-1/ops/`;
      await putImmutable(f, `${container}a.ttl`, op(1));
      await putImmutable(f, `${container}b.ttl`, op(2));
      const first = await listContainer(f, container);
      if (first.notModified) throw new Error('first listing cannot be notModified');
      expect(first.members).toEqual([`${container}a.ttl`, `${container}b.ttl`]);
      expect(first.etag).toBeTruthy();

      const second = await listContainer(f, container, { etag: first.etag! });
      expect(second).toEqual({ notModified: true, serverDate: expect.any(Number) });
      // The server's clock, from the Date header: change feeds are dated by it.
      expect(Math.abs(second.serverDate! - Date.now())).toBeLessThan(5_000);

      await putImmutable(f, `${container}c.ttl`, op(3));
      const third = await listContainer(f, container, { etag: first.etag! });
      if (third.notModified) throw new Error('a container with a new member must not be notModified');
      expect(third.members).toEqual([`${container}a.ttl`, `${container}b.ttl`, `${container}c.ttl`]);
      expect(third.etag).not.toBe(first.etag);
      // And the new ETag is again answered 304.
      expect(await listContainer(f, container, { etag: third.etag! })).toMatchObject({ notModified: true });
    });

    it('listContainer of a container that does not exist is empty', async () => {
      const listing = await listContainer(f, `${me.podRoot}invoices/never-written/ops/`);
      // Marked absent: a change feed that does not exist (404) means "sync that pod whole", not "nothing new".
      expect(listing).toEqual({ notModified: false, etag: null, members: [], absent: true, serverDate: expect.any(Number) });
    });

    it('getResource refuses a body over maxBytes and reads one at the limit', async () => {
      const url = `${me.podRoot}invoices/size-1/big.ttl`;
      const turtle = `<#x> <https://example.test/ns#v> "${'x'.repeat(2000)}" .\n`;
      await putImmutable(f, url, turtle);
      const bytes = Buffer.byteLength(turtle);
      const exact = await getResource(f, url, { maxBytes: bytes });
      expect(exact.body).toBe(turtle);
      expect(exact.etag).toBeTruthy();
      const refused = await getResource(f, url, { maxBytes: 100 }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BodyTooLargeError);
      expect((refused as BodyTooLargeError).status).toBe(413);
      expect((refused as BodyTooLargeError).retryable).toBe(false);
    });

    it('getResource of a missing resource is an HttpError 404', async () => {
      const error = await getResource(f, `${me.podRoot}invoices/nothing.ttl`, { maxBytes: 1000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).status).toBe(404);
    });

    it('ensureContainer creates once and leaves an existing container alone', async () => {
      const container = `${me.podRoot}invoices/ensure-1/ops/`;
      expect(await ensureContainer(f, container)).toBe('created');
      await putImmutable(f, `${container}a.ttl`, op(1));
      expect(await ensureContainer(f, container)).toBe('existed');
      const listing = await listContainer(f, container);
      if (listing.notModified) throw new Error('unexpected notModified');
      expect(listing.members).toEqual([`${container}a.ttl`]);
    });

    it('setInvoiceAccess creates the container, keeps anonymous out, and can be called again', async () => {
      const container = `${me.podRoot}invoices/acl-1/`;
      const reader = 'http://localhost:1/reader/profile/card#me' as TestParty['webId'];
      const { aclUrl } = await setInvoiceAccess(f, container, me.webId, [reader]);
      expect(aclUrl).toBe(`${container}.acl`);
      await putImmutable(f, `${container}ops/a.ttl`, op(1));
      expect((await fetch(container)).status).toBe(401);
      expect((await fetch(`${container}ops/a.ttl`)).status).toBe(401);
      // The owner keeps full access, including to the ACL.
      const acl = await getResource(f, aclUrl, { maxBytes: 100_000 });
      expect(acl.body).toContain(reader);
      expect(acl.body).toContain('acl:default');

      const second = 'http://localhost:2/other/profile/card#me' as TestParty['webId'];
      await setInvoiceAccess(f, container, me.webId, [reader, second]);
      const updated = await getResource(f, aclUrl, { maxBytes: 100_000 });
      expect(updated.body).toContain(reader);
      expect(updated.body).toContain(second);
      const listing = await listContainer(f, `${container}ops/`);
      if (listing.notModified) throw new Error('unexpected notModified');
      expect(listing.members).toEqual([`${container}ops/a.ttl`]);
    });
  });
}
