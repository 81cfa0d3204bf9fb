//! Measurements: distributions of timings, the legacy-vs-optimized benchmark and the
//! dashboard's own benchmark.

pub mod bench;
pub mod new_process;
pub mod soak;
pub mod tui_bench;

use hdrhistogram::Histogram;

/// A distribution of durations in microseconds (1 µs .. 1 h, 3 significant digits).
pub struct Distribution {
    hist: Histogram<u64>,
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution::new()
    }
}

impl Distribution {
    pub fn new() -> Self {
        Distribution {
            hist: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("constant histogram bounds are valid"),
        }
    }

    pub fn record(&mut self, us: u64) {
        let _ = self.hist.record(us.max(1));
    }

    pub fn len(&self) -> u64 {
        self.hist.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// The value at quantile `q` (0..1), in µs; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.value_at_quantile(q)
        }
    }

    pub fn p50(&self) -> u64 {
        self.quantile(0.5)
    }

    pub fn p95(&self) -> u64 {
        self.quantile(0.95)
    }
}
