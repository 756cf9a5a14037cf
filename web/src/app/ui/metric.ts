import { Component, computed, inject, input } from '@angular/core';
import { I18n } from '../core/i18n';
import { Lang, MISSING, formatCompact, formatMoney, formatNumber, formatPercent } from '../core/format';
import { definition } from '../core/metrics';

let nextId = 0;

/** Formats a metric value in its unit for the language. */
export function formatMetric(id: string, value: number | null | undefined, lang: Lang, compact = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const unit = definition(id).unit;
  const en = lang === 'en';
  switch (unit) {
    case 'percent':
      return formatPercent(value, lang);
    case 'usd':
      return formatMoney(value, lang);
    case 'score':
      return `${formatNumber(value, lang, 1)}/100`;
    case 'per_week':
      return `${formatNumber(value, lang, 1)} ${en ? 'per week' : 'por semana'}`;
    case 'followers_per_day':
      return `${formatNumber(value, lang, 1)} ${en ? 'followers/day' : 'seguidores/dia'}`;
    case 'penalty_points':
      return `${formatNumber(value, lang, 0)} ${en ? 'penalty points' : 'pontos de penalidade'}`;
    case 'points':
      return formatNumber(value, lang, 1);
    case 'days':
      return `${formatNumber(value, lang, 1)} ${en ? 'days' : 'dias'}`;
    case 'count':
      return compact ? formatCompact(value, lang) : formatNumber(value, lang, 0);
  }
}

/**
 * A number with its unit; hovering or focusing it shows what it is (formula id, window and
 * formula from metrics.md), also to screen readers through aria-describedby.
 */
@Component({
  selector: 'an-metric',
  template: `<span class="metric" tabindex="0" [attr.aria-describedby]="tipId">{{ text() }}<span class="tip" role="tooltip" [id]="tipId"><code>{{ def().formula }}</code> {{ def().text[i18n.lang()] }}</span></span>`,
})
export class MetricValue {
  protected readonly i18n = inject(I18n);
  readonly metric = input.required<string>();
  readonly value = input<number | null | undefined>(null);
  readonly compact = input(false);
  protected readonly tipId = `metric-tip-${++nextId}`;
  protected readonly def = computed(() => definition(this.metric()));
  protected readonly text = computed(() => formatMetric(this.metric(), this.value(), this.i18n.lang(), this.compact()));
}
