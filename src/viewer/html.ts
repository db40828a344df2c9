/**
 * HTML with escaping by default: every value interpolated into `html\`…\`` is escaped unless it is itself the
 * result of `html` (or `raw`). Op content (comments, names, product codes, reasons) is written by whoever can
 * write to a participant's pod, so nothing from an invoice ever reaches the page unescaped.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

type Fragment = Html | string | number | boolean | null | undefined | readonly Fragment[];

function fragment(value: Fragment): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(fragment).join('');
  if (value === null || value === undefined || value === false || value === true) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Fragment[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += fragment(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Marks trusted markup (only for constants written in this code base). */
export const raw = (markup: string): Html => new Html(markup);

/** An http(s) URL as a link, anything else (javascript:, data:, garbage) as plain text. */
export function externalLink(url: string, text: Fragment = url): Html {
  let safe: string | null = null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') safe = parsed.href;
  } catch {
    // not a URL
  }
  return safe ? html`<a href="${safe}" rel="noopener noreferrer nofollow">${text}</a>` : html`${text}`;
}
