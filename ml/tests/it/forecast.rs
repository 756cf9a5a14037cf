use analisa_ml::forecast::{self, ForecastShape, ForecastTrainSettings, Forecaster, Method, Series, backtest};
use analisa_ml::{Artifact, ModelName};
use chrono::NaiveDate;

/// Noisy exponential growth with a weekly rhythm, different for each series.
fn series(n: usize, days: usize) -> Vec<Series> {
    (0..n)
        .map(|i| {
            let mut state = 1_000 + i as u64 * 7919;
            let mut noise = || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 33) as f64 / (1u64 << 31) as f64 - 0.5
            };
            let rate = 0.0005 + 0.0001 * (i % 7) as f64;
            let mut level = 5_000.0 * (1.0 + i as f64);
            let values = (0..days)
                .map(|d| {
                    level *= 1.0 + rate * if d % 7 >= 5 { 1.5 } else { 0.8 } + 0.002 * noise();
                    level.round()
                })
                .collect();
            Series { id: format!("s{i}"), start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), values }
        })
        .collect()
}

fn tiny() -> ForecastTrainSettings {
    ForecastTrainSettings { seed: 11, shape: ForecastShape { hidden: 16 }, epochs: 6, batch: 64, learning_rate: 5e-3, origins_per_series: 24 }
}

#[test]
fn training_lowers_the_loss_and_saved_weights_forecast_the_same() {
    let data = series(30, 200);
    let (model, log) = forecast::train_forecaster(&data, &tiny()).unwrap();
    assert!(log.epoch_loss.last().unwrap() < &log.epoch_loss[0], "loss went {:?}", log.epoch_loss);
    let a = model.forecast(&data[0], 30).unwrap();
    let (again, _) = forecast::train_forecaster(&data, &tiny()).unwrap();
    assert_eq!(a, again.forecast(&data[0], 30).unwrap(), "same seed, same model");
    let loaded = Forecaster::from_parts(model.shape(), &model.weights().unwrap()).unwrap();
    assert_eq!(a, loaded.forecast(&data[0], 30).unwrap());
    assert_eq!(a.method, Method::Network);
    assert_eq!(a.points.len(), 30);
    for p in &a.points {
        assert!(p.lo95 <= p.lo80 && p.lo80 <= p.point && p.point <= p.hi80 && p.hi80 <= p.hi95, "{p:?}");
    }
    // Intervals widen with the horizon.
    assert!(a.points[29].hi95 - a.points[29].lo95 > a.points[0].hi95 - a.points[0].lo95);
}

#[test]
fn short_histories_fall_back_to_drift_and_bad_horizons_are_refused() {
    let model = Artifact::builtin(ModelName::Forecast).unwrap().into_forecast().unwrap();
    let short = Series { id: "new".into(), start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), values: (0..40).map(|d| 1000.0 + 3.0 * d as f64).collect() };
    let f = model.forecaster.forecast(&short, 7).unwrap();
    assert_eq!(f.method, Method::Drift);
    assert!((f.points[6].point - (1117.0 + 21.0)).abs() < 1e-9);
    assert!(model.forecaster.forecast(&short, 0).is_err());
    assert!(model.forecaster.forecast(&short, 91).is_err());
    let one_day = Series { values: vec![5.0], ..short };
    assert!(model.forecaster.forecast(&one_day, 7).is_err());
}

#[test]
fn the_built_in_forecaster_backtests_with_calibrated_intervals() {
    let model = Artifact::builtin(ModelName::Forecast).unwrap().into_forecast().unwrap();
    let result = backtest(&model.forecaster, &series(20, 260), 4, 7);
    assert_eq!(result.series, 20);
    for h in &result.horizons {
        assert_eq!(h.model.n, 80);
        // The series grow steadily, so the model must beat the naive forecast by far.
        assert!(h.model.mase() < h.naive.mase(), "h={} model {} naive {}", h.horizon, h.model.mase(), h.naive.mase());
    }
}
