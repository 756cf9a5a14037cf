/** Connecting a platform account: the browser leaves for the platform's consent page and comes back here. */

/** Where the organisation that began a connection is kept until the platform sends the user back. */
export const CONNECT_ORG_KEY = 'analisa.connect.org';

/** The dashboard page the platform redirects to (registered as a redirect URI of the platform app). */
export function callbackUri(origin: string, platform: string): string {
  return `${origin}/settings/connections/callback/${encodeURIComponent(platform)}`;
}

/** Where a social sign-in keeps the page to open afterwards while the browser is at the platform. */
export const SOCIAL_NEXT_KEY = 'analisa.social.next';

/**
 * The dashboard page a platform sends the user back to after identifying them: the sign-in
 * callback (before any session) or the linking one under Settings.
 */
export function identityCallbackUri(origin: string, platform: string, purpose: 'login' | 'link'): string {
  const page = purpose === 'login' ? 'login/callback' : 'settings/identities/callback';
  return `${origin}/${page}/${encodeURIComponent(platform)}`;
}

/** Only paths inside the app: a crafted ?next= must not send the user elsewhere. */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/influencers';
}

/** What the platform came back with: a code and state, its refusal, or nothing usable. */
export type ConnectReturn = { kind: 'code'; code: string; state: string } | { kind: 'refused'; reason: string } | { kind: 'missing' };

export function connectReturn(query: Record<string, string | null | undefined>): ConnectReturn {
  // OAuth errors (RFC 6749 §4.1.2.1) and Meta's `error_reason`; TikTok for Business names the code `auth_code`.
  const error = query['error'] || query['error_reason'];
  if (error) return { kind: 'refused', reason: query['error_description'] || error };
  const code = query['code'] || query['auth_code'];
  const state = query['state'];
  return code && state ? { kind: 'code', code, state } : { kind: 'missing' };
}
