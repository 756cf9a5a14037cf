import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { Observable } from 'rxjs';

// The shapes of query-api's answers (see /openapi.json).

export interface InfluencerSummary {
  id: string;
  platform: string;
  account_id: string;
  handle: string;
  display_name: string | null;
  niche: string | null;
  country: string | null;
  language: string | null;
  followers: number;
  tier: string;
  engagement_rate: number | null;
  engagement_metric: string | null;
  growth_pct_30d: number | null;
  score: number | null;
  confidence: 'high' | 'medium' | 'low' | null;
  as_of_date: string;
}

export interface SearchPage {
  items: InfluencerSummary[];
  total: number;
  next_cursor: string | null;
}

export interface ScoreComponent {
  name: string;
  /** The metric the component ranks (e.g. er_views). */
  input_metric: string;
  value: number | null;
  percentile: number | null;
  weight: number;
  contribution: number | null;
}

export interface Score {
  score: number;
  confidence: string;
  cohort: string;
  cohort_widened_to: string | null;
  cohort_size: number;
  components: ScoreComponent[];
  missing_components: string[];
  strengths: string[];
  weaknesses: string[];
  formula_version: string;
}

export interface Benchmark {
  metric: string;
  value: number | null;
  cohort: string;
  widened_to: string | null;
  members: number;
  p10: number | null;
  p25: number | null;
  p50: number | null;
  p75: number | null;
  p90: number | null;
  mean: number | null;
  band: string | null;
}

export interface Flag {
  flag_id: string;
  flag_type: string;
  day: string;
  penalised: boolean;
  evidence: Record<string, unknown>;
  reason: string;
  detected_at: string;
}

export interface Dispute {
  dispute_id: string;
  flag_id: string;
  reason: string;
  status: 'open' | 'accepted' | 'rejected';
  created_at: string;
}

/** One day of a follower forecast, with its 80 % and 95 % intervals. */
export interface ForecastPoint {
  date: string;
  followers: number;
  lower_80: number;
  upper_80: number;
  lower_95: number;
  upper_95: number;
}

export interface Forecast {
  model_version: string;
  /** Set when the history was too short for the model and the drift model answered. */
  fallback?: string | null;
  points: ForecastPoint[];
}

export interface Sentiment {
  positive: number;
  neutral: number;
  negative: number;
  net_sentiment: number | null;
  sample_size: number;
  trend?: { date: string; net_sentiment: number | null }[];
}

export interface Profile {
  influencer: InfluencerSummary;
  metrics: Record<string, unknown> | null;
  score: Score | null;
  benchmarks: Benchmark[];
  flags: Flag[];
  sentiment: Sentiment | null;
  forecast: Forecast | null;
}

export interface DailyPoint {
  date: string;
  followers: number;
  follows: number | null;
  follower_delta: number | null;
  posts: number;
  likes: number | null;
  comments: number | null;
  views: number | null;
  er_daily: number | null;
}

export interface History {
  id: string;
  points: DailyPoint[];
}

export interface Post {
  post_id: string;
  media_type: string;
  published_at: string;
  caption: string | null;
  permalink: string | null;
  is_sponsored: boolean;
  likes: number | null;
  comments: number | null;
  shares: number | null;
  saves: number | null;
  views: number | null;
  er_followers: number | null;
  er_views: number | null;
  /** Comment sentiment of the post; net sentiment only from 30 comments up. */
  sentiment?: PostSentiment | null;
}

/** Counts come with comments in the last 90 days; the caption's label when it has one. */
export interface PostSentiment {
  positive?: number;
  neutral?: number;
  negative?: number;
  sample_size?: number;
  net_sentiment?: number | null;
  caption?: { label: 'negative' | 'neutral' | 'positive'; probability: number; language: string };
}

export interface PostsPage {
  items: Post[];
  next_cursor: string | null;
}

export interface Compared {
  influencer: InfluencerSummary;
  metrics: Record<string, unknown> | null;
  score: Score | null;
  history: DailyPoint[];
}

export interface Comparison {
  items: Compared[];
  best: Record<string, string>;
}

export type Role = 'owner' | 'admin' | 'analyst' | 'viewer';

export interface Membership {
  org_id: string;
  name: string;
  role: Role;
  plan: string;
}

export interface Me {
  user_id: string;
  email: string;
  display_name: string;
  organisations: Membership[];
}

export interface Member {
  user_id: string;
  email: string;
  display_name: string;
  role: Role;
  joined_at: string;
}

export interface Invitation {
  invitation_id: string;
  email: string;
  role: Role;
  expires_at: string;
  accepted_at: string | null;
  /** Only in the answer that creates it. */
  token?: string;
}

export interface ApiKey {
  key_id: string;
  name: string;
  prefix: string;
  scope: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  key?: string;
}

/** Platforms whose accounts can sign a user in (social login). */
export const IDENTITY_PLATFORMS = ['facebook', 'instagram', 'tiktok'] as const;
export type IdentityPlatform = (typeof IDENTITY_PLATFORMS)[number];

/** A platform identity the user signs in with. */
export interface Identity {
  platform: IdentityPlatform;
  subject: string;
  created_at: string;
  last_login_at: string | null;
}

export const CONNECTABLE_PLATFORMS = ['instagram', 'facebook', 'tiktok', 'tiktok_business', 'ga4'] as const;
export type ConnectablePlatform = (typeof CONNECTABLE_PLATFORMS)[number];

export interface Connection {
  id: string;
  platform: string;
  account_id: string;
  status: string;
  scopes: string[];
  access_expires_at: string | null;
  last_error: string | null;
  updated_at: string;
}

export interface TrackedInfluencer {
  id: string;
  platform: string;
  handle: string | null;
  display_name: string | null;
  followers: number | null;
  score: number | null;
}

export interface TrackedList {
  list_id: string;
  name: string;
  created_at: string;
  influencers: string[];
  members: TrackedInfluencer[];
}

export interface Campaign {
  campaign_id: string;
  name: string;
  brand: string | null;
  starts_on: string;
  ends_on: string;
  hashtags: string[];
  status: string;
  created_at: string;
  influencers: string[];
  members: TrackedInfluencer[];
}

export interface ReportDefinition {
  report_id: string;
  name: string;
  version: number;
  spec: {
    scope: Record<string, unknown>;
    sections: string[];
    period: { last_days?: number; from?: string; to?: string };
    format: 'csv' | 'xlsx' | 'parquet' | 'pdf';
    language?: 'pt-BR' | 'en';
  };
  schedule: string | null;
  time_zone: string;
  delivery: Record<string, unknown>;
  updated_at: string;
}

export interface ReportRun {
  run_id: string;
  definition_version: number;
  trigger: string;
  status: 'running' | 'succeeded' | 'failed';
  attempts: number;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  delivery: Record<string, { delivered: boolean; error: string | null }> | null;
  files: { name: string; url: string; expires_at: string }[];
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}

/** The `detail` of an RFC 7807 problem, else a generic description of the failure. */
export function problemDetail(error: unknown): string | null {
  if (error instanceof HttpErrorResponse) {
    const body = error.error as { detail?: string } | null;
    if (body && typeof body === 'object' && typeof body.detail === 'string') return body.detail;
  }
  return null;
}

@Injectable({ providedIn: 'root' })
export class Api {
  private readonly http = inject(HttpClient);

  me(): Observable<Me> {
    return this.http.get<Me>('/v1/me');
  }
  search(query: Record<string, string>): Observable<SearchPage> {
    return this.http.get<SearchPage>('/v1/influencers', { params: query });
  }
  profile(id: string): Observable<Profile> {
    return this.http.get<Profile>(`/v1/influencers/${encodeURIComponent(id)}`);
  }
  history(id: string): Observable<History> {
    return this.http.get<History>(`/v1/influencers/${encodeURIComponent(id)}/history`);
  }
  posts(id: string, cursor?: string | null): Observable<PostsPage> {
    const params: Record<string, string> = { limit: '50' };
    if (cursor) params['cursor'] = cursor;
    return this.http.get<PostsPage>(`/v1/influencers/${encodeURIComponent(id)}/posts`, { params });
  }
  compare(ids: string[]): Observable<Comparison> {
    return this.http.get<Comparison>('/v1/compare', { params: { ids: ids.join(',') } });
  }
  disputes(org: string): Observable<Dispute[]> {
    return this.http.get<Dispute[]>(`/v1/orgs/${org}/disputes`);
  }
  dispute(org: string, flagId: string, reason: string): Observable<unknown> {
    return this.http.post(`/v1/orgs/${org}/flags/${encodeURIComponent(flagId)}/dispute`, { reason });
  }
  members(org: string): Observable<Member[]> {
    return this.http.get<Member[]>(`/v1/orgs/${org}/members`);
  }
  changeRole(org: string, user: string, role: Role): Observable<unknown> {
    return this.http.patch(`/v1/orgs/${org}/members/${user}`, { role });
  }
  invitations(org: string): Observable<Invitation[]> {
    return this.http.get<Invitation[]>(`/v1/orgs/${org}/invitations`);
  }
  invite(org: string, email: string, role: Role): Observable<Invitation> {
    return this.http.post<Invitation>(`/v1/orgs/${org}/invitations`, { email, role });
  }
  revokeInvitation(org: string, invitation: string): Observable<unknown> {
    return this.http.delete(`/v1/orgs/${org}/invitations/${invitation}`);
  }
  acceptInvitation(token: string): Observable<Membership> {
    return this.http.post<Membership>('/v1/invitations/accept', { token });
  }
  keys(org: string): Observable<ApiKey[]> {
    return this.http.get<ApiKey[]>(`/v1/orgs/${org}/api-keys`);
  }
  createKey(org: string, name: string, scope: 'read' | 'write'): Observable<ApiKey> {
    return this.http.post<ApiKey>(`/v1/orgs/${org}/api-keys`, { name, scope });
  }
  revokeKey(org: string, key: string): Observable<unknown> {
    return this.http.delete(`/v1/orgs/${org}/api-keys/${key}`);
  }
  connections(org: string): Observable<Connection[]> {
    return this.http.get<Connection[]>(`/v1/orgs/${org}/connections`);
  }
  connect(org: string, platform: ConnectablePlatform, redirectUri: string, propertyId?: string): Observable<{ authorize_url: string; expires_in: number }> {
    return this.http.post<{ authorize_url: string; expires_in: number }>(`/v1/orgs/${org}/connections`, { platform, redirect_uri: redirectUri, property_id: propertyId || null });
  }
  completeConnection(org: string, platform: string, state: string, code: string): Observable<Connection> {
    return this.http.post<Connection>(`/v1/orgs/${org}/connections/complete`, { platform, state, code });
  }
  identities(): Observable<Identity[]> {
    return this.http.get<Identity[]>('/v1/me/identities');
  }
  linkIdentity(platform: IdentityPlatform, redirectUri: string): Observable<{ authorize_url: string; expires_in: number }> {
    return this.http.post<{ authorize_url: string; expires_in: number }>(`/v1/me/identities/${platform}`, { redirect_uri: redirectUri });
  }
  completeLink(platform: string, state: string, code: string): Observable<Identity> {
    return this.http.post<Identity>(`/v1/me/identities/${encodeURIComponent(platform)}/complete`, { state, code });
  }
  unlinkIdentity(platform: string): Observable<unknown> {
    return this.http.delete(`/v1/me/identities/${encodeURIComponent(platform)}`);
  }
  disconnect(org: string, connection: string): Observable<unknown> {
    return this.http.delete(`/v1/orgs/${org}/connections/${connection}`);
  }
  lists(org: string): Observable<TrackedList[]> {
    return this.http.get<TrackedList[]>(`/v1/orgs/${org}/lists`);
  }
  createList(org: string, name: string): Observable<TrackedList> {
    return this.http.post<TrackedList>(`/v1/orgs/${org}/lists`, { name });
  }
  deleteList(org: string, list: string): Observable<unknown> {
    return this.http.delete(`/v1/orgs/${org}/lists/${list}`);
  }
  addToList(org: string, list: string, influencer: string): Observable<unknown> {
    return this.http.put(`/v1/orgs/${org}/lists/${list}/influencers/${encodeURIComponent(influencer)}`, null);
  }
  removeFromList(org: string, list: string, influencer: string): Observable<unknown> {
    return this.http.delete(`/v1/orgs/${org}/lists/${list}/influencers/${encodeURIComponent(influencer)}`);
  }
  reports(org: string): Observable<ReportDefinition[]> {
    return this.http.get<ReportDefinition[]>(`/v1/orgs/${org}/reports`);
  }
  createReport(org: string, report: { name: string; spec: ReportDefinition['spec']; schedule: string | null; time_zone: string }): Observable<ReportDefinition> {
    return this.http.post<ReportDefinition>(`/v1/orgs/${org}/reports`, report);
  }
  deleteReport(org: string, report: string): Observable<unknown> {
    return this.http.delete(`/v1/orgs/${org}/reports/${report}`);
  }
  runReport(org: string, report: string): Observable<unknown> {
    return this.http.post(`/v1/orgs/${org}/reports/${report}/runs`, {});
  }
  reportRuns(org: string, report: string): Observable<ReportRun[]> {
    return this.http.get<ReportRun[]>(`/v1/orgs/${org}/reports/${report}/runs`);
  }
  /** A run's file through its signed link (the link alone is not enough: the session goes too). */
  download(url: string): Observable<Blob> {
    return this.http.get(url, { responseType: 'blob' });
  }
  campaigns(org: string): Observable<Campaign[]> {
    return this.http.get<Campaign[]>(`/v1/orgs/${org}/campaigns`);
  }
  createCampaign(org: string, campaign: { name: string; brand: string | null; starts_on: string; ends_on: string; hashtags: string[] }): Observable<Campaign> {
    return this.http.post<Campaign>(`/v1/orgs/${org}/campaigns`, campaign);
  }
  deleteCampaign(org: string, campaign: string): Observable<unknown> {
    return this.http.delete(`/v1/orgs/${org}/campaigns/${campaign}`);
  }
}
