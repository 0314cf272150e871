// sitevault patch: the `Cow` whitespace edits (`src/minify/whitespace.rs`) against
// minify_html_common's, on every string of up to 6 bytes over whitespace and letters, borrowed
// and owned; a borrowed string the original would not change stays borrowed.

use crate::minify::whitespace;
use minify_html_common::whitespace as common;
use std::borrow::Cow;

const ALPHABET: &[u8] = b" \t\n\r\x0c\x0baB";

fn all_strings(max_len: usize) -> Vec<Vec<u8>> {
  let mut out = vec![Vec::new()];
  let mut last = vec![Vec::new()];
  for _ in 0..max_len {
    let mut next = Vec::new();
    for s in &last {
      for &c in ALPHABET {
        let mut t = s.clone();
        t.push(c);
        next.push(t);
      }
    }
    out.extend(next.iter().cloned());
    last = next;
  }
  out
}

fn check(edit: fn(&mut Cow<'_, [u8]>), original: fn(&mut Vec<u8>)) {
  for s in all_strings(6) {
    let mut expected = s.clone();
    original(&mut expected);

    let mut borrowed = Cow::Borrowed(s.as_slice());
    edit(&mut borrowed);
    assert_eq!(&*borrowed, expected.as_slice(), "{:?}", s);
    if expected == s {
      assert!(
        matches!(borrowed, Cow::Borrowed(_)),
        "copied unchanged {:?}",
        s
      );
    }

    let mut owned: Cow<'_, [u8]> = Cow::Owned(s.clone());
    edit(&mut owned);
    assert_eq!(&*owned, expected.as_slice(), "{:?}", s);
  }
}

#[test]
fn test_left_trim() {
  check(whitespace::left_trim, common::left_trim);
}

#[test]
fn test_right_trim() {
  check(whitespace::right_trim, common::right_trim);
}

#[test]
fn test_collapse_whitespace() {
  check(whitespace::collapse_whitespace, common::collapse_whitespace);
}

#[test]
fn test_remove_all_whitespace() {
  check(
    whitespace::remove_all_whitespace,
    common::remove_all_whitespace,
  );
}

#[test]
fn test_make_ascii_lowercase() {
  check(whitespace::make_ascii_lowercase, |v| {
    v.make_ascii_lowercase()
  });
}
