//! How the library tells its caller what is happening, without printing.
//!
//! Long operations (build, publish, archive) and long-running ones (serve) take a
//! [`Reporter`]. The command-line layer implements it with progress bars and
//! messages on stderr that honour `-q` and `--json`; a program embedding the
//! library can log, count, or ignore ([`Silent`], the default).
//!
//! ```
//! use sitevault::report::{Handle, Silent, Unit};
//! let r = Handle::new(Silent);
//! let task = r.task("uploading", 10, Unit::Bytes);
//! task.inc(10);
//! task.finish();
//! ```

use std::sync::Arc;

/// What a task's counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Files, blobs or other items.
    Items,
    /// Bytes.
    Bytes,
}

/// One long task in progress (a progress bar in the CLI).
pub trait Task: Send + Sync {
    /// `n` more units done.
    fn inc(&self, n: u64);
    /// The task moved to another stage (e.g. "minifying").
    fn stage(&self, _name: &str) {}
    /// The task is over; hide its bar.
    fn finish(&self) {}
}

/// The caller's side: where progress, warnings and logged errors go.
pub trait Reporter: Send + Sync {
    /// A task of `total` units starts.
    fn task(&self, _label: &str, _total: u64, _unit: Unit) -> Box<dyn Task> {
        Box::new(Silent)
    }
    /// Progress of long-running work in one line (e.g. each verdict of `rollout --auto`).
    fn info(&self, _message: &str) {}
    /// Something the user should know that does not stop the work.
    fn warn(&self, _message: &str) {}
    /// A failure that a long-running operation (serve) survives: logged, not returned.
    fn error(&self, _message: &str) {}
}

/// A reporter that reports nothing: the default for library callers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Task for Silent {
    fn inc(&self, _n: u64) {}
}

impl Reporter for Silent {}

/// A shareable reporter, as options structs hold it: `Clone`, `Debug`, and
/// [`Silent`] by default.
#[derive(Clone)]
pub struct Handle(pub Arc<dyn Reporter>);

impl Handle {
    /// Wraps a reporter.
    pub fn new(r: impl Reporter + 'static) -> Self {
        Handle(Arc::new(r))
    }
}

impl Default for Handle {
    fn default() -> Self {
        Handle(Arc::new(Silent))
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("report::Handle")
    }
}

impl std::ops::Deref for Handle {
    type Target = dyn Reporter;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}
