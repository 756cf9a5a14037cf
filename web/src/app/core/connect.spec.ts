import { callbackUri, connectReturn, identityCallbackUri, safeNext } from './connect';

describe('connecting an account', () => {
  it('comes back to one page per platform', () => {
    expect(callbackUri('https://app.example', 'tiktok_business')).toBe('https://app.example/settings/connections/callback/tiktok_business');
  });

  it('reads the code and state, whatever the platform calls the code', () => {
    expect(connectReturn({ code: 'c1', state: 's1' })).toEqual({ kind: 'code', code: 'c1', state: 's1' });
    expect(connectReturn({ auth_code: 'c2', state: 's2' })).toEqual({ kind: 'code', code: 'c2', state: 's2' });
  });

  it('tells a refusal from an answer without a code', () => {
    expect(connectReturn({ error: 'access_denied', error_description: 'The user denied your request.', state: 's' })).toEqual({ kind: 'refused', reason: 'The user denied your request.' });
    expect(connectReturn({ error_reason: 'user_denied' })).toEqual({ kind: 'refused', reason: 'user_denied' });
    expect(connectReturn({ code: 'c' })).toEqual({ kind: 'missing' });
    expect(connectReturn({})).toEqual({ kind: 'missing' });
  });

  it('sends sign-ins and links back to their own pages', () => {
    expect(identityCallbackUri('https://app.example', 'facebook', 'login')).toBe('https://app.example/login/callback/facebook');
    expect(identityCallbackUri('https://app.example', 'tiktok', 'link')).toBe('https://app.example/settings/identities/callback/tiktok');
  });

  it('opens only pages of the app after signing in', () => {
    expect(safeNext('/lists?x=1')).toBe('/lists?x=1');
    expect(safeNext('//evil.example/')).toBe('/influencers');
    expect(safeNext('https://evil.example/')).toBe('/influencers');
    expect(safeNext(null)).toBe('/influencers');
  });
});
