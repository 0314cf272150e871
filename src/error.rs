//! The one error type of the library, and the one place that maps each kind to
//! the process exit code.
//!
//! Callers match on the kind, never on message text: a store failure keeps
//! object_store's typed error ([`Error::store_error`]), so "not found", "already
//! exists" and "permission denied" stay distinguishable from each other.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, phrased for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument value or option combination that cannot be right (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Bad input from the user: config, site sources, dist, store contents they named.
    #[error("{0}")]
    Input(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The storage backend failed; `source` is object_store's typed error.
    #[error("store: {}", describe_store_error(.source, .context))]
    Store {
        /// What was being done (a URL or key), for people.
        context: String,
        /// What object_store said.
        #[source]
        source: object_store::Error,
    },
    /// Someone else changed the channel first; the message says who and what.
    #[error("{0}")]
    Conflict(String),
    /// A rollout gate holds: an approval is missing (exit 5). The message names who
    /// must approve.
    #[error("{0}")]
    Held(String),
    /// Something the store holds is not what it should be (corrupt or missing data).
    #[error("{0}")]
    Integrity(String),
    /// A state sitevault should never reach: a bug, reported as such.
    #[error("internal error (please report it): {0}")]
    Internal(String),
}

/// Exit codes of the `sitevault` binary, in one table.
pub mod exit {
    /// The work was done.
    pub const OK: i32 = 0;
    /// An error; nothing more specific applies.
    pub const ERROR: i32 = 1;
    /// Invalid arguments or option values.
    pub const USAGE: i32 = 2;
    /// The channel changed under you: re-read and decide again.
    pub const CONFLICT: i32 = 3;
    /// Missing or corrupt data in the store, or a broken hash chain.
    pub const INTEGRITY: i32 = 4;
    /// A rollout is held at a gate: a verdict that is not yet a pass, or a missing
    /// approval (`rollout --auto --once`/`--max-wait`, `--advance`, `--promote`).
    pub const HELD: i32 = 5;
    /// `rollout --auto` rolled the canary back because its health gate failed.
    pub const ROLLED_BACK: i32 = 6;
    /// With regions: some regions did it, others failed or disagree (they are named);
    /// `sitevault sync CHANNEL` brings them together.
    pub const PARTIAL: i32 = 7;
}

impl Error {
    /// Shorthand for [`Error::Input`].
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    /// Shorthand for [`Error::Usage`].
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a store error with what was being done.
    pub fn store(context: impl Into<String>, source: object_store::Error) -> Self {
        Error::Store {
            context: context.into(),
            source,
        }
    }

    /// object_store's error, when the store failed.
    pub fn store_error(&self) -> Option<&object_store::Error> {
        match self {
            Error::Store { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The same error, its message led by `prefix` (what had already happened), its
    /// kind — and so its exit code — kept.
    pub fn after(self, prefix: &str) -> Self {
        match self {
            Error::Usage(m) => Error::Usage(format!("{prefix}{m}")),
            Error::Input(m) => Error::Input(format!("{prefix}{m}")),
            Error::Conflict(m) => Error::Conflict(format!("{prefix}{m}")),
            Error::Held(m) => Error::Held(format!("{prefix}{m}")),
            Error::Integrity(m) => Error::Integrity(format!("{prefix}{m}")),
            Error::Internal(m) => Error::Internal(format!("{prefix}{m}")),
            Error::Store { context, source } => Error::Store {
                context: format!("{prefix}{context}"),
                source,
            },
            e @ Error::Io { .. } => Error::Input(format!("{prefix}{e}")),
        }
    }

    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Conflict(_) => exit::CONFLICT,
            Error::Held(_) => exit::HELD,
            Error::Integrity(_) => exit::INTEGRITY,
            Error::Input(_) | Error::Io { .. } | Error::Store { .. } | Error::Internal(_) => {
                exit::ERROR
            }
        }
    }
}

impl From<object_store::Error> for Error {
    fn from(e: object_store::Error) -> Self {
        Error::store(String::new(), e)
    }
}

/// Describes an object_store error for people, with a hint where one helps.
/// Used for display only: decisions match on the error's kind.
fn describe_store_error(e: &object_store::Error, context: &str) -> String {
    use object_store::Error as E;
    let mut s = if context.is_empty() {
        e.to_string()
    } else {
        format!("{context}: {e}")
    };
    // The causes object_store does not print itself ("error sending request" says
    // nothing; "invalid peer certificate: UnknownIssuer" under it does).
    append_causes(&mut s, e);
    if let Some(hint) = crate::store::tls::certificate_hint(e) {
        return format!("{s} ({hint})");
    }
    match e {
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
            format!("{s} (check the AWS_* / GOOGLE_* / AZURE_* credentials in the environment)")
        }
        E::Generic { .. } => {
            let lower = s.to_ascii_lowercase();
            if ["connect", "timed out", "dns"]
                .iter()
                .any(|w| lower.contains(w))
            {
                format!(
                    "{s} (is the storage server reachable? check [store] endpoint / AWS_ENDPOINT)"
                )
            } else {
                s
            }
        }
        _ => s,
    }
}

/// Appends to `s` each cause under `e` whose text `s` does not hold already.
pub(crate) fn append_causes(s: &mut String, e: &(dyn std::error::Error + 'static)) {
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cause = c.source();
    }
}

/// An HTTP client's error with its causes, and what to do about a refused certificate.
pub(crate) fn describe_http(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    append_causes(&mut s, e);
    match crate::store::tls::certificate_hint(e) {
        Some(hint) => format!("{s} ({hint})"),
        None => s,
    }
}
