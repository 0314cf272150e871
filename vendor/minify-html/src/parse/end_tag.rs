// sitevault patch 13: which open element an end tag closes, by the HTML standard's tree
// construction rules for end tags ("in body", the table modes, "in select", foreign content
// and the raw text elements), read against the parser's stack of open elements.
//
// The original closed only the current element or (for an omitted end tag) its parent, and
// dropped every other end tag: `<div><span>a</div>`, `<ul><li><p>a</ul>` or
// `<table><tr><td>a</table>` lost the end tag, and the rest of the page went into the open
// element. Left as the original had it: the adoption agency's restructuring (a formatting
// element's end tag with a special element open inside it), `</form>`, `</body>`, `</html>`,
// `</head>`, and anything after a `<plaintext>`.

use std::borrow::Cow;

/// An element on the stack of open elements, as browsers see it.
pub struct Open<'c> {
  /// Lower case.
  name: Cow<'c, [u8]>,
  /// In browsers' foreign content: SVG or MathML (the parser knows only SVG, and keeps an
  /// element that browsers take out of the SVG in it).
  foreign: Option<Foreign>,
  /// A foreign element that browsers have closed: a start tag inside it broke out of the
  /// foreign content (`BREAKS_OUT`). The parser still has it open.
  broken: bool,
}

#[derive(Copy, Clone, Eq, PartialEq)]
enum Foreign {
  Svg,
  MathMl,
}

/// Opens an element named `name` (lower case) inside those of `open`.
pub fn push<'c>(open: &mut Vec<Open<'c>>, name: Cow<'c, [u8]>) {
  let foreign = match open.last() {
    Some(parent) if parent.foreign.is_some() && !parent.broken && !integration_point(parent) => {
      if is_in(&name, BREAKS_OUT) {
        for e in open.iter_mut().rev().take_while(|e| e.foreign.is_some()) {
          e.broken = true;
        }
        None
      } else if &*name == b"svg" {
        Some(Foreign::Svg)
      } else {
        parent.foreign
      }
    }
    _ => match &*name {
      b"svg" => Some(Foreign::Svg),
      b"math" => Some(Foreign::MathMl),
      _ => None,
    },
  };
  open.push(Open {
    name,
    foreign,
    broken: false,
  });
}

/// A foreign element whose content browsers read as HTML.
fn integration_point(e: &Open) -> bool {
  match e.foreign {
    Some(Foreign::Svg) => is_in(&e.name, &[b"foreignobject", b"desc", b"title"]),
    Some(Foreign::MathMl) => is_in(&e.name, MATHML_TEXT),
    None => false,
  }
}

/// What an end tag does, for the parser's current level.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum EndTag {
  /// Closes the current element (the top of the stack), which consumes the tag.
  Current,
  /// Closes an element further down the stack: the current element ends here, implied,
  /// and the tag is left for the levels below.
  Ancestor,
  /// Closes nothing: the tag is dropped.
  Ignored,
  /// Closes nothing but makes an element: `</p>` without an open `<p>` is `<p></p>`,
  /// `</br>` is `<br>`.
  Makes,
}

fn is_in(name: &[u8], list: &[&[u8]]) -> bool {
  list.contains(&name)
}

const FORMATTING: &[&[u8]] = &[
  b"a", b"b", b"big", b"code", b"em", b"font", b"i", b"nobr", b"s", b"small", b"strike", b"strong",
  b"tt", b"u",
];

const SPECIAL: &[&[u8]] = &[
  b"address",
  b"applet",
  b"area",
  b"article",
  b"aside",
  b"base",
  b"basefont",
  b"bgsound",
  b"blockquote",
  b"body",
  b"br",
  b"button",
  b"caption",
  b"center",
  b"col",
  b"colgroup",
  b"dd",
  b"details",
  b"dir",
  b"div",
  b"dl",
  b"dt",
  b"embed",
  b"fieldset",
  b"figcaption",
  b"figure",
  b"footer",
  b"form",
  b"frame",
  b"frameset",
  b"h1",
  b"h2",
  b"h3",
  b"h4",
  b"h5",
  b"h6",
  b"head",
  b"header",
  b"hgroup",
  b"hr",
  b"html",
  b"iframe",
  b"img",
  b"input",
  b"keygen",
  b"li",
  b"link",
  b"listing",
  b"main",
  b"marquee",
  b"menu",
  b"meta",
  b"nav",
  b"noembed",
  b"noframes",
  b"noscript",
  b"object",
  b"ol",
  b"p",
  b"param",
  b"plaintext",
  b"pre",
  b"script",
  b"search",
  b"section",
  b"select",
  b"source",
  b"style",
  b"summary",
  b"table",
  b"tbody",
  b"td",
  b"template",
  b"textarea",
  b"tfoot",
  b"th",
  b"thead",
  b"title",
  b"tr",
  b"track",
  b"ul",
  b"wbr",
  b"xmp",
];

/// End tags closed up to the element "in scope" (the standard's list for `</address>` …
/// `</ul>`, with `dd`, `dt`, `applet`, `marquee`, `object`).
const CLOSED_IN_SCOPE: &[&[u8]] = &[
  b"address",
  b"article",
  b"aside",
  b"blockquote",
  b"button",
  b"center",
  b"details",
  b"dialog",
  b"dir",
  b"div",
  b"dl",
  b"fieldset",
  b"figcaption",
  b"figure",
  b"footer",
  b"header",
  b"hgroup",
  b"listing",
  b"main",
  b"menu",
  b"nav",
  b"ol",
  b"pre",
  b"search",
  b"section",
  b"summary",
  b"ul",
  b"dd",
  b"dt",
  b"applet",
  b"marquee",
  b"object",
];

const TABLE: &[&[u8]] = &[
  b"table",
  b"tbody",
  b"thead",
  b"tfoot",
  b"tr",
  b"td",
  b"th",
  b"caption",
  b"colgroup",
];

const HEADINGS: &[&[u8]] = &[b"h1", b"h2", b"h3", b"h4", b"h5", b"h6"];

/// Elements whose content browsers read as text up to their end tag (scripting on for
/// `noscript`), and `template`, which its end tag always closes: the parser reads their
/// content as markup, so whatever it left open inside ends at their end tag.
const ENDED_BY_OWN_TAG: &[&[u8]] = &[
  b"iframe",
  b"noembed",
  b"noframes",
  b"noscript",
  b"xmp",
  b"template",
];

#[derive(Copy, Clone)]
enum Scope {
  Default,
  ListItem,
  Button,
  Table,
}

/// MathML's text integration points (and `annotation-xml`), special elements and scope
/// boundaries.
const MATHML_TEXT: &[&[u8]] = &[b"mi", b"mo", b"mn", b"ms", b"mtext", b"annotation-xml"];

/// Start tags that leave foreign content: browsers close the `<svg>` (or `<math>`) and open
/// an HTML element, where the parser keeps the element inside the SVG (`font` only with some
/// attributes; counted always).
const BREAKS_OUT: &[&[u8]] = &[
  b"b",
  b"big",
  b"blockquote",
  b"body",
  b"br",
  b"center",
  b"code",
  b"dd",
  b"div",
  b"dl",
  b"dt",
  b"em",
  b"embed",
  b"font",
  b"h1",
  b"h2",
  b"h3",
  b"h4",
  b"h5",
  b"h6",
  b"head",
  b"hr",
  b"i",
  b"img",
  b"li",
  b"listing",
  b"menu",
  b"meta",
  b"nobr",
  b"ol",
  b"p",
  b"pre",
  b"ruby",
  b"s",
  b"small",
  b"span",
  b"strong",
  b"strike",
  b"sub",
  b"sup",
  b"table",
  b"tt",
  b"u",
  b"ul",
  b"var",
];

fn is_special(e: &Open) -> bool {
  match e.foreign {
    None => is_in(&e.name, SPECIAL),
    Some(_) => integration_point(e),
  }
}

fn bounds(e: &Open, scope: Scope) -> bool {
  if e.foreign.is_some() {
    return is_special(e);
  }
  match scope {
    Scope::Table => is_in(&e.name, &[b"html", b"table", b"template"]),
    _ => {
      is_in(
        &e.name,
        &[
          b"applet",
          b"caption",
          b"html",
          b"table",
          b"td",
          b"th",
          b"marquee",
          b"object",
          b"template",
        ],
      ) || matches!(scope, Scope::ListItem if is_in(&e.name, &[b"ol", b"ul"]))
        || matches!(scope, Scope::Button if &*e.name == b"button")
    }
  }
}

/// The topmost HTML element named in `names` that is in `scope`.
fn in_scope(open: &[Open], names: &[&[u8]], scope: Scope) -> Option<usize> {
  for (i, e) in open.iter().enumerate().rev() {
    if e.foreign.is_none() && is_in(&e.name, names) {
      return Some(i);
    }
    if bounds(e, scope) {
      return None;
    }
  }
  None
}

/// The element the end tag `name` closes: its index in `open` (bottom first), or `None`.
fn target(open: &[Open], name: &[u8]) -> Option<usize> {
  // Foreign content: the end tag closes the nearest foreign element of its name above the
  // first HTML element; otherwise the HTML rules apply. Foreign elements that browsers closed
  // (`broken`) are open in the parser only: left as the original had it.
  for (i, e) in open.iter().enumerate().rev() {
    if e.foreign.is_none() {
      break;
    }
    if e.broken {
      return None;
    }
    if &*e.name == name {
      return Some(i);
    }
  }
  // In a `<select>`, browsers drop every end tag but `</select>`, `</option>` and
  // `</optgroup>` (those that close the current element are read before this).
  if let Some(select) = open
    .iter()
    .rposition(|e| e.foreign.is_none() && &*e.name == b"select")
  {
    let n = open.len();
    return match name {
      b"select" => Some(select),
      b"optgroup" if n >= 2 && &*open[n - 1].name == b"option" && &*open[n - 2].name == name => {
        Some(n - 2)
      }
      _ => None,
    };
  }
  if is_in(name, ENDED_BY_OWN_TAG) {
    return open
      .iter()
      .rposition(|e| e.foreign.is_none() && &*e.name == name);
  }
  if is_in(name, CLOSED_IN_SCOPE) {
    return in_scope(open, &[name], Scope::Default);
  }
  if is_in(name, HEADINGS) {
    return in_scope(open, HEADINGS, Scope::Default);
  }
  if is_in(name, TABLE) {
    return in_scope(open, &[name], Scope::Table);
  }
  match name {
    b"li" => return in_scope(open, &[name], Scope::ListItem),
    b"p" => return in_scope(open, &[name], Scope::Button),
    // Left as the original had them (see the top of this file).
    b"form" | b"body" | b"html" | b"head" | b"br" => return None,
    _ => {}
  }
  // A formatting element's end tag and "any other end tag": the nearest element of the name,
  // unless a special element is open above it (for a formatting element, the adoption
  // agency would then move elements: left as the original had it).
  for (i, e) in open.iter().enumerate().rev() {
    if e.foreign.is_none() && &*e.name == name {
      return Some(i);
    }
    if is_special(e) {
      return None;
    }
  }
  None
}

/// What the end tag `name` does at the parser's current level (the top of `open`).
pub fn end_tag(open: &[Open], name: &[u8]) -> EndTag {
  match target(open, name) {
    Some(i) if i + 1 == open.len() => EndTag::Current,
    Some(_) => EndTag::Ancestor,
    None if (name == b"br" || name == b"p") && in_body(open) => EndTag::Makes,
    None => EndTag::Ignored,
  }
}

/// Whether the current element is an HTML element of the body: one other than `html` is open
/// and no `head` (`</p>` and `</br>` make elements only there; before the body, in the head
/// and in foreign content they do other things, and are dropped as the original did).
fn in_body(open: &[Open]) -> bool {
  open.last().is_some_and(|e| e.foreign.is_none())
    && open.iter().any(|e| &*e.name != b"html")
    && !open
      .iter()
      .any(|e| &*e.name == b"head" || &*e.name == b"select")
}

/// Whether an element left open inside one that an end tag closed keeps its end tag left
/// out: a formatting element stays in the list of active formatting elements when an
/// ancestor's end tag pops it (the browser opens it again for text that follows), so
/// writing its end tag would change the page; any other element is closed by its own end
/// tag exactly as by the ancestor's.
/// An SVG element of such a name (`<a>`, or `<b>` that browsers took out of the SVG) keeps
/// the source's tags too: they read as they did.
pub fn stays_active(name: &[u8]) -> bool {
  is_in(name, FORMATTING)
}
