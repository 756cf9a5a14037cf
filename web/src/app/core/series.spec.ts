import { DailyPoint, Forecast } from './api';
import { change, dayTime, erSeries, followerSeries } from './series';

const names = { followers: 'F', forecast: 'P', band80: 'B80', band95: 'B95' };
const day = (date: string, followers: number, er: number | null = null): DailyPoint =>
  ({ date, followers, follows: null, follower_delta: null, posts: 1, likes: null, comments: null, views: null, er_daily: er });

describe('chart series', () => {
  const points = [day('2026-11-27', 1000, 0.02), day('2026-11-28', 1010, null), day('2026-11-29', 1030, 0.03)];

  it('have one follower point per day and one ER point per day with posts', () => {
    const [followers] = followerSeries(points, null, names);
    expect(followers.data.length).toBe(3);
    expect(followers.data[0]).toEqual({ x: dayTime('2026-11-27'), y: 1000 });
    expect(erSeries('ER', points).data).toEqual([{ x: dayTime('2026-11-27'), y: 0.02 }, { x: dayTime('2026-11-29'), y: 0.03 }]);
  });

  it('add the forecast with its 95 % band under its 80 % band', () => {
    const forecast: Forecast = { model_version: 'growth/v1', points: [{ date: '2026-11-30', followers: 1040, lower_80: 1030, upper_80: 1050, lower_95: 1020, upper_95: 1060 }] };
    const series = followerSeries(points, forecast, names);
    expect(series.map((s) => [s.name, s.type])).toEqual([['F', 'line'], ['B95', 'rangeArea'], ['B80', 'rangeArea'], ['P', 'line']]);
    expect(series[1].data[0]).toEqual({ x: dayTime('2026-11-30'), y: [1020, 1060] });
  });

  it('measure change over the non-missing values', () => {
    expect(change(followerSeries(points, null, names)[0].data as { x: number; y: number | null }[])).toBeCloseTo(0.03);
    expect(change([{ x: 1, y: null }])).toBeNull();
  });
});
