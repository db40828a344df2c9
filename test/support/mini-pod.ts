/**
 * A minimal LDP server over real HTTP on 127.0.0.1, speaking exactly the subset of Solid that the replica uses,
 * with the answers CSS 7.2 gives (test/pod/resources.contract.ts pins them on CSS):
 *
 *   GET container    Turtle listing with ldp:contains, an ETag; `If-None-Match: <etag>` → 304; 404 if absent
 *   GET resource     the body as stored, text/turtle, Content-Length; 501 when Turtle is asked for a resource
 *                    stored with another content type (what CSS answers for a binary file it cannot convert)
 *   HEAD             200 with `Link: <…/.acl>; rel="acl"`, or 404
 *   PUT              creates missing parent containers; `If-None-Match: *` on an existing resource → 412;
 *                    a container PUT (Link rel=type ldp:BasicContainer, or URL ending in '/') creates a container
 *
 * `startMiniPod(port, { etags: false })` answers like a Solid server that sends no ETags (so a listing is never
 * answered 304); it never offers notifications either way (no storage description is linked).
 *
 * No authentication or access control: it exists so that a thousand fault-injected schedules can run over the real
 * `fetch` and real sockets in seconds, where a Community Solid Server needs ~8 ms per authenticated request.
 * Access control is tested on real CSS (test/pod/access.test.ts, test/security/*). `stop()` + `start()` keeps the
 * data: a restart.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Entry {
  readonly container: boolean;
  body: string;
  etag: number;
  /** As given by the PUT; text/turtle when none was. */
  readonly contentType?: string;
}

export interface MiniPod {
  readonly baseUrl: string;
  readonly port: number;
  readonly up: boolean;
  /** Requests handled, by method. */
  readonly handled: Record<string, number>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

let etagCounter = 0;

export interface MiniPodOptions {
  /** Send ETags and answer `If-None-Match` with 304 (default true, as CSS does). */
  readonly etags?: boolean;
}

export async function startMiniPod(port = 0, options: MiniPodOptions = {}): Promise<MiniPod> {
  const sendEtags = options.etags ?? true;
  const entries = new Map<string, Entry>([['/', { container: true, body: '', etag: ++etagCounter }]]);
  const handled: Record<string, number> = {};
  let server: http.Server | undefined;
  let boundPort = port;

  const parentOf = (path: string): string | null => {
    if (path === '/') return null;
    const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
    return trimmed.slice(0, trimmed.lastIndexOf('/') + 1);
  };
  const touch = (path: string | null) => {
    for (let p = path; p !== null; p = parentOf(p)) {
      const entry = entries.get(p);
      if (entry) entry.etag = ++etagCounter;
    }
  };
  const ensureParents = (path: string) => {
    const parent = parentOf(path);
    if (parent === null || entries.has(parent)) return;
    ensureParents(parent);
    entries.set(parent, { container: true, body: '', etag: ++etagCounter });
    touch(parentOf(parent));
  };
  const listing = (path: string): string => {
    const members = [...entries.keys()]
      .filter((key) => key !== path && parentOf(key) === path && !key.endsWith('.acl'))
      .sort()
      .map((key) => `<${key.slice(path.length)}>`);
    const contains = members.length ? `;\n  <http://www.w3.org/ns/ldp#contains> ${members.join(', ')}` : '';
    return `<> a <http://www.w3.org/ns/ldp#BasicContainer>${contains} .\n`;
  };

  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const method = request.method ?? 'GET';
      handled[method] = (handled[method] ?? 0) + 1;
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
      const entry = entries.get(path);
      const aclLink = `<${path.endsWith('/') ? `${path}.acl` : `${path}.acl`}>; rel="acl"`;
      if (method === 'GET' || method === 'HEAD') {
        if (!entry) {
          response.writeHead(404).end();
          return;
        }
        const etag = `"${entry.etag}-text/turtle"`;
        if (sendEtags && entry.container && request.headers['if-none-match'] === etag) {
          response.writeHead(304, { etag }).end();
          return;
        }
        const contentType = entry.contentType ?? 'text/turtle';
        if (contentType !== 'text/turtle' && request.headers.accept === 'text/turtle') {
          response.writeHead(501).end();
          return;
        }
        const body = Buffer.from(entry.container ? listing(path) : entry.body, 'utf8');
        response.writeHead(200, { 'content-type': contentType, 'content-length': body.length, ...(sendEtags ? { etag } : {}), link: aclLink });
        response.end(method === 'HEAD' ? undefined : body);
        return;
      }
      if (method === 'PUT') {
        if (entry && request.headers['if-none-match'] === '*') {
          response.writeHead(412).end();
          return;
        }
        const isContainer = path.endsWith('/');
        if (entry && isContainer) {
          response.writeHead(409).end();
          return;
        }
        ensureParents(path);
        const contentType = request.headers['content-type']?.split(';')[0]?.trim();
        const stored = { container: isContainer, body: isContainer ? '' : Buffer.concat(chunks).toString('utf8'), etag: ++etagCounter };
        entries.set(path, contentType && !isContainer ? { ...stored, contentType } : stored);
        if (!path.endsWith('.acl')) touch(parentOf(path));
        response.writeHead(entry ? 205 : 201).end();
        return;
      }
      response.writeHead(405).end();
    });
  };

  const pod: MiniPod = {
    get baseUrl() {
      return `http://localhost:${boundPort}/`;
    },
    get port() {
      return boundPort;
    },
    get up() {
      return server !== undefined;
    },
    handled,
    start: async () => {
      if (server) return;
      const next = http.createServer(handler);
      // Long: undici closes a kept-alive connection 1 s before the server's announced timeout, so a 1 s timeout
      // would cost a new connection for every request.
      next.keepAliveTimeout = 60_000;
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(boundPort, '127.0.0.1', () => resolve());
      });
      boundPort = (next.address() as AddressInfo).port;
      server = next;
    },
    stop: async () => {
      const current = server;
      if (!current) return;
      server = undefined;
      await new Promise<void>((resolve) => {
        current.close(() => resolve());
        current.closeAllConnections();
      });
    },
  };
  await pod.start();
  return pod;
}
