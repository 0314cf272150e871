//! Drill faults: `serve --fault VERSION=error:0.05,latency:2500ms` makes one version
//! fail on purpose (a share of 503s, added latency), so a health gate can be
//! rehearsed against real traffic. Off unless given; no cost when none is set.

use std::time::Duration;

use crate::config::parse_duration;

/// A drill fault for one version.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Fault {
    /// Fraction (0–1) of the version's requests answered `503`.
    pub error: f64,
    /// Added before each of the version's responses.
    pub latency: Duration,
}

/// Parses `VERSION=error:0.05,latency:2500ms` (either part optional, at least one).
///
/// `VERSION` must be a valid version id; `error` is a fraction from 0 to 1; `latency`
/// needs a unit (`ms`, `s` or `m`: a bare `300` is refused, since it is unclear
/// whether milliseconds or seconds were meant) and is at most 60 s. A key may appear
/// once. Errors say what is wrong and show an example.
///
/// ```
/// use sitevault::edge::serve::parse_fault;
/// let (v, f) = parse_fault("v2=error:0.05,latency:2500ms").unwrap();
/// assert_eq!((v.as_str(), f.error, f.latency.as_millis()), ("v2", 0.05, 2500));
/// assert!(parse_fault("v2=error:2").is_err());
/// ```
pub fn parse_fault(spec: &str) -> Result<(String, Fault), String> {
    const EXAMPLE: &str = "e.g. v2=error:0.05,latency:2500ms";
    let (version, rest) = spec.split_once('=').ok_or_else(|| {
        format!("{spec:?}: expected VERSION=error:RATE,latency:DURATION ({EXAMPLE})")
    })?;
    crate::ids::check_version(version).map_err(|e| e.to_string())?;
    let mut f = Fault::default();
    let mut seen: Vec<&str> = Vec::new();
    for part in rest.split(',').filter(|p| !p.trim().is_empty()) {
        let (key, value) = part.split_once(':').ok_or_else(|| {
            format!("{part:?}: expected error:RATE or latency:DURATION ({EXAMPLE})")
        })?;
        let key = key.trim();
        if seen.contains(&key) {
            return Err(format!("{key:?} is given twice ({EXAMPLE})"));
        }
        seen.push(key);
        match key {
            "error" => {
                let e: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| format!("error:{value}: not a number ({EXAMPLE})"))?;
                if !(0.0..=1.0).contains(&e) {
                    return Err(format!(
                        "error:{value}: a fraction between 0 and 1 ({EXAMPLE})"
                    ));
                }
                f.error = e;
            }
            "latency" => {
                let bare = value.trim();
                if !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit() || c == '.') {
                    return Err(format!(
                        "latency:{bare}: give a unit, e.g. latency:{bare}ms or latency:{bare}s"
                    ));
                }
                let d = parse_duration(value)?;
                if d > Duration::from_secs(60) {
                    return Err(format!("latency:{value}: at most 60s"));
                }
                f.latency = d;
            }
            other => {
                return Err(format!(
                    "{other:?}: unknown fault (use error or latency; {EXAMPLE})"
                ))
            }
        }
    }
    if f == Fault::default() {
        return Err(format!("{spec:?} injects nothing ({EXAMPLE})"));
    }
    Ok((version.to_string(), f))
}

impl Fault {
    /// Sleeps the added latency, then says whether this request fails.
    pub(crate) async fn strike(&self) -> bool {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        self.error > 0.0 && unit_random() < self.error
    }
}

/// A uniform number in [0, 1).
fn unit_random() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let (v, f) = parse_fault("v1.2=latency:1.5s").unwrap();
        assert_eq!(
            (v.as_str(), f.error, f.latency),
            ("v1.2", 0.0, Duration::from_millis(1500))
        );
        for bad in [
            "v2",
            "=error:0.1",
            "../x=error:0.1",
            "v2=error:1.5",
            "v2=error:NaN",
            "v2=error:-0.1",
            "v2=boom:1",
            "v2=latency:forever",
            "v2=latency:2h",
            "v2=",
            "v2=error",
            "v2=error:",
            "v2=latency:300",
            "v2=latency:-5ms",
            "v2=error:0.1,error:0.2",
            "v2=error:0,latency:0ms",
            "v2:error:0.1",
        ] {
            assert!(parse_fault(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn good_specs_and_messages() {
        let (v, f) = parse_fault("v2=error:0.05,latency:2500ms").unwrap();
        assert_eq!((v.as_str(), f.error), ("v2", 0.05));
        assert_eq!(f.latency, Duration::from_millis(2500));
        let (_, f) = parse_fault("v2= error:1 , latency:2s ,").unwrap();
        assert_eq!((f.error, f.latency), (1.0, Duration::from_secs(2)));
        let (_, f) = parse_fault("v2=latency:1m").unwrap();
        assert_eq!((f.error, f.latency), (0.0, Duration::from_secs(60)));
        let msg = |s: &str| parse_fault(s).unwrap_err();
        assert!(msg("v2").contains("e.g. v2=error:0.05"), "{}", msg("v2"));
        assert!(msg("../x=error:0.1").contains("invalid version id"));
        assert!(msg("v2=error:1.5").contains("between 0 and 1"));
        assert!(msg("v2=error:NaN").contains("between 0 and 1"));
        assert!(msg("v2=boom:1").contains("unknown fault"));
        assert!(msg("v2=latency:300").contains("latency:300ms"));
        assert!(msg("v2=latency:2h").contains("at most 60s"));
        assert!(msg("v2=error:0.1,error:0.2").contains("twice"));
        assert!(msg("v2=").contains("injects nothing"));
    }

    #[test]
    fn random_is_in_range_and_spread() {
        let xs: Vec<f64> = (0..2000).map(|_| unit_random()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let low = xs.iter().filter(|x| **x < 0.05).count();
        assert!((40..=170).contains(&low), "{low} of 2000 below 0.05");
    }
}
