import { MISSING, formatCompact, formatDate, formatMoney, formatNumber, formatPercent } from './format';

describe('formatting', () => {
  it('uses Brazilian separators in pt-BR and English ones in en', () => {
    expect(formatNumber(1234.5, 'pt-BR')).toBe('1.234,5');
    expect(formatNumber(1234.5, 'en')).toBe('1,234.5');
  });

  it('shows fractions as percentages', () => {
    expect(formatPercent(0.0345, 'pt-BR')).toBe('3,45%');
    expect(formatPercent(0.0345, 'en')).toBe('3.45%');
  });

  it('writes calendar dates day first in pt-BR without shifting the day', () => {
    expect(formatDate('2026-11-29', 'pt-BR')).toBe('29/11/2026');
    expect(formatDate('2026-11-29', 'en')).toBe('11/29/2026');
  });

  it('never shows a missing value as zero', () => {
    expect(formatNumber(null, 'pt-BR')).toBe(MISSING);
    expect(formatPercent(undefined, 'en')).toBe(MISSING);
    expect(formatPercent(Number.NaN, 'en')).toBe(MISSING);
    expect(formatDate('not a date', 'en')).toBe(MISSING);
  });

  it('abbreviates large counts and formats money', () => {
    expect(formatCompact(1_250_000, 'en')).toBe('1.3M');
    expect(formatCompact(1_250_000, 'pt-BR').replace(/\s/g, ' ')).toBe('1,3 mi');
    expect(formatMoney(1234, 'pt-BR').replace(/\s/g, ' ')).toBe('US$ 1.234');
  });
});
