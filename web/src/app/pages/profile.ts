import { Component, computed, effect, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { forkJoin } from 'rxjs';
import { Api, Benchmark, DailyPoint, Flag, Post, Profile, TrackedList, problemDetail } from '../core/api';
import { Auth } from '../core/auth';
import { explain } from '../core/explain';
import { I18n, I18N_PIPES } from '../core/i18n';
import { dayTime, erSeries, followerSeries } from '../core/series';
import { TimeChart } from '../ui/chart';
import { MetricValue } from '../ui/metric';

const KEY_METRICS = ['er_followers_median', 'er_followers_mean', 'er_views', 'growth_pct_7d', 'growth_pct_30d', 'growth_pct_90d', 'posts_per_week', 'est_reach_per_post', 'avg_likes', 'avg_comments', 'avg_views', 'consistency_13w', 'sponsored_share', 'emv_usd'];
const POST_SORTS = ['published_at', 'likes', 'comments', 'views', 'er_followers', 'er_views'] as const;
type PostSort = (typeof POST_SORTS)[number];

@Component({
  selector: 'an-profile',
  imports: [FormsModule, RouterLink, MetricValue, TimeChart, ...I18N_PIPES],
  template: `
    <section class="page profile">
      @if (error()) {
        <p class="error" role="alert">{{ error() }}</p>
        <p><a routerLink="/influencers">{{ 'profile.back' | t }}</a></p>
      } @else if (!profile()) {
        <p role="status">{{ 'common.loading' | t }}</p>
      } @else {
        @let p = profile()!;
        @let i = p.influencer;
        <header class="profile-head">
          <div class="avatar" aria-hidden="true">{{ initials() }}</div>
          <div>
            <h1>{{ '@' + i.handle }}</h1>
            <p class="muted">{{ i.display_name }}</p>
            <ul class="tags" [attr.aria-label]="'profile.about' | t">
              <li>{{ 'platform.' + i.platform | t }}</li>
              @if (i.niche) { <li>{{ i18n.tOr('niche.' + i.niche, i.niche) }}</li> }
              <li>{{ 'tier.' + i.tier | t }}</li>
              @if (i.country) { <li>{{ i.country }}</li> }
              @if (i.language) { <li>{{ i18n.tOr('language.' + i.language, i.language) }}</li> }
              <li><an-metric metric="followers" [value]="i.followers" /> {{ 'profile.followers' | t }}</li>
            </ul>
            <p class="muted small">{{ 'profile.asOf' | t: { date: (i.as_of_date | day) } }}</p>
          </div>
          <div class="head-actions">
            <a class="button" [routerLink]="['/compare']" [queryParams]="{ ids: i.id }">{{ 'profile.compare' | t }}</a>
            @if (auth.canWrite() && lists().length) {
              <form class="inline" (ngSubmit)="addToList()">
                <label class="visually-hidden" for="list-select">{{ 'profile.addToList' | t }}</label>
                <select id="list-select" name="list" [(ngModel)]="listChoice">
                  @for (l of lists(); track l.list_id) { <option [value]="l.list_id">{{ l.name }}</option> }
                </select>
                <button type="submit">{{ 'profile.addToList' | t }}</button>
              </form>
            }
            @if (listMessage()) { <p role="status" class="small">{{ listMessage() }}</p> }
          </div>
        </header>

        <div class="grid two">
          <section class="card" aria-labelledby="score-title" data-test="score">
            <h2 id="score-title">Social Score</h2>
            @if (p.score; as s) {
              <p class="score-big"><an-metric metric="score" [value]="s.score" />
                <span [class]="'confidence ' + s.confidence">{{ 'confidence.' + s.confidence | t }}</span></p>
              <p class="small">{{ 'profile.cohort' | t: { cohort: s.cohort, n: s.cohort_size } }}
                @if (s.cohort_widened_to) { — {{ 'profile.widened' | t: { to: s.cohort_widened_to } }} }</p>
              <div class="table-wrap">
                <table class="breakdown">
                  <caption class="visually-hidden">{{ 'profile.breakdown' | t }}</caption>
                  <thead><tr>
                    <th scope="col">{{ 'profile.component' | t }}</th><th scope="col">{{ 'profile.value' | t }}</th>
                    <th scope="col">{{ 'profile.percentile' | t }}</th><th scope="col">{{ 'profile.weight' | t }}</th>
                    <th scope="col">{{ 'profile.contribution' | t }}</th>
                  </tr></thead>
                  <tbody>
                    @for (c of s.components; track c.name) {
                      <tr>
                        <th scope="row">{{ 'component.' + c.name | t }}</th>
                        <td class="num"><an-metric [metric]="c.input_metric" [value]="c.value" /></td>
                        <td class="num"><an-metric metric="percentile" [value]="c.percentile" /></td>
                        <td class="num"><an-metric metric="weight" [value]="c.weight" /></td>
                        <td class="num"><span class="bar" [style.width.%]="(c.contribution ?? 0) * 3" aria-hidden="true"></span><an-metric metric="contribution" [value]="c.contribution" /></td>
                      </tr>
                    }
                  </tbody>
                </table>
              </div>
              @if (s.missing_components.length) {
                <p class="small">{{ 'profile.missing' | t: { names: missingNames(s.missing_components) } }}</p>
              }
              <div class="grid two compact">
                <div><h3>{{ 'profile.strengths' | t }}</h3>
                  <ul data-test="strengths">@for (x of s.strengths; track x) { <li>{{ explainText(x) }}</li> } @empty { <li class="muted">{{ 'profile.none' | t }}</li> }</ul></div>
                <div><h3>{{ 'profile.weaknesses' | t }}</h3>
                  <ul data-test="weaknesses">@for (x of s.weaknesses; track x) { <li>{{ explainText(x) }}</li> } @empty { <li class="muted">{{ 'profile.none' | t }}</li> }</ul></div>
              </div>
              <p class="small muted">{{ 'profile.formula' | t: { version: s.formula_version } }}</p>
            } @else {
              <p class="muted">{{ 'profile.noScore' | t }}</p>
            }
          </section>

          <section class="card" aria-labelledby="metrics-title">
            <h2 id="metrics-title">{{ 'profile.metrics' | t }}</h2>
            <dl class="metrics">
              @for (m of keyMetrics; track m) {
                <div><dt>{{ 'metric.' + m | t }}</dt><dd><an-metric [metric]="m" [value]="metric(m)" /></dd></div>
              }
            </dl>
          </section>
        </div>

        <section class="card">
          <h2>{{ 'profile.followerHistory' | t }}</h2>
          <an-time-chart name="followers" metric="followers" [caption]="'profile.followerHistory' | t" [series]="followerChart()" />
          @if (p.forecast; as f) {
            <p class="small muted">{{ 'profile.forecastModel' | t: { model: f.model_version } }} @if (f.fallback) { — {{ 'profile.forecastFallback' | t }} }</p>
          } @else {
            <p class="small muted" data-test="no-forecast">{{ 'profile.noForecast' | t }}</p>
          }
        </section>

        <section class="card">
          <h2>{{ 'profile.erHistory' | t }}</h2>
          <an-time-chart name="er" metric="er_daily" [caption]="'profile.erHistory' | t" [series]="erChart()" />
        </section>

        <div class="grid two">
          <section class="card" aria-labelledby="sentiment-title">
            <h2 id="sentiment-title">{{ 'profile.sentiment' | t }}</h2>
            @if (p.sentiment; as s) {
              <div class="split" role="img" data-test="sentiment-split" [attr.aria-label]="sentimentLabel()">
                <span class="neg" [style.flex]="s.negative"></span><span class="neu" [style.flex]="s.neutral"></span><span class="pos" [style.flex]="s.positive"></span>
              </div>
              <p>{{ sentimentLabel() }}</p>
              <p><an-metric metric="net_sentiment" [value]="s.net_sentiment" /> · {{ 'profile.sample' | t: { n: s.sample_size } }}</p>
              @if (sentimentTrend().length) {
                <an-time-chart name="sentiment" metric="net_sentiment" [caption]="'profile.sentimentTrend' | t" [series]="[{ name: 'profile.sentimentTrend' | t, type: 'line', data: sentimentTrend() }]" />
              }
            } @else {
              <p class="muted">{{ 'profile.noSentiment' | t }}</p>
            }
          </section>

          <section class="card" aria-labelledby="bench-title" data-test="benchmarks">
            <h2 id="bench-title">{{ 'profile.benchmarks' | t }}</h2>
            @if (p.benchmarks.length) {
              @let b0 = p.benchmarks[0];
              <p class="small">{{ 'profile.benchCohort' | t: { cohort: b0.cohort, n: b0.members } }}
                @if (b0.widened_to) { — {{ 'profile.widened' | t: { to: b0.widened_to } }} }</p>
              <ul class="bench">
                @for (b of benchmarks(); track b.metric) {
                  <li>
                    <span class="bench-name">{{ i18n.tOr('metric.' + b.metric, b.metric) }}</span>
                    <span class="bench-range" role="img" [attr.aria-label]="benchLabel(b)">
                      <span class="p10">p10 <an-metric [metric]="b.metric" [value]="b.p10" [compact]="true" /></span>
                      <span class="track"><span class="mid" aria-hidden="true"></span>
                        @if (position(b) !== null) { <span class="marker" [style.left.%]="position(b)" aria-hidden="true"></span> }</span>
                      <span class="p90">p90 <an-metric [metric]="b.metric" [value]="b.p90" [compact]="true" /></span>
                    </span>
                    <span class="bench-value"><an-metric [metric]="b.metric" [value]="b.value" [compact]="true" /> · {{ i18n.tOr('band.' + b.band, b.band ?? '—') }}</span>
                  </li>
                }
              </ul>
            } @else {
              <p class="muted">{{ 'profile.noBenchmarks' | t }}</p>
            }
          </section>
        </div>

        <section class="card" aria-labelledby="flags-title" data-test="flags">
          <h2 id="flags-title">{{ 'profile.flags' | t }}</h2>
          @for (f of p.flags; track f.flag_id) {
            <article class="flag">
              <h3>{{ i18n.tOr('flag.' + f.flag_type, f.flag_type) }} · {{ f.day | day }}
                @if (f.penalised) { <span class="badge warn">{{ 'profile.penalised' | t }}</span> } @else { <span class="badge">{{ 'profile.notPenalised' | t }}</span> }</h3>
              <p>{{ f.reason }}</p>
              <dl class="evidence">
                @for (e of evidence(f); track e[0]) { <div><dt>{{ e[0] }}</dt><dd>{{ e[1] }}</dd></div> }
              </dl>
              @if (disputes()[f.flag_id]; as status) {
                <p role="status" class="ok" data-test="dispute-status">{{ 'dispute.' + status | t }}</p>
              } @else if (auth.canWrite()) {
                @if (disputing() === f.flag_id) {
                  <form (ngSubmit)="dispute(f)">
                    <label [for]="'reason-' + f.flag_id">{{ 'profile.disputeReason' | t }}</label>
                    <textarea [id]="'reason-' + f.flag_id" name="reason" required minlength="10" [(ngModel)]="disputeReason"></textarea>
                    <button type="submit" class="primary">{{ 'profile.sendDispute' | t }}</button>
                    <button type="button" (click)="disputing.set(null)">{{ 'common.cancel' | t }}</button>
                  </form>
                } @else {
                  <button type="button" (click)="disputing.set(f.flag_id)">{{ 'profile.dispute' | t }}</button>
                }
              }
            </article>
          } @empty {
            <p class="muted">{{ 'profile.noFlags' | t }}</p>
          }
          @if (disputeError()) { <p class="error" role="alert">{{ disputeError() }}</p> }
        </section>

        <section class="card" aria-labelledby="posts-title">
          <h2 id="posts-title">{{ 'profile.posts' | t }}</h2>
          <div class="table-wrap">
            <table data-test="posts">
              <caption class="visually-hidden">{{ 'profile.posts' | t }}</caption>
              <thead><tr>
                @for (c of postColumns; track c) {
                  <th scope="col" [attr.aria-sort]="postSort() === c ? (postDesc() ? 'descending' : 'ascending') : null">
                    <button type="button" class="sort" (click)="sortPosts(c)">{{ 'post.' + c | t }} <span aria-hidden="true">{{ postSort() === c ? (postDesc() ? '▼' : '▲') : '' }}</span></button>
                  </th>
                }
                <th scope="col">{{ 'post.type' | t }}</th>
                <th scope="col">{{ 'post.sentiment' | t }}</th>
              </tr></thead>
              <tbody>
                @for (post of sortedPosts(); track post.post_id) {
                  <tr>
                    <td>@if (post.permalink) { <a [href]="post.permalink" target="_blank" rel="noopener">{{ post.published_at | day }}</a> } @else { {{ post.published_at | day }} }
                      @if (post.is_sponsored) { <span class="badge">{{ 'post.sponsored' | t }}</span> }</td>
                    <td class="num"><an-metric metric="likes" [value]="post.likes" /></td>
                    <td class="num"><an-metric metric="comments" [value]="post.comments" /></td>
                    <td class="num"><an-metric metric="views" [value]="post.views" /></td>
                    <td class="num"><an-metric metric="er_followers_full" [value]="post.er_followers" /></td>
                    <td class="num"><an-metric metric="er_views" [value]="post.er_views" /></td>
                    <td>{{ i18n.tOr('media.' + post.media_type, post.media_type) }}</td>
                    <td>@if (post.sentiment; as s) {
                      @if (s.net_sentiment !== null && s.net_sentiment !== undefined) { <an-metric metric="net_sentiment" [value]="s.net_sentiment" /> }
                      @else if (s.sample_size) { <span class="small" [title]="'post.sentimentTooFew' | t">{{ 'post.sentimentCounts' | t: { pos: s.positive ?? 0, neu: s.neutral ?? 0, neg: s.negative ?? 0 } }}</span> }
                      @if (s.caption; as c) { <span class="badge" data-test="caption-sentiment">{{ 'post.caption' | t }}: {{ 'label.' + c.label | t }}</span> }
                    } @else { — }</td>
                  </tr>
                } @empty {
                  <tr><td colspan="8" class="muted">{{ 'profile.noPosts' | t }}</td></tr>
                }
              </tbody>
            </table>
          </div>
          @if (postsCursor()) {
            <button type="button" (click)="morePosts()">{{ 'profile.morePosts' | t }}</button>
          }
        </section>
      }
    </section>
  `,
})
export class ProfilePage {
  private readonly api = inject(Api);
  protected readonly auth = inject(Auth);
  protected readonly i18n = inject(I18n);
  /** platform:account_id, from the route. */
  readonly id = input.required<string>();
  protected readonly keyMetrics = KEY_METRICS;
  protected readonly postColumns = POST_SORTS;
  protected readonly profile = signal<Profile | null>(null);
  protected readonly history = signal<DailyPoint[]>([]);
  protected readonly posts = signal<Post[]>([]);
  protected readonly postsCursor = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly lists = signal<TrackedList[]>([]);
  protected readonly listMessage = signal<string | null>(null);
  protected listChoice = '';
  protected readonly disputing = signal<string | null>(null);
  /** This organisation's disputes by flag id: their status. */
  protected readonly disputes = signal<Record<string, string>>({});
  protected readonly disputeError = signal<string | null>(null);
  protected disputeReason = '';
  protected readonly postSort = signal<PostSort>('published_at');
  protected readonly postDesc = signal(true);

  protected readonly initials = computed(() => (this.profile()?.influencer.handle ?? '?').replace(/[^a-z0-9]/gi, '').slice(0, 2).toUpperCase());
  protected readonly followerChart = computed(() => {
    this.i18n.lang();
    const t = (k: string) => this.i18n.t(k);
    return followerSeries(this.history(), this.profile()?.forecast ?? null, { followers: t('chart.followers'), forecast: t('chart.forecast'), band80: t('chart.band80'), band95: t('chart.band95') });
  });
  protected readonly erChart = computed(() => [erSeries(this.i18n.t('chart.er'), this.history())]);
  protected readonly sortedPosts = computed(() => {
    const key = this.postSort();
    const sign = this.postDesc() ? -1 : 1;
    const value = (p: Post): number => (key === 'published_at' ? Date.parse(p.published_at) : (p[key] ?? -Infinity));
    return [...this.posts()].sort((a, b) => sign * (value(a) - value(b)));
  });
  /** Metrics the cohort has values for (a video metric means nothing in an image cohort). */
  protected readonly benchmarks = computed(() => (this.profile()?.benchmarks ?? []).filter((b) => b.members > 0 && b.p10 !== null && b.p90 !== null));
  protected readonly sentimentTrend = computed(() => (this.profile()?.sentiment?.trend ?? []).map((p) => ({ x: dayTime(p.date), y: p.net_sentiment })));
  protected readonly sentimentLabel = computed(() => {
    const s = this.profile()?.sentiment;
    if (!s) return '';
    const total = s.positive + s.neutral + s.negative || 1;
    const pct = (n: number) => Math.round((100 * n) / total);
    return this.i18n.t('profile.sentimentSplit', { pos: pct(s.positive), neu: pct(s.neutral), neg: pct(s.negative) });
  });

  constructor() {
    effect(() => this.load(this.id()));
  }

  private load(id: string): void {
    this.profile.set(null);
    this.error.set(null);
    forkJoin({ profile: this.api.profile(id), history: this.api.history(id), posts: this.api.posts(id) }).subscribe({
      next: ({ profile, history, posts }) => {
        this.history.set(history.points);
        this.posts.set(posts.items);
        this.postsCursor.set(posts.next_cursor);
        this.profile.set(profile);
      },
      error: (error: unknown) => this.error.set(problemDetail(error) ?? this.i18n.t('common.failed')),
    });
    const org = this.auth.membership()?.org_id;
    if (org) {
      this.api.lists(org).subscribe({
        next: (lists) => {
          this.lists.set(lists);
          this.listChoice = lists[0]?.list_id ?? '';
        },
        error: () => this.lists.set([]),
      });
      this.api.disputes(org).subscribe({
        next: (disputes) => this.disputes.set(Object.fromEntries(disputes.map((d) => [d.flag_id, d.status]))),
        error: () => this.disputes.set({}),
      });
    }
  }

  protected metric(name: string): number | null {
    const value = this.profile()?.metrics?.[name];
    return typeof value === 'number' ? value : null;
  }

  protected missingNames(names: string[]): string {
    return names.map((n) => this.i18n.t('component.' + n)).join(', ');
  }

  protected explainText(text: string): string {
    return explain(text, this.i18n.lang());
  }

  /** Where the value sits on the p10–p90 track, in percent (clamped to the ends). */
  protected position(b: Benchmark): number | null {
    if (b.value === null || b.p10 === null || b.p90 === null) return null;
    if (b.p90 === b.p10) return 50;
    return Math.min(100, Math.max(0, ((b.value - b.p10) / (b.p90 - b.p10)) * 100));
  }

  protected benchLabel(b: Benchmark): string {
    return this.i18n.t('profile.benchLabel', { metric: this.i18n.tOr('metric.' + b.metric, b.metric), band: this.i18n.tOr('band.' + b.band, b.band ?? '—') });
  }

  protected evidence(f: Flag): [string, string][] {
    return Object.entries(f.evidence ?? {}).map(([k, v]) => [k, typeof v === 'number' ? v.toLocaleString(this.i18n.lang()) : JSON.stringify(v)]);
  }

  protected sortPosts(column: PostSort): void {
    if (this.postSort() === column) this.postDesc.update((d) => !d);
    else {
      this.postSort.set(column);
      this.postDesc.set(true);
    }
  }

  protected morePosts(): void {
    this.api.posts(this.id(), this.postsCursor()).subscribe((page) => {
      this.posts.update((p) => [...p, ...page.items]);
      this.postsCursor.set(page.next_cursor);
    });
  }

  protected addToList(): void {
    const org = this.auth.membership()?.org_id;
    if (!org || !this.listChoice) return;
    this.api.addToList(org, this.listChoice, this.id()).subscribe({
      next: () => this.listMessage.set(this.i18n.t('profile.added')),
      error: (error: unknown) => this.listMessage.set(problemDetail(error) ?? this.i18n.t('common.failed')),
    });
  }

  protected dispute(flag: Flag): void {
    const org = this.auth.membership()?.org_id;
    if (!org) return;
    this.disputeError.set(null);
    this.api.dispute(org, flag.flag_id, this.disputeReason.trim()).subscribe({
      next: () => {
        this.disputes.update((d) => ({ ...d, [flag.flag_id]: 'open' }));
        this.disputing.set(null);
        this.disputeReason = '';
      },
      error: (error: unknown) => this.disputeError.set(problemDetail(error) ?? this.i18n.t('common.failed')),
    });
  }
}
