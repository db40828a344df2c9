import { describe, expect, it } from 'vitest';
import { asInvoiceId } from '../../src/model/ids.ts';
import { planRefresh, type FeedNews } from '../../src/sync/refresh-plan.ts';

const [A, B, C] = ['A-1', 'B-1', 'C-1'].map(asInvoiceId) as [ReturnType<typeof asInvoiceId>, ReturnType<typeof asInvoiceId>, ReturnType<typeof asInvoiceId>];
const [own, x, y] = ['http://own/', 'http://x/', 'http://y/'];
const quiet: FeedNews = { usable: true, changed: new Set() };

describe('planRefresh', () => {
  it('syncs nothing when no feed names an invoice', () => {
    const plan = planRefresh([{ invoiceId: A, pods: [own, x] }, { invoiceId: B, pods: [own, y] }], new Map([[own, quiet], [x, quiet], [y, quiet]]));
    expect(plan).toEqual({ whole: [], targeted: [] });
  });

  it('syncs a named invoice on the pods whose feeds named it, and no other invoice', () => {
    const news = new Map<string, FeedNews>([[own, { usable: true, changed: new Set([B]) }], [x, { usable: true, changed: new Set([A, B]) }], [y, quiet]]);
    const plan = planRefresh([{ invoiceId: A, pods: [own, x] }, { invoiceId: B, pods: [own, x] }, { invoiceId: C, pods: [own, y] }], news);
    expect(plan).toEqual({ whole: [], targeted: [{ invoiceId: A, pods: [x] }, { invoiceId: B, pods: [own, x] }] });
  });

  it('syncs whole an invoice on a pod with no usable feed, or whose pods are not recorded', () => {
    const news = new Map<string, FeedNews>([[own, quiet], [x, { usable: false }], [y, quiet]]);
    const plan = planRefresh([{ invoiceId: A, pods: [own, x] }, { invoiceId: B, pods: null }, { invoiceId: C, pods: [own, y] }], news);
    expect(plan).toEqual({ whole: [A, B], targeted: [] });
  });
});
