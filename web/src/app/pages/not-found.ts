import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';
import { I18N_PIPES } from '../core/i18n';

@Component({
  selector: 'an-not-found',
  imports: [RouterLink, ...I18N_PIPES],
  template: `<section class="page"><h1>{{ 'notFound.title' | t }}</h1><p><a routerLink="/influencers">{{ 'notFound.back' | t }}</a></p></section>`,
})
export class NotFoundPage {}
