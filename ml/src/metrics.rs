//! Evaluation measures: accuracy and macro-F1 for the classifier; MASE and interval coverage
//! for the forecaster.

use serde::{Deserialize, Serialize};

use crate::data::Label;

/// A 3×3 confusion matrix (rows: truth, columns: prediction).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub matrix: [[u64; 3]; 3],
}

impl Classification {
    pub fn add(&mut self, truth: Label, predicted: Label) {
        self.matrix[truth as usize][predicted as usize] += 1;
    }

    pub fn total(&self) -> u64 {
        self.matrix.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..3).map(|i| self.matrix[i][i]).sum();
        correct as f64 / self.total().max(1) as f64
    }

    /// Mean of the per-class F1 scores; a class never predicted nor present counts 0.
    pub fn macro_f1(&self) -> f64 {
        (0..3)
            .map(|c| {
                let tp = self.matrix[c][c] as f64;
                let predicted: u64 = (0..3).map(|r| self.matrix[r][c]).sum();
                let actual: u64 = self.matrix[c].iter().sum();
                if predicted + actual == 0 { 0.0 } else { 2.0 * tp / (predicted + actual) as f64 }
            })
            .sum::<f64>()
            / 3.0
    }
}

/// Accumulates forecast errors for one horizon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastScore {
    /// Sum of |error| ÷ in-sample naive MAE (each forecast scaled by its own series).
    pub scaled_error: f64,
    pub n: u64,
    pub inside80: u64,
    pub inside95: u64,
}

impl ForecastScore {
    pub fn add(&mut self, truth: f64, point: f64, scale: f64, interval80: (f64, f64), interval95: (f64, f64)) {
        self.scaled_error += (truth - point).abs() / scale.max(1e-9);
        self.n += 1;
        self.inside80 += (interval80.0 <= truth && truth <= interval80.1) as u64;
        self.inside95 += (interval95.0 <= truth && truth <= interval95.1) as u64;
    }

    pub fn mase(&self) -> f64 {
        self.scaled_error / self.n.max(1) as f64
    }

    pub fn coverage80(&self) -> f64 {
        self.inside80 as f64 / self.n.max(1) as f64
    }

    pub fn coverage95(&self) -> f64 {
        self.inside95 as f64 / self.n.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_of_a_known_matrix() {
        let mut c = Classification::default();
        // Perfect on negatives, half the neutrals called positive.
        for _ in 0..4 {
            c.add(Label::Negative, Label::Negative);
            c.add(Label::Positive, Label::Positive);
        }
        c.add(Label::Neutral, Label::Neutral);
        c.add(Label::Neutral, Label::Positive);
        assert!((c.accuracy() - 0.9).abs() < 1e-12);
        // F1: negative 1, neutral 2·1/(1+2) = 2/3, positive 2·4/(5+4) = 8/9.
        assert!((c.macro_f1() - (1.0 + 2.0 / 3.0 + 8.0 / 9.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn mase_and_coverage() {
        let mut s = ForecastScore::default();
        s.add(10.0, 12.0, 2.0, (9.0, 11.0), (8.0, 13.0));
        s.add(10.0, 10.0, 1.0, (10.5, 11.0), (9.0, 11.0));
        assert_eq!(s.mase(), 0.5);
        assert_eq!(s.coverage80(), 0.5);
        assert_eq!(s.coverage95(), 1.0);
    }
}
