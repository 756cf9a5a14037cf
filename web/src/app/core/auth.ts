import { HttpBackend, HttpClient, HttpErrorResponse, HttpHandlerFn, HttpInterceptorFn, HttpRequest } from '@angular/common/http';
import { Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { Observable, catchError, firstValueFrom, from, switchMap, throwError } from 'rxjs';
import { Me, Membership, TokenResponse } from './api';

const SESSION_KEY = 'analisa.session';
const ORG_KEY = 'analisa.org';
/** Refresh this long before the access token expires, so no request races its expiry. */
const EARLY_REFRESH_MS = 30_000;

export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export type LoginFailure = 'credentials' | 'throttled' | 'unavailable';
/** Why a social sign-in did not sign in: nobody linked the account, the authorisation was stale or reused, or the service failed. */
export type SocialFailure = 'unlinked' | 'stale' | 'unavailable';

function readSession(): Session | null {
  try {
    const text = localStorage.getItem(SESSION_KEY);
    const session = text ? (JSON.parse(text) as Session) : null;
    return session && typeof session.accessToken === 'string' && typeof session.refreshToken === 'string' ? session : null;
  } catch {
    return null;
  }
}

function toSession(tokens: TokenResponse, now = Date.now()): Session {
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt: now + tokens.expires_in * 1000 };
}

/**
 * The signed-in session. Tokens live in localStorage so that tabs share one session; the
 * refresh token rotates on every use and the API treats a reused one as theft (it revokes
 * the whole family), so tabs refresh one at a time under a Web Lock and a tab that finds
 * the token already rotated by another simply adopts the new one.
 */
@Injectable({ providedIn: 'root' })
export class Auth {
  // Outside the interceptors: refreshing must not itself trigger a refresh.
  private readonly bare = new HttpClient(inject(HttpBackend));
  private readonly router = inject(Router);
  readonly session = signal<Session | null>(readSession());
  readonly me = signal<Me | null>(null);
  readonly orgId = signal<string | null>(localStorage.getItem(ORG_KEY));
  readonly signedIn = computed(() => this.session() !== null);
  readonly membership = computed<Membership | null>(() => {
    const me = this.me();
    if (!me) return null;
    return me.organisations.find((m) => m.org_id === this.orgId()) ?? me.organisations[0] ?? null;
  });
  readonly canAdmin = computed(() => ['owner', 'admin'].includes(this.membership()?.role ?? ''));
  readonly canWrite = computed(() => ['owner', 'admin', 'analyst'].includes(this.membership()?.role ?? ''));
  private refreshing: Promise<Session | null> | null = null;

  constructor() {
    // Another tab signed in, refreshed or signed out.
    window.addEventListener('storage', (event) => {
      if (event.key === SESSION_KEY) this.session.set(readSession());
    });
  }

  async login(email: string, password: string): Promise<LoginFailure | null> {
    try {
      const tokens = await firstValueFrom(this.bare.post<TokenResponse>('/v1/auth/login', { email, password }));
      this.store(toSession(tokens));
      await this.loadMe();
      return null;
    } catch (error) {
      if (error instanceof HttpErrorResponse && (error.status === 401 || error.status === 400)) return 'credentials';
      if (error instanceof HttpErrorResponse && error.status === 429) return 'throttled';
      return 'unavailable';
    }
  }

  /** The platform's consent page for signing in with `platform`, or null when it cannot start. */
  async beginSocial(platform: string, redirectUri: string): Promise<string | null> {
    try {
      const started = await firstValueFrom(this.bare.post<{ authorize_url: string }>(`/v1/auth/social/${encodeURIComponent(platform)}`, { redirect_uri: redirectUri }));
      return started.authorize_url;
    } catch {
      return null;
    }
  }

  /** Finishes a social sign-in with what the platform sent back. */
  async socialLogin(platform: string, state: string, code: string): Promise<SocialFailure | null> {
    try {
      const tokens = await firstValueFrom(this.bare.post<TokenResponse>(`/v1/auth/social/${encodeURIComponent(platform)}/complete`, { state, code }));
      this.store(toSession(tokens));
      await this.loadMe();
      return null;
    } catch (error) {
      if (error instanceof HttpErrorResponse && error.status === 401) return 'unlinked';
      if (error instanceof HttpErrorResponse && error.status === 400) return 'stale';
      return 'unavailable';
    }
  }

  async loadMe(): Promise<Me> {
    const me = await firstValueFrom(this.bare.get<Me>('/v1/me', { headers: { authorization: `Bearer ${(await this.validToken()) ?? ''}` } }));
    this.me.set(me);
    return me;
  }

  selectOrg(orgId: string): void {
    this.orgId.set(orgId);
    localStorage.setItem(ORG_KEY, orgId);
  }

  async logout(): Promise<void> {
    const session = this.session();
    if (session) {
      // Best effort: the local session ends either way.
      await firstValueFrom(this.bare.post('/v1/auth/logout', null, { headers: { authorization: `Bearer ${session.accessToken}` } })).catch(() => undefined);
    }
    this.clear();
    await this.router.navigate(['/login'], { queryParams: { reason: 'signed-out' } });
  }

  /** The session ended without the user asking (refresh refused): back to the login page. */
  async expire(): Promise<void> {
    this.clear();
    await this.router.navigate(['/login'], { queryParams: { reason: 'expired', next: this.router.url } });
  }

  /** An access token that is valid for a while yet, refreshed first if needed; null when signed out. */
  async validToken(now = Date.now()): Promise<string | null> {
    const session = this.session();
    if (!session) return null;
    if (session.expiresAt - EARLY_REFRESH_MS > now) return session.accessToken;
    return (await this.refresh())?.accessToken ?? null;
  }

  /** Rotates the refresh token once, however many requests ask at the same time. */
  refresh(): Promise<Session | null> {
    this.refreshing ??= this.refreshAcrossTabs().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async refreshAcrossTabs(): Promise<Session | null> {
    const used = this.session()?.refreshToken;
    if (!used) return null;
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    const rotate = async (): Promise<Session | null> => {
      const stored = readSession();
      if (stored && stored.refreshToken !== used) {
        this.session.set(stored);
        return stored;
      }
      try {
        const tokens = await firstValueFrom(this.bare.post<TokenResponse>('/v1/auth/refresh', { refresh_token: used }));
        const session = toSession(tokens);
        this.store(session);
        return session;
      } catch {
        return null;
      }
    };
    return locks ? locks.request('analisa-refresh', rotate) : rotate();
  }

  private store(session: Session): void {
    this.session.set(session);
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  }

  private clear(): void {
    this.session.set(null);
    this.me.set(null);
    localStorage.removeItem(SESSION_KEY);
  }
}

/** Adds the access token to API calls; on a 401 refreshes once and retries, else ends the session. */
export const authInterceptor: HttpInterceptorFn = (request: HttpRequest<unknown>, next: HttpHandlerFn): Observable<any> => {
  const auth = inject(Auth);
  if (!request.url.startsWith('/v1/')) return next(request);
  const withToken = (token: string | null) => (token ? request.clone({ setHeaders: { authorization: `Bearer ${token}` } }) : request);
  return from(auth.validToken()).pipe(
    switchMap((token) => next(withToken(token))),
    catchError((error: unknown) => {
      if (!(error instanceof HttpErrorResponse) || error.status !== 401 || !auth.signedIn()) return throwError(() => error);
      return from(auth.refresh()).pipe(
        switchMap((session) => {
          if (!session) {
            void auth.expire();
            return throwError(() => error);
          }
          return next(withToken(session.accessToken));
        }),
      );
    }),
  );
};
