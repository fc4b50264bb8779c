//! The second capture's clock against the first's, read from packets seen at both points.
//!
//! A packet that passes the first point and then the second shows `t2 - t1 = offset + d`, one
//! going the other way `offset - d`, `d` the time between the points. Per flow, half the
//! difference of the two directions' medians is `d`; each packet then gives one reading of
//! the offset, and a straight line through the readings (least squares, refitted once without
//! the readings far off it) gives the offset and its drift over the capture.

use crate::time::Timestamp;

/// One packet seen at both points: its time at each, and the flow's one-way time between the
/// points with the sign of its direction (positive when it passed the first point first).
#[derive(Debug, Clone, Copy)]
pub(super) struct Reading {
    pub first: Timestamp,
    pub second: Timestamp,
    pub transit_ns: f64,
}

/// The second clock as a line against the first: `second - first = offset + drift * (first
/// - origin)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Clock {
    pub origin: Timestamp,
    pub offset_ns: f64,
    pub drift: f64,
    pub readings: u64,
}

impl Clock {
    /// No readings: both clocks taken as one.
    pub(super) fn same() -> Clock {
        Clock {
            origin: Timestamp(0),
            offset_ns: 0.0,
            drift: 0.0,
            readings: 0,
        }
    }

    /// Fits the line through `readings`.
    pub(super) fn fit(readings: &[Reading]) -> Clock {
        let Some(origin) = readings.iter().map(|r| r.first).min() else {
            return Clock::same();
        };
        let points: Vec<(f64, f64)> = readings
            .iter()
            .map(|r| {
                let x = (r.first.0 - origin.0) as f64;
                let y = (r.second.0 - r.first.0) as f64 - r.transit_ns;
                (x, y)
            })
            .collect();
        let (offset, drift) = line(&points);
        // Refit without readings held up in a queue (more than three median deviations off).
        let residuals: Vec<f64> = points
            .iter()
            .map(|&(x, y)| (y - offset - drift * x).abs())
            .collect();
        let spread = median(&residuals).max(1_000.0);
        let kept: Vec<(f64, f64)> = points
            .iter()
            .zip(&residuals)
            .filter(|(_, r)| **r <= 3.0 * spread)
            .map(|(p, _)| *p)
            .collect();
        let (offset_ns, drift) = if kept.len() >= 2 {
            line(&kept)
        } else {
            (offset, drift)
        };
        Clock {
            origin,
            offset_ns,
            drift,
            readings: readings.len() as u64,
        }
    }

    /// A time on the second clock, on the first.
    pub(super) fn on_first(&self, second: Timestamp) -> Timestamp {
        let x = (second.0 - self.origin.0) as f64;
        let first = (x - self.offset_ns) / (1.0 + self.drift);
        // To the microsecond: the line is no finer than that.
        let micros = ((self.origin.0 as f64 + first) / 1000.0).round() as i64;
        Timestamp(micros * 1000)
    }
}

/// Least squares `y = a + b x`; a flat line through the mean when x does not vary.
fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    if points.is_empty() {
        return (0.0, 0.0);
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    // Under a second of spread, drift cannot be told from jitter.
    if sxx <= 0.0 || points.iter().map(|p| p.0).fold(0.0, f64::max) < 1e9 {
        return (mean_y, 0.0);
    }
    let slope = sxy / sxx;
    (mean_y - slope * mean_x, slope)
}

/// The median of some values (0 for none).
pub(super) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab's skew (37.25 s ahead, 200 ppm fast) with 12 ms between the points, packets
    /// both ways over a minute: offset and drift come back.
    #[test]
    fn offset_and_drift_are_read_back() {
        let origin = 1_700_000_000_000_000_000i64;
        let mut readings = Vec::new();
        for i in 0..120 {
            let t = origin + i * 500_000_000;
            let skew = |first: i64| first + 37_250_000_000 + (first - origin) / 5_000;
            // Passed the first point first, then the other way.
            readings.push(Reading {
                first: Timestamp(t),
                second: Timestamp(skew(t + 12_000_000)),
                transit_ns: 12e6,
            });
            readings.push(Reading {
                first: Timestamp(t + 12_000_000),
                second: Timestamp(skew(t)),
                transit_ns: -12e6,
            });
        }
        let clock = Clock::fit(&readings);
        assert!((clock.offset_ns - 37.25e9).abs() < 1e5, "{clock:?}");
        assert!((clock.drift * 1e6 - 200.0).abs() < 1.0, "{clock:?}");
        let back = clock.on_first(Timestamp(skew_of(origin + 30_000_000_000, origin)));
        assert!(
            (back.0 - (origin + 30_000_000_000)).abs() < 100_000,
            "{back:?}"
        );
    }

    fn skew_of(first: i64, origin: i64) -> i64 {
        first + 37_250_000_000 + (first - origin) / 5_000
    }

    #[test]
    fn no_readings_is_one_clock() {
        let clock = Clock::fit(&[]);
        assert_eq!(clock.on_first(Timestamp(42_000)), Timestamp(42_000));
    }
}
