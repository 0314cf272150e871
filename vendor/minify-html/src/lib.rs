#![deny(unsafe_code)]

use crate::ast::c14n::c14n_serialise_ast;
pub use crate::cfg::Cfg;
use crate::minify::content::minify_content;
use crate::minify::quirks::quirks;
use crate::parse::content::parse_content;
use crate::parse::Code;
use minify_html_common::spec::tag::ns::Namespace;
use minify_html_common::spec::tag::EMPTY_SLICE;
use parse::ParseOpts;
use std::io::Write;

mod ast;
mod cfg;
mod entity;
mod minify;
mod parse;
mod tag;
#[cfg(test)]
mod tests;

/// Minifies UTF-8 HTML code, represented as an array of bytes.
///
/// # Arguments
///
/// * `code` - A slice of bytes representing the source code to minify.
/// * `cfg` - Configuration object to adjust minification approach.
///
/// # Examples
///
/// ```
/// use minify_html::{Cfg, minify};
///
/// let mut code: &[u8] = b"<p>  Hello, world!  </p>";
/// let mut cfg = Cfg::new();
/// cfg.keep_comments = true;
/// let minified = minify(&code, &cfg);
/// assert_eq!(minified, b"<p>Hello, world!".to_vec());
/// ```
pub fn minify(src: &[u8], cfg: &Cfg) -> Vec<u8> {
  // sitevault patch 16: line breaks read as browsers read them (`normalize_newlines`).
  let normalized;
  let src = if memchr::memchr(b'\r', src).is_some() {
    normalized = normalize_newlines(src);
    &normalized[..]
  } else {
    src
  };
  let mut code = Code::new_with_opts(src, ParseOpts {
    treat_brace_as_opaque: cfg.preserve_brace_template_syntax,
    treat_chevron_percent_as_opaque: cfg.preserve_chevron_percent_template_syntax,
  });
  let parsed = parse_content(&mut code, Namespace::Html, EMPTY_SLICE, EMPTY_SLICE);
  let mut out = Vec::with_capacity(src.len());
  // sitevault patch 15.
  let quirks = quirks(&parsed.children);
  minify_content(
    cfg,
    &mut out,
    quirks,
    Namespace::Html,
    false,
    EMPTY_SLICE,
    parsed.children,
  );
  out.shrink_to_fit();
  out
}

// sitevault patch 16: browsers replace each CR LF pair and each lone CR of a page with an LF
// before they tokenize it (the input stream's preprocessing), so a CR the text holds after
// decoding comes from a reference (`&#13;`), which the encoder writes as one again. Without
// this, `<textarea>a&#13;\r\nb` was written `a\r\r\nb` (read as two line breaks where the page
// had a CR and one), and `title="a&#13;b"` with a raw CR (read as a line break).
fn normalize_newlines(src: &[u8]) -> Vec<u8> {
  let mut out = Vec::with_capacity(src.len());
  let mut rest = src;
  while let Some(at) = memchr::memchr(b'\r', rest) {
    out.extend_from_slice(&rest[..at]);
    out.push(b'\n');
    rest = &rest[at + 1..];
    if rest.first() == Some(&b'\n') {
      rest = &rest[1..];
    }
  }
  out.extend_from_slice(rest);
  out
}

pub fn canonicalise<T: Write>(out: &mut T, src: &[u8]) -> std::io::Result<()> {
  let mut code = Code::new(src);
  let parsed = parse_content(&mut code, Namespace::Html, EMPTY_SLICE, EMPTY_SLICE);
  for c in parsed.children {
    c14n_serialise_ast(out, &c)?;
  }
  Ok(())
}
