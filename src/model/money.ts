import { Decimal as DecimalJs } from 'decimal.js';

/**
 * All money arithmetic goes through this Decimal: 40 significant digits, half-up rounding (the rule
 * invoices use), no exponent notation in output. JS numbers never hold an amount.
 */
export const Decimal = DecimalJs.clone({ precision: 40, rounding: DecimalJs.ROUND_HALF_UP, toExpNeg: -40, toExpPos: 40 });
export type Decimal = InstanceType<typeof Decimal>;

/** Up to 15 integer and 10 fraction digits: enough for any invoice, small enough to rule out absurd amounts. */
const DECIMAL_PATTERN = /^-?(0|[1-9]\d{0,14})(\.\d{1,10})?$/;

export function isDecimalString(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL_PATTERN.test(value);
}

export function toDecimal(value: string): Decimal {
  return new Decimal(value);
}

/** The one spelling of a decimal used for keys, comparisons and new ops: "21.0" and "21" both become "21". */
export function normalizeDecimal(value: string): string {
  const text = new Decimal(value).toFixed();
  return text === '-0' ? '0' : text;
}

/**
 * Digits after the decimal point where they are not 2, as Node 20's ICU (Intl.NumberFormat) gave them for every code
 * of CURRENCY_CODES when this table was written. A fixed table: every device rounds alike whatever its ICU version,
 * and a command does not load ICU's currency data (a sixth of a short command's time).
 */
const MINOR_UNITS_NOT_2: Readonly<Record<string, number>> = {
  AFN: 0, ALL: 0, BHD: 3, BIF: 0, CLP: 0, COP: 0, DJF: 0, GNF: 0, HUF: 0, IDR: 0, IQD: 0, IRR: 0, ISK: 0, JOD: 3,
  JPY: 0, KMF: 0, KPW: 0, KRW: 0, KWD: 3, LAK: 0, LBP: 0, LYD: 3, MGA: 0, MMK: 0, OMR: 3, PKR: 0, PYG: 0, RWF: 0,
  SLL: 0, SOS: 0, SYP: 0, TND: 3, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0, YER: 0,
};

/** Digits after the decimal point in the currency's minor unit (EUR 2, JPY 0, BHD 3). */
export function minorUnits(currency: string): number {
  return MINOR_UNITS_NOT_2[currency] ?? 2;
}

export function roundToMinor(amount: Decimal, currency: string): Decimal {
  return amount.toDecimalPlaces(minorUnits(currency), Decimal.ROUND_HALF_UP);
}

/** An amount as the decimal string fedinvoice puts in JSON: exactly the currency's minor-unit digits. */
export function formatMoney(amount: Decimal, currency: string): string {
  const text = amount.toFixed(minorUnits(currency));
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** Percent of an amount, rounded to the currency: `percentOf(26, "21")` is 5.46. */
export function percentOf(amount: Decimal, percent: string, currency: string): Decimal {
  return roundToMinor(amount.times(percent).dividedBy(100), currency);
}
