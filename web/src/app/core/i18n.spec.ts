import { TestBed } from '@angular/core/testing';
import { I18n, NumberPipe, PercentPipe, DatePipe } from './i18n';

describe('I18n', () => {
  beforeEach(() => localStorage.clear());

  it('starts in Brazilian Portuguese and switches to English, remembering the choice', () => {
    const i18n = TestBed.inject(I18n);
    expect(i18n.lang()).toBe('pt-BR');
    expect(i18n.t('search.count', { n: 3 })).toBe('3 influenciadores encontrados');
    i18n.use('en');
    expect(i18n.t('search.count', { n: 3 })).toBe('3 influencers found');
    expect(localStorage.getItem('analisa.lang')).toBe('en');
    expect(document.documentElement.lang).toBe('en');
  });

  it('makes the pipes follow the language', () => {
    const i18n = TestBed.inject(I18n);
    const [num, pct, day] = TestBed.runInInjectionContext(() => [new NumberPipe(), new PercentPipe(), new DatePipe()]);
    expect([num.transform(1234.5), pct.transform(0.05, 1), day.transform('2026-11-29')]).toEqual(['1.234,5', '5,0%', '29/11/2026']);
    i18n.use('en');
    expect([num.transform(1234.5), pct.transform(0.05, 1), day.transform('2026-11-29')]).toEqual(['1,234.5', '5.0%', '11/29/2026']);
  });
});
