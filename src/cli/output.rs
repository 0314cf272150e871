//! Everything the command line prints, and how: results on stdout (text or JSON),
//! messages and progress bars on stderr.
//!
//! Nothing here panics on a closed or full stdout: the first write error is kept,
//! later output is skipped, and `cli::finish` decides the exit code from it (a broken
//! pipe ends quietly; any other error is reported without hiding a change that was made).

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use sitevault::report::{self, Reporter, Task, Unit};

/// How results are printed, and the first error met writing them.
#[derive(Debug, Clone)]
pub(crate) struct Out {
    /// JSON on stdout.
    pub json: bool,
    /// Errors only.
    pub quiet: bool,
    /// More detail.
    pub verbose: bool,
    failed: Arc<Mutex<Option<std::io::Error>>>,
    /// `[eu] `: the region every line of this output is about.
    prefix: Option<Arc<str>>,
    /// With regions, JSON values are collected here and printed once, by region.
    captured: Option<Arc<Mutex<Vec<serde_json::Value>>>>,
}

impl Out {
    pub fn new(json: bool, quiet: bool, verbose: bool) -> Self {
        Out {
            json,
            quiet,
            verbose,
            failed: Arc::default(),
            prefix: None,
            captured: None,
        }
    }

    /// The output of one region's part of a command: lines start with `[name] `,
    /// JSON values are kept for the combined report, no progress bars.
    pub fn for_region(&self, name: &str) -> Out {
        Out {
            prefix: Some(format!("[{name}] ").into()),
            captured: Some(Arc::default()),
            ..self.clone()
        }
    }

    /// The JSON values this region's output collected.
    pub fn take_captured(&self) -> Vec<serde_json::Value> {
        match &self.captured {
            Some(c) => match c.lock() {
                Ok(mut v) => std::mem::take(&mut *v),
                Err(p) => std::mem::take(&mut *p.into_inner()),
            },
            None => Vec::new(),
        }
    }

    fn progress(&self) -> bool {
        !self.quiet && !self.json && self.prefix.is_none() && std::io::stderr().is_terminal()
    }

    /// The library's reporter for this output: progress bars on a terminal, warnings
    /// and logged errors on stderr unless `-q`.
    pub fn reporter(&self) -> report::Handle {
        report::Handle::new(CliReporter {
            progress: self.progress(),
            quiet: self.quiet,
            prefix: self.prefix.clone(),
        })
    }

    /// Writes `text` and a newline to stdout, whatever the settings; after a failed
    /// write, nothing more is written.
    pub fn print(&self, text: &str) {
        let mut failed = match self.failed.lock() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        if failed.is_some() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
            *failed = Some(e);
        }
    }

    /// A value as pretty JSON on stdout.
    pub fn json_value(&self, v: &impl serde::Serialize) {
        if let Some(c) = &self.captured {
            match (serde_json::to_value(v), c.lock()) {
                (Ok(v), Ok(mut c)) => c.push(v),
                (Err(e), _) => {
                    stderr_line(&format!("error: cannot render the result as JSON: {e}"))
                }
                (Ok(v), Err(p)) => p.into_inner().push(v),
            }
            return;
        }
        match serde_json::to_string_pretty(v) {
            Ok(s) => self.print(&s),
            Err(e) => stderr_line(&format!("error: cannot render the result as JSON: {e}")),
        }
    }

    /// A line of the text result (not with `-q` or `--json`).
    /// Text for people: control characters in `s` (other than line breaks we put
    /// there) are shown escaped, so stored text can never forge lines or colours.
    pub fn line(&self, s: &str) {
        if !self.quiet && !self.json {
            let text = escape_controls(s, true);
            match &self.prefix {
                Some(p) => self.print(&prefixed(p, &text)),
                None => self.print(&text),
            }
        }
    }

    /// `warning: …` on stderr unless `-q`.
    pub fn warn(&self, s: &str) {
        if !self.quiet {
            stderr_line(&format!("warning: {}{s}", self.prefix()));
        }
    }

    /// `[eu] ` for a region's output, else nothing.
    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("")
    }

    /// The first error met writing to stdout, if any.
    pub fn write_error(&self) -> Option<std::io::Error> {
        match self.failed.lock() {
            Ok(mut f) => f.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

/// A line on stderr. Errors are ignored: there is nowhere left to report them.
pub(crate) fn stderr_line(s: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{s}");
}

/// Every line of `text` after `prefix`.
fn prefixed(prefix: &str, text: &str) -> String {
    text.split('\n')
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Progress bars and messages on stderr, as `-q`/`--json` allow.
struct CliReporter {
    progress: bool,
    quiet: bool,
    prefix: Option<Arc<str>>,
}

impl CliReporter {
    fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("")
    }
}

struct Bar(indicatif::ProgressBar);

impl Task for Bar {
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn stage(&self, name: &str) {
        self.0.set_message(name.to_string());
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Reporter for CliReporter {
    fn task(&self, label: &str, total: u64, unit: Unit) -> Box<dyn Task> {
        if !self.progress {
            return Box::new(report::Silent);
        }
        let template = match unit {
            Unit::Bytes => "{spinner} {msg:14} [{bar:30}] {bytes}/{total_bytes}",
            Unit::Items => "{spinner} {msg:14} [{bar:30}] {pos}/{len}",
        };
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_message(label.to_string());
        Box::new(Bar(pb))
    }
    fn info(&self, message: &str) {
        if !self.quiet {
            // It may quote a metric source's answer: no control characters reach the terminal.
            stderr_line(&format!(
                "{}{}",
                self.prefix(),
                escape_controls(message, false)
            ));
        }
    }
    fn warn(&self, message: &str) {
        if !self.quiet {
            stderr_line(&format!("warning: {}{message}", self.prefix()));
        }
    }
    fn error(&self, message: &str) {
        stderr_line(&format!("error: {}{message}", self.prefix()));
    }
}

/// `1.2 MB`-style sizes.
pub(crate) fn human_bytes(n: u64) -> String {
    const U: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < U.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

/// Escapes control characters (`\u{1b}`, `\r`, …); line breaks too unless `keep_lines`.
pub(crate) fn escape_controls(s: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    if !s
        .chars()
        .any(|c| c.is_control() && !(keep_lines && c == '\n'))
    {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() && !(keep_lines && c == '\n') {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}
