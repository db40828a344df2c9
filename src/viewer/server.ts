/**
 * The invoice viewer: a small node:http server that acts as one device (a Replica; its credentials stay here,
 * the page never sees them) and serves
 *
 *   GET /                              the invoices the profile takes part in, and the invitations in its inbox
 *   GET /invoices/{id}                 one invoice, server-rendered
 *   GET /invoices/{id}/events          Server-Sent Events: `event: invoice` with { version, html, title, announce }
 *   GET /invoices/{id}/invoice.json    the folded invoice as JSON
 *   GET /invoices/{id}/invoice.xml     the agreed invoice as a UBL e-invoice, to download (409 and why, if it cannot be one)
 *   GET /static/viewer.css, /static/viewer.js
 *
 * Every page takes `?profile=NAME` (one of `profiles`; default `defaultProfile`). Only GET and HEAD; requests
 * whose Host is not this server's own (DNS rebinding) are refused. Pages carry a strict Content-Security-Policy
 * (no inline script or style) on top of the escaping in render.ts.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FedinvoiceError, messageOf } from '../model/errors.ts';
import { isInvoiceId, type InvoiceId } from '../model/ids.ts';
import { numberOfKey } from '../model/invoice-key.ts';
import { ExportRefusedError, exportInvoice } from '../einvoice/export.ts';
import type { FoldedInvoice } from '../model/invoice.ts';
import type { Replica, SyncResult } from '../sync/replica.ts';
import { LiveInvoice, type InvoiceSnapshot } from './live.ts';
import { readInbox } from '../sync/invitations.ts';
import {
  renderInvoiceBody,
  renderInvoicePage,
  renderListPage,
  renderNotFoundPage,
  type InboxView,
  type InvoiceListEntry,
  type PageContext,
} from './render.ts';

export interface ViewerOptions {
  /** The device the viewer acts as (a single profile). Give this or `replicaFor`. */
  readonly replica?: Replica;
  /** Opens the device of a profile (called once per profile, on first use). */
  readonly replicaFor?: (profile: string) => Promise<Replica>;
  /** Profiles the page can switch between (with `replicaFor`). */
  readonly profiles?: readonly string[];
  /** Profile used when the URL names none; default the first of `profiles`, or "<side>-<device>" of `replica`. */
  readonly defaultProfile?: string;
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Only these invoices are shown (default: every invoice the device knows). */
  readonly invoiceIds?: readonly InvoiceId[];
  /** Subscribe through Solid Notifications (default true); false: polling only. */
  readonly notifications?: boolean;
  /** Polling interval while a container has no notification channel (default 2000 ms). */
  readonly pollIntervalMs?: number;
  /** Polling interval while every container has a channel (default 10000 ms): notices a pod that died silently. */
  readonly heartbeatMs?: number;
  readonly log?: (message: string) => void;
}

export interface Viewer {
  /** e.g. http://127.0.0.1:3000/ */
  readonly url: string;
  readonly port: number;
  /** The live invoice of a profile (opened on first use): for tests and benchmarks. */
  live(invoiceId: InvoiceId, profile?: string): Promise<LiveInvoice>;
  stop(): Promise<void>;
}

interface LivePage {
  readonly live: LiveInvoice;
  readonly ctx: PageContext;
  version: number;
  body: string;
  readonly clients: Set<http.ServerResponse>;
}

interface Device {
  readonly replica: Promise<Replica>;
  readonly pages: Map<InvoiceId, Promise<LivePage>>;
}

const staticDir = new URL('./static/', import.meta.url);
const STATIC: Record<string, { type: string; body: Buffer }> = {
  '/static/viewer.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('viewer.css', staticDir)) },
  '/static/viewer.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('viewer.js', staticDir)) },
};

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

class NotFound extends FedinvoiceError {}

export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  if (!options.replica && !options.replicaFor) throw new FedinvoiceError('startViewer needs a replica or replicaFor');
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const single = options.replica?.identity.device;
  const profiles = options.profiles?.length ? [...options.profiles] : [options.defaultProfile ?? single ?? 'device'];
  const defaultProfile = options.defaultProfile ?? profiles[0]!;
  if (!profiles.includes(defaultProfile)) profiles.unshift(defaultProfile);
  const allowed = options.invoiceIds ? new Set<string>(options.invoiceIds) : null;

  const devices = new Map<string, Device>();
  let stopped = false;

  const deviceOf = (profile: string): Device => {
    let device = devices.get(profile);
    if (!device) {
      const replica = options.replicaFor ? options.replicaFor(profile) : Promise.resolve(options.replica!);
      replica.catch(() => devices.delete(profile)); // a failed login is retried on the next request
      device = { replica, pages: new Map() };
      devices.set(profile, device);
    }
    return device;
  };

  const contextFor = (profile: string, replica: Replica, path: string): PageContext => ({
    identity: { profile, webId: replica.identity.webId, device: replica.identity.device },
    profiles,
    path,
    href: (target) => (profile === defaultProfile ? target : `${target}${target.includes('?') ? '&' : '?'}profile=${encodeURIComponent(profile)}`),
  });

  const knows = async (replica: Replica, invoiceId: InvoiceId): Promise<boolean> => {
    if (allowed && !allowed.has(invoiceId)) return false;
    return (await replica.listInvoices().then((list) => list.local)).some((ref) => ref.invoiceId === invoiceId);
  };

  const pageOf = (profile: string, invoiceId: InvoiceId): Promise<LivePage> => {
    const device = deviceOf(profile);
    let page = device.pages.get(invoiceId);
    if (!page) {
      page = (async () => {
        const replica = await device.replica;
        if (!(await knows(replica, invoiceId))) throw new NotFound(`This device does not take part in invoice ${invoiceId}.`);
        const ctx = contextFor(profile, replica, `/invoices/${encodeURIComponent(invoiceId)}`);
        const live = await LiveInvoice.open(replica, invoiceId, {
          ...(options.notifications !== undefined ? { notifications: options.notifications } : {}),
          ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
          ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
          log: (message) => log(`[${profile} ${invoiceId}] ${message}`),
        });
        const livePage: LivePage = { live, ctx, version: 1, body: renderInvoiceBody(live.snapshot, ctx).value, clients: new Set() };
        live.onSnapshot((snapshot) => publish(livePage, snapshot));
        if (stopped) live.stop();
        return livePage;
      })();
      page.catch(() => device.pages.delete(invoiceId));
      device.pages.set(invoiceId, page);
    }
    return page;
  };

  const publish = (page: LivePage, snapshot: InvoiceSnapshot) => {
    const body = renderInvoiceBody(snapshot, page.ctx).value;
    if (body === page.body) return;
    page.body = body;
    page.version++;
    const event = sseEvent(page, snapshot.invoice, announcementOf(snapshot));
    for (const client of page.clients) client.write(event);
  };

  const sseEvent = (page: LivePage, invoice: FoldedInvoice, announce: string) =>
    `event: invoice\ndata: ${JSON.stringify({ version: page.version, html: page.body, title: `Invoice ${invoice.invoiceId ?? '?'} · fedinvoice`, announce })}\n\n`;

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const notFound = error instanceof NotFound;
      const message = messageOf(error);
      if (!notFound) log(`error serving ${request.url}: ${message}`);
      if (response.headersSent) {
        response.end();
        return;
      }
      send(response, notFound ? 404 : 500, 'text/plain; charset=utf-8', notFound ? message : `The viewer failed: ${message}`);
    });
  });

  const send = (response: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...extra });
    response.end(body);
  };

  let ownHosts = new Set<string>();
  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    if (!ownHosts.has((request.headers.host ?? '').toLowerCase())) {
      send(response, 421, 'text/plain; charset=utf-8', 'This viewer only answers requests addressed to itself (localhost).');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain; charset=utf-8', 'The viewer is read-only.', { allow: 'GET, HEAD' });
      return;
    }
    const url = new URL(request.url ?? '/', 'http://viewer.invalid');
    const asset = STATIC[url.pathname];
    if (asset) {
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache' });
      response.end(asset.body);
      return;
    }
    const profile = url.searchParams.get('profile') ?? defaultProfile;
    if (!profiles.includes(profile)) {
      send(response, 404, 'text/plain; charset=utf-8', `There is no device profile "${profile}" here; choose one of ${profiles.join(', ')}.`);
      return;
    }
    const html = (status: number, body: string) => send(response, status, 'text/html; charset=utf-8', body);

    if (url.pathname === '/') {
      const replica = await deviceOf(profile).replica;
      const ctx = contextFor(profile, replica, '/');
      const list = await replica.listInvoices();
      // Up to date at the cost of what changed (change feeds, one request per counterparty), not of how many invoices.
      const synced = await replica.refresh().then((result) => result.synced).catch(() => new Map<string, SyncResult>());
      const local = list.local.filter((ref) => !allowed || allowed.has(ref.invoiceId));
      const entries: InvoiceListEntry[] = await Promise.all(
        local.map(async (ref) => ({
          invoiceId: ref.invoiceId,
          invoice: synced.get(ref.invoiceId)?.invoice ?? (await replica.view(ref.invoiceId).catch(() => null)),
        })),
      );
      const joined = new Set<string>(local.map((ref) => ref.invoiceId));
      const onPodOnly = list.onPod.filter((id) => !joined.has(id) && (!allowed || allowed.has(id)));
      html(200, renderListPage(entries, onPodOnly, list.error, ctx, await inboxOf(replica)));
      return;
    }

    const match = /^\/invoices\/([^/]+)(\/events|\/invoice\.json|\/invoice\.xml)?$/.exec(url.pathname);
    const invoiceId = match ? decodeURIComponent(match[1]!) : '';
    if (!match || !isInvoiceId(invoiceId)) {
      const replica = await deviceOf(profile).replica;
      html(404, renderNotFoundPage(`Nothing here: ${url.pathname}`, contextFor(profile, replica, '/')));
      return;
    }
    let page: LivePage;
    try {
      page = await pageOf(profile, invoiceId);
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
      const replica = await deviceOf(profile).replica;
      html(404, renderNotFoundPage(error.message, contextFor(profile, replica, '/')));
      return;
    }
    const snapshot = page.live.snapshot;
    if (match[2] === '/invoice.json') {
      send(response, 200, 'application/json; charset=utf-8', `${JSON.stringify(snapshot.invoice, null, 2)}\n`);
      return;
    }
    if (match[2] === '/invoice.xml') {
      const { status, type, body, extra } = eInvoiceResponse(snapshot.invoice);
      send(response, status, type, body, extra);
      return;
    }
    if (match[2] === '/events') {
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.flushHeaders();
      response.write(`retry: 1000\n\n`);
      // The page may be older than the current version: send it at once (the script ignores what it has).
      response.write(sseEvent(page, snapshot.invoice, ''));
      page.clients.add(response);
      const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
      keepAlive.unref();
      request.on('close', () => {
        clearInterval(keepAlive);
        page.clients.delete(response);
      });
      return;
    }
    const events = `/invoices/${encodeURIComponent(invoiceId)}/events${profile === defaultProfile ? '' : `?profile=${encodeURIComponent(profile)}`}`;
    html(200, renderInvoicePage(snapshot, page.ctx, { events, version: page.version }));
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new FedinvoiceError(
          error.code === 'EADDRINUSE' ? `The viewer cannot listen on ${host}:${options.port ?? 3000}: the port is in use (set another with --viewer-port).` : `The viewer cannot listen: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(options.port ?? 3000, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ownHosts = new Set([`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `${host}:${port}`.toLowerCase()]);
  const urlHost = urlHostOf(host);

  return {
    url: `http://${urlHost}:${port}/`,
    port,
    live: async (invoiceId, profile = defaultProfile) => (await pageOf(profile, invoiceId)).live,
    stop: async () => {
      stopped = true;
      for (const device of devices.values()) {
        for (const page of device.pages.values()) {
          const opened = await page.catch(() => null);
          if (!opened) continue;
          opened.live.stop();
          for (const client of opened.clients) client.end();
        }
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The invitations waiting in the device's inbox (read only: the viewer removes nothing), or why it could not be read. */
async function inboxOf(replica: Replica): Promise<InboxView> {
  try {
    const { entries } = await readInbox(replica);
    return { invitations: entries.flatMap((entry) => ('invitation' in entry ? [entry.invitation] : [])), error: null };
  } catch (error) {
    return { invitations: [], error: messageOf(error) };
  }
}

/** What a screen reader announces when the page changes: new ops first, else pods that cannot be reached. */
function announcementOf(snapshot: InvoiceSnapshot): string {
  if (snapshot.newOps) return `Invoice updated: ${snapshot.newOps} new op${snapshot.newOps === 1 ? '' : 's'}.`;
  const stale = snapshot.pods.filter((pod) => pod.outcome === 'stale').length;
  if (stale) return `${stale} pod${stale === 1 ? '' : 's'} cannot be reached; showing the last known state.`;
  return 'Invoice view updated.';
}

/** The host to put in the viewer's URL: a wildcard listen address is reached on loopback, an IPv6 one in brackets. */
function urlHostOf(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** The agreed invoice as a UBL file to save, or 409 with the reason it cannot be one yet. */
function eInvoiceResponse(invoice: FoldedInvoice): { status: number; type: string; body: string; extra: Record<string, string> } {
  try {
    const body = exportInvoice(invoice, 'ubl');
    const name = `${numberOfKey(invoice.invoiceId!)}.xml`.replace(/[^A-Za-z0-9._-]/g, '_');
    return { status: 200, type: 'application/xml; charset=utf-8', body, extra: { 'content-disposition': `attachment; filename="${name}"` } };
  } catch (error) {
    if (!(error instanceof ExportRefusedError)) throw error;
    return { status: 409, type: 'text/plain; charset=utf-8', body: `${error.message}\n`, extra: {} };
  }
}
