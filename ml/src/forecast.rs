//! The follower-growth forecaster: one global network over many series. From the last weeks of
//! log-follower changes (scaled by the series' own volatility), calendar and horizon, it gives
//! five quantiles of the log change to the target day, so the 80% and 95% intervals come out of
//! the same pass as the median. Under [`MIN_HISTORY`] days it falls back to the drift model,
//! and says so.

use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::activation::{relu, softplus};
use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::error::{MlError, Result};
use crate::metrics::ForecastScore;
use crate::text::stable_hash;

/// Days of history the network needs; shorter series get the drift forecast.
pub const MIN_HISTORY: usize = 60;
/// Longest horizon trained and served.
pub const MAX_HORIZON: usize = 90;
const LAGS: usize = 28;
const FEATURES: usize = LAGS + 5 + 7 + 2;
/// Quantiles the network outputs: the 95% and 80% bounds and the median.
const QUANTILES: [f32; 5] = [0.025, 0.1, 0.5, 0.9, 0.975];

/// A daily series (gaps filled by carrying the last value forward).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub id: String,
    pub start: NaiveDate,
    pub values: Vec<f64>,
}

impl Series {
    /// Builds a daily series from dated observations in any order; later duplicates of a day win.
    pub fn from_points(id: impl Into<String>, mut points: Vec<(NaiveDate, f64)>) -> Result<Self> {
        let id = id.into();
        points.sort_by_key(|p| p.0);
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Err(MlError::Input(format!("series {id}: no observations")));
        };
        let days = (last.0 - first.0).num_days() as usize + 1;
        if days > 20 * 366 {
            return Err(MlError::Input(format!("series {id}: spans {days} days; at most 20 years")));
        }
        let mut values = vec![f64::NAN; days];
        for (date, value) in &points {
            if !value.is_finite() || *value < 0.0 {
                return Err(MlError::Input(format!("series {id}: value {value} on {date} is not a follower count")));
            }
            values[(*date - first.0).num_days() as usize] = *value;
        }
        for i in 1..days {
            if values[i].is_nan() {
                values[i] = values[i - 1];
            }
        }
        Ok(Self { id, start: first.0, values })
    }

    pub fn last_date(&self) -> NaiveDate {
        self.start + Duration::days(self.values.len() as i64 - 1)
    }

    /// The series up to and including index `t`.
    pub fn until(&self, t: usize) -> Series {
        Series { id: self.id.clone(), start: self.start, values: self.values[..=t].to_vec() }
    }
}

/// One forecast day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    pub date: NaiveDate,
    pub horizon: u32,
    pub point: f64,
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

/// Which model produced a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Network,
    /// The labelled fallback for short histories.
    Drift,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Network => "network",
            Method::Drift => "drift",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub series_id: String,
    pub method: Method,
    pub points: Vec<ForecastPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastShape {
    pub hidden: usize,
}

impl Default for ForecastShape {
    fn default() -> Self {
        Self { hidden: 64 }
    }
}

#[derive(Module, Debug)]
pub struct ForecastNet {
    first: Linear,
    second: Linear,
    output: Linear,
}

impl ForecastNet {
    pub fn new(shape: &ForecastShape, device: &Device) -> Self {
        Self {
            first: LinearConfig::new(FEATURES, shape.hidden).init(device),
            second: LinearConfig::new(shape.hidden, shape.hidden).init(device),
            output: LinearConfig::new(shape.hidden, QUANTILES.len()).init(device),
        }
    }

    /// Quantiles `[batch, 5]` of the scaled change, increasing by construction: the median,
    /// and positive steps out from it on each side.
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let raw = self.output.forward(relu(self.second.forward(relu(self.first.forward(x)))));
        let [b, _] = raw.shape().dims();
        let median = raw.clone().narrow(1, 2, 1);
        let steps = softplus(raw.clone(), 1.0);
        let down1 = steps.clone().narrow(1, 1, 1);
        let down2 = steps.clone().narrow(1, 0, 1);
        let up1 = steps.clone().narrow(1, 3, 1);
        let up2 = steps.narrow(1, 4, 1);
        let q10 = median.clone() - down1;
        let q025 = q10.clone() - down2;
        let q90 = median.clone() + up1;
        let q975 = q90.clone() + up2;
        Tensor::cat(vec![q025, q10, median, q90, q975], 1).reshape([b, QUANTILES.len()])
    }
}

/// The network's view of a series at origin `t` for horizon `h`, and the scale of its changes.
fn features(values: &[f64], t: usize, h: usize, origin: NaiveDate) -> ([f32; FEATURES], f64) {
    let log = |i: usize| values[i].max(1.0).ln();
    let diff = |i: usize| if i == 0 { 0.0 } else { log(i) - log(i - 1) };
    let window = 56.min(t);
    let scale = ((t + 1 - window..=t).map(|i| diff(i).abs()).sum::<f64>() / window.max(1) as f64).max(1e-4);
    let mut x = [0f32; FEATURES];
    for lag in 0..LAGS {
        x[lag] = if t >= lag + 1 { (diff(t - lag) / scale).clamp(-10.0, 10.0) as f32 } else { 0.0 };
    }
    let mean_change = |days: usize| {
        let days = days.min(t);
        if days == 0 { 0.0 } else { ((log(t) - log(t - days)) / days as f64 / scale).clamp(-10.0, 10.0) as f32 }
    };
    x[LAGS] = mean_change(7);
    x[LAGS + 1] = mean_change(28);
    x[LAGS + 2] = mean_change(90);
    x[LAGS + 3] = mean_change(t);
    x[LAGS + 4] = (scale.ln() / 10.0) as f32;
    x[LAGS + 5 + origin.weekday().num_days_from_monday() as usize] = 1.0;
    x[FEATURES - 2] = h as f32 / MAX_HORIZON as f32;
    x[FEATURES - 1] = (h as f32 / MAX_HORIZON as f32).sqrt();
    (x, scale)
}

/// A trained forecaster.
#[derive(Debug)]
pub struct Forecaster {
    net: ForecastNet,
    shape: ForecastShape,
    device: Device,
}

impl Forecaster {
    pub fn from_parts(shape: ForecastShape, weights: &[u8]) -> Result<Self> {
        let device = Device::flex();
        let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(weights.to_vec())).map_err(|e| MlError::Artifact { name: "forecast".into(), details: e.to_string() })?;
        let net = ForecastNet::new(&shape, &device).try_load_record(record).map_err(|e| MlError::Artifact { name: "forecast".into(), details: e.to_string() })?;
        Ok(Self { net, shape, device })
    }

    pub fn shape(&self) -> ForecastShape {
        self.shape
    }

    pub fn weights(&self) -> Result<Vec<u8>> {
        let bytes = self.net.clone().into_record().into_bytes().map_err(|e| MlError::Artifact { name: "forecast".into(), details: e.to_string() })?;
        Ok(bytes.to_vec())
    }

    /// Daily forecasts for days 1…`horizon` after the series' last day.
    pub fn forecast(&self, series: &Series, horizon: usize) -> Result<Forecast> {
        if horizon == 0 || horizon > MAX_HORIZON {
            return Err(MlError::Input(format!("horizon {horizon}: between 1 and {MAX_HORIZON} days")));
        }
        if series.values.len() < MIN_HISTORY {
            return drift(series, horizon);
        }
        let t = series.values.len() - 1;
        let origin = series.last_date();
        let mut inputs = Vec::with_capacity(horizon * FEATURES);
        let mut scale = 0.0;
        for h in 1..=horizon {
            let (x, s) = features(&series.values, t, h, origin);
            inputs.extend_from_slice(&x);
            scale = s;
        }
        let q: Vec<f32> = self.net.forward(Tensor::from_data(TensorData::new(inputs, [horizon, FEATURES]), &self.device)).into_data().try_to_vec::<f32>().expect("f32 quantiles");
        let last = series.values[t].max(1.0).ln();
        let points = (1..=horizon)
            .map(|h| {
                let at = |k: usize| (last + q[(h - 1) * QUANTILES.len() + k] as f64 * scale * (h as f64).sqrt()).exp();
                ForecastPoint { date: origin + Duration::days(h as i64), horizon: h as u32, point: at(2), lo80: at(1), hi80: at(3), lo95: at(0), hi95: at(4) }
            })
            .collect();
        Ok(Forecast { series_id: series.id.clone(), method: Method::Network, points })
    }

    /// MASE of this forecaster on the series' own last `horizon` days, forecast from before them.
    pub fn backtest(&self, series: &Series, horizon: usize) -> Option<f64> {
        let n = series.values.len();
        if n < MIN_HISTORY + horizon + 1 {
            return None;
        }
        let origin = n - 1 - horizon;
        let past = series.until(origin);
        let forecast = self.forecast(&past, horizon).ok()?;
        let scale = naive_scale(&past.values);
        let mut score = ForecastScore::default();
        for p in &forecast.points {
            let truth = series.values[origin + p.horizon as usize];
            score.add(truth, p.point, scale, (p.lo80, p.hi80), (p.lo95, p.hi95));
        }
        Some(score.mase())
    }
}

/// Mean absolute one-day change: the MASE denominator.
pub fn naive_scale(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 1.0;
    }
    (values.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (values.len() - 1) as f64).max(1e-9)
}

/// The drift model (last value plus the average daily change), with intervals from the one-step
/// residuals widened for the uncertainty of the slope.
pub fn drift(series: &Series, horizon: usize) -> Result<Forecast> {
    let v = &series.values;
    let n = v.len();
    if n < 3 {
        return Err(MlError::Input(format!("series {}: {n} days of history; at least 3 are needed", series.id)));
    }
    let slope = (v[n - 1] - v[0]) / (n - 1) as f64;
    let sigma = (v.windows(2).map(|w| (w[1] - w[0] - slope).powi(2)).sum::<f64>() / (n - 2) as f64).sqrt();
    let origin = series.last_date();
    let points = (1..=horizon)
        .map(|h| {
            let hf = h as f64;
            let spread = sigma * (hf * (1.0 + hf / (n - 1) as f64)).sqrt();
            let point = v[n - 1] + slope * hf;
            ForecastPoint { date: origin + Duration::days(h as i64), horizon: h as u32, point, lo80: (point - 1.2816 * spread).max(0.0), hi80: point + 1.2816 * spread, lo95: (point - 1.96 * spread).max(0.0), hi95: point + 1.96 * spread }
        })
        .collect();
    Ok(Forecast { series_id: series.id.clone(), method: Method::Drift, points })
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ForecastTrainSettings {
    pub seed: u64,
    pub shape: ForecastShape,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    /// Forecast origins sampled per series per epoch.
    pub origins_per_series: usize,
}

impl Default for ForecastTrainSettings {
    fn default() -> Self {
        Self { seed: 7, shape: ForecastShape::default(), epochs: 12, batch: 256, learning_rate: 2e-3, origins_per_series: 48 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForecastTrainLog {
    pub epoch_loss: Vec<f64>,
    pub dev_loss: Vec<f64>,
    pub kept_epoch: usize,
}

/// Whether a series is held out of training for choosing the epoch (a fifth, by its id).
fn is_dev(series: &Series) -> bool {
    stable_hash(&series.id) % 5 == 0
}

fn samples(series: &[Series], rng: &mut StdRng, per_series: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for s in series {
        let n = s.values.len();
        if n < MIN_HISTORY + 2 {
            continue;
        }
        for _ in 0..per_series {
            let t = rng.random_range(MIN_HISTORY - 1..n - 1);
            let h = rng.random_range(1..=MAX_HORIZON.min(n - 1 - t));
            let origin = s.start + Duration::days(t as i64);
            let (features, scale) = features(&s.values, t, h, origin);
            let change = (s.values[t + h].max(1.0).ln() - s.values[t].max(1.0).ln()) / (scale * (h as f64).sqrt());
            x.extend_from_slice(&features);
            y.push(change.clamp(-50.0, 50.0) as f32);
        }
    }
    (x, y)
}

/// Mean pinball loss of the quantiles over a batch.
fn pinball(q: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    let [b, k] = q.shape().dims();
    let device = q.device();
    let taus = Tensor::<2>::from_data(TensorData::new(QUANTILES.to_vec(), [1, k]), &device);
    let error = y.expand([b, k]) - q;
    let loss = (error.clone() * taus.clone()).max_pair(error * (taus - 1.0));
    loss.mean().reshape([1])
}

/// Trains on every series not held out, keeping the epoch with the lowest held-out loss.
pub fn train_forecaster(series: &[Series], settings: &ForecastTrainSettings) -> Result<(Forecaster, ForecastTrainLog)> {
    let device = Device::flex();
    device.seed(settings.seed);
    let train_device = device.clone().autodiff();
    let (dev, train): (Vec<Series>, Vec<Series>) = series.iter().cloned().partition(is_dev);
    if train.is_empty() || dev.is_empty() {
        return Err(MlError::Data(format!("{} series: too few to train and hold some out", series.len())));
    }
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let (dev_x, dev_y) = samples(&dev, &mut rng, settings.origins_per_series);
    let mut net = ForecastNet::new(&settings.shape, &train_device);
    let mut optimizer = AdamConfig::new().init();
    let mut log = ForecastTrainLog { epoch_loss: Vec::new(), dev_loss: Vec::new(), kept_epoch: 0 };
    let mut best: Option<(f64, Vec<u8>)> = None;
    for epoch in 0..settings.epochs {
        let (x, y) = samples(&train, &mut rng, settings.origins_per_series);
        let n = y.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let mut total = 0.0;
        let lr = settings.learning_rate * (1.0 - 0.9 * epoch as f64 / settings.epochs as f64);
        for chunk in order.chunks(settings.batch) {
            let bx: Vec<f32> = chunk.iter().flat_map(|&i| x[i * FEATURES..(i + 1) * FEATURES].iter().copied()).collect();
            let by: Vec<f32> = chunk.iter().map(|&i| y[i]).collect();
            let q = net.forward(Tensor::from_data(TensorData::new(bx, [chunk.len(), FEATURES]), &train_device));
            let loss = pinball(q, Tensor::from_data(TensorData::new(by, [chunk.len(), 1]), &train_device));
            total += loss.clone().into_scalar::<f32>() as f64 * chunk.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optimizer.step(lr, net, grads);
        }
        let valid = net.valid();
        let dev_n = dev_y.len();
        let q = valid.forward(Tensor::from_data(TensorData::new(dev_x.clone(), [dev_n, FEATURES]), &device));
        let dev_loss = pinball(q, Tensor::from_data(TensorData::new(dev_y.clone(), [dev_n, 1]), &device)).into_scalar::<f32>() as f64;
        info!(epoch, loss = total / n as f64, dev_loss, "forecast epoch");
        log.epoch_loss.push(total / n as f64);
        log.dev_loss.push(dev_loss);
        if best.as_ref().is_none_or(|(b, _)| dev_loss < *b) {
            let weights = valid.into_record().into_bytes().map_err(|e| MlError::Artifact { name: "forecast".into(), details: e.to_string() })?;
            best = Some((dev_loss, weights.to_vec()));
            log.kept_epoch = epoch;
        }
    }
    let (_, weights) = best.expect("at least one epoch");
    Ok((Forecaster::from_parts(settings.shape, &weights)?, log))
}

/// Rolling-origin backtest results per horizon for the forecaster and its baselines.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Backtest {
    pub series: usize,
    pub horizons: Vec<HorizonScores>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HorizonScores {
    pub horizon: usize,
    pub model: ForecastScore,
    pub naive: ForecastScore,
    pub drift: ForecastScore,
    pub seasonal_naive: ForecastScore,
}

pub const BACKTEST_HORIZONS: [usize; 3] = [7, 30, 90];

/// Rolling origins every `step` days over the last part of each series (each origin keeps at
/// least [`MIN_HISTORY`] days behind it and 90 ahead); MASE per horizon against the naive,
/// drift and weekly seasonal-naive forecasts, and the coverage of the model's intervals.
pub fn backtest(forecaster: &Forecaster, series: &[Series], origins: usize, step: usize) -> Backtest {
    let mut out = Backtest { series: 0, horizons: BACKTEST_HORIZONS.iter().map(|&h| HorizonScores { horizon: h, ..Default::default() }).collect() };
    for s in series {
        let n = s.values.len();
        if n < MIN_HISTORY + MAX_HORIZON + 1 {
            continue;
        }
        out.series += 1;
        for k in 0..origins {
            let Some(t) = (n - 1 - MAX_HORIZON).checked_sub(k * step).filter(|t| *t + 1 >= MIN_HISTORY) else { break };
            let past = s.until(t);
            let scale = naive_scale(&past.values);
            let Ok(model) = forecaster.forecast(&past, MAX_HORIZON) else { continue };
            let Ok(drifted) = drift(&past, MAX_HORIZON) else { continue };
            for scores in &mut out.horizons {
                let h = scores.horizon;
                let truth = s.values[t + h];
                let m = model.points[h - 1];
                scores.model.add(truth, m.point, scale, (m.lo80, m.hi80), (m.lo95, m.hi95));
                let d = drifted.points[h - 1];
                scores.drift.add(truth, d.point, scale, (d.lo80, d.hi80), (d.lo95, d.hi95));
                let last = past.values[t];
                scores.naive.add(truth, last, scale, (last, last), (last, last));
                let seasonal = past.values[t + 1 - 7 + (h - 1) % 7];
                scores.seasonal_naive.add(truth, seasonal, scale, (seasonal, seasonal), (seasonal, seasonal));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn gaps_are_filled_and_bad_values_refused() {
        let s = Series::from_points("a", vec![(day("2026-01-03"), 30.0), (day("2026-01-01"), 10.0)]).unwrap();
        assert_eq!(s.values, [10.0, 10.0, 30.0]);
        assert_eq!(s.last_date(), day("2026-01-03"));
        assert!(Series::from_points("b", vec![(day("2026-01-01"), -1.0)]).is_err());
        assert!(Series::from_points("c", vec![]).is_err());
    }

    #[test]
    fn drift_extends_the_average_change_with_widening_intervals() {
        let s = Series { id: "a".into(), start: day("2026-01-01"), values: vec![100.0, 102.0, 103.0, 106.0, 108.0] };
        let f = drift(&s, 3).unwrap();
        assert_eq!(f.method, Method::Drift);
        assert_eq!(f.points[0].point, 110.0);
        assert_eq!(f.points[2].point, 114.0);
        assert_eq!(f.points[0].date, day("2026-01-06"));
        let width = |p: &ForecastPoint| p.hi95 - p.lo95;
        assert!(width(&f.points[2]) > width(&f.points[0]));
        assert!(f.points.iter().all(|p| p.lo95 <= p.lo80 && p.lo80 <= p.point && p.point <= p.hi80 && p.hi80 <= p.hi95));
    }
}
