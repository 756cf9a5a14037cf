import { Component, computed, effect, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { Api, Comparison, InfluencerSummary, problemDetail } from '../core/api';
import { I18n, I18N_PIPES } from '../core/i18n';
import { Series, erSeries, followersOnly } from '../core/series';
import { TimeChart } from '../ui/chart';
import { MetricValue } from '../ui/metric';

const ROWS = ['score', 'followers', 'er_followers_median', 'er_views', 'growth_pct_30d', 'growth_pct_90d', 'posts_per_week', 'est_reach_per_post', 'emv_usd'];

@Component({
  selector: 'an-compare',
  imports: [FormsModule, RouterLink, MetricValue, TimeChart, ...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ 'compare.title' | t }}</h1>
      <form class="inline add" (ngSubmit)="find()">
        <label for="add-q">{{ 'compare.add' | t }}</label>
        <input id="add-q" name="q" type="search" [(ngModel)]="query" [placeholder]="'search.textHint' | t" />
        <button type="submit">{{ 'compare.find' | t }}</button>
      </form>
      @if (found().length) {
        <ul class="found">
          @for (f of found(); track f.id) {
            <li><button type="button" (click)="add(f.id)" [disabled]="ids().includes(f.id) || ids().length >= 10">+ {{ '@' + f.handle }} ({{ 'platform.' + f.platform | t }})</button></li>
          }
        </ul>
      }
      @if (ids().length < 2) {
        <p class="empty" data-test="compare-empty">{{ 'compare.pick' | t }}</p>
      } @else if (error()) {
        <p class="error" role="alert">{{ error() }}</p>
      } @else if (!comparison()) {
        <p role="status">{{ 'common.loading' | t }}</p>
      } @else {
        <div class="table-wrap">
          <table class="compare" data-test="compare-table">
            <caption class="visually-hidden">{{ 'compare.table' | t }}</caption>
            <thead><tr>
              <th scope="col">{{ 'compare.metric' | t }}</th>
              @for (c of comparison()!.items; track c.influencer.id) {
                <th scope="col"><a [routerLink]="['/influencers', c.influencer.id]">{{ '@' + c.influencer.handle }}</a>
                  <button type="button" class="link small" (click)="remove(c.influencer.id)" [attr.aria-label]="('compare.remove' | t) + ' ' + c.influencer.handle">×</button></th>
              }
            </tr></thead>
            <tbody>
              @for (row of rows; track row) {
                <tr>
                  <th scope="row">{{ 'metric.' + row | t }}</th>
                  @for (c of comparison()!.items; track c.influencer.id) {
                    <td class="num" [class.best]="comparison()!.best[row] === c.influencer.id">
                      <an-metric [metric]="row" [value]="value(c, row)" />
                      @if (comparison()!.best[row] === c.influencer.id) { <span class="visually-hidden">({{ 'compare.best' | t }})</span> }
                    </td>
                  }
                </tr>
              }
            </tbody>
          </table>
        </div>
        <section class="card">
          <h2>{{ 'compare.followers' | t }}</h2>
          <an-time-chart name="compare-followers" metric="followers" [caption]="'compare.followers' | t" [series]="followerChart()" />
        </section>
        <section class="card">
          <h2>{{ 'compare.er' | t }}</h2>
          <an-time-chart name="compare-er" metric="er_daily" [caption]="'compare.er' | t" [series]="erChart()" />
        </section>
      }
    </section>
  `,
})
export class ComparePage {
  private readonly api = inject(Api);
  private readonly router = inject(Router);
  private readonly i18n = inject(I18n);
  /** Comma-separated influencer ids, from the URL. */
  readonly idsParam = input<string>('', { alias: 'ids' });
  protected readonly ids = computed(() => [...new Set((this.idsParam() ?? '').split(',').map((s) => s.trim()).filter(Boolean))]);
  protected readonly rows = ROWS;
  protected readonly comparison = signal<Comparison | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly found = signal<InfluencerSummary[]>([]);
  protected query = '';

  protected readonly followerChart = computed<Series[]>(() => (this.comparison()?.items ?? []).map((c) => followersOnly('@' + c.influencer.handle, c.history)));
  protected readonly erChart = computed<Series[]>(() => (this.comparison()?.items ?? []).map((c) => erSeries('@' + c.influencer.handle, c.history)));

  constructor() {
    effect(() => {
      const ids = this.ids();
      this.comparison.set(null);
      this.error.set(null);
      if (ids.length < 2) return;
      this.api.compare(ids).subscribe({
        next: (c) => this.comparison.set(c),
        error: (error: unknown) => this.error.set(problemDetail(error) ?? this.i18n.t('common.failed')),
      });
    });
  }

  protected value(c: Comparison['items'][number], row: string): number | null {
    if (row === 'score') return c.influencer.score;
    if (row === 'followers') return c.influencer.followers;
    const value = c.metrics?.[row];
    return typeof value === 'number' ? value : null;
  }

  protected find(): void {
    const q = this.query.trim();
    if (!q) return;
    this.api.search({ q, limit: '8' }).subscribe({ next: (page) => this.found.set(page.items), error: () => this.found.set([]) });
  }

  protected add(id: string): void {
    void this.router.navigate([], { queryParams: { ids: [...this.ids(), id].join(',') } });
  }

  protected remove(id: string): void {
    void this.router.navigate([], { queryParams: { ids: this.ids().filter((i) => i !== id).join(',') } });
  }
}
