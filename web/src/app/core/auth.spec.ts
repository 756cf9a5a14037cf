import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { Auth, authInterceptor } from './auth';

const tokens = (access: string, refresh: string, expiresIn = 900) => ({ access_token: access, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refresh });

describe('Auth', () => {
  let http: HttpTestingController;

  function setup(session?: { accessToken: string; refreshToken: string; expiresAt: number }) {
    localStorage.clear();
    if (session) localStorage.setItem('analisa.session', JSON.stringify(session));
    TestBed.configureTestingModule({ providers: [provideRouter([]), provideHttpClient(withInterceptors([authInterceptor])), provideHttpClientTesting()] });
    http = TestBed.inject(HttpTestingController);
    return TestBed.inject(Auth);
  }

  afterEach(() => http.verify());

  it('signs in, stores the session and loads the user', async () => {
    const auth = setup();
    const done = auth.login('ana@example.com', 'secret password');
    http.expectOne('/v1/auth/login').flush(tokens('a1', 'r1'));
    await Promise.resolve();
    await new Promise((r) => setTimeout(r));
    const me = http.expectOne('/v1/me');
    expect(me.request.headers.get('authorization')).toBe('Bearer a1');
    me.flush({ user_id: 'u', email: 'ana@example.com', display_name: 'Ana', organisations: [{ org_id: 'o1', name: 'Agência', role: 'admin', plan: 'pro' }] });
    expect(await done).toBeNull();
    expect(JSON.parse(localStorage.getItem('analisa.session')!).refreshToken).toBe('r1');
    expect(auth.membership()?.org_id).toBe('o1');
    expect(auth.canAdmin()).toBe(true);
  });

  it('tells wrong credentials from throttling', async () => {
    const auth = setup();
    const wrong = auth.login('ana@example.com', 'nope');
    http.expectOne('/v1/auth/login').flush({ detail: 'wrong' }, { status: 401, statusText: 'Unauthorized' });
    expect(await wrong).toBe('credentials');
    const throttled = auth.login('ana@example.com', 'nope');
    http.expectOne('/v1/auth/login').flush({ detail: 'slow down' }, { status: 429, statusText: 'Too Many Requests' });
    expect(await throttled).toBe('throttled');
    expect(auth.signedIn()).toBe(false);
  });

  it('refreshes an expiring token once for concurrent requests', async () => {
    const auth = setup({ accessToken: 'old', refreshToken: 'r1', expiresAt: Date.now() + 1000 });
    const [a, b] = [auth.validToken(), auth.validToken()];
    await new Promise((r) => setTimeout(r));
    const refresh = http.expectOne('/v1/auth/refresh');
    expect(refresh.request.body).toEqual({ refresh_token: 'r1' });
    refresh.flush(tokens('new', 'r2'));
    expect(await a).toBe('new');
    expect(await b).toBe('new');
    expect(JSON.parse(localStorage.getItem('analisa.session')!).refreshToken).toBe('r2');
  });

  it('adopts a token another tab already rotated instead of reusing the old one', async () => {
    const auth = setup({ accessToken: 'old', refreshToken: 'r1', expiresAt: Date.now() + 1000 });
    localStorage.setItem('analisa.session', JSON.stringify({ accessToken: 'other-tab', refreshToken: 'r2', expiresAt: Date.now() + 900_000 }));
    expect(await auth.validToken()).toBe('other-tab');
    http.expectNone('/v1/auth/refresh');
  });

  it('retries a request that met a 401 after refreshing, and ends the session when refresh fails', async () => {
    const auth = setup({ accessToken: 'a1', refreshToken: 'r1', expiresAt: Date.now() + 600_000 });
    const router = TestBed.inject(Router);
    const navigate = vi.spyOn(router, 'navigate').mockResolvedValue(true);
    const client = TestBed.inject(HttpClient);

    const first = firstValueFrom(client.get('/v1/influencers'));
    await new Promise((r) => setTimeout(r));
    http.expectOne('/v1/influencers').flush({}, { status: 401, statusText: 'Unauthorized' });
    await new Promise((r) => setTimeout(r));
    http.expectOne('/v1/auth/refresh').flush(tokens('a2', 'r2'));
    await new Promise((r) => setTimeout(r));
    const retried = http.expectOne('/v1/influencers');
    expect(retried.request.headers.get('authorization')).toBe('Bearer a2');
    retried.flush({ items: [] });
    expect(await first).toEqual({ items: [] });

    const second = firstValueFrom(client.get('/v1/influencers'));
    await new Promise((r) => setTimeout(r));
    http.expectOne('/v1/influencers').flush({}, { status: 401, statusText: 'Unauthorized' });
    await new Promise((r) => setTimeout(r));
    http.expectOne('/v1/auth/refresh').flush({ detail: 'reused' }, { status: 401, statusText: 'Unauthorized' });
    await expect(second).rejects.toBeTruthy();
    expect(auth.signedIn()).toBe(false);
    expect(navigate).toHaveBeenCalledWith(['/login'], expect.objectContaining({ queryParams: expect.objectContaining({ reason: 'expired' }) }));
  });
});
