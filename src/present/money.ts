/**
 * Amounts for people, shared by the CLI and the viewer: from the model's exact decimal strings, written as English
 * writes them ("€1,234.50", "CHF 26.00"), so no amount ever passes through a JS float.
 */
import { minorUnits } from '../model/money.ts';

/**
 * What English puts before an amount in each currency whose prefix is not its code and a no-break space, as Node
 * 20's ICU (Intl.NumberFormat 'en') gave them for every code of CURRENCY_CODES when this table was written. A fixed
 * table, not a call to Intl: the first currency format loads ICU's data, a tenth of a short command's time.
 * test/cli/money-format.test.ts checks it against Intl.
 */
const PREFIX_NOT_CODE: Readonly<Record<string, string>> = {
  AUD: 'A$', BRL: 'R$', CAD: 'CA$', CNY: 'CN\u00a5', EUR: '\u20ac', GBP: '\u00a3', HKD: 'HK$', ILS: '\u20aa', INR: '\u20b9',
  JPY: '\u00a5', KRW: '\u20a9', MXN: 'MX$', NZD: 'NZ$', PHP: '\u20b1', TWD: 'NT$', USD: '$', VND: '\u20ab', XAF: 'FCFA\u00a0',
  XCD: 'EC$', XCG: 'Cg.\u00a0', XOF: 'F\u202fCFA\u00a0', XPF: 'CFPF\u00a0',
};

/** An amount as people read it ("€26.00", every digit of the decimal kept); "—" for none, the bare amount without a currency. */
export function money(amount: string | null, currency: string | null): string {
  if (amount === null) return '—';
  if (!currency) return amount;
  const negative = amount.startsWith('-');
  const [whole = '', fraction] = (negative ? amount.slice(1) : amount).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const prefix = PREFIX_NOT_CODE[currency] ?? `${currency}\u00a0`;
  return `${negative ? '-' : ''}${prefix}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** A unit price: exact, with at least the currency's minor digits ("€2.50", "€0.045"). */
export function unitPrice(value: string | null, currency: string | null): string {
  if (value === null || !currency) return money(value, currency);
  const minor = minorUnits(currency);
  const digits = value.split('.')[1]?.length ?? 0;
  if (digits >= minor) return money(value, currency);
  return money(`${value}${digits === 0 ? '.' : ''}${'0'.repeat(minor - digits)}`, currency);
}
