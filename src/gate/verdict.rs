//! The verdict of one window: pure arithmetic over what the source measured, no I/O.
//!
//! The rules guard against what users of other canary tools fight with: missing data
//! is never a pass (nor a rollback), a few requests never decide anything, and an
//! error rate only rolls back after `failures` consecutive verdicts over it (latency
//! beyond the rollback zone rolls back at once). Verdicts are an interval apart over
//! sliding windows, so one burst of errors can count in several of them: with the
//! defaults, errors that last 30 s out of a 5-minute window roll back an interval
//! after the first alert. That is deliberate — a canary is rolled back early rather
//! than late.

use serde::Serialize;

use crate::channel::record::{GateRecord, Sample};
use crate::config::HealthConfig;

/// What a window says about the canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Healthy: may advance once baked and approved.
    Pass,
    /// Over an alert threshold, not (yet) a rollback: hold and notify.
    Alert,
    /// Not enough data to decide: hold; never promote, never roll back.
    Inconclusive,
    /// Roll back now.
    Rollback,
}

impl Verdict {
    /// `pass`, `alert`, `inconclusive`, `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Alert => "alert",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Rollback => "rollback",
        }
    }
}

/// What the source returned for one version: its numbers, or why there are none.
pub type Reading = std::result::Result<Sample, String>;

/// The verdict of one window. `failures_before` is the streak of consecutive windows
/// over the error rate before this one; the returned record carries the new streak.
pub fn evaluate(
    h: &HealthConfig,
    canary: &Reading,
    stable: &Reading,
    failures_before: u32,
    window_s: f64,
    source: &str,
) -> (Verdict, GateRecord) {
    let (verdict, reason, failures) = decide(h, canary, failures_before);
    // A source's own words (an error body, a line it sent) can be anything: keep a
    // readable start of them, as the log and the webhook carry the reason.
    let reason = clip(&reason, 400);
    let record = GateRecord {
        verdict: verdict.as_str().to_string(),
        reason,
        canary: canary.as_ref().ok().cloned(),
        stable: stable.as_ref().ok().cloned(),
        failures,
        window_s,
        source: source.to_string(),
    };
    (verdict, record)
}

/// At most `max` characters of `s`, with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn decide(h: &HealthConfig, canary: &Reading, failures_before: u32) -> (Verdict, String, u32) {
    let c = match canary {
        // No data keeps the streak as it was: neither evidence of health nor of harm.
        Err(why) => return (Verdict::Inconclusive, why.clone(), failures_before),
        Ok(c) => c,
    };
    let sane = |x: f64| x.is_finite() && x >= 0.0;
    if !sane(c.requests)
        || !sane(c.errors)
        || c.errors > c.requests
        || c.p95_ms.is_some_and(|p| p < 0.0)
    {
        return (
            Verdict::Inconclusive,
            format!(
                "the source returned impossible numbers for {} ({} requests, {} errors, p95 {:?} ms)",
                c.version, c.requests, c.errors, c.p95_ms
            ),
            failures_before,
        );
    }
    if c.requests < h.min_requests as f64 {
        return (
            Verdict::Inconclusive,
            format!(
                "{:.0} canary requests in the window, {} needed for a verdict",
                c.requests, h.min_requests
            ),
            failures_before,
        );
    }
    let Some(p95) = c.p95_ms.filter(|p| p.is_finite()) else {
        return (
            Verdict::Inconclusive,
            "no latency histogram for the canary in the window".into(),
            failures_before,
        );
    };
    let rate = c.error_rate();
    if p95 > h.p95_rollback_ms as f64 {
        let over_rate = rate > h.error_rate;
        let failures = if over_rate { failures_before + 1 } else { 0 };
        return (
            Verdict::Rollback,
            format!(
                "canary p95 {p95:.0} ms is over the rollback threshold of {} ms",
                h.p95_rollback_ms
            ),
            failures,
        );
    }
    if rate > h.error_rate {
        let failures = failures_before + 1;
        let what = format!(
            "canary error rate {:.2}% is over {:.2}% ({failures} of {} consecutive windows)",
            rate * 100.0,
            h.error_rate * 100.0,
            h.failures
        );
        return if failures >= h.failures {
            (Verdict::Rollback, what, failures)
        } else {
            (Verdict::Alert, what, failures)
        };
    }
    if p95 > h.p95_alert_ms as f64 {
        return (
            Verdict::Alert,
            format!(
                "canary p95 {p95:.0} ms is over the alert threshold of {} ms",
                h.p95_alert_ms
            ),
            0,
        );
    }
    (
        Verdict::Pass,
        format!(
            "error rate {:.2}% ≤ {:.2}%, p95 {p95:.0} ms ≤ {} ms",
            rate * 100.0,
            h.error_rate * 100.0,
            h.p95_alert_ms
        ),
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(requests: f64, errors: f64, p95: Option<f64>) -> Reading {
        Ok(Sample {
            version: "v2".into(),
            requests,
            errors,
            p95_ms: p95,
        })
    }

    fn verdict(canary: Reading, failures_before: u32) -> (Verdict, u32) {
        let h = HealthConfig::default();
        let (v, r) = evaluate(
            &h,
            &canary,
            &sample(1000.0, 0.0, Some(5.0)),
            failures_before,
            300.0,
            "t",
        );
        (v, r.failures)
    }

    #[test]
    fn table() {
        use Verdict::*;
        // (canary reading, streak before) → (verdict, streak after)
        let cases: Vec<(Reading, u32, Verdict, u32)> = vec![
            (sample(1000.0, 0.0, Some(20.0)), 0, Pass, 0),
            // Missing data: hold, streak kept.
            (Err("source down".into()), 1, Inconclusive, 1),
            // Few requests decide nothing, not even 5 errors of 10.
            (sample(10.0, 5.0, Some(3000.0)), 0, Inconclusive, 0),
            (sample(199.0, 100.0, Some(20.0)), 0, Inconclusive, 0),
            (sample(200.0, 0.0, None), 0, Inconclusive, 0),
            (sample(200.0, 0.0, Some(f64::NAN)), 0, Inconclusive, 0),
            // Garbage from the source is no data, not a pass.
            (sample(f64::INFINITY, 0.0, Some(5.0)), 0, Inconclusive, 0),
            (sample(1000.0, f64::NAN, Some(5.0)), 1, Inconclusive, 1),
            (sample(1000.0, -3.0, Some(5.0)), 0, Inconclusive, 0),
            (sample(1000.0, 1001.0, Some(5.0)), 0, Inconclusive, 0),
            (sample(1000.0, 0.0, Some(-1.0)), 0, Inconclusive, 0),
            // Error rate: an alert first, a rollback at the second window in a row.
            (sample(1000.0, 20.0, Some(20.0)), 0, Alert, 1),
            (sample(1000.0, 20.0, Some(20.0)), 1, Rollback, 2),
            // Exactly at the threshold passes.
            (sample(1000.0, 10.0, Some(20.0)), 1, Pass, 0),
            // Latency: alert zone, rollback zone (at once).
            (sample(1000.0, 0.0, Some(700.0)), 0, Alert, 0),
            (sample(1000.0, 0.0, Some(2500.0)), 0, Rollback, 0),
            (sample(1000.0, 0.0, Some(2000.0)), 0, Alert, 0),
        ];
        for (i, (c, before, want, streak)) in cases.into_iter().enumerate() {
            assert_eq!(verdict(c, before), (want, streak), "case {i}");
        }
    }

    #[test]
    fn long_reasons_are_clipped() {
        let h = HealthConfig::default();
        let (_, r) = evaluate(&h, &Err("x".repeat(5000)), &Err("y".into()), 0, 1.0, "s");
        assert_eq!(r.reason.chars().count(), 401);
    }

    #[test]
    fn both_sides_are_reported() {
        let h = HealthConfig::default();
        let (_, r) = evaluate(
            &h,
            &sample(500.0, 1.0, Some(9.0)),
            &sample(4500.0, 2.0, Some(8.0)),
            0,
            60.0,
            "src",
        );
        assert_eq!(r.canary.unwrap().requests, 500.0);
        assert_eq!(r.stable.unwrap().requests, 4500.0);
        assert_eq!(r.source, "src");
    }
}
