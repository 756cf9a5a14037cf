import { inject } from '@angular/core';
import { CanActivateFn, Router, Routes } from '@angular/router';
import { Auth } from './core/auth';

const signedIn: CanActivateFn = (_route, state) => {
  const auth = inject(Auth);
  return auth.signedIn() ? true : inject(Router).createUrlTree(['/login'], { queryParams: { next: state.url } });
};

export const routes: Routes = [
  { path: 'login', loadComponent: () => import('./pages/login').then((m) => m.LoginPage) },
  { path: 'login/callback/:platform', data: { purpose: 'login' }, loadComponent: () => import('./pages/identity-callback').then((m) => m.IdentityCallbackPage) },
  {
    path: '',
    canActivateChild: [signedIn],
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'influencers' },
      { path: 'influencers', loadComponent: () => import('./pages/search').then((m) => m.SearchPage) },
      { path: 'influencers/:id', loadComponent: () => import('./pages/profile').then((m) => m.ProfilePage) },
      { path: 'compare', loadComponent: () => import('./pages/compare').then((m) => m.ComparePage) },
      { path: 'lists', loadComponent: () => import('./pages/lists').then((m) => m.ListsPage) },
      { path: 'reports', loadComponent: () => import('./pages/reports').then((m) => m.ReportsPage) },
      { path: 'accept', loadComponent: () => import('./pages/accept').then((m) => m.AcceptPage) },
      { path: 'settings', loadComponent: () => import('./pages/settings').then((m) => m.SettingsPage) },
      { path: 'settings/identities/callback/:platform', data: { purpose: 'link' }, loadComponent: () => import('./pages/identity-callback').then((m) => m.IdentityCallbackPage) },
      { path: 'settings/connections/callback/:platform', loadComponent: () => import('./pages/connect-callback').then((m) => m.ConnectCallbackPage) },
    ],
  },
  { path: '**', loadComponent: () => import('./pages/not-found').then((m) => m.NotFoundPage) },
];
