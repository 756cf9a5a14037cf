//! The sentiment classifier: a bag of hashed word, word-pair and character-trigram embeddings,
//! beside VADER/LeIA lexicon features, into a small network with three outputs
//! (negative, neutral, positive). Trained and run with burn on the flex CPU backend.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::activation::{relu, softmax};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::data::{Example, Label, Split};
use crate::error::{MlError, Result};
use crate::metrics::Classification;
use crate::text::{DENSE, Features, Lang, LanguageModel, Lexicons, lang_one_hot};

/// Shape of the network; stored with the weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SentimentShape {
    pub buckets: u32,
    pub dim: usize,
    pub hidden: usize,
}

impl Default for SentimentShape {
    fn default() -> Self {
        // 2^15 buckets × 24 dims: about 3 MB of weights, collisions still rare for comments.
        Self { buckets: 1 << 15, dim: 24, hidden: 48 }
    }
}

const INPUTS: usize = DENSE + 3;

#[derive(Module, Debug)]
pub struct SentimentNet {
    embedding: Embedding,
    hidden: Linear,
    output: Linear,
}

impl SentimentNet {
    pub fn new(shape: &SentimentShape, device: &Device) -> Self {
        Self {
            embedding: EmbeddingConfig::new(shape.buckets as usize, shape.dim).init(device),
            hidden: LinearConfig::new(shape.dim + INPUTS, shape.hidden).init(device),
            output: LinearConfig::new(shape.hidden, 3).init(device),
        }
    }

    /// Logits `[batch, 3]`.
    fn forward(&self, batch: &Batch) -> Tensor<2> {
        let [b, l] = batch.ids.shape().dims();
        let embedded = self.embedding.forward(batch.ids.clone());
        let mask = batch.mask.clone().reshape([b, l, 1]);
        // Mean of the text's n-gram vectors (padding masked out), so length does not scale it.
        let pooled = (embedded * mask).sum_dim(1).reshape([b, self.embedding.weight.shape().dims::<2>()[1]]) / batch.lengths.clone();
        let x = Tensor::cat(vec![pooled, batch.dense.clone()], 1);
        self.output.forward(relu(self.hidden.forward(x)))
    }
}

/// A padded batch on a device.
struct Batch {
    ids: Tensor<2, Int>,
    mask: Tensor<2>,
    lengths: Tensor<2>,
    dense: Tensor<2>,
}

impl Batch {
    fn new(features: &[&Features], device: &Device) -> Self {
        let b = features.len();
        let l = features.iter().map(|f| f.ids.len()).max().unwrap_or(1).max(1);
        let mut ids = vec![0i64; b * l];
        let mut mask = vec![0f32; b * l];
        let mut lengths = Vec::with_capacity(b);
        let mut dense = Vec::with_capacity(b * INPUTS);
        for (row, f) in features.iter().enumerate() {
            for (col, id) in f.ids.iter().enumerate() {
                ids[row * l + col] = *id as i64;
                mask[row * l + col] = 1.0;
            }
            lengths.push(f.ids.len().max(1) as f32);
            dense.extend_from_slice(&f.dense);
            dense.extend_from_slice(&lang_one_hot(f.lang));
        }
        Self {
            ids: Tensor::from_data(TensorData::new(ids, [b, l]), device),
            mask: Tensor::from_data(TensorData::new(mask, [b, l]), device),
            lengths: Tensor::from_data(TensorData::new(lengths, [b, 1]), device),
            dense: Tensor::from_data(TensorData::new(dense, [b, INPUTS]), device),
        }
    }
}

/// One scored text, as `analisa ml sentiment` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub label: Label,
    pub p_negative: f32,
    pub p_neutral: f32,
    pub p_positive: f32,
    pub lang: Lang,
}

impl Prediction {
    pub fn probability(&self) -> f32 {
        match self.label {
            Label::Negative => self.p_negative,
            Label::Neutral => self.p_neutral,
            Label::Positive => self.p_positive,
        }
    }
}

/// A trained classifier, ready to score.
#[derive(Debug)]
pub struct Classifier {
    net: SentimentNet,
    shape: SentimentShape,
    lexicons: Lexicons,
    device: Device,
}

/// Texts per forward pass when scoring.
const SCORE_BATCH: usize = 512;

impl Classifier {
    pub fn from_parts(shape: SentimentShape, lexicons: Lexicons, weights: &[u8]) -> Result<Self> {
        let device = Device::flex();
        let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(weights.to_vec())).map_err(|e| MlError::Artifact { name: "sentiment".into(), details: e.to_string() })?;
        let net = SentimentNet::new(&shape, &device).try_load_record(record).map_err(|e| MlError::Artifact { name: "sentiment".into(), details: e.to_string() })?;
        Ok(Self { net, shape, lexicons, device })
    }

    pub fn shape(&self) -> SentimentShape {
        self.shape
    }

    pub fn lexicons(&self) -> &Lexicons {
        &self.lexicons
    }

    pub fn weights(&self) -> Result<Vec<u8>> {
        let bytes = self.net.clone().into_record().into_bytes().map_err(|e| MlError::Artifact { name: "sentiment".into(), details: e.to_string() })?;
        Ok(bytes.to_vec())
    }

    /// Scores texts, in batches; the order of the answers is the order of the texts.
    pub fn predict<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Prediction> {
        let features: Vec<Features> = texts.iter().map(|t| self.lexicons.features(t.as_ref(), self.shape.buckets)).collect();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in features.chunks(SCORE_BATCH) {
            let values = self.probabilities(&chunk.iter().collect::<Vec<_>>());
            for (f, p) in chunk.iter().zip(values.chunks(3)) {
                let label = Label::ALL[argmax(p)];
                out.push(Prediction { label, p_negative: p[0], p_neutral: p[1], p_positive: p[2], lang: f.lang });
            }
        }
        out
    }

    /// Class probabilities of one batch, three per text.
    fn probabilities(&self, features: &[&Features]) -> Vec<f32> {
        softmax(self.net.forward(&Batch::new(features, &self.device)), 1).into_data().try_to_vec::<f32>().expect("f32 probabilities")
    }
}

fn argmax(p: &[f32]) -> usize {
    p.iter().enumerate().fold(0, |best, (i, v)| if *v > p[best] { i } else { best })
}

/// Settings of a training run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainSettings {
    pub seed: u64,
    pub shape: SentimentShape,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    /// Examples of our own comment sets are repeated this many times per epoch: they are a
    /// tenth the size of VADER's, and comments like them are what Analisa scores.
    pub social_repeat: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self { seed: 7, shape: SentimentShape::default(), epochs: 6, batch: 64, learning_rate: 3e-3, social_repeat: 4 }
    }
}

/// What training reports: the loss per epoch and the dev score that chose the epoch kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainLog {
    pub epoch_loss: Vec<f64>,
    pub dev_macro_f1: Vec<f64>,
    pub kept_epoch: usize,
}

/// Trains on the `train` part of `examples`, keeping the epoch with the best mean dev macro-F1
/// over the groups of data (each language of our comment sets, and VADER's sets): one group's
/// size does not drown the others (the `test` part is never read here).
pub fn train(examples: &[Example], mut lexicons: Lexicons, settings: &TrainSettings) -> Result<(Classifier, TrainLog)> {
    // The language model learns from the training texts and both lexicons' words.
    let texts = |lang: Lang| examples.iter().filter(move |e| e.split == Split::Train && e.lang == lang).map(|e| e.text.as_str());
    let pt_words: Vec<&str> = lexicons.pt.valence.keys().map(String::as_str).collect();
    let en_words: Vec<&str> = lexicons.en.valence.keys().map(String::as_str).collect();
    lexicons.language = LanguageModel::learn(texts(Lang::Pt).chain(pt_words.iter().copied()), texts(Lang::En).chain(en_words.iter().copied()));
    let device = Device::flex();
    device.seed(settings.seed);
    let train_device = device.clone().autodiff();
    let part = |split: Split| examples.iter().filter(move |e| e.split == split);
    let train_set: Vec<(Features, Label, bool)> = part(Split::Train).map(|e| (lexicons.features(&e.text, settings.shape.buckets), e.label, e.social)).collect();
    let dev_set: Vec<(Features, Label, (Lang, bool))> = part(Split::Dev).map(|e| (lexicons.features(&e.text, settings.shape.buckets), e.label, (e.lang, e.social))).collect();
    if train_set.is_empty() || dev_set.is_empty() {
        return Err(MlError::Data("no training or dev examples".into()));
    }
    let mut order: Vec<usize> = train_set.iter().enumerate().flat_map(|(i, (_, _, social))| std::iter::repeat_n(i, if *social { settings.social_repeat.max(1) } else { 1 })).collect();
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let mut net = SentimentNet::new(&settings.shape, &train_device);
    let mut optimizer = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&train_device);
    let mut log = TrainLog { epoch_loss: Vec::new(), dev_macro_f1: Vec::new(), kept_epoch: 0 };
    let mut best: Option<(f64, Vec<u8>)> = None;
    let steps_per_epoch = order.len().div_ceil(settings.batch);
    for epoch in 0..settings.epochs {
        order.shuffle(&mut rng);
        // Linear decay over the run: big steps early for the embeddings, small ones to settle.
        let mut total = 0.0;
        for (step, chunk) in order.chunks(settings.batch).enumerate() {
            let progress = (epoch * steps_per_epoch + step) as f64 / (settings.epochs * steps_per_epoch) as f64;
            let lr = settings.learning_rate * (1.0 - 0.9 * progress);
            let refs: Vec<&Features> = chunk.iter().map(|&i| &train_set[i].0).collect();
            let batch = Batch::new(&refs, &train_device);
            let targets = Tensor::<1, Int>::from_data(TensorData::new(chunk.iter().map(|&i| train_set[i].1 as i64).collect::<Vec<_>>(), [chunk.len()]), &train_device);
            let loss = loss_fn.forward(net.forward(&batch), targets);
            total += loss.clone().into_scalar::<f32>() as f64 * chunk.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optimizer.step(lr, net, grads);
        }
        let mean_loss = total / order.len() as f64;
        let inference = Classifier { net: net.valid(), shape: settings.shape, lexicons: lexicons.clone(), device: device.clone() };
        let dev_f1 = dev_score(&inference, &dev_set);
        info!(epoch, loss = mean_loss, dev_macro_f1 = dev_f1, "sentiment epoch");
        log.epoch_loss.push(mean_loss);
        log.dev_macro_f1.push(dev_f1);
        if best.as_ref().is_none_or(|(score, _)| dev_f1 > *score) {
            best = Some((dev_f1, inference.weights()?));
            log.kept_epoch = epoch;
        }
    }
    let (_, weights) = best.expect("at least one epoch");
    Ok((Classifier::from_parts(settings.shape, lexicons, &weights)?, log))
}

/// Mean over the groups of the dev macro-F1.
fn dev_score(classifier: &Classifier, dev: &[(Features, Label, (Lang, bool))]) -> f64 {
    let mut scores = Vec::new();
    for group in [(Lang::En, false), (Lang::En, true), (Lang::Pt, true)] {
        let part: Vec<&(Features, Label, (Lang, bool))> = dev.iter().filter(|d| d.2 == group).collect();
        if part.is_empty() {
            continue;
        }
        let mut matrix = Classification::default();
        for chunk in part.chunks(SCORE_BATCH) {
            let p = classifier.probabilities(&chunk.iter().map(|d| &d.0).collect::<Vec<_>>());
            for (d, row) in chunk.iter().zip(p.chunks(3)) {
                matrix.add(d.1, Label::ALL[argmax(row)]);
            }
        }
        scores.push(matrix.macro_f1());
    }
    scores.iter().sum::<f64>() / scores.len().max(1) as f64
}
