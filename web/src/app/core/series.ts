// Chart series built from API answers: pure, so the point counts and bands are unit-tested.

import { DailyPoint, Forecast } from './api';

export interface XY {
  x: number;
  y: number | null;
}

export interface XRange {
  x: number;
  y: [number, number];
}

export interface Series {
  name: string;
  type: 'line' | 'rangeArea';
  data: XY[] | XRange[];
}

/** Calendar days as UTC noon timestamps: one point per day whatever the browser's zone. */
export function dayTime(iso: string): number {
  return Date.parse(iso.slice(0, 10) + 'T12:00:00Z');
}

export interface SeriesNames {
  followers: string;
  forecast: string;
  band80: string;
  band95: string;
}

/** Followers per day, then (when a forecast exists) its median and 95 %/80 % bands. */
export function followerSeries(points: DailyPoint[], forecast: Forecast | null, names: SeriesNames): Series[] {
  const series: Series[] = [followersOnly(names.followers, points)];
  if (forecast && forecast.points.length) {
    // Wider band first so the narrower one is drawn over it.
    series.push(
      { name: names.band95, type: 'rangeArea', data: forecast.points.map((p) => ({ x: dayTime(p.date), y: [p.lower_95, p.upper_95] as [number, number] })) },
      { name: names.band80, type: 'rangeArea', data: forecast.points.map((p) => ({ x: dayTime(p.date), y: [p.lower_80, p.upper_80] as [number, number] })) },
      { name: names.forecast, type: 'line', data: forecast.points.map((p) => ({ x: dayTime(p.date), y: p.followers })) },
    );
  }
  return series;
}

/** Engagement on the days with posts only: a day without posts has no rate, not a gap. */
export function erSeries(name: string, points: DailyPoint[]): Series {
  return { name, type: 'line', data: points.filter((p) => p.er_daily !== null).map((p) => ({ x: dayTime(p.date), y: p.er_daily })) };
}

export function followersOnly(name: string, points: DailyPoint[]): Series {
  return { name, type: 'line', data: points.map((p) => ({ x: dayTime(p.date), y: p.followers })) };
}

/** Relative change between the first and last non-null values, or null. */
export function change(points: XY[]): number | null {
  const values = points.map((p) => p.y).filter((y): y is number => y !== null);
  if (values.length < 2 || values[0] === 0) return null;
  return values[values.length - 1] / values[0] - 1;
}
