//! The one error type of the library, and the exit code each kind maps to.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, phrased for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input from the user: config, arguments, site sources, dist.
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
    /// The storage backend failed.
    #[error("store: {0}")]
    Store(String),
    /// Someone else changed the channel first; the message says who and what.
    #[error("{0}")]
    Conflict(String),
    /// Something the store holds is not what it should be (corrupt or missing data).
    #[error("{0}")]
    Integrity(String),
}

impl Error {
    /// Shorthand for [`Error::Input`].
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code documented in `sitevault --help`:
    /// 1 error, 3 conflict (the channel changed under you), 4 integrity failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Conflict(_) => 3,
            Error::Integrity(_) => 4,
            _ => 1,
        }
    }
}

impl From<object_store::Error> for Error {
    fn from(e: object_store::Error) -> Self {
        Error::Store(crate::store::describe_error(&e))
    }
}
