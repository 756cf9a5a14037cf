import { Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { Auth } from './core/auth';
import { I18n, I18N_PIPES } from './core/i18n';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, ...I18N_PIPES],
  template: `
    <a class="skip" href="#main">{{ 'nav.skip' | t }}</a>
    <header class="topbar">
      <a class="brand" routerLink="/influencers">Analisa</a>
      @if (auth.signedIn()) {
        <nav [attr.aria-label]="'nav.main' | t">
          <a routerLink="/influencers" routerLinkActive="active">{{ 'nav.search' | t }}</a>
          <a routerLink="/compare" routerLinkActive="active">{{ 'nav.compare' | t }}</a>
          <a routerLink="/lists" routerLinkActive="active">{{ 'nav.lists' | t }}</a>
          <a routerLink="/reports" routerLinkActive="active">{{ 'nav.reports' | t }}</a>
          <a routerLink="/settings" routerLinkActive="active">{{ 'nav.settings' | t }}</a>
        </nav>
      }
      <div class="topbar-end">
        @if (auth.me(); as me) {
          @if (me.organisations.length > 1) {
            <label class="visually-hidden" for="org-select">{{ 'nav.organisation' | t }}</label>
            <select id="org-select" [value]="auth.membership()?.org_id" (change)="auth.selectOrg($any($event.target).value)">
              @for (m of me.organisations; track m.org_id) {
                <option [value]="m.org_id">{{ m.name }}</option>
              }
            </select>
          } @else {
            <span class="org">{{ auth.membership()?.name }}</span>
          }
        }
        <button type="button" class="link" data-test="lang-switch" (click)="i18n.use(i18n.lang() === 'en' ? 'pt-BR' : 'en')"
                [attr.aria-label]="'nav.language' | t">
          {{ i18n.lang() === 'en' ? 'PT' : 'EN' }}
        </button>
        @if (auth.signedIn()) {
          <button type="button" class="link" data-test="logout" (click)="auth.logout()">{{ 'nav.logout' | t }}</button>
        }
      </div>
    </header>
    <main id="main" tabindex="-1">
      <router-outlet />
    </main>
  `,
})
export class App {
  protected readonly auth = inject(Auth);
  protected readonly i18n = inject(I18n);
}
