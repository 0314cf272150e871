use aho_corasick::AhoCorasick;
use aho_corasick::AhoCorasickBuilder;
use aho_corasick::MatchKind;
use memchr::memchr;
use minify_html_common::gen::codepoints::ALPHANUMERIC_OR_EQUALS;
use minify_html_common::gen::entities::EntityType;
use minify_html_common::gen::entities::ENTITY;
use minify_html_common::gen::entities::SHORTER_ENCODED_ENTITIES_DECODED;
use minify_html_common::gen::entities::SHORTER_ENCODED_ENTITIES_ENCODED;
use minify_html_common::pattern::TrieNodeMatch;
use once_cell::sync::Lazy;

static SHORTER_ENCODED_ENTITIES_ENCODED_SEARCHER: Lazy<AhoCorasick> = Lazy::new(|| {
  AhoCorasickBuilder::new()
    .match_kind(MatchKind::LeftmostLongest)
    .build(SHORTER_ENCODED_ENTITIES_DECODED)
    .unwrap()
});

// sitevault patch: whether every sequence the searcher looks for starts with 0xE2.
static SHORTER_START_E2: Lazy<bool> = Lazy::new(|| {
  SHORTER_ENCODED_ENTITIES_DECODED
    .iter()
    .all(|p| p.first() == Some(&0xE2))
});

// sitevault patch 7: whether `encode_entities` returns `code` as it is, whatever its flags:
// it changes only an `&` and sequences that start with 0xE2 (when all do).
// sitevault patch 16: and a CR (written `&#13;`).
pub fn encodes_as_is(code: &[u8]) -> bool {
  *SHORTER_START_E2 && memchr::memchr3(b'&', 0xE2, b'\r', code).is_none()
}

// Encodes ampersands when necessary, as well as UTF-8 sequences that are shorter encoded.
// Does not handle context-specific escaping e.g. `>`, `'`, `"`.
// Set {@param must_end_with_semicolon} to true to pass validation.
pub fn encode_entities(code: &[u8], in_attr_val: bool, must_end_with_semicolon: bool) -> Vec<u8> {
  let mut res = Vec::<u8>::with_capacity(code.len());
  encode_entities_into(&mut res, code, in_attr_val, must_end_with_semicolon);
  res
}

// sitevault patch: `encode_entities` appending to `res` (text nodes are written straight
// to the output instead of through a copy of their own).
pub fn encode_entities_into(
  res: &mut Vec<u8>,
  mut code: &[u8],
  in_attr_val: bool,
  must_end_with_semicolon: bool,
) {
  let start = res.len();
  while !code.is_empty() {
    // sitevault patch 16: a CR in decoded text came from a reference (`lib.rs`,
    // `normalize_newlines`): written raw, browsers would read a line feed.
    let (before, matched) = match memchr::memchr2(b'&', b'\r', code) {
      None => (code.len(), false),
      Some(n) => (n, true),
    };
    res.extend_from_slice(&code[..before]);
    code = &code[before..];
    if matched && code[0] == b'\r' {
      res.extend_from_slice(b"&#13;");
      code = &code[1..];
    } else if matched {
      let (start, end) = match ENTITY.longest_matching_prefix(code) {
        // Entity is malformed, so we can just ignore it.
        TrieNodeMatch::NotFound { reached } => (0, reached),
        TrieNodeMatch::Found { len, value } => (
          match value {
            EntityType::Named(_)
              if in_attr_val
                && code[len - 1] != b';'
                && code.get(len).is_some_and(|&c| ALPHANUMERIC_OR_EQUALS[c]) =>
            {
              // A named entity inside an attribute value that doesn't end with semicolon but is followed by an alphanumeric or `=` character is not decoded, so we don't need to encode.
              // https://html.spec.whatwg.org/multipage/parsing.html#named-character-reference-state.
              0
            }
            _ => {
              if must_end_with_semicolon {
                res.extend_from_slice(b"&amp;");
              } else {
                res.extend_from_slice(b"&amp");
              };
              // Skip the leading ampersand, as it will be replaced by `&amp`.
              1
            }
          },
          len,
        ),
      };
      res.extend_from_slice(&code[start..end]);
      code = &code[end..];
    };
  }
  // sitevault patch: every sequence that is shorter encoded starts with the byte 0xE2
  // (checked once, below); text without one has nothing to replace, and is not copied.
  if *SHORTER_START_E2 && memchr(0xE2, &res[start..]).is_none() {
    return;
  }
  let replaced = SHORTER_ENCODED_ENTITIES_ENCODED_SEARCHER
    .replace_all_bytes(&res[start..], SHORTER_ENCODED_ENTITIES_ENCODED);
  res.truncate(start);
  res.extend_from_slice(&replaced);
}
