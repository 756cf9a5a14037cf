import { Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { IDENTITY_PLATFORMS } from '../core/api';
import { Auth } from '../core/auth';
import { SOCIAL_NEXT_KEY, identityCallbackUri, safeNext } from '../core/connect';
import { I18N_PIPES, I18n } from '../core/i18n';

@Component({
  selector: 'an-login',
  imports: [FormsModule, ...I18N_PIPES],
  template: `
    <section class="login">
      <h1>{{ 'login.title' | t }}</h1>
      <p class="lead">{{ 'login.lead' | t }}</p>
      @if (reason() === 'expired') {
        <p class="notice" role="status">{{ 'login.expired' | t }}</p>
      } @else if (reason() === 'signed-out') {
        <p class="notice" role="status">{{ 'login.signedOut' | t }}</p>
      }
      <form (ngSubmit)="submit()" #form="ngForm">
        <label for="email">{{ 'login.email' | t }}</label>
        <input id="email" name="email" type="email" autocomplete="username" required [(ngModel)]="email" />
        <label for="password">{{ 'login.password' | t }}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required [(ngModel)]="password" />
        @if (error()) {
          <p class="error" role="alert" data-test="login-error">{{ 'login.error.' + error() | t }}</p>
        }
        <button type="submit" class="primary" [disabled]="busy() || !form.valid">{{ (busy() ? 'login.busy' : 'login.submit') | t }}</button>
      </form>
      <div class="social" data-test="social-login">
        <p class="muted">{{ 'login.or' | t }}</p>
        @for (platform of platforms; track platform) {
          <button type="button" (click)="social(platform)" [disabled]="busy()" [attr.data-platform]="platform">{{ 'login.with' | t: { platform: i18n.tOr('platform.' + platform, platform) } }}</button>
        }
      </div>
    </section>
  `,
})
export class LoginPage {
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
  protected readonly i18n = inject(I18n);
  protected readonly platforms = IDENTITY_PLATFORMS;
  /** Why the user is here (`expired`, `signed-out`), from the URL. */
  readonly reason = input<string>();
  readonly next = input<string>();
  protected email = '';
  protected password = '';
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);

  async submit(): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    const failure = await this.auth.login(this.email.trim(), this.password);
    this.busy.set(false);
    if (failure) {
      this.error.set(failure);
      return;
    }
    await this.router.navigateByUrl(safeNext(this.next()));
  }

  /** Sends the browser to the platform's consent page; it comes back to /login/callback/…. */
  async social(platform: string): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    const url = await this.auth.beginSocial(platform, identityCallbackUri(location.origin, platform, 'login'));
    if (!url) {
      this.busy.set(false);
      this.error.set('unavailable');
      return;
    }
    sessionStorage.setItem(SOCIAL_NEXT_KEY, safeNext(this.next()));
    location.assign(url);
  }
}
