import { Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router } from '@angular/router';
import { Auth } from '../core/auth';
import { I18N_PIPES } from '../core/i18n';

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
    </section>
  `,
})
export class LoginPage {
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
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
    // Only paths inside the app: a crafted ?next= must not send the user elsewhere.
    const next = this.next();
    await this.router.navigateByUrl(next && next.startsWith('/') && !next.startsWith('//') ? next : '/influencers');
  }
}
