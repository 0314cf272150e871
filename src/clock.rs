//! The one clock of the tool. `SITEVAULT_NOW` (RFC 3339) overrides it, so tests and
//! drills can run "in the future" (retention) and produce stable timestamps.

use chrono::{DateTime, SecondsFormat, Utc};

/// Environment variable that fixes the current time (RFC 3339).
pub const NOW_ENV: &str = "SITEVAULT_NOW";

/// The current time, or `SITEVAULT_NOW` when it is set and valid.
pub fn now() -> DateTime<Utc> {
    if let Ok(v) = std::env::var(NOW_ENV) {
        if let Ok(t) = DateTime::parse_from_rfc3339(v.trim()) {
            return t.with_timezone(&Utc);
        }
    }
    Utc::now()
}

/// Formats a time the way every JSON document of the store does: RFC 3339, seconds, `Z`.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// [`now`] formatted with [`format`].
pub fn now_string() -> String {
    format(now())
}

/// Who is acting: `--actor`, else `SITEVAULT_ACTOR`, else `user@host`.
pub fn actor(explicit: Option<&str>) -> String {
    if let Some(a) = explicit.filter(|a| !a.is_empty()) {
        return a.to_string();
    }
    if let Ok(a) = std::env::var("SITEVAULT_ACTOR") {
        if !a.is_empty() {
            return a;
        }
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}
