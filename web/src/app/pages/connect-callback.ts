import { Component, inject, signal } from '@angular/core';
import { ActivatedRoute, RouterLink } from '@angular/router';
import { CONNECT_ORG_KEY, connectReturn } from '../core/connect';
import { I18N_PIPES } from '../core/i18n';
import { OrgPage } from '../ui/org-page';

/** The platform sends the user back here after its consent page; the connection is finished once. */
@Component({
  selector: 'an-connect-callback',
  imports: [RouterLink, ...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ 'connect.title' | t }}</h1>
      @if (error()) { <p class="error" role="alert">{{ error() }}</p> }
      @else if (connected(); as done) { <p class="ok" role="status" data-test="connected">{{ 'connect.done' | t: done }}</p> }
      @else { <p role="status">{{ 'connect.working' | t }}</p> }
      <a routerLink="/settings">{{ 'connect.back' | t }}</a>
    </section>
  `,
})
export class ConnectCallbackPage extends OrgPage {
  private readonly route = inject(ActivatedRoute);
  protected readonly connected = signal<{ account: string; platform: string } | null>(null);
  private started = false;

  protected reload(): void {
    // A code is good once: switching organisation later must not send it again.
    if (this.started) return;
    this.started = true;
    const platform = this.route.snapshot.paramMap.get('platform') ?? '';
    const query = this.route.snapshot.queryParamMap;
    const answer = connectReturn(Object.fromEntries(query.keys.map((k) => [k, query.get(k)])));
    if (answer.kind === 'refused') return this.error.set(this.i18n.t('connect.refused', { reason: answer.reason }));
    if (answer.kind === 'missing') return this.error.set(this.i18n.t('connect.missing'));
    const org = sessionStorage.getItem(CONNECT_ORG_KEY) ?? this.org;
    sessionStorage.removeItem(CONNECT_ORG_KEY);
    this.api.completeConnection(org, platform, answer.state, answer.code).subscribe({
      next: (c) => this.connected.set({ account: c.account_id, platform: this.i18n.tOr('platform.' + c.platform, c.platform) }),
      error: this.fail,
    });
  }
}
