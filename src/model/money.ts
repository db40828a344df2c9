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

const minorUnitCache = new Map<string, number>();

/** Digits after the decimal point in the currency's minor unit (EUR 2, JPY 0, BHD 3), from ISO 4217 via Intl. */
export function minorUnits(currency: string): number {
  let digits = minorUnitCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    minorUnitCache.set(currency, digits);
  }
  return digits;
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
