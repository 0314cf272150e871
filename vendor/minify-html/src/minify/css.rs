use crate::cfg::Cfg;
use minify_html_common::whitespace::trimmed;

// sitevault patch: no CSS minifier here (sitevault minifies CSS itself, before this
// crate runs; `Cfg::minify_css` is ignored), so lightningcss is not a dependency.
pub fn minify_css(_cfg: &Cfg, out: &mut Vec<u8>, code: &[u8]) {
  out.extend_from_slice(trimmed(code));
}
