// Search filters ⇄ the page URL (shareable, in the units people read: percentages) ⇄ the API
// query (fractions). Pure functions, so the round trips are unit-tested.

export const PLATFORMS = ['instagram', 'facebook', 'tiktok'] as const;
export const TIERS = ['emerging', 'nano', 'micro', 'mid', 'macro', 'mega'] as const;
export const NICHES = ['fashion', 'beauty', 'fitness', 'food', 'travel', 'gaming', 'tech', 'music', 'comedy', 'parenting', 'finance', 'sports', 'education', 'pets'] as const;
export const SORTS = ['score', 'followers', 'engagement_rate', 'growth_pct_30d', 'handle'] as const;

export interface SearchFilters {
  platform: string[];
  niche: string[];
  tier: string[];
  country: string[];
  language: string[];
  /** Social Score, 0–100. */
  scoreMin: number | null;
  scoreMax: number | null;
  /** Engagement rate in percent (3.5 = 3.5 %). */
  erMin: number | null;
  erMax: number | null;
  /** 30-day growth in percent. */
  growthMin: number | null;
  growthMax: number | null;
  q: string;
  /** A sort column, `-` before it for descending. */
  sort: string;
}

export const DEFAULT_SORT = '-score';

export function emptyFilters(): SearchFilters {
  return { platform: [], niche: [], tier: [], country: [], language: [], scoreMin: null, scoreMax: null, erMin: null, erMax: null, growthMin: null, growthMax: null, q: '', sort: DEFAULT_SORT };
}

const LISTS = ['platform', 'niche', 'tier', 'country', 'language'] as const;
const RANGES = [
  ['scoreMin', 'score_min'], ['scoreMax', 'score_max'],
  ['erMin', 'er_min'], ['erMax', 'er_max'],
  ['growthMin', 'growth_min'], ['growthMax', 'growth_max'],
] as const;

function splitList(text: string | null | undefined, upper = false): string[] {
  const values = (text ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0).map((v) => (upper ? v.toUpperCase() : v.toLowerCase()));
  return [...new Set(values)];
}

function parseNumber(text: string | null | undefined): number | null {
  if (text === null || text === undefined || text.trim() === '') return null;
  // Accept the decimal comma people type in pt-BR.
  const value = Number(text.trim().replace(',', '.'));
  return Number.isFinite(value) ? value : null;
}

function validSort(text: string | null | undefined): string {
  const name = (text ?? '').replace(/^-/, '');
  return (SORTS as readonly string[]).includes(name) ? (text as string) : DEFAULT_SORT;
}

/** Reads the filters from URL query parameters; unknown or malformed values are dropped. */
export function filtersFromParams(params: Record<string, string | null | undefined>): SearchFilters {
  const filters = emptyFilters();
  for (const name of LISTS) filters[name] = splitList(params[name], name === 'country');
  for (const [field, param] of RANGES) filters[field] = parseNumber(params[param]);
  filters.q = (params['q'] ?? '').trim();
  filters.sort = validSort(params['sort']);
  return filters;
}

/** The URL query parameters of the filters: only what is set, so links stay short. */
export function filtersToParams(filters: SearchFilters): Record<string, string> {
  const params: Record<string, string> = {};
  for (const name of LISTS) if (filters[name].length) params[name] = filters[name].join(',');
  for (const [field, param] of RANGES) if (filters[field] !== null) params[param] = String(filters[field]);
  if (filters.q.trim()) params['q'] = filters.q.trim();
  if (filters.sort !== DEFAULT_SORT) params['sort'] = filters.sort;
  return params;
}

/** Percent to fraction without binary noise (3.5 → 0.035, not 0.035000000000000003). */
function fraction(percent: number): number {
  return Number((percent / 100).toPrecision(12));
}

/** The API's query for the filters: percentages become fractions. */
export function filtersToApi(filters: SearchFilters, cursor?: string | null, limit = 25): Record<string, string> {
  const query: Record<string, string> = { sort: filters.sort, limit: String(limit) };
  for (const name of LISTS) if (filters[name].length) query[name] = filters[name].join(',');
  const put = (name: string, value: number | null, scale: (v: number) => number) => {
    if (value !== null) query[name] = String(scale(value));
  };
  put('score_min', filters.scoreMin, (v) => v);
  put('score_max', filters.scoreMax, (v) => v);
  put('er_min', filters.erMin, fraction);
  put('er_max', filters.erMax, fraction);
  put('growth_min', filters.growthMin, fraction);
  put('growth_max', filters.growthMax, fraction);
  if (filters.q.trim()) query['q'] = filters.q.trim();
  if (cursor) query['cursor'] = cursor;
  return query;
}

/** Clicking a column: the same column flips direction; a new one starts descending (text ascending). */
export function nextSort(current: string, column: string): string {
  const name = current.replace(/^-/, '');
  if (name === column) return current.startsWith('-') ? column : '-' + column;
  return column === 'handle' ? column : '-' + column;
}

export function activeFilterCount(filters: SearchFilters): number {
  return LISTS.reduce((n, name) => n + (filters[name].length ? 1 : 0), 0) + RANGES.reduce((n, [field]) => n + (filters[field] !== null ? 1 : 0), 0) + (filters.q ? 1 : 0);
}
