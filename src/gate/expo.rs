//! Reading `sitevault serve`'s `/metrics` (Prometheus / OpenMetrics text) into
//! per-version counts, differencing two scrapes, and the p95 of a merged histogram.

use std::collections::BTreeMap;

/// Requests counter, as exposed (prometheus_client appends `_total`).
const REQUESTS: &str = "sitevault_requests_total";
/// Latency histogram buckets.
const BUCKETS: &str = "sitevault_request_duration_seconds_bucket";

/// Cumulative counts of one version at one endpoint (or a difference of two).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Counts {
    pub(crate) requests: f64,
    pub(crate) errors: f64,
    /// `(le, cumulative count)`, ascending `le`, `+Inf` last.
    pub(crate) buckets: Vec<(f64, f64)>,
}

/// One endpoint's scrape: counts per version.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrape {
    pub(crate) versions: BTreeMap<String, Counts>,
    /// The requests family was present at all (a sitevault edge).
    pub(crate) is_edge: bool,
}

/// Parses exposition text. Lines that are not ours are skipped; a malformed line of
/// ours, or an edge's answer without OpenMetrics' closing `# EOF`, is an error (a
/// truncated scrape must not read as "fewer errors").
pub(crate) fn parse(text: &str) -> Result<Scrape, String> {
    let mut out = Scrape::default();
    let mut complete = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "# EOF" {
            complete = true;
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            if line.starts_with("# TYPE sitevault_requests ")
                || line.starts_with("# TYPE sitevault_requests_total ")
            {
                out.is_edge = true;
            }
            continue;
        }
        let ours = line.starts_with(REQUESTS) || line.starts_with(BUCKETS);
        if !ours {
            continue;
        }
        let (name, labels, value) =
            sample_line(line).ok_or_else(|| format!("line {}: cannot parse {line:?}", n + 1))?;
        let Some(version) = labels.get("version") else {
            continue;
        };
        let c = out.versions.entry(version.clone()).or_default();
        match name {
            REQUESTS => {
                out.is_edge = true;
                c.requests += value;
                if labels.get("status").map(String::as_str) == Some("5xx") {
                    c.errors += value;
                }
            }
            BUCKETS => {
                let le = labels
                    .get("le")
                    .and_then(|l| parse_value(l))
                    .ok_or_else(|| format!("line {}: bucket without a valid le", n + 1))?;
                match c.buckets.iter_mut().find(|(b, _)| *b == le) {
                    Some(b) => b.1 += value,
                    None => c.buckets.push((le, value)),
                }
            }
            _ => {}
        }
    }
    if out.is_edge && !complete {
        return Err("the answer ends without \"# EOF\" (cut short?)".into());
    }
    for c in out.versions.values_mut() {
        c.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(out)
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok().filter(|v: &f64| !v.is_nan()),
    }
}

/// `name{a="b",…} value [timestamp]` → parts (exact name match only).
fn sample_line(line: &str) -> Option<(&str, BTreeMap<String, String>, f64)> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(r) = rest.strip_prefix('{') {
        let mut chars = r.char_indices().peekable();
        let mut key = String::new();
        let end;
        loop {
            let (i, ch) = chars.next()?;
            match ch {
                '}' => {
                    end = i + 1;
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut val = String::new();
                    loop {
                        let (_, ch) = chars.next()?;
                        match ch {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => val.push('\n'),
                                other => val.push(other),
                            },
                            other => val.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), val);
                }
                other => key.push(other),
            }
        }
        rest = &r[end..];
    }
    let value = parse_value(rest.split_whitespace().next()?)?;
    Some((name, labels, value))
}

impl Counts {
    /// What happened between `older` and `self`. Any counter that went down (the
    /// total, the errors or one bucket) means the edge restarted: everything since
    /// the restart is what `self` holds. `None` when the two cannot be compared (the
    /// buckets differ).
    pub(crate) fn since(&self, older: Option<&Counts>) -> Option<Counts> {
        let Some(o) = older else {
            return Some(self.clone());
        };
        let same_buckets = o.buckets.is_empty()
            || (o.buckets.len() == self.buckets.len()
                && o.buckets.iter().zip(&self.buckets).all(|(a, b)| a.0 == b.0));
        if !same_buckets {
            return None;
        }
        let restarted = self.requests < o.requests
            || self.errors < o.errors
            || o.buckets.iter().zip(&self.buckets).any(|(a, b)| b.1 < a.1);
        if restarted {
            return Some(self.clone());
        }
        let buckets = if o.buckets.is_empty() {
            self.buckets.clone()
        } else {
            self.buckets
                .iter()
                .zip(&o.buckets)
                .map(|((le, n), (_, before))| (*le, n - before))
                .collect()
        };
        Some(Counts {
            requests: self.requests - o.requests,
            errors: self.errors - o.errors,
            buckets,
        })
    }

    /// Adds another endpoint's counts (histograms merged bucket by bucket).
    pub(crate) fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.errors += other.errors;
        for (le, n) in &other.buckets {
            match self.buckets.iter_mut().find(|(b, _)| b == le) {
                Some(b) => b.1 += n,
                None => self.buckets.push((*le, *n)),
            }
        }
        self.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    /// The `q` quantile in seconds, interpolated within its bucket as Prometheus'
    /// `histogram_quantile` does. `None` without observations, or for a histogram that
    /// is not one: fewer than two buckets, `+Inf` not last, counts that are negative
    /// or go down.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let b = &self.buckets;
        let valid = b.len() >= 2
            && b.last().is_some_and(|l| l.0 == f64::INFINITY)
            && b.iter().all(|x| x.1 >= 0.0 && x.1.is_finite())
            && b.windows(2).all(|w| w[0].1 <= w[1].1);
        if !valid {
            return None;
        }
        let total = b.last().map(|l| l.1)?;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for &(le, cum) in b {
            if cum >= rank {
                if le.is_infinite() {
                    // Beyond the largest finite bucket: its bound is all we know.
                    return Some(lower.0);
                }
                let width = cum - lower.1;
                let frac = if width > 0.0 {
                    (rank - lower.1) / width
                } else {
                    1.0
                };
                return Some(lower.0 + (le - lower.0) * frac);
            }
            lower = (le, cum);
        }
        Some(lower.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP sitevault_requests Requests served.
# TYPE sitevault_requests counter
sitevault_requests_total{version="v1",status="2xx"} 90
sitevault_requests_total{version="v1",status="5xx"} 10
sitevault_requests_total{version="v2",status="2xx"} 5
sitevault_requests_total{version="we\"ird",status="2xx"} 1
# TYPE sitevault_request_duration_seconds histogram
sitevault_request_duration_seconds_bucket{le="0.1",version="v1"} 50
sitevault_request_duration_seconds_bucket{le="0.2",version="v1"} 100
sitevault_request_duration_seconds_bucket{le="+Inf",version="v1"} 100
sitevault_request_duration_seconds_sum{version="v1"} 12.5
sitevault_other_total 4
# EOF
"#;

    #[test]
    fn parses_our_families() {
        let s = parse(TEXT).unwrap();
        assert!(s.is_edge);
        let v1 = &s.versions["v1"];
        assert_eq!((v1.requests, v1.errors), (100.0, 10.0));
        assert_eq!(
            v1.buckets,
            vec![(0.1, 50.0), (0.2, 100.0), (f64::INFINITY, 100.0)]
        );
        assert_eq!(s.versions["v2"].requests, 5.0);
        assert!(s.versions.contains_key("we\"ird"));
        // p95: rank 95 of 100 lies in (0.1, 0.2] at 45/50 of the way.
        let p = v1.quantile(0.95).unwrap();
        assert!((p - 0.19).abs() < 1e-9, "{p}");
    }

    #[test]
    fn truncated_lines_are_errors_not_silence() {
        assert!(parse("sitevault_requests_total{version=\"v1\",status=\"5xx\"").is_err());
        assert!(parse("sitevault_requests_total{version=\"v1\"} abc").is_err());
        // Cut at a line boundary: every line parses, but the end marker is missing.
        let cut = &TEXT[..TEXT
            .find("sitevault_requests_total{version=\"v2\"")
            .unwrap()];
        assert!(parse(cut).unwrap_err().contains("EOF"));
        assert!(!parse("other_metric 1\n").unwrap().is_edge);
    }

    #[test]
    fn differences_merge_and_resets() {
        let old = Counts {
            requests: 100.0,
            errors: 1.0,
            buckets: vec![(0.1, 90.0), (f64::INFINITY, 100.0)],
        };
        let new = Counts {
            requests: 150.0,
            errors: 3.0,
            buckets: vec![(0.1, 130.0), (f64::INFINITY, 150.0)],
        };
        let d = new.since(Some(&old)).unwrap();
        assert_eq!((d.requests, d.errors), (50.0, 2.0));
        assert_eq!(d.buckets, vec![(0.1, 40.0), (f64::INFINITY, 50.0)]);
        // Restarted edge: counters went down.
        let restarted = Counts {
            requests: 7.0,
            errors: 0.0,
            buckets: vec![(0.1, 7.0), (f64::INFINITY, 7.0)],
        };
        assert_eq!(restarted.since(Some(&old)).unwrap().requests, 7.0);
        // A restart that served more than before: a bucket went down.
        let more = Counts {
            requests: 1200.0,
            errors: 0.0,
            buckets: vec![(0.1, 10.0), (f64::INFINITY, 1200.0)],
        };
        let old2 = Counts {
            requests: 1000.0,
            errors: 0.0,
            buckets: vec![(0.1, 1000.0), (f64::INFINITY, 1000.0)],
        };
        assert_eq!(more.since(Some(&old2)).unwrap(), more);
        // Other buckets cannot be compared.
        let other = Counts {
            requests: 1.0,
            errors: 0.0,
            buckets: vec![(0.5, 1.0), (f64::INFINITY, 1.0)],
        };
        assert!(other.since(Some(&old2)).is_none());
        // Not a histogram: only +Inf, or counts going down.
        let only_inf = Counts {
            requests: 5.0,
            errors: 0.0,
            buckets: vec![(f64::INFINITY, 5.0)],
        };
        assert_eq!(only_inf.quantile(0.95), None);
        let down = Counts {
            requests: 5.0,
            errors: 0.0,
            buckets: vec![(0.1, 5.0), (f64::INFINITY, 3.0)],
        };
        assert_eq!(down.quantile(0.95), None);
        let mut sum = d.clone();
        sum.add(&restarted);
        assert_eq!(sum.requests, 57.0);
        assert_eq!(sum.buckets, vec![(0.1, 47.0), (f64::INFINITY, 57.0)]);
        // Everything beyond the largest finite bucket: that bound.
        let slow = Counts {
            requests: 5.0,
            errors: 0.0,
            buckets: vec![(0.1, 0.0), (f64::INFINITY, 5.0)],
        };
        assert_eq!(slow.quantile(0.95), Some(0.1));
        assert_eq!(Counts::default().quantile(0.95), None);
    }
}
