/**
 * The regular expressions of the op table. Each is written once and used three ways: by the fold (as a RegExp),
 * by the strict Turtle reader, and published as `sh:pattern` in shapes/ops.shacl.ttl. So they use only what
 * JavaScript and XPath regular expressions share: character classes, groups, alternation and counted repeats;
 * no lookaround, no `\d` or `\s`, no `(?:`, no flags. Alternatives are chosen by their first characters, so a
 * hostile 2,000-character value cannot make a match backtrack for long.
 */

const HEX = '[0-9a-f]';

/** An op id or terms hash: SHA-256 as 64 lowercase hex digits. */
export const HEX64 = `^${HEX}{64}$`;

/** Invoice ids become path segments on pods: URL-safe characters only. */
export const INVOICE_ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/** A device label ("desktop", "mobile"): shown next to every op, so kept plain. */
export const DEVICE_LABEL = '^[A-Za-z0-9._-]{1,64}$';

/** A UN/ECE Recommendation 20 or 21 unit code: C62, KGM, HUR, XBX. */
export const UNIT_CODE = '^[A-Z0-9]{1,3}$';

/** An electronic address scheme of the EAS list: four digits (0088, 9930) or two capital letters (EM). */
export const ENDPOINT_SCHEME = '^([0-9]{4}|[A-Z]{2})$';

/** An ISO 6523 ICD code naming an identifier scheme (0106: the Dutch chamber of commerce). */
export const ICD = '^[0-9]{4}$';

/** An IBAN as printed without spaces: country, check digits, then up to 30 letters and digits. */
export const IBAN = '^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$';

/** A BIC: bank, country, location, and optionally a branch. */
export const BIC = '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$';

/** Three capital letters; which ones are ISO 4217 codes is the table's list of currencies. */
export const CURRENCY_SHAPE = '^[A-Z]{3}$';

// Codes, keys and ids: no control characters (terminal escapes) and no surrounding white space (what
// String.prototype.trim removes), so two spellings that look the same are not two different keys.
const CONTROL = '\u0000-\u001f\u007f';
const EDGE = `${CONTROL}\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff`;
export const CODE = `^[^${EDGE}]([^${CONTROL}]*[^${EDGE}])?$`;

// Calendar dates of years 0000–9999 in the proleptic Gregorian calendar (what JavaScript's Date uses).
const MONTH_DAY = '(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31';
const LEAP_YEAR = '[0-9][0-9](0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00';
const DATE = `([0-9]{4}-(${MONTH_DAY})|(${LEAP_YEAR})-02-29)`;
/** A calendar date, YYYY-MM-DD, that exists (no 30 February). */
export const CALENDAR_DATE = `^${DATE}$`;
/** A UTC instant with milliseconds, exactly as Date.prototype.toISOString writes it for years 0000–9999. */
export const UTC_INSTANT = `^${DATE}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][.][0-9]{3}Z$`;

// http(s) URLs in the form the WHATWG URL parser writes them (`new URL(u).href === u`), so that one URL has one
// spelling: lower-case host names (or a dotted IPv4 address), no default port, no port with leading zeros, no
// "." or ".." path segments, no user name. A subset: some URLs a browser accepts are not allowed here.
const LABEL = '[a-z0-9]+(-+[a-z0-9]+)*';
const LAST_LABEL = '[a-z][a-z0-9]*(-+[a-z0-9]+)*';
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const HOST = `((${LABEL}[.])*${LAST_LABEL}|(${OCTET}[.]){3}${OCTET})`;
const PORT_10000_UP = '[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]';
const HTTP_PORT = `([0-9]|[1-79][0-9]|8[1-9]|[1-9][0-9]{2,3}|${PORT_10000_UP})`; // not 80
const HTTPS_PORT = `([0-9]|[1-9][0-9]|[1-35-9][0-9]{2}|4[0-35-9][0-9]|44[0-24-9]|[1-9][0-9]{3}|${PORT_10000_UP})`; // not 443
const ORIGIN = `(http://${HOST}(:${HTTP_PORT})?|https://${HOST}(:${HTTPS_PORT})?)`;
// A path segment character other than "."; "%2e" is left out because the parser reads it as a dot.
const PCHAR = "([A-Za-z0-9_~!$&'()*+,;=:@-]|%([013-9A-Fa-f][0-9A-Fa-f]|2[0-9A-Da-dFf]))";
const SEGMENT = `(${PCHAR}(${PCHAR}|[.])*|[.]${PCHAR}(${PCHAR}|[.])*|[.][.](${PCHAR}|[.])(${PCHAR}|[.])*)?`;
const ESCAPE = '%[0-9A-Fa-f][0-9A-Fa-f]';
const QUERY = `([?]([A-Za-z0-9_~!$&()*+,;=:@/?.-]|${ESCAPE})*)?`;
const FRAGMENT = `(#([A-Za-z0-9_~!$&'()*+,;=:@/?.-]|${ESCAPE})*)?`;

/** An http(s) URL (a WebID, a tracking page). */
export const HTTP_URL = `^${ORIGIN}(/${SEGMENT})+${QUERY}${FRAGMENT}$`;
/** An LDP container: an http(s) URL whose path ends in "/", without query or fragment. */
export const CONTAINER_URL = `^${ORIGIN}(/${SEGMENT})*/$`;

/** A whole number in canonical form (no "+", no leading zeros, no "-0"), signed only if it may be negative. */
export function integerPattern(bounds: { readonly min: number; readonly nonZero?: boolean }): string {
  const sign = bounds.min < 0 ? '-?' : '';
  return bounds.nonZero || bounds.min > 0 ? `^${sign}[1-9][0-9]*$` : `^(0|${sign}[1-9][0-9]*)$`;
}

/**
 * A decimal in canonical form ("0.05", "21": no "+", no exponent, no leading zeros, no trailing zeros after the
 * point, no "-0"), with at most the given digits before and after the point; signed only if it may be negative.
 */
export function decimalPattern(bounds: {
  readonly min: string;
  readonly digits: { readonly integer: number; readonly fraction: number };
}): string {
  const sign = bounds.min.startsWith('-') ? '-?' : '';
  const { integer, fraction } = bounds.digits;
  const fractionPart = `[.][0-9]{0,${fraction - 1}}[1-9]`;
  return `^(0|${sign}[1-9][0-9]{0,${integer - 1}}(${fractionPart})?|${sign}0${fractionPart})$`;
}

/** A base58btc multibase value ("z" then the Bitcoin alphabet): a device's public key or a signature. */
export const MULTIBASE_BASE58 = '^z[1-9A-HJ-NP-Za-km-z]+$';
