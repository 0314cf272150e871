//! The one clock of the tool. `SITEVAULT_NOW` (RFC 3339) overrides it, so tests and
//! drills can run "in the future" (retention) and produce stable timestamps.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Error, Result};

/// Environment variable that fixes the current time (RFC 3339).
pub const NOW_ENV: &str = "SITEVAULT_NOW";

/// The current time, or `SITEVAULT_NOW` when it is set.
///
/// An invalid `SITEVAULT_NOW` cannot be reported from here: call [`check_env`] first
/// (the `sitevault` binary does, before any command), which refuses it.
pub fn now() -> DateTime<Utc> {
    match from_env() {
        Ok(Some(t)) => t,
        _ => Utc::now(),
    }
}

/// Checks `SITEVAULT_NOW`: unset or empty is the real clock; anything else must be an
/// RFC 3339 time. An invalid value is a usage error that names the variable.
///
/// ```
/// assert!(sitevault::clock::check_env().is_ok());
/// ```
pub fn check_env() -> Result<()> {
    from_env().map(|_| ())
}

/// `SITEVAULT_NOW`, parsed: `None` when unset or empty.
fn from_env() -> Result<Option<DateTime<Utc>>> {
    match std::env::var(NOW_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(Error::usage(format!(
            "{NOW_ENV}={v:?} is not an RFC 3339 time (e.g. 2026-11-26T10:00:00Z): fix it or unset it"
        ))),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => DateTime::parse_from_rfc3339(v.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                Error::usage(format!(
                    "{NOW_ENV}={v:?} is not an RFC 3339 time ({e}; e.g. 2026-11-26T10:00:00Z): fix it or unset it"
                ))
            }),
    }
}

/// Formats a time the way every JSON document of the store does: RFC 3339, seconds, `Z`.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// [`now`] formatted with [`format()`].
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
