import { Injectable, Pipe, PipeTransform, inject, signal } from '@angular/core';
import { Lang, formatCompact, formatDate, formatDateTime, formatMoney, formatNumber, formatPercent } from './format';
import { MESSAGES } from './messages';

const STORAGE_KEY = 'analisa.lang';

/** The interface language: Brazilian Portuguese unless the user switched to English. */
@Injectable({ providedIn: 'root' })
export class I18n {
  readonly lang = signal<Lang>(I18n.stored());

  private static stored(): Lang {
    try {
      return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'pt-BR';
    } catch {
      return 'pt-BR';
    }
  }

  constructor() {
    document.documentElement.lang = this.lang();
  }

  use(lang: Lang): void {
    this.lang.set(lang);
    document.documentElement.lang = lang;
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // Private windows may refuse storage; the switch still holds for this page.
    }
  }

  /** The message `key` with `{name}` placeholders filled in. */
  t(key: string, params?: Record<string, string | number>): string {
    const message = MESSAGES[this.lang()][key];
    if (message === undefined) {
      console.error(`missing message ${key} (${this.lang()})`);
      return key;
    }
    return params ? message.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? '')) : message;
  }

  /** A message when it exists, else `fallback` (for values the API may add later). */
  tOr(key: string, fallback: string): string {
    return MESSAGES[this.lang()][key] ?? fallback;
  }
}

// Impure on purpose: the output changes when the language signal does, not only the input.

@Pipe({ name: 't', pure: false })
export class TranslatePipe implements PipeTransform {
  private readonly i18n = inject(I18n);
  transform(key: string, params?: Record<string, string | number>): string {
    return this.i18n.t(key, params);
  }
}

@Pipe({ name: 'num', pure: false })
export class NumberPipe implements PipeTransform {
  private readonly i18n = inject(I18n);
  transform(value: number | null | undefined, digits = 1): string {
    return formatNumber(value, this.i18n.lang(), digits);
  }
}

@Pipe({ name: 'compact', pure: false })
export class CompactPipe implements PipeTransform {
  private readonly i18n = inject(I18n);
  transform(value: number | null | undefined): string {
    return formatCompact(value, this.i18n.lang());
  }
}

@Pipe({ name: 'pct', pure: false })
export class PercentPipe implements PipeTransform {
  private readonly i18n = inject(I18n);
  transform(fraction: number | null | undefined, digits = 2): string {
    return formatPercent(fraction, this.i18n.lang(), digits);
  }
}

@Pipe({ name: 'money', pure: false })
export class MoneyPipe implements PipeTransform {
  private readonly i18n = inject(I18n);
  transform(value: number | null | undefined): string {
    return formatMoney(value, this.i18n.lang());
  }
}

@Pipe({ name: 'day', pure: false })
export class DatePipe implements PipeTransform {
  private readonly i18n = inject(I18n);
  transform(iso: string | null | undefined, withTime = false): string {
    return withTime ? formatDateTime(iso, this.i18n.lang()) : formatDate(iso, this.i18n.lang());
  }
}

export const I18N_PIPES = [TranslatePipe, NumberPipe, CompactPipe, PercentPipe, MoneyPipe, DatePipe] as const;
