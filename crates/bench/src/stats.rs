//! Medians, spreads and latency percentiles.

use std::time::Duration;

use serde::Serialize;

/// A figure over repetitions: the median and the spread.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    /// The median of the repetitions.
    pub median: f64,
    /// The smallest repetition.
    pub min: f64,
    /// The largest repetition.
    pub max: f64,
    /// How many repetitions.
    pub reps: usize,
}

impl Spread {
    /// The spread of `values` (at least one).
    pub fn of(values: &[f64]) -> Spread {
        assert!(!values.is_empty(), "a spread needs at least one repetition");
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 };
        Spread { median, min: sorted[0], max: sorted[sorted.len() - 1], reps: sorted.len() }
    }

    /// The spread of `f` applied to each item.
    pub fn over<T>(items: &[T], f: impl Fn(&T) -> f64) -> Spread {
        Spread::of(&items.iter().map(f).collect::<Vec<_>>())
    }
}

/// The `p`-th percentile (0–100) of sorted latencies, in milliseconds (nearest rank).
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // The epsilon keeps 99.9 % of 1000 at rank 999 despite floating-point rounding.
    let rank = ((p / 100.0) * sorted.len() as f64 - 1e-9).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// The median of samples, in milliseconds.
pub fn median_ms(samples: &[Duration]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    percentile_ms(&sorted, 50.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_middle_and_the_ends() {
        let spread = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!((spread.median, spread.min, spread.max, spread.reps), (2.0, 1.0, 3.0, 3));
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=1000).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&sorted, 50.0), 500.0);
        assert_eq!(percentile_ms(&sorted, 99.0), 990.0);
        assert_eq!(percentile_ms(&sorted, 99.9), 999.0);
        assert_eq!(percentile_ms(&sorted[..1], 99.9), 1.0);
        assert!(percentile_ms(&[], 50.0).is_nan());
    }
}
