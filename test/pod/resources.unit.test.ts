/**
 * resources.ts against a tiny local HTTP server that behaves in ways CSS does not (no Content-Length, a lying
 * Content-Length), and against a closed port. No CSS here, so this file is fast.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/pod/http-error.ts';
import { aclLinkOf } from '../../src/pod/acl.ts';
import { BodyTooLargeError, getResource, listContainer, parseMembers, putImmutable } from '../../src/pod/resources.ts';

describe('resources.ts edge cases', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/chunked') {
        // 64 KiB in 1 KiB chunks, no Content-Length.
        res.writeHead(200, { 'content-type': 'text/turtle' });
        let i = 0;
        const write = () => {
          while (i < 64) {
            i += 1;
            if (!res.write('x'.repeat(1024))) return void res.once('drain', write);
          }
          res.end();
        };
        write();
      } else if (req.url === '/declared') {
        res.writeHead(200, { 'content-type': 'text/turtle', 'content-length': '5000' });
        res.end('y'.repeat(5000));
      } else if (req.url === '/busy') {
        res.writeHead(503).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('counts bytes while streaming when there is no Content-Length', async () => {
    const error = await getResource(fetch, `${base}/chunked`, { maxBytes: 4096 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    const whole = await getResource(fetch, `${base}/chunked`, { maxBytes: 64 * 1024 });
    expect(whole.body).toHaveLength(64 * 1024);
  });

  it('refuses on Content-Length before reading', async () => {
    const error = await getResource(fetch, `${base}/declared`, { maxBytes: 4999 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect((error as BodyTooLargeError).maxBytes).toBe(4999);
  });

  it('marks 5xx answers retryable and names the url', async () => {
    const error = await listContainer(fetch, `${base}/busy`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(503);
    expect((error as HttpError).retryable).toBe(true);
    expect((error as HttpError).message).toContain(`${base}/busy`);
  });

  it('turns a network failure into HttpError status 0', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x.ttl`;
    await new Promise((r) => closed.close(r));
    const error = await putImmutable(fetch, url, '<#a> <#b> <#c> .').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(0);
    expect((error as HttpError).retryable).toBe(true);
    expect((error as HttpError).message).toContain('could not be reached');
  });

  it('parses ldp:contains of the container only', () => {
    const turtle = `@prefix ldp: <http://www.w3.org/ns/ldp#>.
      <> ldp:contains <b.ttl>, <a.ttl>, <sub/>.
      <other/> ldp:contains <other/z.ttl>.`;
    expect(parseMembers(turtle, 'http://localhost:1/c/')).toEqual([
      'http://localhost:1/c/a.ttl',
      'http://localhost:1/c/b.ttl',
      'http://localhost:1/c/sub/',
    ]);
  });

  it('finds the acl link among several Link values', () => {
    const header = '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type", <.acl>; rel="acl", <http://x/meta>; rel="describedby"';
    expect(aclLinkOf(header, 'http://localhost:1/c/')).toBe('http://localhost:1/c/.acl');
    expect(aclLinkOf('<http://x/>; rel="type"', 'http://localhost:1/c/')).toBeNull();
  });
});
