use aho_corasick::AhoCorasick;
use aho_corasick::AhoCorasickBuilder;
use once_cell::sync::Lazy;

pub static TAG_TEXTAREA_END: Lazy<AhoCorasick> = Lazy::new(|| {
  AhoCorasickBuilder::new()
    .ascii_case_insensitive(true)
    .build(["</textarea"])
    .unwrap()
});

pub static TAG_TITLE_END: Lazy<AhoCorasick> = Lazy::new(|| {
  AhoCorasickBuilder::new()
    .ascii_case_insensitive(true)
    .build(["</title"])
    .unwrap()
});

// sitevault patch 14: where the content of a raw text or RCDATA element ends, as the HTML
// tokenizer ends it: at `</` and the element's name (any case) followed by whitespace, `/` or
// `>` (an "appropriate end tag"). The original ended it at the first `</name`, so
// `<title>a</titlex>b</title>` lost `b` from the title and a script with `"</scripts>"` in a
// string was cut there.
fn ends_name(s: &[u8], at: usize, name: &[u8]) -> bool {
  s.get(at..at + 2) == Some(b"</")
    && s
      .get(at + 2..at + 2 + name.len())
      .is_some_and(|n| n.eq_ignore_ascii_case(name))
    && matches!(
      s.get(at + 2 + name.len()),
      Some(b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'/' | b'>')
    )
}

/// Where the content of a `<title>`, `<textarea>` or `<style>` (`name`) that starts `s` ends:
/// the position of its end tag.
pub fn text_end(s: &[u8], name: &[u8]) -> Option<usize> {
  let mut from = 0;
  while let Some(p) = memchr::memmem::find(&s[from..], b"</") {
    let at = from + p;
    if ends_name(s, at, name) {
      return Some(at);
    }
    from = at + 1;
  }
  None
}

/// Where the content of a `<script>` that starts `s` ends. Besides the end tag's form
/// (`text_end`), the tokenizer's escaped states: after `<!--`, a `<script` starts a part where
/// `</script>` does not end the script (old pages wrap `document.write("<script …></script>")`
/// in `<!-- -->`), until that `</script>` or a `-->`.
pub fn script_end(s: &[u8]) -> Option<usize> {
  #[derive(Copy, Clone, PartialEq)]
  enum State {
    Data,
    Escaped,
    DoubleEscaped,
  }
  let mut state = State::Data;
  let mut from = 0;
  while let Some(p) = memchr::memchr2(b'<', b'-', &s[from..]) {
    let at = from + p;
    let rest = &s[at..];
    from = at + 1;
    match state {
      State::Data => {
        if rest.starts_with(b"<!--") {
          // `<!-->` and `<!--->` end where they start.
          let dashes = rest[4..].iter().take_while(|&&c| c == b'-').count();
          from = at + 4 + dashes;
          if s.get(from) != Some(&b'>') {
            state = State::Escaped;
          }
        } else if ends_name(s, at, b"script") {
          return Some(at);
        }
      }
      State::Escaped => {
        if rest.starts_with(b"-->") {
          state = State::Data;
        } else if ends_name(s, at, b"script") {
          return Some(at);
        } else if rest.len() > 7
          && rest[0] == b'<'
          && rest[1..7].eq_ignore_ascii_case(b"script")
          && matches!(
            rest[7],
            b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'/' | b'>'
          )
        {
          state = State::DoubleEscaped;
        }
      }
      State::DoubleEscaped => {
        if rest.starts_with(b"-->") {
          state = State::Data;
        } else if ends_name(s, at, b"script") {
          state = State::Escaped;
        }
      }
    }
  }
  None
}

// sitevault patch 22: the omission rules are asked for every start tag (whether its parent
// ends before it) and every element written. minify-html-common answers with hash lookups
// of the names; these matches give the same answers (its rules, from the spec's "optional
// tags", copied here; the test below compares the two).

/// Whether `before`'s end tag may be left out when an element named `after` follows it.
pub fn can_omit_as_before(before: &[u8], after: &[u8]) -> bool {
  match before {
    b"head" => after == b"body",
    b"li" => after == b"li",
    b"dt" | b"dd" => matches!(after, b"dt" | b"dd"),
    b"p" => matches!(
      after,
      b"address"
        | b"article"
        | b"aside"
        | b"blockquote"
        | b"details"
        | b"div"
        | b"dl"
        | b"fieldset"
        | b"figcaption"
        | b"figure"
        | b"footer"
        | b"form"
        | b"h1"
        | b"h2"
        | b"h3"
        | b"h4"
        | b"h5"
        | b"h6"
        | b"header"
        | b"hgroup"
        | b"hr"
        | b"main"
        | b"menu"
        | b"nav"
        | b"ol"
        | b"p"
        | b"pre"
        | b"section"
        | b"table"
        | b"ul"
    ),
    b"rt" | b"rp" => matches!(after, b"rt" | b"rp"),
    b"optgroup" => after == b"optgroup",
    b"option" => matches!(after, b"option" | b"optgroup"),
    b"thead" | b"tbody" => matches!(after, b"tbody" | b"tfoot"),
    b"tr" => after == b"tr",
    b"td" | b"th" => matches!(after, b"td" | b"th"),
    _ => false,
  }
}

/// Whether `child`'s end tag may be left out when it is the last node of `parent`.
pub fn can_omit_as_last_node(parent: &[u8], child: &[u8]) -> bool {
  match child {
    b"html" | b"head" | b"body" | b"li" | b"dd" | b"rt" | b"rp" | b"optgroup" | b"option"
    | b"tbody" | b"tfoot" | b"tr" | b"td" | b"th" => true,
    b"p" => !matches!(
      parent,
      b"a" | b"audio" | b"del" | b"ins" | b"map" | b"noscript" | b"video"
    ),
    _ => false,
  }
}

/// Whether `name` is a void element (`minify_html_common`'s `VOID_TAGS`), by a match
/// instead of a hash lookup: asked for every element parsed (patch 22).
pub fn is_void(name: &[u8]) -> bool {
  matches!(
    name,
    b"area"
      | b"base"
      | b"br"
      | b"col"
      | b"embed"
      | b"hr"
      | b"img"
      | b"input"
      | b"keygen"
      | b"link"
      | b"meta"
      | b"param"
      | b"source"
      | b"track"
      | b"wbr"
  )
}

#[cfg(test)]
mod tests {
  /// Every rule's element, every void element, and others, answer as `minify_html_common`
  /// does.
  #[test]
  fn omission_answers_as_the_common_crate() {
    use minify_html_common::spec::tag::omission as common;
    let names: &[&[u8]] = &[
      b"", b"html", b"head", b"body", b"li", b"dt", b"dd", b"p", b"rt", b"rp", b"optgroup",
      b"option", b"thead", b"tbody", b"tfoot", b"tr", b"td", b"th", b"div", b"span", b"a",
      b"ul", b"ol", b"dl", b"table", b"ruby", b"select", b"datalist", b"address", b"h1",
      b"pre", b"P", b"LI", b"tr ", b"template", b"script", b"area", b"base", b"br", b"col",
      b"embed", b"hr", b"img", b"input", b"keygen", b"link", b"meta", b"param", b"source",
      b"track", b"wbr", b"BR", b"image", b"frame", b"basefont", b"article", b"aside",
      b"blockquote", b"details", b"fieldset", b"figcaption", b"figure", b"footer", b"form",
      b"h2", b"h3", b"h4", b"h5", b"h6", b"header", b"hgroup", b"main", b"menu", b"nav",
      b"section", b"map", b"noscript", b"video", b"audio", b"del", b"ins", b"summary",
    ];
    for a in names {
      assert_eq!(
        super::is_void(a),
        minify_html_common::spec::tag::void::VOID_TAGS.contains(a)
      );
      for b in names {
        assert_eq!(
          super::can_omit_as_before(a, b),
          common::can_omit_as_before(a, b)
        );
        assert_eq!(
          super::can_omit_as_last_node(a, b),
          common::can_omit_as_last_node(a, b)
        );
      }
    }
  }
}
