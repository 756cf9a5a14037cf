import { Component, inject, input, signal } from '@angular/core';
import { Router } from '@angular/router';
import { Api, problemDetail } from '../core/api';
import { Auth } from '../core/auth';
import { I18n, I18N_PIPES } from '../core/i18n';

/** Joins the organisation of an invitation link (the user is signed in by the route guard). */
@Component({
  selector: 'an-accept',
  imports: [...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ 'accept.title' | t }}</h1>
      @if (joined(); as name) {
        <p role="status" class="ok">{{ 'accept.joined' | t: { name } }}</p>
        <button type="button" class="primary" (click)="go()">{{ 'accept.continue' | t }}</button>
      } @else {
        <p>{{ 'accept.lead' | t }}</p>
        @if (error()) { <p class="error" role="alert">{{ error() }}</p> }
        <button type="button" class="primary" [disabled]="!token() || busy()" (click)="accept()">{{ 'accept.submit' | t }}</button>
      }
    </section>
  `,
})
export class AcceptPage {
  private readonly api = inject(Api);
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
  private readonly i18n = inject(I18n);
  readonly token = input<string>();
  protected readonly busy = signal(false);
  protected readonly joined = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);

  protected accept(): void {
    this.busy.set(true);
    this.api.acceptInvitation(this.token() ?? '').subscribe({
      next: async (membership) => {
        await this.auth.loadMe();
        this.auth.selectOrg(membership.org_id);
        this.joined.set(membership.name);
        this.busy.set(false);
      },
      error: (error: unknown) => {
        this.error.set(problemDetail(error) ?? this.i18n.t('common.failed'));
        this.busy.set(false);
      },
    });
  }

  protected go(): void {
    void this.router.navigate(['/influencers']);
  }
}
