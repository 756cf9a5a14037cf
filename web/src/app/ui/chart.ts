import { Component, computed, inject, input } from '@angular/core';
import { ChartComponent } from 'ng-apexcharts';
import { I18n, I18N_PIPES } from '../core/i18n';
import { formatDate } from '../core/format';
import { Series, XRange, XY } from '../core/series';
import { formatMetric } from './metric';

const PALETTE = ['#0f766e', '#c2410c', '#4338ca', '#be185d', '#15803d', '#a16207', '#0369a1', '#7c3aed', '#b91c1c', '#334155'];

/**
 * A time-series chart (ApexCharts) with its text alternative: a one-line summary read by
 * screen readers and the data as a table behind a disclosure.
 */
@Component({
  selector: 'an-time-chart',
  imports: [ChartComponent, ...I18N_PIPES],
  template: `
    <figure class="chart" [attr.aria-label]="summary()" [attr.data-chart]="name()">
      <figcaption>{{ caption() }}</figcaption>
      @if (hasData()) {
        <div aria-hidden="true">
          <apx-chart
            [series]="$any(apexSeries())"
            [chart]="$any(chartOptions())"
            [xaxis]="$any(xaxis())"
            [yaxis]="$any(yaxis())"
            [stroke]="$any(stroke())"
            [fill]="$any(fill())"
            [colors]="colors()"
            [tooltip]="$any(tooltip())"
            [legend]="$any({ position: 'top', horizontalAlign: 'left' })"
            [dataLabels]="{ enabled: false }"
            [markers]="{ size: 0 }"
          />
        </div>
        <p class="visually-hidden">{{ summary() }}</p>
        <details class="chart-data">
          <summary>{{ 'chart.data' | t }}</summary>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{{ 'chart.date' | t }}</th>
                  @for (s of series(); track s.name) {
                    <th scope="col">{{ s.name }}</th>
                  }
                </tr>
              </thead>
              <tbody>
                @for (row of rows(); track row.x) {
                  <tr>
                    <th scope="row">{{ row.date }}</th>
                    @for (cell of row.cells; track $index) {
                      <td>{{ cell }}</td>
                    }
                  </tr>
                }
              </tbody>
            </table>
          </div>
        </details>
      } @else {
        <p class="empty">{{ 'chart.empty' | t }}</p>
      }
    </figure>
  `,
})
export class TimeChart {
  private readonly i18n = inject(I18n);
  /** Identifies the chart in the page (tests look it up by this). */
  readonly name = input.required<string>();
  readonly caption = input.required<string>();
  readonly series = input.required<Series[]>();
  /** The metric id whose unit the y axis shows. */
  readonly metric = input.required<string>();
  readonly height = input(300);

  protected readonly hasData = computed(() => this.series().some((s) => s.data.length > 0));
  protected readonly colors = computed(() => {
    // Bands share their forecast's hue, lighter.
    let line = 0;
    return this.series().map((s) => (s.type === 'rangeArea' ? '#94a3b8' : PALETTE[line++ % PALETTE.length]));
  });
  protected readonly apexSeries = computed(() => this.series().map((s) => ({ name: s.name, type: s.type, data: s.data })));
  protected readonly chartOptions = computed(() => ({
    type: this.series().some((s) => s.type === 'rangeArea') ? 'rangeArea' : 'line',
    height: this.height(),
    animations: { enabled: false },
    toolbar: { show: false },
    zoom: { enabled: false },
    fontFamily: 'inherit',
  }));
  protected readonly stroke = computed(() => ({ curve: 'straight', width: this.series().map((s) => (s.type === 'rangeArea' ? 0 : 2)) }));
  protected readonly fill = computed(() => ({ opacity: this.series().map((s) => (s.type === 'rangeArea' ? 0.25 : 1)) }));
  protected readonly xaxis = computed(() => {
    const lang = this.i18n.lang();
    return { type: 'datetime', labels: { formatter: (value: string | number) => formatDate(new Date(Number(value)).toISOString().slice(0, 10), lang) } };
  });
  protected readonly yaxis = computed(() => {
    const lang = this.i18n.lang();
    const metric = this.metric();
    return { labels: { formatter: (value: number) => formatMetric(metric, value, lang, true) } };
  });
  protected readonly tooltip = computed(() => {
    const lang = this.i18n.lang();
    const metric = this.metric();
    return { shared: true, x: { formatter: (value: number) => formatDate(new Date(value).toISOString().slice(0, 10), lang) }, y: { formatter: (value: number) => formatMetric(metric, value, lang) } };
  });

  /** Every x across the series, each with one cell per series. */
  protected readonly rows = computed(() => {
    const lang = this.i18n.lang();
    const metric = this.metric();
    const xs = [...new Set(this.series().flatMap((s) => s.data.map((p) => p.x)))].sort((a, b) => a - b);
    const lookups = this.series().map((s) => new Map<number, XY | XRange>(s.data.map((p) => [p.x, p])));
    return xs.map((x) => ({
      x,
      date: formatDate(new Date(x).toISOString().slice(0, 10), lang),
      cells: lookups.map((lookup) => {
        const point = lookup.get(x);
        if (!point) return '';
        return Array.isArray(point.y) ? `${formatMetric(metric, point.y[0], lang)} – ${formatMetric(metric, point.y[1], lang)}` : formatMetric(metric, point.y, lang);
      }),
    }));
  });

  protected readonly summary = computed(() => {
    const lang = this.i18n.lang();
    const metric = this.metric();
    const parts = this.series()
      .filter((s) => s.type === 'line')
      .map((s) => {
        const points = (s.data as XY[]).filter((p) => p.y !== null);
        if (!points.length) return `${s.name}: —`;
        const first = points[0];
        const last = points[points.length - 1];
        const day = (x: number) => formatDate(new Date(x).toISOString().slice(0, 10), lang);
        return this.i18n.t('chart.summary', { name: s.name, from: day(first.x), to: day(last.x), start: formatMetric(metric, first.y, lang), end: formatMetric(metric, last.y, lang), n: points.length });
      });
    return `${this.caption()}. ${parts.join('; ')}`;
  });
}
