import { Component, OnInit, inject, signal } from '@angular/core';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import { Api, problemDetail } from '../core/api';
import { Auth } from '../core/auth';
import { SOCIAL_NEXT_KEY, connectReturn, safeNext } from '../core/connect';
import { I18N_PIPES, I18n } from '../core/i18n';

/**
 * Where a platform sends the user back after identifying them: signing in with the platform
 * account (`purpose: 'login'`), or linking it to the signed-in user (`'link'`). A code is
 * finished once.
 */
@Component({
  selector: 'an-identity-callback',
  imports: [RouterLink, ...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ (purpose === 'login' ? 'social.signInTitle' : 'social.linkTitle') | t }}</h1>
      @if (error()) {
        <p class="error" role="alert" data-test="social-error">{{ error() }}</p>
        <a [routerLink]="purpose === 'login' ? '/login' : '/settings'">{{ (purpose === 'login' ? 'social.backToLogin' : 'connect.back') | t }}</a>
      } @else if (linked()) {
        <p class="ok" role="status" data-test="linked">{{ 'social.linked' | t: { platform: linked()! } }}</p>
        <a routerLink="/settings">{{ 'connect.back' | t }}</a>
      } @else {
        <p role="status">{{ 'connect.working' | t }}</p>
      }
    </section>
  `,
})
export class IdentityCallbackPage implements OnInit {
  private readonly route = inject(ActivatedRoute);
  private readonly router = inject(Router);
  private readonly auth = inject(Auth);
  private readonly api = inject(Api);
  protected readonly i18n = inject(I18n);
  protected readonly purpose: 'login' | 'link' = this.route.snapshot.data['purpose'] === 'link' ? 'link' : 'login';
  protected readonly error = signal<string | null>(null);
  protected readonly linked = signal<string | null>(null);

  async ngOnInit(): Promise<void> {
    const platform = this.route.snapshot.paramMap.get('platform') ?? '';
    const name = this.i18n.tOr('platform.' + platform, platform);
    const query = this.route.snapshot.queryParamMap;
    const answer = connectReturn(Object.fromEntries(query.keys.map((k) => [k, query.get(k)])));
    if (answer.kind === 'refused') return this.error.set(this.i18n.t('connect.refused', { reason: answer.reason }));
    if (answer.kind === 'missing') return this.error.set(this.i18n.t('connect.missing'));
    if (this.purpose === 'link') {
      this.api.completeLink(platform, answer.state, answer.code).subscribe({
        next: () => this.linked.set(name),
        error: (e: unknown) => this.error.set(problemDetail(e) ?? this.i18n.t('common.failed')),
      });
      return;
    }
    const failure = await this.auth.socialLogin(platform, answer.state, answer.code);
    if (failure) return this.error.set(this.i18n.t('social.error.' + failure, { platform: name }));
    const next = sessionStorage.getItem(SOCIAL_NEXT_KEY);
    sessionStorage.removeItem(SOCIAL_NEXT_KEY);
    await this.router.navigateByUrl(safeNext(next));
  }
}
