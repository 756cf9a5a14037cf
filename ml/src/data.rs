//! Training and evaluation data for the sentiment model: the human-rated English sentence sets
//! of the vaderSentiment 3.3.2 source distribution and the lexicons of vaderSentiment and LeIA
//! (all fetched by the pinned setup step into a data folder), and our own Brazilian Portuguese
//! set (`ml/data/`, CC0, built into the binary).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{MlError, Result};
use crate::text::{Lang, Lexicon, Lexicons, fold, stable_hash};

/// Our Brazilian Portuguese comments: `label<TAB>topic<TAB>text`.
pub const PT_BR: &str = include_str!("../data/sentiment_ptbr.tsv");
/// Our English influencer comments, same format: VADER's sets are reviews, editorials and
/// tweets of 2014, with little of today's comment slang and emoji.
pub const EN_SOCIAL: &str = include_str!("../data/sentiment_en.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative = 0,
    Neutral = 1,
    Positive = 2,
}

impl Label {
    pub const ALL: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The issue's rule for VADER's mean human ratings (−4…+4).
    pub fn from_rating(rating: f32) -> Label {
        if rating >= 0.5 {
            Label::Positive
        } else if rating <= -0.5 {
            Label::Negative
        } else {
            Label::Neutral
        }
    }
}

/// Which part of a data set an example belongs to. Fixed by a hash of the text, so a text is
/// in the same part on every run and machine; `test` is never looked at while training or
/// choosing settings (`dev` is, for early stopping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl Split {
    pub fn of(domain: &str, text: &str) -> Split {
        match stable_hash(&format!("{domain}\u{1}{}", text.trim())) % 100 {
            0..15 => Split::Test,
            15..25 => Split::Dev,
            _ => Split::Train,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub label: Label,
    /// The language the set is in (the model detects it on its own).
    pub lang: Lang,
    /// tweets, movies, amazon, nyt for VADER's sets; the topic for ours.
    pub domain: String,
    pub split: Split,
    /// From our own influencer-comment sets (`ml/data/`), the kind of text Analisa scores.
    pub social: bool,
}

/// VADER's four rated sets and the names we give their domains.
const VADER_SETS: [(&str, &str); 4] = [
    ("tweets", "tweets_GroundTruth.txt"),
    ("movies", "movieReviewSnippets_GroundTruth.txt"),
    ("amazon", "amazonReviewSnippets_GroundTruth.txt"),
    ("nyt", "nytEditorialSnippets_GroundTruth.txt"),
];

/// The folder the setup step fills (`scripts/lib/env.sh`, `ensure_ml_data`).
#[derive(Debug, Clone)]
pub struct DataDir(PathBuf);

impl DataDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    fn read(&self, relative: &str) -> Result<String> {
        let path = self.0.join(relative);
        let bytes = std::fs::read(&path).map_err(|e| MlError::Data(format!("{} ({e}); the setup step `scripts/ml-data` fetches it", path.display())))?;
        // The movie set has a few Latin-1 bytes; a lossy read keeps those sentences.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The English rated sentences (id, mean rating, text per line).
    pub fn english(&self) -> Result<Vec<Example>> {
        let mut out = Vec::new();
        for (domain, file) in VADER_SETS {
            let text = self.read(&format!("vader/{file}"))?;
            for line in text.lines() {
                let mut parts = line.trim_end_matches('\r').splitn(3, '\t');
                let (Some(_), Some(rating), Some(sentence)) = (parts.next(), parts.next(), parts.next()) else { continue };
                let Ok(rating) = rating.trim().parse::<f32>() else { continue };
                let sentence = sentence.trim();
                if sentence.is_empty() {
                    continue;
                }
                out.push(Example { text: sentence.to_owned(), label: Label::from_rating(rating), lang: Lang::En, domain: domain.into(), split: Split::of(domain, sentence), social: false });
            }
        }
        if out.len() < 20_000 {
            return Err(MlError::Data(format!("only {} English sentences in {}: is the vaderSentiment 3.3.2 source complete?", out.len(), self.0.display())));
        }
        Ok(out)
    }

    /// VADER's and LeIA's lexicons, emoji included: as VADER does, an emoji is worth the
    /// valence of the words of its description ("smiling face with heart-eyes").
    pub fn lexicons(&self) -> Result<Lexicons> {
        let pt_negations = self.read("leia/negate.txt")?.lines().map(|l| fold(l.trim())).filter(|l| !l.is_empty() && !l.contains(' ')).collect();
        let pt_boosters = self
            .read("leia/booster.txt")?
            .lines()
            .filter_map(|l| {
                let (word, kind) = l.trim().rsplit_once(' ')?;
                (!word.contains(' ')).then(|| (fold(word), if kind == "INCR" { 0.293 } else { -0.293 }))
            })
            .collect();
        let with_emoji = |mut valence: HashMap<String, f32>, descriptions: &str| {
            let emoji: Vec<(String, f32)> = descriptions
                .lines()
                .filter_map(|line| {
                    let (emoji, description) = line.split_once('\t')?;
                    let sum: f32 = description.split(|c: char| !c.is_alphanumeric()).filter_map(|w| valence.get(&fold(w))).sum();
                    (sum != 0.0 && emoji.chars().count() == 1).then(|| (emoji.to_owned(), sum.clamp(-4.0, 4.0)))
                })
                .collect();
            valence.extend(emoji);
            valence
        };
        let en = with_emoji(Lexicon::parse_valences(&self.read("vader/vader_lexicon.txt")?), &self.read("vader/emoji_utf8_lexicon.txt")?);
        let pt = with_emoji(Lexicon::parse_valences(&self.read("leia/vader_lexicon_ptbr.txt")?), &self.read("leia/emoji_utf8_lexicon_ptbr.txt")?);
        Ok(Lexicons {
            en: Lexicon { valence: en, negations: words(EN_NEGATIONS), boosters: EN_BOOSTERS.iter().map(|(w, v)| (w.to_string(), *v)).collect() },
            pt: Lexicon { valence: pt, negations: pt_negations, boosters: pt_boosters },
            // Learnt with the classifier, from its training texts.
            language: Default::default(),
        })
    }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// English negations and degree adverbs, as VADER treats them (its lists live in its code).
const EN_NEGATIONS: &[&str] = &[
    "not", "no", "never", "nothing", "nowhere", "none", "neither", "nor", "cannot", "dont", "don't", "didnt", "didn't", "doesnt",
    "doesn't", "isnt", "isn't", "wasnt", "wasn't", "arent", "aren't", "wont", "won't", "cant", "can't", "couldnt", "couldn't",
    "shouldnt", "shouldn't", "wouldnt", "wouldn't", "without", "hardly", "rarely", "seldom", "aint", "ain't",
];
const EN_BOOSTERS: &[(&str, f32)] = &[
    ("very", 0.293), ("really", 0.293), ("so", 0.293), ("extremely", 0.293), ("absolutely", 0.293), ("totally", 0.293),
    ("completely", 0.293), ("incredibly", 0.293), ("super", 0.293), ("most", 0.293), ("more", 0.293), ("highly", 0.293),
    ("barely", -0.293), ("slightly", -0.293), ("somewhat", -0.293), ("kinda", -0.293), ("sort", -0.293), ("little", -0.293),
    ("less", -0.293), ("hardly", -0.293), ("marginally", -0.293), ("occasionally", -0.293),
];

/// Our own sets, parsed: the Portuguese comments and the English ones.
pub fn social() -> Result<Vec<Example>> {
    let mut out = parse_social(PT_BR, Lang::Pt)?;
    out.extend(parse_social(EN_SOCIAL, Lang::En)?);
    Ok(out)
}

pub fn parse_social(tsv: &str, lang: Lang) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    for (n, line) in tsv.lines().enumerate().skip(1) {
        let mut parts = line.splitn(3, '\t');
        let (Some(label), Some(topic), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(MlError::Data(format!("{} set, line {}: expected label, topic and text", lang.as_str(), n + 1)));
        };
        let label = Label::parse(label).ok_or_else(|| MlError::Data(format!("{} set, line {}: unknown label {label:?}", lang.as_str(), n + 1)))?;
        out.push(Example { text: text.to_owned(), label, lang, domain: topic.to_owned(), split: Split::of(topic, text), social: true });
    }
    Ok(out)
}

/// A fingerprint of training data: what a model was trained on, recorded with it.
pub fn fingerprint(examples: &[Example], lexicons: &Lexicons) -> String {
    let mut hasher = Sha256::new();
    for e in examples {
        hasher.update(e.label.as_str().as_bytes());
        hasher.update(e.text.as_bytes());
        hasher.update([0]);
    }
    let mut words: Vec<(&String, &f32)> = lexicons.en.valence.iter().chain(lexicons.pt.valence.iter()).collect();
    words.sort_by(|a, b| a.0.cmp(b.0).then(a.1.total_cmp(b.1)));
    for (w, v) in words {
        hasher.update(w.as_bytes());
        hasher.update(v.to_le_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_follow_the_issue_rule() {
        assert_eq!(Label::from_rating(0.5), Label::Positive);
        assert_eq!(Label::from_rating(0.49), Label::Neutral);
        assert_eq!(Label::from_rating(-0.5), Label::Negative);
    }

    #[test]
    fn splits_are_fixed_by_the_text() {
        assert_eq!(Split::of("tweets", "hello there"), Split::of("tweets", " hello there "));
        let parts: Vec<Split> = (0..1000).map(|i| Split::of("d", &format!("text {i}"))).collect();
        let test = parts.iter().filter(|s| **s == Split::Test).count();
        assert!((100..200).contains(&test), "{test} of 1000 in test");
    }

    #[test]
    fn our_sets_are_large_balanced_and_clean() {
        let all = social().unwrap();
        let english = all.iter().filter(|e| e.lang == Lang::En).count();
        assert!(english >= 600, "{english} English comments");
        let set: Vec<Example> = all.into_iter().filter(|e| e.lang == Lang::Pt).collect();
        assert!(set.len() >= 1500, "{} comments", set.len());
        for label in Label::ALL {
            let share = set.iter().filter(|e| e.label == label).count() as f64 / set.len() as f64;
            assert!(share > 0.25, "{label:?} is {share:.2} of the set");
        }
        let mut seen = std::collections::HashSet::new();
        for e in &set {
            assert!(seen.insert(e.text.trim().to_lowercase()), "duplicate: {}", e.text);
        }
        assert!(parse_social("label\ttopic\ttext\nmaybe\tx\ty", Lang::Pt).is_err());
    }
}
