// sitevault patch: minify_html_common's whitespace edits (and lower-casing) on text that may
// be borrowed from the page. Each does what the original does to a `Vec<u8>`, byte for byte:
// a trim re-slices a borrowed text, and the others copy it only when they would change it.

use minify_html_common::gen::codepoints::WHITESPACE;
use minify_html_common::whitespace;
use std::borrow::Cow;

pub fn left_trim(val: &mut Cow<'_, [u8]>) {
  let len = val.iter().take_while(|&&c| WHITESPACE[c]).count();
  if len == 0 {
    return;
  }
  match val {
    Cow::Borrowed(s) => *s = &s[len..],
    Cow::Owned(v) => whitespace::left_trim(v),
  }
}

pub fn right_trim(val: &mut Cow<'_, [u8]>) {
  let len = val.iter().rev().take_while(|&&c| WHITESPACE[c]).count();
  if len == 0 {
    return;
  }
  match val {
    Cow::Borrowed(s) => *s = &s[..s.len() - len],
    Cow::Owned(v) => whitespace::right_trim(v),
  }
}

// Changes nothing unless there is a whitespace byte other than a space, or two in a row.
pub fn collapse_whitespace(val: &mut Cow<'_, [u8]>) {
  if let Cow::Borrowed(s) = val {
    let mut prev_ws = false;
    let changes = s.iter().any(|&c| {
      let ws = WHITESPACE[c];
      let change = ws && (prev_ws || c != b' ');
      prev_ws = ws;
      change
    });
    if !changes {
      return;
    }
  }
  whitespace::collapse_whitespace(val.to_mut());
}

pub fn remove_all_whitespace(val: &mut Cow<'_, [u8]>) {
  if val.iter().any(|&c| WHITESPACE[c]) {
    whitespace::remove_all_whitespace(val.to_mut());
  }
}

pub fn make_ascii_lowercase(val: &mut Cow<'_, [u8]>) {
  if val.iter().any(u8::is_ascii_uppercase) {
    val.to_mut().make_ascii_lowercase();
  }
}
