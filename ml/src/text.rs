//! What the sentiment model sees of a text: its language, hashed word and character n-grams,
//! and lexicon features. Pure functions of the text, shared by training and scoring.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Longest text scored, in bytes; longer ones are cut at a character boundary (a comment is
/// never that long, and a 1 MB line must not cost a 1 MB feature vector).
pub const MAX_TEXT_BYTES: usize = 4096;

/// Feature slots per text; the rest of a very long text is dropped.
pub const MAX_FEATURES: usize = 192;

/// The language a text is written in, as far as sentiment cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Pt,
    En,
    Other,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Pt => "pt",
            Lang::En => "en",
            Lang::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Lower-cased, accent-free form of a word: Brazilian comments drop accents as often as they
/// keep them ("nao", "voce"), and LeIA's lexicon keys are written both ways.
pub fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

/// Cuts a text to [`MAX_TEXT_BYTES`] on a character boundary.
pub fn clip(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A token of a text: a word (letters, digits, apostrophes) or a single emoji/symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Folded form (see [`fold`]), with letter runs of three or more squeezed to two
    /// ("lindaaaa" → "lindaa", "kkkkk" → "kk").
    pub norm: String,
    pub all_caps: bool,
    pub elongated: bool,
}

fn is_symbol(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !c.is_ascii_punctuation() && !matches!(c, '\u{200d}' | '\u{fe0f}' | '…' | '“' | '”' | '‘' | '’' | '–' | '—')
}

pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if word.is_empty() {
            return;
        }
        let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
        let all_caps = letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase());
        let folded = fold(word);
        let (norm, elongated) = squeeze(&folded);
        tokens.push(Token { norm, all_caps, elongated });
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || ((c == '\'' || c == '’') && !word.is_empty()) {
            word.push(if c == '’' { '\'' } else { c });
        } else {
            flush(&mut word, &mut tokens);
            if is_symbol(c) {
                tokens.push(Token { norm: c.to_string(), all_caps: false, elongated: false });
            }
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

/// Squeezes runs of three or more equal letters to two; reports whether it did.
fn squeeze(word: &str) -> (String, bool) {
    let mut out = String::with_capacity(word.len());
    let mut run = 0;
    let mut last = None;
    let mut squeezed = false;
    for c in word.chars() {
        if Some(c) == last {
            run += 1;
        } else {
            run = 1;
            last = Some(c);
        }
        if run <= 2 || c.is_ascii_digit() {
            out.push(c);
        } else {
            squeezed = true;
        }
    }
    (out, squeezed)
}

fn single_letters(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

const PT_WORDS: &[&str] = &[
    "de", "que", "nao", "pra", "pro", "voce", "vc", "vcs", "muito", "mt", "mto", "isso", "esse", "essa", "ta", "to", "tô", "eu",
    "meu", "minha", "com", "sem", "mas", "uma", "um", "os", "as", "da", "do", "das", "dos", "na", "no", "nas", "nos", "ele", "ela",
    "tambem", "tb", "tbm", "aqui", "ja", "mais", "q", "pq", "porque", "obrigada", "obrigado", "amei", "lindo", "linda",
    "demais", "kk", "kkk", "rs", "rsrs", "mds", "gente", "entao", "pf", "pfv", "agora", "ainda", "sempre", "nunca", "tudo", "nada", "ficou",
    "voces", "seu", "sua", "qual", "quando", "onde", "como", "esta", "estou", "sou", "foi", "era", "bem", "mim", "ai", "ne", "hoje",
    "mano", "amiga", "miga", "melhor", "pior", "perfil", "gostei", "ficou",
];
const EN_WORDS: &[&str] = &[
    "the", "and", "is", "it", "this", "that", "of", "to", "in", "my", "for", "you", "your", "not", "but", "so", "was", "are",
    "with", "have", "has", "be", "just", "love", "like", "what", "i", "me", "we", "they", "at", "on", "all", "its", "it's",
    "i'm", "don't", "can't", "very", "really", "good", "great", "bad", "lol", "omg", "thanks", "thank", "from", "an", "if",
    "about", "would", "will", "there", "their", "more", "than", "too", "who", "how", "why", "when", "been", "film", "movie",
    "ever", "never", "again", "best", "worst", "thing", "things", "one", "can", "could", "should", "here", "out", "now", "get",
    "got", "buy", "bought", "much", "because", "did", "does", "do", "him", "her", "she", "he", "them", "were", "had", "our",
];
/// Spanish (the other language Brazilian feeds see most) must not pass for Portuguese.
const ES_WORDS: &[&str] = &[
    "el", "los", "las", "y", "muy", "pero", "esta", "que", "es", "gracias", "hola", "una", "del", "lo", "le", "mi", "usted",
    "ustedes", "hermosa", "hermoso", "bonito", "bonita", "jaja", "jajaja", "jajajaja", "como", "yo", "también", "tambien",
    "cuando", "donde", "porque", "oye", "mucho", "mucha", "muchos", "muchas", "gusto", "gusta", "increible", "precioso",
    "preciosa", "quiero", "tengo", "hay", "bueno", "buena", "malo", "pesimo", "eres", "esto", "eso", "decepcion", "chica",
    "chico", "guapa", "guapo", "cuanto", "cuesta", "su", "sus", "ahora", "siempre", "ya", "asi", "mejor", "peor", "ojala",
    "felicidades", "dios", "mio", "quedo", "aburrido", "idea", "perfecto", "perfecta", "hermana", "amigo",
];

/// Character n-gram statistics of Portuguese and English (a naive Bayes language model), learnt
/// from the training texts and both lexicons' words: they tell "so inspiring" from "só isso"
/// where function words are missing, as they often are in comments.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LanguageModel {
    /// n-gram → log P(n-gram | pt) − log P(n-gram | en), Laplace-smoothed.
    log_ratio: HashMap<String, f32>,
}

fn letter_grams(word: &str, mut each: impl FnMut(&str)) {
    let padded: Vec<char> = format!("<{word}>").chars().collect();
    for n in 1..=3 {
        for gram in padded.windows(n) {
            each(&gram.iter().collect::<String>());
        }
    }
}

fn letter_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphabetic()).filter(|w| w.chars().count() >= 2).map(fold)
}

impl LanguageModel {
    /// Learns from texts of each language; n-grams seen fewer than three times are dropped.
    pub fn learn<'a>(pt: impl Iterator<Item = &'a str>, en: impl Iterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<String, [f64; 2]> = HashMap::new();
        let mut totals = [0f64; 2];
        for (i, texts) in [pt.collect::<Vec<_>>(), en.collect::<Vec<_>>()].into_iter().enumerate() {
            for text in texts {
                for word in letter_words(text) {
                    letter_grams(&word, |g| {
                        counts.entry(g.to_owned()).or_default()[i] += 1.0;
                        totals[i] += 1.0;
                    });
                }
            }
        }
        let vocabulary = counts.len() as f64;
        let log_ratio = counts
            .into_iter()
            .filter(|(_, c)| c[0] + c[1] >= 3.0)
            .map(|(g, c)| {
                let p = |i: usize| ((c[i] + 1.0) / (totals[i] + vocabulary)).ln();
                (g, (p(0) - p(1)) as f32)
            })
            .collect();
        Self { log_ratio }
    }

    /// Evidence for Portuguese over English, summed over the text's n-grams, and their number.
    fn evidence(&self, text: &str) -> (f32, usize) {
        let (mut sum, mut n) = (0f32, 0);
        for word in letter_words(text) {
            letter_grams(&word, |g| {
                if let Some(r) = self.log_ratio.get(g) {
                    sum += r;
                    n += 1;
                }
            });
        }
        (sum, n)
    }
}

/// Detects pt, en or other from the language model, function words and Portuguese letters.
/// Texts without a word of two letters (emoji-only, "kk" aside) or in Spanish are `other`.
pub fn detect_language(text: &str, tokens: &[Token], model: &LanguageModel) -> Lang {
    let (mut pt, mut en, mut es) = (0.0f32, 0.0f32, 0.0f32);
    for token in tokens {
        let word = token.norm.as_str();
        pt += PT_WORDS.contains(&word) as u8 as f32;
        en += EN_WORDS.contains(&word) as u8 as f32;
        es += ES_WORDS.contains(&word) as u8 as f32;
        if word.starts_with("kk") || word == "ss" {
            pt += 1.0;
        }
    }
    if text.chars().any(|c| matches!(c, 'ã' | 'õ' | 'ç' | 'Ã' | 'Õ' | 'Ç' | 'ê' | 'ô')) {
        pt += 1.5;
    }
    if text.chars().any(|c| matches!(c, 'ñ' | '¡' | '¿')) {
        es += 2.0;
    }
    // Spanish past tenses and "qué" carry an acute accent Portuguese does not put there.
    es += text.split(|c: char| !c.is_alphabetic()).filter(|w| w.chars().count() >= 4 && w.ends_with('ó') || w.eq_ignore_ascii_case("qué")).count() as f32;
    let (evidence, grams) = model.evidence(text);
    // Words common to pt and es ("que", "como") count for both; es wins only on its own words.
    if (pt == 0.0 && en == 0.0 && grams == 0) || es > pt + 0.5 && es > en {
        return Lang::Other;
    }
    // A function word weighs about as much as a short word's n-grams.
    let score = evidence + 2.0 * (pt - en);
    if score > 0.0 || (score == 0.0 && pt > 0.0) {
        Lang::Pt
    } else if score < 0.0 {
        Lang::En
    } else {
        Lang::Other
    }
}

/// A sentiment lexicon (VADER for English, LeIA for Portuguese): folded word → valence
/// (−4…+4), negations and boosters. Carried inside the model artefact, so scoring needs no
/// download.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Lexicon {
    pub valence: HashMap<String, f32>,
    pub negations: Vec<String>,
    pub boosters: HashMap<String, f32>,
}

impl Lexicon {
    /// Reads VADER-format lines (`word<TAB>valence<TAB>…`).
    pub fn parse_valences(text: &str) -> HashMap<String, f32> {
        text.lines()
            .filter_map(|line| {
                let mut parts = line.split('\t');
                let word = parts.next()?.trim();
                let value: f32 = parts.next()?.trim().parse().ok()?;
                (!word.is_empty()).then(|| (fold(word), value))
            })
            .collect()
    }
}

/// Both lexicons, and the language model that picks between them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Lexicons {
    pub en: Lexicon,
    pub pt: Lexicon,
    #[serde(default)]
    pub language: LanguageModel,
}

/// Number of lexicon/shape features (see [`Features::dense`]).
pub const DENSE: usize = 14;

/// The model's input for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub lang: Lang,
    /// Hashed n-gram buckets in 1..buckets (0 is padding), at most [`MAX_FEATURES`].
    pub ids: Vec<u32>,
    pub dense: [f32; DENSE],
}

fn hash(kind: u8, s: &str) -> u64 {
    // FNV-1a: stable across platforms and releases, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ kind as u64;
    for b in s.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Stable 64-bit hash of a string (also used to split data sets deterministically).
pub fn stable_hash(s: &str) -> u64 {
    hash(0, s)
}

impl Lexicons {
    /// Everything the model needs from a text.
    pub fn features(&self, text: &str, buckets: u32) -> Features {
        let text = clip(text);
        let tokens = tokenize(text);
        let lang = detect_language(text, &tokens, &self.language);
        let mut ids = Vec::with_capacity(MAX_FEATURES);
        let slot = |kind: u8, s: &str| 1 + (hash(kind, s) % (buckets as u64 - 1)) as u32;
        for (i, token) in tokens.iter().enumerate() {
            if ids.len() + 4 > MAX_FEATURES {
                break;
            }
            let word = &token.norm;
            ids.push(slot(1, &word));
            if let Some(next) = tokens.get(i + 1) {
                ids.push(slot(2, &format!("{word} {}", next.norm)));
            }
            // Character trigrams of words carry typos, inflections and slang spellings.
            let padded: Vec<char> = format!("<{word}>").chars().collect();
            if padded.len() > 4 {
                for gram in padded.windows(3).take(8) {
                    if ids.len() >= MAX_FEATURES {
                        break;
                    }
                    ids.push(slot(3, &gram.iter().collect::<String>()));
                }
            }
        }
        ids.push(slot(4, lang.as_str()));
        ids.truncate(MAX_FEATURES);
        Features { lang, ids, dense: self.dense(text, &tokens, lang) }
    }

    /// VADER-style lexicon sums (with negation and boosters) and shape cues, scaled to about ±1.
    fn dense(&self, text: &str, tokens: &[Token], lang: Lang) -> [f32; DENSE] {
        let lexicons: Vec<&Lexicon> = match lang {
            Lang::Pt => vec![&self.pt],
            Lang::En => vec![&self.en],
            Lang::Other => vec![&self.pt, &self.en],
        };
        let (mut pos, mut neg, mut n_pos, mut n_neg, mut max_pos, mut min_neg, mut negated) = (0f32, 0f32, 0f32, 0f32, 0f32, 0f32, 0f32);
        for (i, token) in tokens.iter().enumerate() {
            let lookup = |word: &str| lexicons.iter().find_map(|l| l.valence.get(word).copied());
            // "ameiii" is "amei" and "sooo" is "so": an elongated word is tried with its
            // doubled letters single too.
            let found = lookup(&token.norm).or_else(|| token.elongated.then(|| lookup(&single_letters(&token.norm))).flatten());
            let Some(mut v) = found else { continue };
            let before = &tokens[i.saturating_sub(3)..i];
            for b in before {
                if let Some(boost) = lexicons.iter().find_map(|l| l.boosters.get(&b.norm)) {
                    v += boost * v.signum();
                }
            }
            if token.all_caps || token.elongated {
                v += 0.733 * v.signum();
            }
            if before.iter().any(|b| lexicons.iter().any(|l| l.negations.contains(&b.norm)) || b.norm.ends_with("n't")) {
                v *= -0.74;
                negated += 1.0;
            }
            if v > 0.0 {
                pos += v;
                n_pos += 1.0;
                max_pos = max_pos.max(v);
            } else if v < 0.0 {
                neg += v;
                n_neg += 1.0;
                min_neg = min_neg.min(v);
            }
        }
        let sum = pos + neg;
        let compound = sum / (sum * sum + 15.0).sqrt();
        let words = tokens.iter().filter(|t| t.norm.chars().any(char::is_alphanumeric)).count() as f32;
        let laughs = tokens.iter().filter(|t| t.norm.starts_with("kk") || matches!(t.norm.as_str(), "rs" | "rsrs" | "haha" | "hahaha" | "lol" | "kkk")).count() as f32;
        let symbols = tokens.len() as f32 - words;
        [
            compound,
            (pos / 4.0).tanh(),
            (neg / 4.0).tanh(),
            (n_pos / 3.0).tanh(),
            (n_neg / 3.0).tanh(),
            max_pos / 4.0,
            min_neg / 4.0,
            (negated / 2.0).tanh(),
            ((text.matches('!').count() as f32) / 3.0).tanh(),
            text.contains('?') as u8 as f32,
            (laughs / 2.0).tanh(),
            (symbols / 3.0).tanh(),
            (words + 1.0).ln() / 4.0,
            tokens.iter().filter(|t| t.all_caps).count() as f32 / (words + 1.0),
        ]
    }
}

/// One-hot position of a language among the dense inputs the network gets beside [`DENSE`].
pub fn lang_one_hot(lang: Lang) -> [f32; 3] {
    let mut v = [0.0; 3];
    v[lang.index()] = 1.0;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_accents_and_squeeze_elongations() {
        let tokens = tokenize("AMEIII não, lindaaaa 😍😍 kkkkk");
        let norms: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(norms, ["ameii", "nao", "lindaa", "😍", "😍", "kk"]);
        assert!(tokens[0].all_caps && tokens[0].elongated && !tokens[1].all_caps);
    }

    #[test]
    fn languages_are_told_apart() {
        // Function words alone, and a learnt model where there are none.
        let words = LanguageModel::default();
        let detect = |t: &str| detect_language(t, &tokenize(t), &words);
        assert_eq!(detect("inspiring lovely"), Lang::Other);
        let model = LanguageModel::learn(["obrigada querida", "lindo demais", "perfeição"].into_iter(), ["inspiring stuff", "lovely thanks", "honestly wonderful"].into_iter());
        assert_eq!(detect_language("inspiring lovely", &tokenize("inspiring lovely"), &model), Lang::En);
        assert_eq!(detect_language("querida perfeição", &tokenize("querida perfeição"), &model), Lang::Pt);
        assert_eq!(detect("mds que lindo, amei demais kkkk"), Lang::Pt);
        assert_eq!(detect("nao gostei nada desse produto"), Lang::Pt);
        assert_eq!(detect("this is the best video I have seen"), Lang::En);
        assert_eq!(detect("😍😍🔥"), Lang::Other);
        assert_eq!(detect("muy bonito el video, gracias"), Lang::Other);
    }

    #[test]
    fn clipping_keeps_characters_whole() {
        let long = "é".repeat(MAX_TEXT_BYTES);
        let cut = clip(&long);
        assert!(cut.len() <= MAX_TEXT_BYTES && cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn negation_flips_lexicon_valence() {
        let mut pt = Lexicon::default();
        pt.valence.insert("gostei".into(), 2.0);
        pt.negations.push("nao".into());
        let lexicons = Lexicons { en: Lexicon::default(), pt, language: LanguageModel::default() };
        let plain = lexicons.features("gostei muito do video", 1024);
        let negated = lexicons.features("não gostei do video", 1024);
        assert!(plain.dense[0] > 0.0 && negated.dense[0] < 0.0);
        assert!(lexicons.features("GOSTEIII", 1024).dense[0] > plain.dense[0]);
        assert!(plain.ids.iter().all(|&i| (1..1024).contains(&i)));
    }
}
