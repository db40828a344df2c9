/**
 * Server-side rendering of the viewer's pages. Everything from an invoice goes through `html` (escaped); the
 * page loads one stylesheet and one script from /static/ (no inline script or style: the Content-Security-Policy
 * forbids them, so even a rendering mistake could not run op content as script).
 */
import type { WebId } from '../model/ids.ts';
import type { Author, FoldedInvoice, LogEntry, OpSummary, Totals } from '../model/invoice.ts';
import { numberOfKey } from '../model/invoice-key.ts';
import type { PartyInfo } from '../model/ops.ts';
import type { Invitation } from '../sync/invitation.ts';
import { money, unitPrice } from '../present/money.ts';
import { externalLink, html, type Html } from './html.ts';
import type { InvoiceSnapshot, PodStatus } from './live.ts';

export interface ViewerIdentity {
  /** Profile name, e.g. buyer-desktop. */
  readonly profile: string;
  readonly webId: string;
  readonly device: string;
}

export interface PageContext {
  readonly identity: ViewerIdentity;
  /** Profiles the page may switch to (the select is shown when there is more than one). */
  readonly profiles: readonly string[];
  /** Appends the profile to a viewer URL (`?profile=…`) when it is not the default. */
  readonly href: (path: string) => string;
  /** Path of this page, for the profile switcher's form. */
  readonly path: string;
}

// ---- formatting ------------------------------------------------------------------------------------------------

const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});
const timeOnlyFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateFormat = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short', timeZone: 'UTC' });

export function when(iso: string | null | undefined, format: 'full' | 'time' = 'full'): Html {
  if (!iso) return html`—`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return html`${iso}`;
  return html`<time datetime="${date.toISOString()}">${(format === 'time' ? timeOnlyFormat : dateTimeFormat).format(date)}</time>`;
}

/** A calendar date (YYYY-MM-DD) for people, e.g. "Tue, 1 December 2026". */
function day(value: string | null): Html {
  if (!value) return html`—`;
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return html`${value}`;
  return html`<time datetime="${value}">${dateFormat.format(date)}</time>`;
}

const amount = (value: string | null, currency: string | null): Html => html`<span class="num">${money(value, currency)}</span>`;
const percent = (rate: string | null): string => (rate === null ? '—' : `${rate} %`);
const shortHash = (hash: string): string => `${hash.slice(0, 12)}…`;

function nameOf(invoice: FoldedInvoice, webId: WebId | string | undefined): string | null {
  if (!webId) return null;
  if (invoice.buyer?.webId === webId) return invoice.buyer.info.name;
  if (invoice.seller?.webId === webId) return invoice.seller.info.name;
  return invoice.participants.find((p) => p.webId === webId)?.name ?? null;
}

function who(invoice: FoldedInvoice, author: Author | null): Html {
  if (!author) return html`<span class="who unknown">unknown author</span>`;
  const name = nameOf(invoice, author.webId);
  return html`<span class="who role-${author.role.replace(/[^a-z-]/g, '')}">${name ?? author.webId}<span class="role"> · ${author.role}</span></span>`;
}

const deviceOf = (invoice: FoldedInvoice, opId: string): string | null => invoice.log.find((entry) => entry.opId === opId)?.device ?? null;

// ---- page shell -------------------------------------------------------------------------------------------------

function shell(title: string, ctx: PageContext, main: Html, live?: { events: string; version: number }): string {
  const { identity } = ctx;
  const switcher =
    ctx.profiles.length > 1
      ? html`<form class="profile" method="get" action="${ctx.path}">
          <label for="profile">Device profile</label>
          <select id="profile" name="profile">${ctx.profiles.map((name) => html`<option value="${name}"${name === identity.profile ? html` selected` : ''}>${name}</option>`)}</select>
          <button type="submit">Switch</button>
        </form>`
      : '';
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · fedinvoice</title>
<link rel="stylesheet" href="/static/viewer.css">
<script src="/static/viewer.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
  <p class="brand"><a href="${ctx.href('/')}">fedinvoice</a> <span>viewer</span></p>
  <p class="identity">Viewing as <strong>${identity.profile}</strong> <span class="muted">(device ${identity.device}) · <span class="webid">${identity.webId}</span></span></p>
  ${switcher}
</header>
<main id="main">
${live ? html`<div id="live" data-events="${live.events}" data-version="${live.version}">${main}</div>` : main}
</main>
<p id="connection" class="banner warn" role="status" hidden>The connection to the viewer was lost: showing the last known state; reconnecting…</p>
<div id="announcer" class="visually-hidden" role="status" aria-live="polite"></div>
<footer class="site"><p>Every device folds the same ops into the same invoice. Ops live on each party's own Solid pod.</p></footer>
</body>
</html>
`;
  return page.value;
}

// ---- invoice list ----------------------------------------------------------------------------------------------

export interface InvoiceListEntry {
  readonly invoiceId: string;
  readonly invoice: FoldedInvoice | null;
}

/** What waits in the profile's inbox, or why it could not be read. */
export interface InboxView {
  readonly invitations: readonly Invitation[];
  readonly error: string | null;
}

export function renderListPage(
  entries: readonly InvoiceListEntry[],
  onPodOnly: readonly string[],
  listError: string | null,
  ctx: PageContext,
  inbox: InboxView = { invitations: [], error: null },
): string {
  const rows = entries.map(({ invoiceId, invoice }) => {
    const c = invoice?.currency ?? null;
    return html`<tr>
      <th scope="row"><a href="${ctx.href(`/invoices/${encodeURIComponent(invoiceId)}`)}">${invoiceId}</a></th>
      <td><span class="status status-${statusClass(invoice?.status ?? 'no invoice')}">${invoice?.status ?? 'not read yet'}</span></td>
      <td>${invoice?.buyer?.info.name ?? '—'}</td>
      <td>${invoice?.seller?.info.name ?? '—'}</td>
      <td class="num">${invoice ? money(invoice.totals.gross, c) : '—'}</td>
      <td class="num">${invoice?.log.length ?? 0}</td>
    </tr>`;
  });
  const main = html`<h1>Invoices</h1>
<p class="lead">The invoices <strong>${ctx.identity.profile}</strong> takes part in (known on this device).</p>
${listError ? html`<p class="banner stale" role="status">The device's pod could not be listed: ${listError}</p>` : ''}
${
  entries.length
    ? html`<table class="list">
  <caption class="visually-hidden">Invoices</caption>
  <thead><tr><th scope="col">Invoice</th><th scope="col">Status</th><th scope="col">Buyer</th><th scope="col">Seller</th><th scope="col" class="num">Total</th><th scope="col" class="num">Ops</th></tr></thead>
  <tbody>${rows}</tbody>
</table>`
    : html`<p class="empty">No invoices on this device yet. Create one with <code>npx fedinvoice create</code>, join one with <code>npx fedinvoice join</code>, or run <code>npm run demo</code>.</p>`
}
${
  onPodOnly.length
    ? html`<section aria-labelledby="h-onpod"><h2 id="h-onpod">On the pod, not joined on this device</h2>
  <ul>${onPodOnly.map((id) => html`<li><code>${id}</code> — join it with <code>npx fedinvoice join ${id} --profile ${ctx.identity.profile} …</code></li>`)}</ul></section>`
    : ''
}
${invitationsSection(inbox, ctx)}`;
  return shell('Invoices', ctx, main);
}

/** The invitations waiting in the inbox: what each claims (checked only when it is accepted) and the command that accepts it. */
function invitationsSection(inbox: InboxView, ctx: PageContext): Html | string {
  if (inbox.error) return html`<p class="banner stale" role="status">The inbox could not be read: ${inbox.error}</p>`;
  if (!inbox.invitations.length) return '';
  const items = inbox.invitations.map((invitation) => {
    const number = numberOfKey(invitation.invoiceId);
    return html`<li><strong>${number}</strong> from <code>${invitation.sender}</code> (claimed; checked when you join), ${when(invitation.published)}
      — accept with <code>npx fedinvoice join ${number} --profile ${ctx.identity.profile}</code></li>`;
  });
  return html`<section aria-labelledby="h-invitations"><h2 id="h-invitations">Invitations in your inbox</h2><ul>${items}</ul></section>`;
}

const statusClass = (status: string): string => status.replace(/[^a-z]+/g, '-');

// ---- invoice page ----------------------------------------------------------------------------------------------

export function renderInvoicePage(snapshot: InvoiceSnapshot, ctx: PageContext, live: { events: string; version: number }): string {
  const id = snapshot.invoice.invoiceId ?? '?';
  return shell(`Invoice ${id}`, ctx, renderInvoiceBody(snapshot, ctx), live);
}

export function renderNotFoundPage(message: string, ctx: PageContext): string {
  return shell('Not found', ctx, html`<h1>Not found</h1><p>${message}</p><p><a href="${ctx.href('/')}">All invoices</a></p>`);
}

/** The part of the invoice page that live updates replace. */
export function renderInvoiceBody(snapshot: InvoiceSnapshot, ctx: PageContext): Html {
  const invoice = snapshot.invoice;
  const c = invoice.currency;
  const agreed = invoice.agreement !== null;
  return html`
<nav class="crumbs" aria-label="Breadcrumb"><a href="${ctx.href('/')}">All invoices</a></nav>
<div class="titlebar">
  <h1>Invoice <span class="invoice-id">${invoice.invoiceId ?? '?'}</span></h1>
  <p class="status status-${statusClass(invoice.status)}" id="status">${invoice.status}</p>
  ${c ? html`<p class="currency">Amounts in ${c}</p>` : ''}
</div>
${syncLine(snapshot)}
${!invoice.buyer || !invoice.seller ? html`<p class="banner warn" role="status">The CreateInvoice op has not been read yet: the invoice's creator must grant this device's WebID read access.</p>` : ''}
${statusSection(invoice)}
${partiesSection(snapshot)}
<div class="${agreed ? 'agreed-invoice' : 'current-invoice'}">
  ${agreed ? html`<h2 class="agreed-heading">Agreed invoice</h2><p class="muted">What both parties agreed to (terms <code title="${invoice.agreement!.termsHash}">${shortHash(invoice.agreement!.termsHash)}</code>).</p>` : ''}
  ${linesSection(invoice)}
  ${adjustmentsSection(invoice)}
  ${totalsSection(agreed ? invoice.agreement!.totals : invoice.totals, c, agreed ? 'Agreed totals' : 'Totals')}
  ${deliverySection(invoice)}
</div>
${agreed ? eInvoiceSection(invoice, ctx) : ''}
${agreed ? changesAfterSection(invoice) : ''}
${disputesSection(invoice)}
${trackingSection(invoice)}
${commentsSection(invoice)}
${logSection(snapshot)}
`;
}

function syncLine(snapshot: InvoiceSnapshot): Html {
  const how =
    snapshot.mode === 'notifications'
      ? html`<span class="dot live" aria-hidden="true"></span> Live: Solid Notifications`
      : html`<span class="dot polling" aria-hidden="true"></span> Polling every ${(snapshot.pollIntervalMs / 1000).toLocaleString('en')} s (not every pod has an open notification channel)`;
  return html`<p class="syncline">${how}${
    snapshot.outboxQueued ? html` · <strong>${snapshot.outboxQueued} op(s) of this device wait for its pod</strong>` : ''
  }</p>
${snapshot.syncError ? html`<p class="banner stale" role="status">The last sync failed: ${snapshot.syncError}. Showing the last known state.</p>` : ''}`;
}

function statusSection(invoice: FoldedInvoice): Html {
  const items: Html[] = [];
  const proposal = invoice.agreement?.proposal ?? invoice.proposal;
  if (proposal) {
    const device = deviceOf(invoice, proposal.opId);
    items.push(html`<div><dt>Proposed by</dt><dd>${who(invoice, proposal.author)}${device ? html` <span class="muted">on ${device}</span>` : ''}</dd></div>`);
  }
  if (invoice.agreement) {
    const device = deviceOf(invoice, invoice.agreement.acceptOpId);
    items.push(html`<div><dt>Accepted by</dt><dd>${who(invoice, invoice.agreement.acceptedBy)}${device ? html` <span class="muted">on ${device}</span>` : ''}</dd></div>`);
    items.push(html`<div class="wide"><dt>Agreed terms hash</dt><dd><code class="hash">${invoice.agreement.termsHash}</code></dd></div>`);
  } else if (invoice.proposal) {
    items.push(html`<div><dt>Accepted by</dt><dd class="muted">not accepted yet</dd></div>`);
    items.push(html`<div class="wide"><dt>Proposed terms hash</dt><dd><code class="hash">${invoice.proposal.termsHash}</code></dd></div>`);
  } else {
    items.push(html`<div><dt>Proposal</dt><dd class="muted">none yet${invoice.notProposable ? html` — ${invoice.notProposable}` : ''}</dd></div>`);
    if (invoice.termsHash) items.push(html`<div class="wide"><dt>Current terms hash</dt><dd><code class="hash">${invoice.termsHash}</code></dd></div>`);
  }
  const flags = [invoice.shipped && 'shipped', invoice.paid && 'paid', invoice.received && 'received'].filter(Boolean) as string[];
  if (flags.length) items.push(html`<div><dt>Progress</dt><dd>${flags.join(', ')}</dd></div>`);
  return html`<section aria-labelledby="h-status" class="card"><h2 id="h-status">Status</h2><dl class="facts">${items}</dl></section>`;
}

function partyInfo(info: PartyInfo): Html {
  return html`${info.vatId ? html`<div><dt>VAT ID</dt><dd>${info.vatId}</dd></div>` : ''}
${info.email ? html`<div><dt>Email</dt><dd>${info.email}</dd></div>` : ''}
${info.address ? html`<div><dt>Address</dt><dd class="pre">${info.address}</dd></div>` : ''}`;
}

function podBanner(label: string, pod: PodStatus | undefined): Html {
  if (!pod) return html`<p class="podstate muted">Pod not read yet.</p>`;
  if (pod.outcome === 'stale') {
    return html`<div class="banner stale" role="status" data-stale="true">
  <p><strong>${label}'s pod cannot be reached: stale since ${when(pod.lastSuccess)}</strong>${pod.lastSuccess ? '' : ' (never read successfully)'}.</p>
  <p>Showing the last known state; the viewer keeps trying.</p>
  ${pod.error ? html`<p class="detail">${pod.error}</p>` : ''}
</div>`;
  }
  return html`<p class="podstate">${howPodIsRead(pod)}</p>`;
}

function howPodIsRead(pod: PodStatus): Html {
  const channel = pod.channel;
  if (!channel) return html`<span class="dot polling" aria-hidden="true"></span> read by polling`;
  if (channel.state === 'live') {
    const untilFirstOp = channel.topic !== pod.container ? ' to its invoice folder until its first op' : '';
    return html`<span class="dot live" aria-hidden="true"></span> subscribed (live)${untilFirstOp}`;
  }
  if (channel.state === 'connecting') return html`<span class="dot polling" aria-hidden="true"></span> subscribing…`;
  if (channel.state === 'unavailable') return html`<span class="dot polling" aria-hidden="true"></span> polling: its server offers no notifications`;
  return html`<span class="dot polling" aria-hidden="true"></span> polling: ${channel.error ?? 'no notification channel'}`;
}

function partiesSection(snapshot: InvoiceSnapshot): Html {
  const invoice = snapshot.invoice;
  const pod = (container: string | undefined) => snapshot.pods.find((p) => p.container === container);
  const card = (label: 'Buyer' | 'Seller', party: FoldedInvoice['buyer']) =>
    html`<section class="card party" aria-labelledby="h-${label.toLowerCase()}">
  <h2 id="h-${label.toLowerCase()}">${label}</h2>
  ${party ? podBanner(label === 'Buyer' ? "The buyer" : "The seller", pod(party.container)) : ''}
  ${
    party
      ? html`<p class="party-name">${party.info.name}</p>
  <dl class="facts">
    <div class="wide"><dt>WebID</dt><dd class="webid">${externalLink(party.webId)}</dd></div>
    ${partyInfo(party.info)}
  </dl>`
      : html`<p class="muted">Not known yet.</p>`
  }
</section>`;
  const others = invoice.participants.filter((p) => p.allowedTypes !== null);
  const unknownPods = snapshot.pods.filter(
    (p) =>
      p.container !== invoice.buyer?.container &&
      p.container !== invoice.seller?.container &&
      !others.some((o) => o.container === p.container),
  );
  return html`<div class="parties">
${card('Buyer', invoice.buyer)}
${card('Seller', invoice.seller)}
</div>
${
  others.length
    ? html`<section class="card" aria-labelledby="h-participants"><h2 id="h-participants">Other participants</h2>
  <ul class="plain">${others.map(
    (p) => html`<li><strong>${p.name ?? p.webId}</strong> · ${p.role} <span class="webid">${externalLink(p.webId)}</span><br><span class="muted">may write ${p.allowedTypes!.join(', ')}</span>
    ${podBanner(p.name ?? p.role, pod(p.container))}</li>`,
  )}</ul></section>`
    : ''
}
${unknownPods.filter((p) => p.outcome === 'stale').map((p) => podBanner(p.container, p))}`;
}

function linesSection(invoice: FoldedInvoice): Html {
  const c = invoice.currency;
  if (!invoice.items.length) {
    return html`<section aria-labelledby="h-lines"><h2 id="h-lines">Lines</h2><p class="empty">No lines yet.</p>${catalog(invoice)}</section>`;
  }
  const rows = invoice.items.map(
    (line) => html`<tr class="${line.qty === 0 ? 'not-invoiced' : ''}">
  <th scope="row">${line.productCode}</th>
  <td class="num">${line.desired}</td>
  <td class="num">${line.available === null ? html`<span class="muted" title="no stock op: unlimited">no limit</span>` : line.available}</td>
  <td class="num"><strong>${line.qty}</strong></td>
  <td class="num">${line.unitPrice === null ? html`<span class="muted">not quoted</span>` : unitPrice(line.unitPrice, c)}</td>
  <td class="num">${percent(line.taxRate)}</td>
  <td class="num">${
    line.bid
      ? html`${unitPrice(line.bid.unitPrice, c)} <span class="muted">at ${percent(line.bid.taxRate)}</span><br>${
          line.bid.accepted ? html`<span class="tag ok">accepted</span>` : html`<span class="tag">not accepted</span>`
        }`
      : html`<span class="muted">—</span>`
  }</td>
  <td class="num">${line.qty === 0 ? html`<span class="muted">not invoiced</span>` : amount(line.lineTotal, c)}</td>
</tr>`,
  );
  return html`<section aria-labelledby="h-lines"><h2 id="h-lines">Lines</h2>
<div class="scroll"><table class="lines">
  <thead><tr>
    <th scope="col">Product</th><th scope="col" class="num">Desired</th><th scope="col" class="num">Available</th><th scope="col" class="num">Invoiced</th>
    <th scope="col" class="num">Lowest quote</th><th scope="col" class="num">VAT</th><th scope="col" class="num">Buyer's bid</th><th scope="col" class="num">Line total</th>
  </tr></thead>
  <tbody>${rows}</tbody>
</table></div>
${catalog(invoice)}
</section>`;
}

function catalog(invoice: FoldedInvoice): Html {
  if (!invoice.catalog.length) return html``;
  const c = invoice.currency;
  return html`<details class="catalog"><summary>Offered by the seller but not in the cart (${invoice.catalog.length})</summary>
<ul class="plain">${invoice.catalog.map(
    (entry) => html`<li><strong>${entry.productCode}</strong>: ${entry.unitPrice === null ? 'not quoted' : html`${unitPrice(entry.unitPrice, c)} at ${percent(entry.taxRate)} VAT`}, ${
      entry.available === null ? 'no stock limit' : `${entry.available} available`
    }</li>`,
  )}</ul></details>`;
}

function adjustmentsSection(invoice: FoldedInvoice): Html {
  const c = invoice.currency;
  if (!invoice.extras.length && !invoice.discounts.length) return html``;
  const extras = invoice.extras.map(
    (extra) => html`<tr><th scope="row">${extra.description} <span class="muted">(${extra.key})</span></th><td>extra</td><td>${who(invoice, extra.addedBy)}</td><td class="num">${percent(extra.taxRate)}</td><td class="num">${amount(extra.amount, c)}</td></tr>`,
  );
  const discounts = invoice.discounts.map(
    (discount) => html`<tr class="discount"><th scope="row">${discount.description} <span class="muted">(${discount.key})</span></th><td>discount${discount.percent ? ` ${discount.percent} %` : ''}</td><td>${who(invoice, discount.addedBy)}</td><td class="num">${discount.percent ? 'every rate' : percent(discount.taxRate)}</td><td class="num">− ${amount(discount.amount, c)}</td></tr>`,
  );
  return html`<section aria-labelledby="h-adjust"><h2 id="h-adjust">Extras and discounts</h2>
<div class="scroll"><table>
  <thead><tr><th scope="col">Description</th><th scope="col">Kind</th><th scope="col">Added by</th><th scope="col" class="num">VAT</th><th scope="col" class="num">Amount</th></tr></thead>
  <tbody>${extras}${discounts}</tbody>
</table></div></section>`;
}

function totalsSection(totals: Totals, c: string | null, title: string): Html {
  return html`<section aria-labelledby="h-totals" class="totals"><h2 id="h-totals">${title}</h2>
<table class="totals">
  <tbody>
    <tr><th scope="row">Net</th><td></td><td class="num">${amount(totals.net, c)}</td></tr>
    ${totals.tax.map((tax) => html`<tr class="vat"><th scope="row">VAT ${tax.rate} %</th><td class="num muted">on ${money(tax.base, c)}</td><td class="num">${amount(tax.amount, c)}</td></tr>`)}
    <tr><th scope="row">VAT total</th><td></td><td class="num">${amount(totals.taxTotal, c)}</td></tr>
    <tr class="gross"><th scope="row">Total</th><td></td><td class="num">${amount(totals.gross, c)}</td></tr>
  </tbody>
</table></section>`;
}

function deliverySection(invoice: FoldedInvoice): Html {
  const d = invoice.delivery;
  const address = d.address;
  return html`<div class="two">
<section aria-labelledby="h-delivery" class="card"><h2 id="h-delivery">Delivery</h2>
<dl class="facts">
  <div><dt>Date</dt><dd>${d.date ? day(d.date) : html`<span class="muted">not proposed yet</span>`}</dd></div>
  ${
    d.requestedDate
      ? html`<div><dt>Postponement</dt><dd>the buyer asked for ${day(d.requestedDate)} ${d.requestOpen ? html`<span class="tag warn">open request</span>` : html`<span class="tag">answered</span>`}</dd></div>`
      : ''
  }
  <div class="wide"><dt>Address</dt><dd>${
    address ? html`<address>${address.streetAddress}<br>${address.postalCode} ${address.addressLocality}<br>${address.addressCountry}</address>` : html`<span class="muted">not chosen yet</span>`
  }</dd></div>
</dl></section>
<section aria-labelledby="h-payment" class="card"><h2 id="h-payment">Payment terms</h2>
${
  invoice.paymentTerms
    ? html`<p class="pre">${invoice.paymentTerms.terms}</p>${invoice.paymentTerms.dueDays !== null ? html`<p>Due in ${invoice.paymentTerms.dueDays} days.</p>` : ''}`
    : html`<p class="muted">None set yet.</p>`
}
</section>
</div>`;
}

function changesAfterSection(invoice: FoldedInvoice): Html {
  const changes = invoice.agreement!.changesAfter;
  return html`<aside class="changes-after" aria-labelledby="h-changes"><h2 id="h-changes">Changes after the agreement</h2>
<p>These ops were accepted after the agreement. They are <strong>not part of the agreed invoice</strong> and are not applied to it.</p>
${changes.length ? html`<ul class="plain">${changes.map((change: OpSummary) => html`<li><strong>${change.type}</strong> by ${who(invoice, change.author)} on ${change.device}, ${when(change.at)}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
</aside>`;
}

function disputesSection(invoice: FoldedInvoice): Html {
  if (!invoice.disputes.length) return html``;
  return html`<section aria-labelledby="h-disputes" class="card disputes"><h2 id="h-disputes">Disputes</h2>
<ul class="plain">${invoice.disputes.map((d) => html`<li>${who(invoice, d.author)}: <span class="pre">${d.reason}</span></li>`)}</ul></section>`;
}

function trackingSection(invoice: FoldedInvoice): Html {
  const t = invoice.tracking;
  return html`<section aria-labelledby="h-tracking" class="card"><h2 id="h-tracking">Tracking</h2>
${
  t
    ? html`<p>${t.carrier}: <strong>${t.url ? externalLink(t.url, t.trackingId) : t.trackingId}</strong> <span class="muted">set by</span> ${who(invoice, t.setBy)}</p>`
    : html`<p class="muted">No tracking yet.</p>`
}</section>`;
}

function commentsSection(invoice: FoldedInvoice): Html {
  return html`<section aria-labelledby="h-comments" class="card"><h2 id="h-comments">Comments</h2>
${
  invoice.comments.length
    ? html`<ol class="comments">${invoice.comments.map(
        (comment) => html`<li><p class="meta">${who(invoice, comment.author)} <span class="muted">on ${comment.device}, ${when(comment.at)}</span></p><p class="text">${comment.text}</p></li>`,
      )}</ol>`
    : html`<p class="muted">No comments yet.</p>`
}</section>`;
}

function stateCell(entry: LogEntry): Html {
  if (entry.state === 'accepted') return html`<span class="tag ok">accepted</span>`;
  if (entry.state === 'pending') return html`<span class="tag warn">pending</span> <span class="muted">waiting for ops it depends on</span>`;
  return html`<span class="tag bad">rejected</span> <span class="reason">${entry.reason ?? ''}</span>`;
}

function logSection(snapshot: InvoiceSnapshot): Html {
  const invoice = snapshot.invoice;
  const rejected = invoice.rejected.length;
  const pending = invoice.pending.length;
  const rows = invoice.log.map(
    (entry) => html`<tr class="state-${entry.state}" id="op-${entry.opId}">
  <td class="time">${when(entry.at)}</td>
  <th scope="row">${entry.type}</th>
  <td>${who(invoice, entry.author)}</td>
  <td>${entry.device}</td>
  <td>${stateCell(entry)}</td>
  <td><code title="${entry.opId}">${entry.opId.slice(0, 8)}</code></td>
</tr>`,
  );
  return html`<section aria-labelledby="h-log" class="log"><h2 id="h-log">Op log</h2>
<p class="muted">${invoice.log.length} op(s): ${invoice.log.length - rejected - pending} accepted, ${rejected} rejected, ${pending} pending.</p>
<div class="scroll"><table class="log">
  <thead><tr><th scope="col">Time</th><th scope="col">Op</th><th scope="col">Author</th><th scope="col">Device</th><th scope="col">State</th><th scope="col">Id</th></tr></thead>
  <tbody>${rows}</tbody>
</table></div>
${
  snapshot.refused.length
    ? html`<h3>Resources refused (not valid ops)</h3><ul class="plain refused">${snapshot.refused.map((r) => html`<li><code class="url">${r.url}</code>: ${r.reason}</li>`)}</ul>`
    : ''
}
</section>`;
}

/** The agreed invoice's e-invoice: a download link, or what it still lacks (which only a new agreement can add). */
function eInvoiceSection(invoice: FoldedInvoice, ctx: PageContext): Html {
  const gaps = [...invoice.eInvoiceGaps.seller, ...invoice.eInvoiceGaps.buyer];
  const link = ctx.href(`/invoices/${encodeURIComponent(invoice.invoiceId!)}/invoice.xml`);
  return html`<section aria-labelledby="h-einvoice" class="einvoice"><h2 id="h-einvoice">E-invoice</h2>
${gaps.length === 0
    ? html`<p><a class="download" href="${link}" download>Download the e-invoice</a> <span class="muted">(UBL 2.1, EN 16931 and Peppol BIS Billing 3.0)</span></p>`
    : html`<p>The agreed terms cannot be an e-invoice: they lack</p><ul>${gaps.map((gap) => html`<li>${gap}</li>`)}</ul>`}
</section>`;
}
