use crate::cfg::Cfg;
use minify_html_common::whitespace::trimmed;

/// Represents the mode in which JavaScript should be parsed and minified
#[derive(Debug, Clone, Copy)]
pub enum TopLevelMode {
  /// Parse as a global script
  Global,
  /// Parse as an ES module
  Module,
}

// sitevault patch: no JS minifier here (sitevault minifies JS itself, before this crate
// runs; `Cfg::minify_js` is ignored), so oxc is not a dependency.
pub fn minify_js(_cfg: &Cfg, _mode: TopLevelMode, out: &mut Vec<u8>, code: &[u8]) {
  out.extend_from_slice(trimmed(code));
}
