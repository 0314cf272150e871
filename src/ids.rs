//! Validation of version ids, channel names and approval roles, done before any I/O.

use crate::error::{Error, Result};

/// Checks a version id against `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
///
/// ```
/// assert!(sitevault::ids::check_version("v1.4.0").is_ok());
/// assert!(sitevault::ids::check_version("../x").is_err());
/// ```
pub fn check_version(v: &str) -> Result<()> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.as_bytes()[0].is_ascii_alphanumeric()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "invalid version id {v:?}: use 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit (e.g. v1.4.0)"
        )))
    }
}

/// Checks a channel name against `[a-z0-9][a-z0-9-]{0,31}`.
pub fn check_channel(c: &str) -> Result<()> {
    let ok = !c.is_empty()
        && c.len() <= 32
        && (c.as_bytes()[0].is_ascii_lowercase() || c.as_bytes()[0].is_ascii_digit())
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "invalid channel name {c:?}: use 1-32 characters from a-z 0-9 -, starting with a letter or digit (e.g. production)"
        )))
    }
}

/// Checks a region name: the same rule as channel names (it appears in paths and
/// in output), e.g. `eu`, `us-east`.
pub fn check_region(r: &str) -> Result<()> {
    check_channel(r).map_err(|_| {
        Error::input(format!(
            "invalid region name {r:?}: use 1-32 characters from a-z 0-9 -, starting with a letter or digit (e.g. eu, us-east)"
        ))
    })
}

/// Checks an approval role name against `[A-Za-z0-9_-]{1,64}` (e.g. `qa`, `lead`).
pub fn check_role(r: &str) -> Result<()> {
    let ok = !r.is_empty()
        && r.len() <= 64
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "invalid role {r:?}: use 1-64 characters from A-Z a-z 0-9 _ - (e.g. qa, lead)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["v1", "1.2.3", "a_b-c.d", &"x".repeat(64)] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x", ".x", "-x", "a b", &"x".repeat(65), "v1/2", "é"] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn channels() {
        for ok in ["production", "staging", "pr-12", "0"] {
            assert!(check_channel(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Prod", "-x", "a_b", &"x".repeat(33), "a.b"] {
            assert!(check_channel(bad).is_err(), "{bad}");
        }
    }
}
