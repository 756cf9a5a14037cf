import { DEFAULT_SORT, activeFilterCount, emptyFilters, filtersFromParams, filtersToApi, filtersToParams, nextSort } from './filters';

describe('search filters', () => {
  it('round-trip through the URL', () => {
    const filters = { ...emptyFilters(), platform: ['instagram', 'tiktok'], tier: ['micro'], country: ['BR', 'PT'], erMin: 2.5, growthMax: 10, scoreMin: 60, q: 'ana', sort: '-followers' };
    const params = filtersToParams(filters);
    expect(params).toEqual({ platform: 'instagram,tiktok', tier: 'micro', country: 'BR,PT', score_min: '60', er_min: '2.5', growth_max: '10', q: 'ana', sort: '-followers' });
    expect(filtersFromParams(params)).toEqual(filters);
  });

  it('leave defaults out of the URL', () => {
    expect(filtersToParams(emptyFilters())).toEqual({});
  });

  it('send fractions to the API, not percentages', () => {
    const query = filtersToApi({ ...emptyFilters(), erMin: 3.5, erMax: 7, growthMin: -1.2, scoreMax: 80 }, 'abc', 25);
    expect(query).toEqual({ sort: DEFAULT_SORT, limit: '25', er_min: '0.035', er_max: '0.07', growth_min: '-0.012', score_max: '80', cursor: 'abc' });
  });

  it('drop malformed values from a hand-edited URL', () => {
    const filters = filtersFromParams({ er_min: 'lots', score_max: '', sort: 'password', platform: ' Instagram ,, tiktok,instagram', country: 'br' });
    expect(filters.erMin).toBeNull();
    expect(filters.scoreMax).toBeNull();
    expect(filters.sort).toBe(DEFAULT_SORT);
    expect(filters.platform).toEqual(['instagram', 'tiktok']);
    expect(filters.country).toEqual(['BR']);
  });

  it('read a decimal comma', () => {
    expect(filtersFromParams({ er_min: '2,5' }).erMin).toBe(2.5);
  });

  it('flip the direction of the sorted column and start new ones descending', () => {
    expect(nextSort('-score', 'score')).toBe('score');
    expect(nextSort('score', 'score')).toBe('-score');
    expect(nextSort('-score', 'followers')).toBe('-followers');
    expect(nextSort('-score', 'handle')).toBe('handle');
  });

  it('count the active filters', () => {
    expect(activeFilterCount(emptyFilters())).toBe(0);
    expect(activeFilterCount({ ...emptyFilters(), tier: ['nano'], erMin: 1, q: 'x' })).toBe(3);
  });
});
