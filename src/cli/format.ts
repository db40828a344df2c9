import type { FoldedInvoice, LogEntry } from '../model/invoice.ts';
import { money } from '../present/money.ts';
import type { ContainerReport } from '../sync/crawler.ts';
import type { OutboxReport } from '../sync/outbox.ts';

const shortId = (id: string) => `${id.slice(0, 8)}…`;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ').trimEnd());
}

export function formatInvoice(invoice: FoldedInvoice): string {
  const c = invoice.currency;
  const out: string[] = [];
  out.push(`Invoice ${invoice.invoiceId ?? '?'}  ·  ${invoice.status}${c ? `  ·  ${c}` : ''}`);
  if (!invoice.buyer || !invoice.seller) {
    out.push('  The CreateInvoice op has not been read yet: sync again, or check that the counterparty granted access.');
    return out.join('\n');
  }
  out.push(`Seller: ${invoice.seller.info.name}  <${invoice.seller.webId}>`);
  out.push(`Buyer:  ${invoice.buyer.info.name}  <${invoice.buyer.webId}>`);
  for (const p of invoice.participants.filter((p) => p.allowedTypes !== null)) out.push(`${p.role}: ${p.name ?? p.webId} (may write ${p.allowedTypes!.join(', ')})`);
  out.push('');
  if (invoice.items.length) {
    const rows = [['product', 'asked', 'stock', 'qty', 'unit price', 'VAT', 'bid', 'total']];
    for (const line of invoice.items) {
      rows.push([
        line.productCode,
        String(line.desired),
        line.available === null ? '∞' : String(line.available),
        String(line.qty),
        money(line.unitPrice, c),
        line.taxRate === null ? '—' : `${line.taxRate}%`,
        line.bid ? `${money(line.bid.unitPrice, c)}${line.bid.accepted ? ' ✓' : ''}` : '—',
        line.qty === 0 ? 'not invoiced' : money(line.lineTotal, c),
      ]);
    }
    out.push(...table(rows).map((row) => `  ${row}`));
  } else {
    out.push('  (no lines yet)');
  }
  for (const extra of invoice.extras) out.push(`  + ${extra.description} (${extra.key}, added by the ${extra.addedBy.role}): ${money(extra.amount, c)} at ${extra.taxRate}% VAT`);
  for (const discount of invoice.discounts) out.push(`  − ${discount.description} (${discount.key}${discount.percent ? `, ${discount.percent}%` : ''}): ${money(discount.amount, c)}`);
  out.push('');
  out.push(`  Net ${money(invoice.totals.net, c)}`);
  for (const tax of invoice.totals.tax) out.push(`  VAT ${tax.rate}% on ${money(tax.base, c)}: ${money(tax.amount, c)}`);
  out.push(`  Total ${money(invoice.totals.gross, c)}`);
  out.push('');
  const d = invoice.delivery;
  if (d.date || d.requestedDate || d.address) {
    out.push(`Delivery: ${d.date ?? 'no date proposed'}${d.requestedDate ? `  (buyer asked for ${d.requestedDate}${d.requestOpen ? ', open' : ', answered'})` : ''}`);
    if (d.address) out.push(`  to ${d.address.streetAddress}, ${d.address.postalCode} ${d.address.addressLocality}, ${d.address.addressCountry}`);
  }
  if (invoice.paymentTerms) out.push(`Payment terms: ${invoice.paymentTerms.terms}${invoice.paymentTerms.dueDays !== null ? ` (due in ${invoice.paymentTerms.dueDays} days)` : ''}`);
  if (invoice.tracking) out.push(`Tracking: ${invoice.tracking.carrier} ${invoice.tracking.trackingId}${invoice.tracking.url ? ` ${invoice.tracking.url}` : ''}`);
  if (invoice.proposal && !invoice.agreement) out.push(`Proposed by the ${invoice.proposal.side}: terms ${invoice.proposal.termsHash}`);
  if (invoice.agreement) {
    const a = invoice.agreement;
    out.push(`Agreed: the ${a.proposal.side} proposed and the ${a.acceptedBy.role} accepted terms ${a.termsHash}`);
    if (a.changesAfter.length) {
      out.push(`Changes after agreement (not part of the agreed invoice): ${a.changesAfter.length}`);
      for (const change of a.changesAfter) out.push(`  ${change.at}  ${change.type} by the ${change.author?.role ?? '?'} (${change.device})`);
    }
  }
  for (const dispute of invoice.disputes) out.push(`Disputed by the ${dispute.side}: ${dispute.reason}`);
  if (invoice.comments.length) {
    out.push('Comments:');
    for (const comment of invoice.comments) out.push(`  ${comment.at} ${comment.author.role} (${comment.device}): ${comment.text}`);
  }
  if (invoice.rejected.length) out.push(`${invoice.rejected.length} op(s) rejected, ${invoice.pending.length} pending: see \`fedinvoice log ${invoice.invoiceId}\``);
  else if (invoice.pending.length) out.push(`${invoice.pending.length} op(s) pending (waiting for ops not fetched yet)`);
  return out.join('\n');
}

export function formatSyncNotes(containers: readonly ContainerReport[], outbox: OutboxReport): string[] {
  const notes: string[] = [];
  for (const report of containers) {
    if (report.outcome === 'stale') notes.push(`stale: ${report.container} could not be read (${report.error}); showing the last known state`);
    if (report.deferred) notes.push(`${report.container} has ${report.deferred} more new members than one sync reads; run sync again`);
    for (const refused of report.refused) notes.push(`refused ${refused.url}: ${refused.reason}`);
  }
  if (outbox.queued) notes.push(`${outbox.queued} op(s) waiting in the outbox: ${outbox.error ?? 'not pushed yet'}`);
  return notes;
}

export function formatLog(log: readonly LogEntry[]): string {
  const rows = [['time', 'op', 'type', 'author', 'device', 'state']];
  for (const entry of log) {
    rows.push([entry.at, shortId(entry.opId), entry.type, entry.author?.role ?? '?', entry.device, entry.state + (entry.reason ? `: ${entry.reason}` : '')]);
  }
  return table(rows).join('\n');
}
