//! The space between two inline elements, kept through minify-html.
//!
//! minify-html removes every text node made only of whitespace inside "layout"
//! elements (`div`, `nav`, `body`, `li`'s parent `ul`…), also where it sits between
//! two inline elements and renders as a space: `<div><a>Home</a> <a>About</a></div>`
//! would read "HomeAbout". Before minify-html runs, such a run of whitespace (after
//! an inline element's end tag or an inline void element, before an inline
//! element's start tag, outside `pre` and foreign content) is replaced by a marker
//! character the page does not contain, which minify-html keeps as text; afterwards
//! each marker becomes one space, which is what the run collapses to in a browser.

use std::borrow::Cow;

/// What the scan needs to know of an element, by its name (any case).
#[derive(Clone, Copy, Default)]
struct Kind {
    /// Laid out inline: its end tag, or the tag itself when void, may be followed by a
    /// rendered space.
    inline: bool,
    /// Void and inline (`img`, `input`, `embed`).
    inline_void: bool,
    /// Its content is text, not markup: skipped whole.
    raw: bool,
    /// `pre` or `listing`: spaces inside are kept.
    pre: bool,
    /// `svg` or `math`: foreign content.
    foreign: bool,
}

/// The element's [`Kind`], from one lookup per tag (names compared without case).
fn kind(name: &[u8]) -> Kind {
    // A custom element (`<my-card>`) is laid out inline unless the page's CSS says
    // otherwise, as any element browsers do not know. (SVG's `font-face` and MathML's
    // `annotation-xml` are inside foreign content, where nothing is marked.)
    if name.contains(&b'-') {
        return Kind {
            inline: true,
            ..Kind::default()
        };
    }
    let mut buf = [0u8; 10];
    let Some(lower) = buf.get_mut(..name.len()) else {
        return Kind::default();
    };
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let k = Kind::default();
    match &*lower {
        b"a" | b"abbr" | b"audio" | b"b" | b"bdi" | b"bdo" | b"button" | b"canvas" | b"cite"
        | b"code" | b"data" | b"del" | b"dfn" | b"em" | b"i" | b"ins" | b"kbd" | b"label"
        | b"mark" | b"meter" | b"object" | b"output" | b"picture" | b"progress" | b"q"
        | b"ruby" | b"s" | b"samp" | b"select" | b"small" | b"span" | b"strong" | b"sub"
        | b"sup" | b"time" | b"u" | b"var" | b"video" => Kind { inline: true, ..k },
        b"iframe" | b"textarea" => Kind {
            inline: true,
            raw: true,
            ..k
        },
        b"svg" => Kind {
            inline: true,
            foreign: true,
            ..k
        },
        b"math" => Kind { foreign: true, ..k },
        b"img" | b"input" | b"embed" => Kind {
            inline_void: true,
            ..k
        },
        b"script" | b"style" | b"title" | b"noscript" | b"noembed" | b"noframes" | b"xmp" => {
            Kind { raw: true, ..k }
        }
        b"pre" | b"listing" => Kind { pre: true, ..k },
        _ => k,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Prev {
    /// An inline element ended, or an inline void element stood here.
    Inline,
    Other,
}

/// `html` with each rendered space between inline elements replaced by the returned
/// marker, and how many there are (`None`: nothing to protect, or no marker character
/// is free). The marker is in none of the page's text, literally or as a numeric
/// character reference (icon fonts use this range: `&#xE000;`); a caller that finds
/// another count of markers after minifying must not use the result.
pub(super) fn protect(html: &str) -> (Cow<'_, str>, Option<(char, usize)>) {
    let named = referenced(html);
    let free = |c: &char| !named[*c as usize - 0xE000] && !html.contains(*c);
    let Some(marker) = ('\u{E000}'..='\u{E0FF}').find(free) else {
        return (Cow::Borrowed(html), None);
    };
    let b = html.as_bytes();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let (mut pre, mut foreign) = (0usize, 0usize);
    let mut prev = Prev::Other;
    // The first run of whitespace after an inline element, across comments (which
    // minify-html drops, and with them the run's place between the elements).
    let mut pending: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        let Some(lt) = memchr::memchr(b'<', &b[i..]).map(|p| i + p) else {
            break;
        };
        let text = &b[i..lt];
        let t = tag_at(b, lt);
        let k = match &t {
            Tag::Start { name, .. } | Tag::End { name, .. } => kind(name),
            _ => Kind::default(),
        };
        if !text.is_empty() {
            let spaces = text
                .iter()
                .all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'));
            if !spaces {
                prev = Prev::Other;
            } else if pending.is_none() {
                pending = Some((i, lt));
            }
        }
        let before_inline = matches!(&t, Tag::Start { .. }) && (k.inline || k.inline_void);
        if prev == Prev::Inline && before_inline && pre == 0 && foreign == 0 {
            runs.extend(pending);
        }
        // A script or a style sheet is not laid out either (`hidden`).
        let hidden = matches!(&t, Tag::Start { name, .. }
            if name.eq_ignore_ascii_case(b"script") || name.eq_ignore_ascii_case(b"style"));
        if !matches!(t, Tag::Skip(_)) && !hidden {
            pending = None;
        }
        match t {
            Tag::Text => {
                // A `<` that starts no tag is text: the run goes on after it.
                prev = Prev::Other;
                i = lt + 1;
            }
            // A comment (or a doctype, a processing instruction) is left out of the
            // page's layout: what follows it is next to what came before.
            Tag::Skip(end) => i = end,
            Tag::End { end, .. } => {
                if k.pre {
                    pre = pre.saturating_sub(1);
                }
                if k.foreign {
                    foreign = foreign.saturating_sub(1);
                }
                prev = if k.inline { Prev::Inline } else { Prev::Other };
                i = end;
            }
            Tag::Start { name, end, closed } => {
                // `/>` closes nothing in HTML (and `a=b/>` is the value `b/`): a raw-text
                // element or a `pre` always runs to its end tag. In foreign content it
                // does close the element.
                let mut next = end;
                if k.raw {
                    next = raw_end(b, end, name);
                } else if k.pre {
                    pre += 1;
                } else if k.foreign && !closed {
                    foreign += 1;
                }
                if !hidden {
                    prev = if k.inline_void && foreign == 0 {
                        Prev::Inline
                    } else {
                        Prev::Other
                    };
                }
                i = next;
            }
        }
    }
    if runs.is_empty() {
        return (Cow::Borrowed(html), None);
    }
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for &(a, z) in &runs {
        out.push_str(&html[last..a]);
        out.push(marker);
        last = z;
    }
    out.push_str(&html[last..]);
    (Cow::Owned(out), Some((marker, runs.len())))
}

/// Which of the candidate marks U+E000–U+E0FF `html` names by numeric character
/// reference (`&#57344;`, `&#xE000;`), which minify-html turns into the characters.
fn referenced(html: &str) -> [bool; 256] {
    let b = html.as_bytes();
    let mut named = [false; 256];
    let points = memchr::memmem::find_iter(b, b"&#").filter_map(|at| {
        let rest = &b[at + 2..];
        let (hex, digits) = match rest.first() {
            Some(b'x' | b'X') => (true, &rest[1..]),
            _ => (false, rest),
        };
        let n = digits
            .iter()
            .take_while(|d| {
                if hex {
                    d.is_ascii_hexdigit()
                } else {
                    d.is_ascii_digit()
                }
            })
            .count();
        let text = std::str::from_utf8(&digits[..n.min(8)]).ok()?;
        u32::from_str_radix(text, if hex { 16 } else { 10 }).ok()
    });
    for p in points {
        if let Some(k) = p.checked_sub(0xE000).filter(|k| *k < 256) {
            named[k as usize] = true;
        }
    }
    named
}

enum Tag<'a> {
    /// Not a tag: `<` as text.
    Text,
    /// A comment, doctype, processing instruction or bogus tag ending before this.
    Skip(usize),
    End {
        name: &'a [u8],
        end: usize,
    },
    Start {
        name: &'a [u8],
        end: usize,
        closed: bool,
    },
}

/// The token at `lt` (a `<`); `end` is the byte after it.
fn tag_at(b: &[u8], lt: usize) -> Tag<'_> {
    let after = |from: usize, pat: &[u8]| {
        memchr::memmem::find(&b[from.min(b.len())..], pat).map_or(b.len(), |p| from + p + pat.len())
    };
    // (`memmem` sets up a searcher per call: one byte is found with `memchr`.)
    let after_gt = |from: usize| {
        memchr::memchr(b'>', &b[from.min(b.len())..]).map_or(b.len(), |p| from + p + 1)
    };
    match b.get(lt + 1) {
        Some(b'!') if b[lt..].starts_with(b"<!--") => Tag::Skip(after(lt + 4, b"-->")),
        Some(b'!' | b'?') => Tag::Skip(after_gt(lt + 2)),
        Some(b'/') => {
            let (name, n) = name_at(b, lt + 2);
            if name.is_empty() {
                return Tag::Skip(after_gt(lt + 2));
            }
            Tag::End {
                name,
                end: after_gt(n),
            }
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let (name, n) = name_at(b, lt + 1);
            let (end, closed) = start_tag_end(b, n);
            Tag::Start { name, end, closed }
        }
        _ => Tag::Text,
    }
}

/// A tag name starting at `at` and where it ends (bytes: the page is UTF-8 and the name
/// is cut at ASCII bytes).
fn name_at(b: &[u8], at: usize) -> (&[u8], usize) {
    let n = b[at.min(b.len())..]
        .iter()
        .position(|c| c.is_ascii_whitespace() || matches!(c, b'/' | b'>'))
        .map_or(b.len(), |p| at + p);
    (&b[at.min(n)..n], n)
}

/// The end of a start tag whose attributes begin at `at` (quoted values may hold
/// `>`), and whether it is self-closing (`/>`).
fn start_tag_end(b: &[u8], at: usize) -> (usize, bool) {
    // From one `>` or quote to the next: a quote opens a value when the last byte before
    // it that is not white space is `=` (what came before a stop is never `=`: it is
    // the name or a quote).
    let mut i = at.min(b.len());
    while let Some(p) = memchr::memchr3(b'>', b'"', b'\'', &b[i..]) {
        let stop = i + p;
        let q = b[stop];
        if q == b'>' {
            return (stop + 1, stop > at && b[stop - 1] == b'/');
        }
        let after_eq = b[i..stop].iter().rev().find(|c| !c.is_ascii_whitespace()) == Some(&b'=');
        i = if after_eq {
            match memchr::memchr(q, &b[stop + 1..]) {
                Some(p) => stop + 1 + p + 1,
                None => return (b.len(), false),
            }
        } else {
            stop + 1
        };
    }
    (b.len(), false)
}

/// Where the raw-text element `name` whose content starts at `from` ends.
fn raw_end(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(p) = memchr::memmem::find(&b[i..], b"</") {
        let at = i + p;
        let (n, e) = name_at(b, at + 2);
        if n.eq_ignore_ascii_case(name) {
            return memchr::memchr(b'>', &b[e..]).map_or(b.len(), |q| e + q + 1);
        }
        i = at + 2;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(html: &str) -> String {
        match protect(html) {
            (s, Some((m, _))) => s.replace(m, "_"),
            (s, None) => s.into_owned(),
        }
    }

    /// Icon fonts name this range by reference: the marker is none of those.
    #[test]
    fn the_marker_is_no_character_the_page_names() {
        let html = "<i>&#xE000;</i> <b>&#57345;</b> <i>&#XE002;</i> <b>\u{E003}</b>";
        let (_, m) = protect(html);
        assert_eq!(m, Some(('\u{E004}', 3)));
    }

    #[test]
    fn spaces_between_inline_elements_are_marked() {
        assert_eq!(
            marked("<div><span>a</span> <span>b</span></div>"),
            "<div><span>a</span>_<span>b</span></div>"
        );
        assert_eq!(
            marked("<nav><a href='x>y'>A</a>\n  <a>B</a></nav>"),
            "<nav><a href='x>y'>A</a>_<a>B</a></nav>"
        );
        assert_eq!(
            marked("<label>N</label> <input> <button>Go</button><img src=a> <img src=b>"),
            "<label>N</label>_<input>_<button>Go</button><img src=a>_<img src=b>"
        );
    }

    /// A comment between two inline elements is dropped, and so was the space around
    /// it (`a b` read `ab`), as around a script; a custom element is inline, and so was
    /// the space between two.
    #[test]
    fn spaces_around_comments_and_between_custom_elements_are_marked() {
        assert_eq!(
            marked("<div><span>a</span> <!-- c --> <span>b</span></div>"),
            "<div><span>a</span>_<!-- c --> <span>b</span></div>"
        );
        assert_eq!(
            marked("<div><span>a</span><!-- c -->\n<span>b</span></div>"),
            "<div><span>a</span><!-- c -->_<span>b</span></div>"
        );
        assert_eq!(
            marked("<div><b>a</b> <script>x()</script>\n<b>b</b></div>"),
            "<div><b>a</b>_<script>x()</script>\n<b>b</b></div>"
        );
        assert_eq!(
            marked("<div><my-chip>a</my-chip> <my-chip>b</my-chip></div>"),
            "<div><my-chip>a</my-chip>_<my-chip>b</my-chip></div>"
        );
        // No space, no mark; text ends the run.
        for html in [
            "<div><span>a</span><!-- c --><span>b</span></div>",
            "<div><span>a</span> x <!-- c --> <span>b</span></div>",
        ] {
            assert_eq!(marked(html), html, "{html}");
        }
    }

    #[test]
    fn other_whitespace_is_left_to_minify_html() {
        for html in [
            "<div>\n<span>a</span>\n</div>",
            "<ul><li>a</li> <li>b</li></ul>",
            "<p>a</p> <span>b</span>",
            "<pre><b>a</b> <b>b</b></pre>",
            "<svg><text>a</text> <tspan>b</tspan></svg>",
            "<script>if(a</b> <b>)</script>",
            "<!-- <b>a</b> <b>b</b> -->",
            "<svg><font-face>a</font-face> <font-face>b</font-face></svg>",
            "<textarea></b> <b></textarea>",
            "<div><textarea name=t/><b>a</b>   <b>b</b></textarea>",
            "<script src=a.js /><b>a</b> <b>b</b></script>",
            "a < b and c > d",
        ] {
            assert_eq!(marked(html), html, "{html}");
        }
        // After the pre, the next spaces count again.
        assert_eq!(
            marked("<pre>x</pre><b>a</b> <b>b</b>"),
            "<pre>x</pre><b>a</b>_<b>b</b>"
        );
    }

    #[test]
    fn truncated_input_never_panics() {
        for html in [
            "<",
            "<a",
            "</",
            "<a href=\"",
            "<!--",
            "<script>",
            "<b>a</b> <",
            "\u{E000}",
        ] {
            let _ = protect(html);
        }
    }
}
