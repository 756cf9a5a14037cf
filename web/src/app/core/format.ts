// Locale-aware formatting shared by the pipes and the charts. Gold stores rates as fractions
// (0.034); the UI shows percentages, so conversions happen here and nowhere else.

export type Lang = 'pt-BR' | 'en';

const formatters = new Map<string, Intl.NumberFormat>();

function numberFormat(lang: Lang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = lang + JSON.stringify(options);
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(lang, options);
    formatters.set(key, formatter);
  }
  return formatter;
}

/** Missing values read as an em dash, never as 0. */
export const MISSING = '—';

function present(value: number | null | undefined): value is number {
  return value !== null && value !== undefined && Number.isFinite(value);
}

export function formatNumber(value: number | null | undefined, lang: Lang, maxDigits = 1): string {
  return present(value) ? numberFormat(lang, { maximumFractionDigits: maxDigits }).format(value) : MISSING;
}

/** Large counts in short form: 1,2 mi / 1.2M. */
export function formatCompact(value: number | null | undefined, lang: Lang): string {
  return present(value) ? numberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 }).format(value) : MISSING;
}

/** A fraction shown as a percentage: 0.0345 → "3,45%". */
export function formatPercent(fraction: number | null | undefined, lang: Lang, digits = 2): string {
  return present(fraction)
    ? numberFormat(lang, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(fraction)
    : MISSING;
}

export function formatMoney(value: number | null | undefined, lang: Lang, currency = 'USD'): string {
  return present(value) ? numberFormat(lang, { style: 'currency', currency, maximumFractionDigits: 0 }).format(value) : MISSING;
}

/** An ISO date (2026-11-29) or timestamp as a local calendar date: 29/11/2026 in pt-BR. */
export function formatDate(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return MISSING;
  // A bare date is a calendar day, not midnight UTC: keep it from shifting a day west of UTC.
  const date = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(iso + 'T12:00:00') : new Date(iso);
  if (Number.isNaN(date.getTime())) return MISSING;
  return new Intl.DateTimeFormat(lang, { day: '2-digit', month: '2-digit', year: 'numeric' }).format(date);
}

export function formatDateTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return MISSING;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return MISSING;
  return new Intl.DateTimeFormat(lang, { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(date);
}
