import { Component, DestroyRef, computed, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormsModule } from '@angular/forms';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { Api, InfluencerSummary, problemDetail } from '../core/api';
import { NICHES, PLATFORMS, SearchFilters, TIERS, activeFilterCount, emptyFilters, filtersFromParams, filtersToApi, filtersToParams, nextSort } from '../core/filters';
import { I18n, I18N_PIPES } from '../core/i18n';
import { MetricValue } from '../ui/metric';

/** Small enough that a demo world of two dozen creators already has a second page. */
const PAGE_SIZE = 20;

type Column = { key: string; label: string; sortable: boolean };

@Component({
  selector: 'an-search',
  imports: [FormsModule, RouterLink, MetricValue, ...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ 'search.title' | t }}</h1>
      <details class="filters" [open]="filtersOpen">
        <summary>{{ 'search.filters' | t }} @if (activeCount()) {<span class="badge">{{ activeCount() }}</span>}</summary>
        <form (ngSubmit)="apply()" data-test="filters">
          <div class="filter-grid">
            <label class="wide">{{ 'search.text' | t }}
              <input name="q" type="search" [(ngModel)]="draft.q" [placeholder]="'search.textHint' | t" />
            </label>
            <fieldset>
              <legend>{{ 'search.platform' | t }}</legend>
              @for (p of platforms; track p) {
                <label class="check"><input type="checkbox" [name]="'platform-' + p" [checked]="draft.platform.includes(p)" (change)="toggle('platform', p)" /> {{ 'platform.' + p | t }}</label>
              }
            </fieldset>
            <fieldset>
              <legend>{{ 'search.tier' | t }}</legend>
              @for (tier of tiers; track tier) {
                <label class="check"><input type="checkbox" [name]="'tier-' + tier" [checked]="draft.tier.includes(tier)" (change)="toggle('tier', tier)" /> {{ 'tier.' + tier | t }}</label>
              }
            </fieldset>
            <label>{{ 'search.niche' | t }}
              <select name="niche" [ngModel]="draft.niche.at(0) ?? ''" (ngModelChange)="draft.niche = $event ? [$event] : []">
                <option value="">{{ 'search.any' | t }}</option>
                @for (n of niches; track n) {
                  <option [value]="n">{{ 'niche.' + n | t }}</option>
                }
              </select>
            </label>
            <label>{{ 'search.country' | t }}
              <input name="country" [ngModel]="draft.country.join(', ')" (ngModelChange)="draft.country = split($event, true)" placeholder="BR, PT" />
            </label>
            <label>{{ 'search.language' | t }}
              <select name="language" [ngModel]="draft.language.at(0) ?? ''" (ngModelChange)="draft.language = $event ? [$event] : []">
                <option value="">{{ 'search.any' | t }}</option>
                <option value="pt">{{ 'language.pt' | t }}</option>
                <option value="en">{{ 'language.en' | t }}</option>
                <option value="es">{{ 'language.es' | t }}</option>
              </select>
            </label>
            <fieldset class="range">
              <legend>{{ 'search.score' | t }}</legend>
              <input name="scoreMin" type="number" min="0" max="100" step="1" [(ngModel)]="draft.scoreMin" [attr.aria-label]="('search.score' | t) + ' ' + ('search.min' | t)" [placeholder]="'search.min' | t" />
              <input name="scoreMax" type="number" min="0" max="100" step="1" [(ngModel)]="draft.scoreMax" [attr.aria-label]="('search.score' | t) + ' ' + ('search.max' | t)" [placeholder]="'search.max' | t" />
            </fieldset>
            <fieldset class="range">
              <legend>{{ 'search.er' | t }} (%)</legend>
              <input name="erMin" type="number" step="0.1" [(ngModel)]="draft.erMin" [attr.aria-label]="('search.er' | t) + ' ' + ('search.min' | t)" [placeholder]="'search.min' | t" />
              <input name="erMax" type="number" step="0.1" [(ngModel)]="draft.erMax" [attr.aria-label]="('search.er' | t) + ' ' + ('search.max' | t)" [placeholder]="'search.max' | t" />
            </fieldset>
            <fieldset class="range">
              <legend>{{ 'search.growth' | t }} (%)</legend>
              <input name="growthMin" type="number" step="0.1" [(ngModel)]="draft.growthMin" [attr.aria-label]="('search.growth' | t) + ' ' + ('search.min' | t)" [placeholder]="'search.min' | t" />
              <input name="growthMax" type="number" step="0.1" [(ngModel)]="draft.growthMax" [attr.aria-label]="('search.growth' | t) + ' ' + ('search.max' | t)" [placeholder]="'search.max' | t" />
            </fieldset>
          </div>
          <div class="actions">
            <button type="submit" class="primary" data-test="apply">{{ 'search.apply' | t }}</button>
            <button type="button" (click)="clear()">{{ 'search.clear' | t }}</button>
          </div>
        </form>
      </details>

      <div class="toolbar">
        <p role="status" aria-live="polite" data-test="result-count">
          @if (loading()) { {{ 'common.loading' | t }} } @else if (page()) { {{ 'search.count' | t: { n: page()!.total } }} }
        </p>
        <button type="button" class="primary" data-test="compare" [disabled]="selected().length < 2 || selected().length > 10" (click)="compare()">
          {{ 'search.compare' | t: { n: selected().length } }}
        </button>
      </div>

      @if (error()) {
        <p class="error" role="alert">{{ error() }}</p>
      }
      <div class="table-wrap" [attr.aria-busy]="loading()">
        <table class="results" data-test="results">
          <caption class="visually-hidden">{{ 'search.title' | t }}</caption>
          <thead>
            <tr>
              <th scope="col"><span class="visually-hidden">{{ 'search.select' | t }}</span></th>
              @for (c of columns(); track c.key) {
                <th scope="col" [attr.aria-sort]="ariaSort(c.key)">
                  @if (c.sortable) {
                    <button type="button" class="sort" (click)="sortBy(c.key)" [attr.data-sort]="c.key">{{ c.label }} <span aria-hidden="true">{{ sortMark(c.key) }}</span></button>
                  } @else {
                    {{ c.label }}
                  }
                </th>
              }
            </tr>
          </thead>
          <tbody>
            @if (loading() && !page()) {
              @for (row of [1, 2, 3, 4, 5]; track row) {
                <tr class="skeleton"><td colspan="8">&nbsp;</td></tr>
              }
            }
            @for (i of page()?.items ?? []; track i.id) {
              <tr>
                <td class="pick"><input type="checkbox" [attr.aria-label]="('search.selectOne' | t) + ' ' + i.handle" [checked]="selected().includes(i.id)" (change)="select(i.id)" data-test="select" /></td>
                <td class="who">
                  <a [routerLink]="['/influencers', i.id]" class="handle">{{ '@' + i.handle }}</a>
                  @if (i.display_name) { <span class="muted">{{ i.display_name }}</span> }
                </td>
                <td [attr.data-label]="'col.platform' | t">{{ 'platform.' + i.platform | t }}</td>
                <td class="num" [attr.data-label]="'col.followers' | t"><an-metric metric="followers" [value]="i.followers" [compact]="true" /></td>
                <td [attr.data-label]="'col.tier' | t">{{ 'tier.' + i.tier | t }}</td>
                <td class="num" [attr.data-label]="'col.er' | t"><an-metric [metric]="i.engagement_metric ?? 'engagement_rate'" [value]="i.engagement_rate" /></td>
                <td class="num" [attr.data-label]="'col.growth30' | t"><an-metric metric="growth_pct_30d" [value]="i.growth_pct_30d" /></td>
                <td class="num" [attr.data-label]="'col.score' | t">
                  <an-metric metric="score" [value]="i.score" />
                  @if (i.confidence) { <span [class]="'confidence ' + i.confidence">{{ 'confidence.' + i.confidence | t }}</span> }
                </td>
              </tr>
            }
          </tbody>
        </table>
      </div>
      @if (!loading() && page()?.items?.length === 0) {
        <div class="empty" data-test="empty">
          <p>{{ 'search.empty' | t }}</p>
          <button type="button" (click)="clear()">{{ 'search.clear' | t }}</button>
        </div>
      }
      <nav class="pager" [attr.aria-label]="'search.pages' | t">
        <button type="button" [disabled]="cursors().length === 0 || loading()" (click)="previous()">{{ 'search.previous' | t }}</button>
        <span>{{ 'search.page' | t: { n: cursors().length + 1 } }}</span>
        <button type="button" data-test="next" [disabled]="!page()?.next_cursor || loading()" (click)="next()">{{ 'search.next' | t }}</button>
      </nav>
    </section>
  `,
})
export class SearchPage {
  private readonly api = inject(Api);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);
  private readonly i18n = inject(I18n);
  protected readonly platforms = PLATFORMS;
  protected readonly tiers = TIERS;
  protected readonly niches = NICHES;
  protected readonly filters = signal<SearchFilters>(emptyFilters());
  protected draft: SearchFilters = emptyFilters();
  protected filtersOpen = window.innerWidth > 700;
  protected readonly page = signal<{ items: InfluencerSummary[]; total: number; next_cursor: string | null } | null>(null);
  protected readonly loading = signal(false);
  protected readonly error = signal<string | null>(null);
  /** Cursors of the pages before this one (empty on the first page). */
  protected readonly cursors = signal<(string | null)[]>([]);
  private current: string | null = null;
  protected readonly selected = signal<string[]>([]);
  protected readonly activeCount = computed(() => activeFilterCount(this.filters()));
  protected readonly columns = computed<Column[]>(() => {
    this.i18n.lang();
    const t = (k: string) => this.i18n.t(k);
    return [
      { key: 'handle', label: t('col.handle'), sortable: true },
      { key: 'platform', label: t('col.platform'), sortable: false },
      { key: 'followers', label: t('col.followers'), sortable: true },
      { key: 'tier', label: t('col.tier'), sortable: false },
      { key: 'engagement_rate', label: t('col.er'), sortable: true },
      { key: 'growth_pct_30d', label: t('col.growth30'), sortable: true },
      { key: 'score', label: t('col.score'), sortable: true },
    ];
  });

  constructor() {
    this.route.queryParams.pipe(takeUntilDestroyed(inject(DestroyRef))).subscribe((params) => {
      const filters = filtersFromParams(params);
      this.filters.set(filters);
      this.draft = structuredClone(filters);
      this.cursors.set([]);
      this.load(null);
    });
  }

  protected split(text: string, upper: boolean): string[] {
    return text.split(',').map((v) => v.trim()).filter(Boolean).map((v) => (upper ? v.toUpperCase() : v.toLowerCase()));
  }

  protected toggle(list: 'platform' | 'tier', value: string): void {
    const values = this.draft[list];
    this.draft[list] = values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
  }

  protected apply(): void {
    void this.router.navigate([], { queryParams: filtersToParams({ ...this.draft, sort: this.filters().sort }) });
  }

  protected clear(): void {
    void this.router.navigate([], { queryParams: {} });
  }

  protected sortBy(column: string): void {
    void this.router.navigate([], { queryParams: filtersToParams({ ...this.filters(), sort: nextSort(this.filters().sort, column) }) });
  }

  protected sortMark(column: string): string {
    const sort = this.filters().sort;
    return sort.replace(/^-/, '') !== column ? '' : sort.startsWith('-') ? '▼' : '▲';
  }

  protected ariaSort(column: string): string | null {
    const sort = this.filters().sort;
    return sort.replace(/^-/, '') !== column ? null : sort.startsWith('-') ? 'descending' : 'ascending';
  }

  protected next(): void {
    const cursor = this.page()?.next_cursor;
    if (!cursor) return;
    this.cursors.update((c) => [...c, this.current]);
    this.load(cursor);
  }

  protected previous(): void {
    const stack = this.cursors();
    if (!stack.length) return;
    this.cursors.set(stack.slice(0, -1));
    this.load(stack[stack.length - 1]);
  }

  protected select(id: string): void {
    this.selected.update((ids) => (ids.includes(id) ? ids.filter((i) => i !== id) : [...ids, id]));
  }

  protected compare(): void {
    void this.router.navigate(['/compare'], { queryParams: { ids: this.selected().join(',') } });
  }

  private load(cursor: string | null): void {
    this.loading.set(true);
    this.error.set(null);
    this.current = cursor;
    this.api.search(filtersToApi(this.filters(), cursor, PAGE_SIZE)).subscribe({
      next: (page) => {
        this.page.set(page);
        this.loading.set(false);
      },
      error: (error: unknown) => {
        this.loading.set(false);
        this.page.set(null);
        this.error.set(problemDetail(error) ?? this.i18n.t('common.failed'));
      },
    });
  }
}
