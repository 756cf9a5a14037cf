import { Component, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { Campaign, TrackedInfluencer, TrackedList } from '../core/api';
import { MetricValue } from '../ui/metric';
import { I18N_PIPES } from '../core/i18n';
import { OrgPage } from '../ui/org-page';

@Component({
  selector: 'an-lists',
  imports: [FormsModule, RouterLink, MetricValue, ...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ 'lists.title' | t }}</h1>
      @if (error()) { <p class="error" role="alert">{{ error() }}</p> }
      <div class="grid two">
        <section class="card" aria-labelledby="lists-title">
          <h2 id="lists-title">{{ 'lists.tracked' | t }}</h2>
          @if (auth.canWrite()) {
            <form class="inline" (ngSubmit)="createList()">
              <label class="visually-hidden" for="list-name">{{ 'lists.name' | t }}</label>
              <input id="list-name" name="name" required maxlength="80" [(ngModel)]="listName" [placeholder]="'lists.name' | t" />
              <button type="submit" class="primary">{{ 'lists.create' | t }}</button>
            </form>
          }
          @for (l of lists(); track l.list_id) {
            <article class="list">
              <h3>{{ l.name }} <span class="muted small">{{ 'lists.count' | t: { n: l.influencers.length } }}</span></h3>
              <ul class="chips">
                @for (m of l.members; track m.id) {
                  <li><a [routerLink]="['/influencers', m.id]">{{ label(m) }}</a>
                    @if (m.score !== null) { <an-metric metric="score" [value]="m.score" /> }
                    @if (auth.canWrite()) { <button type="button" class="link" (click)="removeFromList(l, m.id)" [attr.aria-label]="('lists.remove' | t) + ' ' + label(m)">×</button> }</li>
                }
              </ul>
              <p class="row">
                @if (l.influencers.length >= 2) { <a [routerLink]="['/compare']" [queryParams]="{ ids: l.influencers.slice(0, 10).join(',') }">{{ 'lists.compare' | t }}</a> }
                @if (auth.canWrite()) { <button type="button" class="link danger" (click)="deleteList(l)">{{ 'lists.delete' | t }}</button> }
              </p>
            </article>
          } @empty {
            <p class="muted">{{ 'lists.none' | t }}</p>
          }
        </section>

        <section class="card" aria-labelledby="campaigns-title">
          <h2 id="campaigns-title">{{ 'lists.campaigns' | t }}</h2>
          @if (auth.canWrite()) {
            <form class="stack" (ngSubmit)="createCampaign()">
              <label>{{ 'campaign.name' | t }} <input name="cname" required maxlength="120" [(ngModel)]="campaign.name" /></label>
              <label>{{ 'campaign.brand' | t }} <input name="brand" [(ngModel)]="campaign.brand" /></label>
              <label>{{ 'campaign.starts' | t }} <input name="starts" type="date" required [(ngModel)]="campaign.starts_on" /></label>
              <label>{{ 'campaign.ends' | t }} <input name="ends" type="date" required [(ngModel)]="campaign.ends_on" /></label>
              <label>{{ 'campaign.hashtags' | t }} <input name="hashtags" [(ngModel)]="campaign.hashtags" placeholder="#verao, #lancamento" /></label>
              <button type="submit" class="primary">{{ 'campaign.create' | t }}</button>
            </form>
          }
          @for (c of campaigns(); track c.campaign_id) {
            <article class="list">
              <h3>{{ c.name }} @if (c.brand) { <span class="muted small">· {{ c.brand }}</span> } <span class="badge">{{ i18n.tOr('campaign.status.' + c.status, c.status) }}</span></h3>
              <p class="small">{{ c.starts_on | day }} – {{ c.ends_on | day }} @if (c.hashtags.length) { · {{ c.hashtags.join(' ') }} }</p>
              <ul class="chips">@for (m of c.members; track m.id) { <li><a [routerLink]="['/influencers', m.id]">{{ label(m) }}</a></li> }</ul>
              @if (auth.canWrite()) { <button type="button" class="link danger" (click)="deleteCampaign(c)">{{ 'lists.delete' | t }}</button> }
            </article>
          } @empty {
            <p class="muted">{{ 'lists.noCampaigns' | t }}</p>
          }
        </section>
      </div>
    </section>
  `,
})
export class ListsPage extends OrgPage {
  protected readonly lists = signal<TrackedList[]>([]);
  protected readonly campaigns = signal<Campaign[]>([]);
  protected listName = '';
  protected campaign = { name: '', brand: '', starts_on: '', ends_on: '', hashtags: '' };

  /** @handle (platform) once published, else the id. */
  protected label(m: TrackedInfluencer): string {
    return m.handle ? `@${m.handle} · ${this.i18n.tOr('platform.' + m.platform, m.platform)}` : m.id;
  }

  protected reload(): void {
    this.error.set(null);
    this.api.lists(this.org).subscribe({ next: (l) => this.lists.set(l), error: this.fail });
    this.api.campaigns(this.org).subscribe({ next: (c) => this.campaigns.set(c), error: this.fail });
  }

  protected createList(): void {
    const name = this.listName.trim();
    if (!name) return;
    this.api.createList(this.org, name).subscribe({ next: () => ((this.listName = ''), this.reload()), error: this.fail });
  }

  protected deleteList(list: TrackedList): void {
    if (!confirm(this.i18n.t('lists.confirmDelete', { name: list.name }))) return;
    this.api.deleteList(this.org, list.list_id).subscribe({ next: () => this.reload(), error: this.fail });
  }

  protected removeFromList(list: TrackedList, id: string): void {
    this.api.removeFromList(this.org, list.list_id, id).subscribe({ next: () => this.reload(), error: this.fail });
  }

  protected createCampaign(): void {
    const c = this.campaign;
    const hashtags = c.hashtags.split(/[,\s]+/).map((h) => h.trim()).filter(Boolean);
    this.api.createCampaign(this.org, { name: c.name.trim(), brand: c.brand.trim() || null, starts_on: c.starts_on, ends_on: c.ends_on, hashtags }).subscribe({
      next: () => {
        this.campaign = { name: '', brand: '', starts_on: '', ends_on: '', hashtags: '' };
        this.reload();
      },
      error: this.fail,
    });
  }

  protected deleteCampaign(c: Campaign): void {
    if (!confirm(this.i18n.t('lists.confirmDelete', { name: c.name }))) return;
    this.api.deleteCampaign(this.org, c.campaign_id).subscribe({ next: () => this.reload(), error: this.fail });
  }
}
