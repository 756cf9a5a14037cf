//! The models in the pipeline's SQL: `sentiment_score(text)` and
//! `forecast_followers(dates, values)`. They are Rust because a burn network cannot be written
//! in SQL; everything around them (which rows, windows, aggregates, writes) is in `sql/gold`.

use std::sync::{Arc, OnceLock};

use analisa_ml::forecast::{MAX_HORIZON, Series};
use analisa_ml::sentiment::Prediction;
use analisa_ml::{Artifact, ForecastModel, ModelName, ModelRef, Registry, SentimentModel};
use arrow::array::{Array, ArrayRef, AsArray, Date32Array, Float64Array, Float64Builder, Int32Array, ListArray, StringArray, StructArray};
use arrow::buffer::OffsetBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Date32Type, Field, Fields, Float64Type};
use chrono::NaiveDate;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// The models a pipeline scores and forecasts with.
#[derive(Debug, Clone)]
pub struct Models {
    sentiment: Arc<SentimentModel>,
    forecast: Arc<ForecastModel>,
}

impl Models {
    /// The defaults built into the binary (loaded once per process).
    pub fn builtin() -> Result<Self> {
        static BUILTIN: OnceLock<std::result::Result<Models, String>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let load = || -> analisa_ml::Result<Models> {
                    Ok(Models {
                        sentiment: Arc::new(Artifact::builtin(ModelName::Sentiment)?.into_sentiment()?),
                        forecast: Arc::new(Artifact::builtin(ModelName::Forecast)?.into_forecast()?),
                    })
                };
                load().map_err(|e| e.to_string())
            })
            .clone()
            .map_err(crate::JobsError::Config)
    }

    /// The versions configuration names (`default`, `latest` or `<name>@<version>`).
    pub async fn load(registry: &Registry, sentiment: &str, forecast: &str) -> Result<Self> {
        let builtin = Self::builtin()?;
        let pick = |text: &str, name| ModelRef::parse(text, name);
        let sentiment = match pick(sentiment, ModelName::Sentiment)? {
            ModelRef::Default => builtin.sentiment.clone(),
            other => Arc::new(registry.load(ModelName::Sentiment, &other).await?.into_sentiment()?),
        };
        let forecast = match pick(forecast, ModelName::Forecast)? {
            ModelRef::Default => builtin.forecast.clone(),
            other => Arc::new(registry.load(ModelName::Forecast, &other).await?.into_forecast()?),
        };
        Ok(Self { sentiment, forecast })
    }

    pub fn sentiment_id(&self) -> String {
        self.sentiment.card.id()
    }

    pub fn forecast_id(&self) -> String {
        self.forecast.card.id()
    }

    pub(crate) fn register(&self, ctx: &SessionContext) {
        ctx.register_udf(ScalarUDF::from(SentimentScore { model: self.sentiment.clone(), signature: Signature::string(1, Volatility::Immutable) }));
        ctx.register_udf(ScalarUDF::from(ForecastFollowers { model: self.forecast.clone(), signature: Signature::any(2, Volatility::Immutable) }));
    }
}

fn score_fields() -> Fields {
    Fields::from(vec![
        Field::new("label", DataType::Utf8, true),
        Field::new("probability", DataType::Float64, true),
        Field::new("p_negative", DataType::Float64, true),
        Field::new("p_neutral", DataType::Float64, true),
        Field::new("p_positive", DataType::Float64, true),
        Field::new("language", DataType::Utf8, true),
    ])
}

fn forecast_fields() -> Fields {
    Fields::from(vec![
        Field::new("target_date", DataType::Date32, false),
        Field::new("horizon_days", DataType::Int32, false),
        Field::new("followers", DataType::Float64, false),
        Field::new("lo80", DataType::Float64, false),
        Field::new("hi80", DataType::Float64, false),
        Field::new("lo95", DataType::Float64, false),
        Field::new("hi95", DataType::Float64, false),
        Field::new("model", DataType::Utf8, false),
        Field::new("backtest_mase", DataType::Float64, true),
    ])
}

/// `sentiment_score(text) -> struct<label, probability, p_negative, p_neutral, p_positive, language>`
/// (null for a null text).
#[derive(Debug)]
struct SentimentScore {
    model: Arc<SentimentModel>,
    signature: Signature,
}

/// `forecast_followers(dates, values) -> list<struct<target_date, horizon_days, followers, lo80,
/// hi80, lo95, hi95, model, backtest_mase>>`: 90 daily forecasts after the last date, by the
/// network, or by drift (labelled) when the history is short.
#[derive(Debug)]
struct ForecastFollowers {
    model: Arc<ForecastModel>,
    signature: Signature,
}

/// UDFs compare by name and model version (DataFusion deduplicates registered functions).
macro_rules! udf_identity {
    ($t:ty, $name:literal) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.model.card == other.model.card
            }
        }
        impl Eq for $t {}
        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                ($name, self.model.card.id()).hash(state);
            }
        }
    };
}
udf_identity!(SentimentScore, "sentiment_score");
udf_identity!(ForecastFollowers, "forecast_followers");

impl ScalarUDFImpl for SentimentScore {
    fn name(&self) -> &str {
        "sentiment_score"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Struct(score_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let input = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let input = input.as_string::<i32>();
        let texts: Vec<&str> = input.iter().flatten().collect();
        let mut predictions = self.model.classifier.predict(&texts).into_iter();
        let scored: Vec<Option<Prediction>> = input.iter().map(|t| t.map(|_| predictions.next().expect("one per text"))).collect();
        let floats = |f: fn(&Prediction) -> f32| Arc::new(scored.iter().map(|p| p.as_ref().map(|p| f(p) as f64)).collect::<Float64Array>()) as ArrayRef;
        let strings = |f: fn(&Prediction) -> &'static str| Arc::new(scored.iter().map(|p| p.as_ref().map(f)).collect::<StringArray>()) as ArrayRef;
        let columns = vec![
            strings(|p| p.label.as_str()),
            floats(Prediction::probability),
            floats(|p| p.p_negative),
            floats(|p| p.p_neutral),
            floats(|p| p.p_positive),
            strings(|p| p.lang.as_str()),
        ];
        Ok(ColumnarValue::Array(Arc::new(StructArray::new(score_fields(), columns, input.nulls().cloned()))))
    }
}

impl ScalarUDFImpl for ForecastFollowers {
    fn name(&self) -> &str {
        "forecast_followers"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::List(Arc::new(Field::new("item", DataType::Struct(forecast_fields()), true))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let dates = args.args[0].to_array(args.number_rows)?;
        let values = args.args[1].to_array(args.number_rows)?;
        let (Some(dates), Some(values)) = (dates.as_list_opt::<i32>(), values.as_list_opt::<i32>()) else {
            return Err(DataFusionError::Plan("forecast_followers takes two lists: the dates and the follower counts".into()));
        };
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
        let mut offsets = vec![0i32];
        let (mut target, mut horizon, mut model) = (Vec::new(), Vec::new(), Vec::new());
        let mut bands: [Vec<f64>; 5] = Default::default();
        let mut mase = Float64Builder::new();
        for row in 0..args.number_rows {
            if dates.is_valid(row) && values.is_valid(row) {
                let d = cast(&dates.value(row), &DataType::Date32)?;
                let v = cast(&values.value(row), &DataType::Float64)?;
                let points: Vec<(NaiveDate, f64)> = d
                    .as_primitive::<Date32Type>()
                    .iter()
                    .zip(v.as_primitive::<Float64Type>().iter())
                    .filter_map(|(d, v)| Some((epoch + chrono::Duration::days(d? as i64), v?)))
                    .collect();
                // A series that cannot be forecast (too short, bad values) gets no rows.
                let forecast = Series::from_points("account", points).ok().and_then(|s| {
                    let f = self.model.forecaster.forecast(&s, MAX_HORIZON).ok()?;
                    Some((f, self.model.forecaster.backtest(&s, 30)))
                });
                if let Some((f, backtest)) = forecast {
                    for p in &f.points {
                        target.push((p.date - epoch).num_days() as i32);
                        horizon.push(p.horizon as i32);
                        for (band, value) in bands.iter_mut().zip([p.point, p.lo80, p.hi80, p.lo95, p.hi95]) {
                            band.push(value);
                        }
                        model.push(f.method.as_str());
                        mase.append_option(backtest);
                    }
                }
            }
            offsets.push(target.len() as i32);
        }
        let [point, lo80, hi80, lo95, hi95] = bands.map(|b| Arc::new(Float64Array::from(b)) as ArrayRef);
        let items = StructArray::new(
            forecast_fields(),
            vec![Arc::new(Date32Array::from(target)), Arc::new(Int32Array::from(horizon)), point, lo80, hi80, lo95, hi95, Arc::new(StringArray::from(model)), Arc::new(mase.finish())],
            None,
        );
        let field = Arc::new(Field::new("item", DataType::Struct(forecast_fields()), true));
        Ok(ColumnarValue::Array(Arc::new(ListArray::new(field, OffsetBuffer::new(offsets.into()), Arc::new(items), None))))
    }
}
