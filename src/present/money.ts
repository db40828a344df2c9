/**
 * Amounts for people, shared by the CLI and the viewer: from the model's exact decimal strings (Intl formats
 * strings exactly, so no amount ever passes through a JS float).
 */

/** An amount as people read it ("€26.00"); "—" for none, the bare amount without a currency. */
export function money(amount: string | null, currency: string | null): string {
  if (amount === null) return '—';
  if (!currency) return amount;
  const digits = amount.split('.')[1]?.length ?? 0;
  const format = new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
  return format.format(amount as unknown as number);
}

/** A unit price: exact, with at least the currency's minor digits ("€2.50", "€0.045"). */
export function unitPrice(value: string | null, currency: string | null): string {
  if (value === null || !currency) return money(value, currency);
  const minor = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().minimumFractionDigits ?? 2;
  const digits = value.split('.')[1]?.length ?? 0;
  if (digits >= minor) return money(value, currency);
  return money(`${value}${digits === 0 ? '.' : ''}${'0'.repeat(minor - digits)}`, currency);
}
