// sitevault patch: `decode_entities` borrows exactly when there is no `&`.

use crate::entity::decode::decode_entities;
use std::borrow::Cow;

#[test]
fn test_decode_entities_borrows_without_ampersand() {
  for attr in [false, true] {
    for s in [&b""[..], b"abc", b"a;b#x<>\"' ", "\u{2014}".as_bytes()] {
      let d = decode_entities(s, attr);
      assert!(matches!(d, Cow::Borrowed(_)));
      assert_eq!(&*d, s);
    }
  }
}

#[test]
fn test_decode_entities_decodes_with_ampersand() {
  let cases: &[(&[u8], bool, &[u8])] = &[
    (b"&", false, b"&"),
    (b"a&", false, b"a&"),
    (b"&am", false, b"&am"),
    (b"&amp;", false, b"&"),
    (b"a &lt; b", false, b"a < b"),
    (b"&#60;&#x3C;&#X3c", false, b"<<&#X3c"), // `&#X` is not an entity.
    (b"&ampx", false, b"&x"),
    (b"&ampx", true, b"&ampx"),
    (b"&amp;x", true, b"&x"),
    (b"&#;", false, b"&#;"),
  ];
  for &(s, attr, expected) in cases {
    let d = decode_entities(s, attr);
    assert!(matches!(d, Cow::Owned(_)));
    assert_eq!(&*d, expected, "{:?}", std::str::from_utf8(s));
  }
}
