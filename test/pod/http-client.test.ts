/**
 * nodeHttpFetch (src/pod/http-client.ts) against the platform's fetch: every check runs on both, against real HTTP
 * servers on loopback, so the part of fetch that fedinvoice relies on behaves the same whichever sends the requests.
 * (The pod tests run the sessions over nodeHttpFetch against CSS.)
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHttpFetch } from '../../src/pod/http-client.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let seen: Seen[] = [];
let main: Server;
let other: Server;
let base: string;
let otherBase: string;
const hanging = new Set<ServerResponse>();

async function route(request: IncomingMessage, response: ServerResponse, origin: 'main' | 'other'): Promise<void> {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  seen.push({ method: request.method!, url: `${origin}${request.url}`, headers: request.headers, body });
  const path = request.url!;
  if (path === '/text') {
    response.writeHead(200, 'Fine', { 'content-type': 'text/turtle', ETag: '"v1"', Link: '<a>; rel="x"' });
    response.end('<> a <b> .');
  } else if (path === '/json') {
    response.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
  } else if (path === '/echo') {
    response.writeHead(200).end(`${request.method} ${body}`);
  } else if (path === '/not-modified') {
    response.writeHead(304, { etag: '"v1"' }).end();
  } else if (path === '/no-content') {
    response.writeHead(204).end();
  } else if (path === '/chunks') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('a'.repeat(1000));
    setTimeout(() => response.end('b'.repeat(1000)), 5);
  } else if (path === '/broken') {
    response.writeHead(200, { 'content-length': '1000' });
    response.write('x'.repeat(100), () => response.socket?.destroy());
  } else if (path === '/hang') {
    hanging.add(response);
  } else if (path.startsWith('/redirect/')) {
    const [, , status, where] = path.split('/');
    const location = where === 'other' ? `${otherBase}/echo` : '/echo';
    response.writeHead(Number(status), { location }).end();
  } else {
    response.writeHead(404).end('not here');
  }
}

async function listen(origin: 'main' | 'other'): Promise<Server> {
  const server = createServer((request, response) => void route(request, response, origin));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

beforeAll(async () => {
  main = await listen('main');
  other = await listen('other');
  base = `http://127.0.0.1:${(main.address() as AddressInfo).port}`;
  otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const response of hanging) response.destroy();
  main.closeAllConnections();
  other.closeAllConnections();
  await Promise.all([new Promise((r) => main.close(r)), new Promise((r) => other.close(r))]);
});

const fetches: Array<[string, typeof fetch]> = [
  ['the platform fetch', (input, init) => fetch(input, init)],
  ['nodeHttpFetch', nodeHttpFetch],
];

describe.each(fetches)('%s', (_name, fetchFn) => {
  it('sends the method, headers and body, and reads status, headers, text and json', async () => {
    seen = [];
    const response = await fetchFn(`${base}/text`, { headers: { Accept: 'text/turtle', 'if-none-match': '"v0"' } });
    expect([response.status, response.ok, response.statusText]).toEqual([200, true, 'Fine']);
    expect([response.headers.get('ETAG'), response.headers.get('content-type'), response.headers.get('missing')]).toEqual(['"v1"', 'text/turtle', null]);
    expect(new Headers(response.headers).get('link')).toBe('<a>; rel="x"');
    expect(await response.text()).toBe('<> a <b> .');
    expect(seen[0]!.headers).toMatchObject({ accept: 'text/turtle', 'if-none-match': '"v0"' });

    const put = await fetchFn(`${base}/echo`, { method: 'PUT', headers: [['content-type', 'text/turtle']], body: 'é ok' });
    expect(await put.text()).toBe('PUT é ok');
    expect(seen[1]!.headers['content-length']).toBe(String(Buffer.byteLength('é ok')));
    const created = await fetchFn(`${base}/json`, { method: 'POST', body: '' });
    expect([created.status, await created.json()]).toEqual([201, { ok: true }]);
    const missing = await fetchFn(`${base}/nowhere`);
    expect([missing.status, missing.ok, await missing.text()]).toEqual([404, false, 'not here']);
  });

  it('gives no body for 304, 204 and HEAD, and a stream that reads and cancels for others', async () => {
    for (const [path, method] of [['/not-modified', 'GET'], ['/no-content', 'GET'], ['/text', 'HEAD']] as const) {
      const response = await fetchFn(`${base}${path}`, { method });
      expect(response.body).toBeNull();
      expect(await response.text()).toBe('');
    }
    const response = await fetchFn(`${base}/chunks`);
    const reader = response.body!.getReader();
    let total = 0;
    for (let next = await reader.read(); !next.done; next = await reader.read()) total += next.value.byteLength;
    expect(total).toBe(2000);
    const cancelled = await fetchFn(`${base}/chunks`);
    await cancelled.body!.cancel();
    const afterCancel = await fetchFn(`${base}/text`);
    expect(afterCancel.status).toBe(200); // a cancelled body leaves the client usable
    await afterCancel.arrayBuffer();
  });

  it('follows redirects as fetch does, and sends no credentials to another origin', async () => {
    seen = [];
    const after303 = await fetchFn(`${base}/redirect/303/same`, { method: 'POST', body: 'gone', headers: { authorization: 'DPoP t', dpop: 'p' } });
    expect([after303.redirected, after303.url, await after303.text()]).toEqual([true, `${base}/echo`, 'GET ']);
    expect(seen[1]!.headers).toMatchObject({ authorization: 'DPoP t', dpop: 'p' });
    const after307 = await fetchFn(`${base}/redirect/307/same`, { method: 'PUT', body: 'kept' });
    expect(await after307.text()).toBe('PUT kept');
    seen = [];
    const elsewhere = await fetchFn(`${base}/redirect/307/other`, { method: 'PUT', body: 'x', headers: { authorization: 'DPoP t', dpop: 'p', accept: 'a/b' } });
    expect(await elsewhere.text()).toBe('PUT x');
    expect(seen[1]!.url).toBe('other/echo');
    expect(seen[1]!.headers.authorization).toBeUndefined();
    expect(seen[1]!.headers.accept).toBe('a/b');
    const manual = await fetchFn(`${base}/redirect/302/same`, { redirect: 'manual' });
    expect([manual.status, manual.headers.get('location')]).toEqual([302, '/echo']);
  });

  it('rejects a refused connection with the error code as cause, an abort with the signal reason, a broken body on read', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await fetchFn(`http://127.0.0.1:${port}/`).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TypeError);
    expect(((refused as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    const timedOut = await fetchFn(`${base}/hang`, { signal: AbortSignal.timeout(50) }).catch((error: unknown) => error);
    expect((timedOut as DOMException).name).toBe('TimeoutError');

    const broken = await fetchFn(`${base}/broken`);
    expect(broken.status).toBe(200);
    await expect(broken.text()).rejects.toThrow(TypeError);
  });
});
