import { Directive, effect, inject, signal } from '@angular/core';
import { Api, problemDetail } from '../core/api';
import { Auth } from '../core/auth';
import { I18n } from '../core/i18n';

/**
 * A page of the organisation's own data: loads when the signed-in membership is known (and
 * again when the user switches organisation) and shows an API failure's own words.
 */
@Directive()
export abstract class OrgPage {
  protected readonly api = inject(Api);
  protected readonly auth = inject(Auth);
  protected readonly i18n = inject(I18n);
  protected readonly error = signal<string | null>(null);

  constructor() {
    // Effects run after construction, when the subclass's fields exist.
    effect(() => {
      if (this.auth.membership()) this.reload();
    });
  }

  protected get org(): string {
    return this.auth.membership()?.org_id ?? '';
  }

  protected readonly fail = (error: unknown) => this.error.set(problemDetail(error) ?? this.i18n.t('common.failed'));

  protected abstract reload(): void;
}
