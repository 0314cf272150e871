use crate::cfg::Cfg;
use crate::minify;
use minify_html_common::tests::create_common_css_test_data;
use minify_html_common::tests::create_common_js_test_data;
use minify_html_common::tests::create_common_noncompliant_test_data;
use minify_html_common::tests::create_common_test_data;
use std::str::from_utf8;

pub fn eval_with_cfg(src: &'static [u8], expected: &'static [u8], cfg: &Cfg) {
  let min = minify(&src, cfg);
  assert_eq!(from_utf8(&min).unwrap(), from_utf8(expected).unwrap(),);
}

pub fn eval_with_noncompliant(src: &'static [u8], expected: &'static [u8]) {
  let mut cfg = Cfg::new();
  cfg.enable_possibly_noncompliant();
  eval_with_cfg(src, expected, &cfg)
}

pub fn eval_with_js_min(src: &'static [u8], expected: &'static [u8]) -> () {
  let mut cfg = Cfg::new();
  cfg.minify_js = true;
  eval_with_cfg(src, expected, &cfg);
}

pub fn eval_with_css_min(src: &'static [u8], expected: &'static [u8]) -> () {
  let mut cfg = Cfg::new();
  cfg.minify_css = true;
  eval_with_cfg(src, expected, &cfg);
}

pub fn eval(src: &'static [u8], expected: &'static [u8]) {
  let mut cfg = Cfg::new();
  // Most common tests assume the following minifications aren't done.
  cfg.keep_html_and_head_opening_tags = true;
  cfg.allow_optimal_entities = true;
  eval_with_cfg(src, expected, &cfg);
}

// NOTE: This is different to `eval` as that enables `keep_html_and_head_opening_tags`.
fn eval_without_keep_html_head(src: &'static [u8], expected: &'static [u8]) -> () {
  eval_with_cfg(src, expected, &Cfg::new());
}

#[test]
fn test_common() {
  for (a, b) in create_common_test_data() {
    eval(a, b);
  }
  for (a, b) in create_common_noncompliant_test_data() {
    eval_with_noncompliant(a, b);
  }
  for (a, b) in create_common_css_test_data() {
    eval_with_css_min(a, b);
  }
  for (a, b) in create_common_js_test_data() {
    eval_with_js_min(a, b);
  }
}

#[test]
fn test_keep_ssi_comments() {
  eval(b"<!--#include >", b"");
  let mut cfg = Cfg::default();
  cfg.keep_ssi_comments = true;
  eval_with_cfg(b"<!--#include >", b"<!--#include >", &cfg);
}

#[test]
fn test_keep_input_type_text_attr() {
  eval(b"<input type=\"text\">", b"<input>");
  let mut cfg = Cfg::default();
  cfg.keep_input_type_text_attr = true;
  eval_with_cfg(b"<input type=\"TExt\">", b"<input type=text>", &cfg);
}

#[test]
fn test_preserve_template_brace_syntax() {
  eval_with_js_min(
    b"<p> {{   hello    world! %}  {%}{#} echo '  </p><P><script>  let x = 1; //'  }} </p>",
    b"<p>{{ hello world! %} {%}{#} echo '<p><script>let x=1;",
  );
  let mut cfg = Cfg::default();
  cfg.preserve_brace_template_syntax = true;
  eval_with_cfg(
    b"<p> {{   hello    world! %}  {%}{#} echo '  </p><P><script>  let x = 1; //'  }} </p>",
    b"<p>{{   hello    world! %}  {%}{#} echo '  </p><P><script>  let x = 1; //'  }}",
    &cfg,
  );
  eval_with_cfg(
    b"<p> {%   hello    world! %}  {%}{#} echo '  </p><P><script>  let x = 1; //'  %} </p>",
    b"<p>{%   hello    world! %} {%}{#} echo '  </p><P><script>  let x = 1; //'  %}",
    &cfg,
  );
  eval_with_cfg(
    b"<p> {#   hello    world! #}  {#}{# echo '  </p><P><script>  let x = 1; //'  #} </p>",
    b"<p>{#   hello    world! #} {#}{# echo '  </p><P><script>  let x = 1; //'  #}",
    &cfg,
  );
}

#[test]
fn test_preserve_template_chevron_percent_syntax() {
  let mut cfg = Cfg::default();
  cfg.preserve_chevron_percent_template_syntax = true;
  eval_with_cfg(
    b"<p> <%   hello    world! #}  {#}{# echo '  </p><P><script>  let x = 1; //'  %> </p>",
    b"<p><%   hello    world! #}  {#}{# echo '  </p><P><script>  let x = 1; //'  %>",
    &cfg,
  );
}

#[test]
fn test_minification_of_doctype() {
  let mut cfg = Cfg::new();
  cfg.minify_doctype = true;
  eval_with_cfg(b"<!DOCTYPE html><div>", b"<!doctypehtml><div>", &cfg);
  eval_with_cfg(
    b"<!DOCTYPE html SYSTEM 'about:legacy-compat'><div>",
    b"<!doctypehtml SYSTEM 'about:legacy-compat'><div>",
    &cfg,
  );
}

#[test]
fn test_removal_of_empty_closing_tag() {
  eval(b"<body><p>1</><p>2</body>", b"<body><p>1<p>2");
}

#[test]
fn test_parsing_extra_head_tag() {
  // Extra `<head>` in `<label>` should be dropped, so whitespace around `<head>` should be joined and therefore trimmed due to `<label>` whitespace rules.
  eval(
    b"<html><head><meta><head><link><head><body><label>  <pre> </pre> <head>  </label>",
    b"<html><head><meta><link><body><label><pre> </pre></label>",
  );
  // Same as above except it's a `</head>`, which should get reinterpreted as a `<head>`.
  eval(
    b"<html><head><meta><head><link><head><body><label>  <pre> </pre> </head>  </label>",
    b"<html><head><meta><link><body><label><pre> </pre></label>",
  );
  // `<head>` gets implicitly closed by `<body>`, so any following `</head>` should be ignored. (They should be anyway, since `</head>` would not be a valid closing tag.)
  eval(
    b"<html><head><body><label> </head> </label>",
    b"<html><head><body><label></label>",
  );
}

#[test]
fn test_removal_of_html_and_head_opening_tags() {
  // Even though `<head>` is dropped, it's still parsed, so its content is still subject to `<head>` whitespace minification rules.
  eval_without_keep_html_head(
    b"<!DOCTYPE html><html><head>  <meta> <body>",
    b"<!doctype html><meta><body>",
  );
  // The tag should not be dropped if it has attributes.
  eval_without_keep_html_head(
    b"<!DOCTYPE html><html lang=en><head>  <meta> <body>",
    b"<!doctype html><html lang=en><meta><body>",
  );
  // The tag should be dropped if it has no attributes after minification.
  eval_without_keep_html_head(
    b"<!DOCTYPE html><html style='  '><head>  <meta> <body>",
    b"<!doctype html><meta><body>",
  );
}

#[test]
fn test_unmatched_closing_tag() {
  // sitevault patch 13: `</p>` without an open `<p>` and `</br>` are kept as written:
  // browsers make an empty `<p>` and a `<br>` of them (the original dropped both).
  eval(b"Hello</p>Goodbye", b"Hello</p>Goodbye");
  eval(b"Hello<br></br>Goodbye", b"Hello<br></br>Goodbye");
  eval(b"<div>Hello</p>Goodbye", b"<div>Hello</p>Goodbye");
  eval(b"<ul><li>a</p>", b"<ul><li>a</p>");
  eval(b"<ul><li><rt>a</p>", b"<ul><li><rt>a</p>");
  eval(
    b"<html><head><body><ul><li><rt>a</p>",
    b"<html><head><body><ul><li><rt>a</p>",
  );
}

#[test]
// NOTE: Keep inputs in sync with onepass variant. Outputs are different as main variant reorders attributes.
fn test_space_between_attrs_minification() {
  eval_with_noncompliant(
    b"<div a=\" \" b=\" \"></div>",
    b"<div a=\" \"b=\" \"></div>",
  );
  eval_with_noncompliant(b"<div a=' ' b=\" \"></div>", b"<div a=\" \"b=\" \"></div>");
  eval_with_noncompliant(
    b"<div a=&#x20 b=\" \"></div>",
    b"<div a=\" \"b=\" \"></div>",
  );
  eval_with_noncompliant(b"<div a=\"1\" b=\" \"></div>", b"<div b=\" \"a=1></div>");
  eval_with_noncompliant(b"<div a='1' b=\" \"></div>", b"<div b=\" \"a=1></div>");
  eval_with_noncompliant(b"<div a=\"a\"b=\"b\"></div>", b"<div a=a b=b></div>");
}

#[test]
fn test_attr_whatwg_unquoted_value_minification() {
  eval(b"<a b==></a>", br#"<a b="="></a>"#);
  eval(br#"<a b=`'"<<==/`/></a>"#, br#"<a b="`'&#34<<==/`/"></a>"#);
}

#[test]
fn test_alt_attr_minification() {
  eval(br#"<img alt="  ">"#, br#"<img alt="  ">"#);
  eval(br#"<img alt=" ">"#, br#"<img alt=" ">"#);
  eval(br#"<img alt="">"#, br#"<img alt>"#);
  eval(br#"<img alt=''>"#, br#"<img alt>"#);
  eval(br#"<img alt>"#, br#"<img alt>"#);
  eval(br#"<x-any-tag alt>"#, br#"<x-any-tag alt>"#);
}

#[test]
fn test_viewport_attr_minification() {
  eval_with_noncompliant(
    b"<meta name=viewport content='width=device-width, initial-scale=1'>",
    b"<meta content=width=device-width,initial-scale=1 name=viewport>",
  );
  eval(
    b"<meta name=viewport content='width=device-width, initial-scale=1'>",
    br#"<meta content="width=device-width,initial-scale=1" name=viewport>"#,
  );
}

#[test]
fn test_style_attr_minification() {
  eval_with_css_min(
    br#"<div style="color: yellow;"></div>"#,
    br#"<div style=color:#ff0></div>"#,
  );
  // `style` attributes are removed if fully minified away.
  eval_with_css_min(br#"<div style="  /*  */   "></div>"#, br#"<div></div>"#);
}

// sitevault patch (8): text on both sides of a removed comment does not join into a
// character reference the page did not have, nor lengthen one it ends with.
#[test]
fn test_text_around_a_removed_comment_keeps_its_references() {
  let both = |src: &'static [u8], expected: &'static [u8]| {
    eval_without_keep_html_head(src, expected);
    let mut cfg = Cfg::new();
    cfg.allow_optimal_entities = true;
    eval_with_cfg(src, expected, &cfg);
  };
  // A `&` of its own, then the rest of a name: shown as written.
  both(b"<p>&am<!-- -->p;</p>", b"<p>&amp;amp;");
  both(b"<p>&<!-- -->lt;</p>", b"<p>&amp;lt;");
  both(b"<p>&#<!-- -->65;</p>", b"<p>&amp;#65;");
  both(b"<p>a &amp<!---->;b</p>", b"<p>a &;b");
  // Not a reference either way: left alone.
  both(b"<p>&xy<!-- -->z</p>", b"<p>&xyz");
  both(b"<p>a &<!-- --> b</p>", b"<p>a & b");
  // Across two comments, and text that is all a name.
  both(b"<p>&c<!--a-->o<!--b-->py;</p>", b"<p>&amp;copy;");
  // Hexadecimal with an upper-case `X` (patch 9), which browsers read as `x`.
  both(b"<p>&#X<!---->3C;b&gt;</p>", b"<p>&amp;#X3C;b>");
  both(b"<p>&#X3C<!---->;</p>", b"<p>&#X3C;;");
}

// sitevault patch (9): numeric references decode as browsers decode them.
#[test]
fn test_numeric_references_decode_as_browsers_do() {
  eval_without_keep_html_head(
    b"<p>&#128;&#150;&#x93;&#0;&#x81;</p>",
    "<p>€–“\u{FFFD}\u{81}".as_bytes(),
  );
  eval_without_keep_html_head(
    b"<p title=\"&#146;&#0;\">x</p>",
    "<p title=’\u{FFFD}>x".as_bytes(),
  );
}

// sitevault patch (10): `<` before anything but a letter, `/`, `!` or `?` is text.
#[test]
fn test_less_than_before_a_non_letter_is_text() {
  eval_without_keep_html_head(b"<p>I <3 you</p><p>more</p>", b"<p>I &lt;3 you<p>more");
  eval_without_keep_html_head(
    b"<p>a<1 b<:c d<-e f<\xc3\xa9</p>",
    "<p>a&lt;1 b&lt;:c d&lt;-e f&lt;é".as_bytes(),
  );
}

// sitevault patch (11): attributes as browsers read them.
#[test]
fn test_attributes_keep_what_browsers_read() {
  eval_without_keep_html_head(
    b"<input type=checkbox name=a value=\"\"><input type=submit value=\"\"><p lang=\"\" title=\"\">x</p>",
    b"<input name=a type=checkbox value><input type=submit value><p lang title>x",
  );
  eval_without_keep_html_head(
    b"<img crossorigin=use-credentials src=a.png><img crossorigin=anonymous src=b.png><div hidden=until-found>x</div><p hidden=hidden>y",
    b"<img crossorigin=use-credentials src=a.png><img crossorigin src=b.png><div hidden=until-found>x</div><p hidden>y",
  );
  eval_without_keep_html_head(
    b"<iframe sandbox=\"\" src=x.html></iframe><iframe srcdoc=\"\" src=y.html></iframe><input form=\"\">",
    b"<iframe sandbox src=x.html></iframe><iframe src=y.html srcdoc></iframe><input form>",
  );
  // The first of two attributes of one name.
  eval_without_keep_html_head(b"<a href=/a href=/b>x</a>", b"<a href=/a>x</a>");
}

// sitevault patch (12): comments end where browsers end them.
#[test]
fn test_comments_end_where_browsers_end_them() {
  eval_without_keep_html_head(b"<p>a<!-->b<i>c</i>", b"<p>ab<i>c</i>");
  eval_without_keep_html_head(b"<p>a<!--->b<i>c</i>", b"<p>ab<i>c</i>");
  eval_without_keep_html_head(b"<p>a<!--x--!>b<i>c</i>-->d", b"<p>ab<i>c</i>-->d");
}

// sitevault patch 13.
#[test]
fn test_end_tags_close_what_browsers_close() {
  // An end tag closes the elements open inside its element (the original dropped it, and
  // the rest of the page went into the open element); they keep their end tags left out,
  // as in the source, and the end tag that closed them is written.
  eval_without_keep_html_head(b"<div><span>a</div><p>b", b"<div><span>a</div><p>b");
  eval_without_keep_html_head(b"<ul><li><p>a<li>b</ul><p>c", b"<ul><li><p>a<li>b</ul><p>c");
  eval_without_keep_html_head(
    b"<table><tr><td>a</table><p>b",
    b"<table><tr><td>a</table><p>b",
  );
  eval_without_keep_html_head(
    b"<select><optgroup><option>a</select><p>b",
    b"<select><optgroup><option>a</select><p>b",
  );
  // In an element browsers read as text (scripting on), the source's tags are kept.
  eval_without_keep_html_head(
    b"<noscript><p>x</noscript><p>b",
    b"<noscript><p>x</noscript><p>b",
  );
  eval_without_keep_html_head(b"<h1>a</h2>b", b"<h1>a</h1>b");
  eval_without_keep_html_head(
    b"<svg><g><rect>x</svg><p>b",
    b"<svg><g><rect>x</svg><p>b",
  );
  // A formatting element, which browsers open again for the text after the outer end tag
  // (`c` is bold).
  eval_without_keep_html_head(b"<div><b>a</div>c", b"<div><b>a</div>c");
  eval_without_keep_html_head(b"<b><i>x</b>y", b"<b><i>x</b>y");
  // What closes nothing by those rules is kept as written: past a special element
  // (`</span>` past a `<div>`, `</b>` past a `<p>`: the adoption agency moves the paragraph
  // out), in a `<select>`, past a table cell, in an SVG that browsers already left (`<b>`
  // breaks out of it), a formatting element's end tag after an outer one closed it.
  eval_without_keep_html_head(b"<span><div>x</span>y", b"<span><div>x</span>y");
  eval_without_keep_html_head(b"<b><p>x</b>y", b"<b><p>x</b>y");
  eval_without_keep_html_head(b"<dt><select></dt>x", b"<dt><select></dt>x");
  eval_without_keep_html_head(
    b"<div><table><tr><td>x</div>y",
    b"<div><table><tr><td>x</div>y",
  );
  eval_without_keep_html_head(b"<svg><b></b><g></svg>x", b"<svg><b></b><g></svg>x");
  eval_without_keep_html_head(
    b"<p><font>x</p></font><p>y",
    b"<p><font>x</p></font><p>y",
  );
  // `</form>` closes what is open in it only when browsers imply those end tags.
  eval_without_keep_html_head(b"<form><p>x</form>y", b"<form><p>x</form>y");
  eval_without_keep_html_head(b"<form><ul><li>x</form>y", b"<form><ul><li>x</form>y");
  // A paragraph's end tag is left out at the end of its parent only where the parent's end
  // tag closes it (`</span>` does not: `b` went into the paragraph).
  eval_without_keep_html_head(b"<span><p>a</p></span>b", b"<span><p>a</p></span>b");
  eval_without_keep_html_head(b"<div><p>a</p></div>b", b"<div><p>a</div>b");
  // Start tags that close a paragraph though the standard's optional tags do not list them.
  eval_without_keep_html_head(b"<p>a<center>b</p>c", b"<p>a<center>b</p>c");
  // An HTML element in an SVG is HTML (its content, a `<textarea>`'s text, as HTML).
  eval_without_keep_html_head(
    b"<svg><foreignObject><textarea> a </textarea></foreignObject></svg>",
    b"<svg><foreignobject><textarea> a </textarea></foreignobject></svg>",
  );
  // Where the parser's tree is not browsers' (a start tag closed an element in them: `<dd>`
  // closes the `<dt>` through the `<i>`), elements closed by an outer end tag keep the
  // source's tags, and the outer end tag is written.
  eval_without_keep_html_head(b"<dt><i><dd></dt>D", b"<dt><i><dd></dt>D");
  eval_without_keep_html_head(
    b"<div><form action=/a></div><form action=/b></form>",
    b"<div><form action=/a></div><form action=/b></form>",
  );
  // Inside an element browsers read as text, only its own end tag acts.
  eval_without_keep_html_head(b"<div><xmp>a</div>b</xmp>c", b"<div><xmp>a</div>b</xmp>c");
  // A `<font>` leaves an SVG only with `color`, `face` or `size`; MathML closes `<mspace/>`.
  eval_without_keep_html_head(
    b"<svg><font></font><circle/>y</svg>",
    b"<svg><font></font><circle/>y</svg>",
  );
  eval_without_keep_html_head(
    b"<svg><foreignObject><math><mspace/>x</math></foreignObject></svg>",
    b"<svg><foreignobject><math><mspace/>x</math></foreignobject></svg>",
  );
  // `</p>` without an open `<p>` and `</br>` are kept: browsers make an empty paragraph and
  // a line break of them (the original dropped both).
  eval_without_keep_html_head(b"<div>a</p>b</div>", b"<div>a</p>b</div>");
  eval_without_keep_html_head(b"<div>a</br>b</div>", b"<div>a</br>b</div>");
}

// sitevault patch 14.
#[test]
fn test_raw_text_ends_at_its_end_tag() {
  // `</titlex>` is text in a title; only `</title` and whitespace, `/` or `>` ends it.
  eval_without_keep_html_head(
    b"<title>a</titlex>b</title><p>c",
    b"<title>a&lt;/titlex>b</title><p>c",
  );
  eval_without_keep_html_head(
    b"<textarea>a</textarea2>b</textarea ><p>c",
    b"<textarea>a&lt;/textarea2>b</textarea><p>c",
  );
  eval_without_keep_html_head(
    b"<style>a{content:\"</stylex>\"}</style/><p>c",
    b"<style>a{content:\"</stylex>\"}</style><p>c",
  );
  eval_without_keep_html_head(
    b"<script type=text/x-t>\"</scripts>\"</script\t><p>c",
    b"<script type=text/x-t>\"</scripts>\"</script><p>c",
  );
  // In a script, after `<!--`, a `<script>`'s `</script>` does not end it, up to `-->`.
  eval_without_keep_html_head(
    b"<script><!--\nw(\"<script></script>\")\n//--></script><p>c",
    b"<script><!--\nw(\"<script></script>\")\n//--></script><p>c",
  );
  eval_without_keep_html_head(
    b"<script><!--><script></script><p> c </p>",
    b"<script><!--><script></script><p>c",
  );
  // Only `</script` and `<script` count, not the same letters after another byte
  // (`--script `, `no-script `).
  eval_without_keep_html_head(
    b"<script>x(\"--script \")</script><p> c </p>",
    b"<script>x(\"--script \")</script><p>c",
  );
  eval_without_keep_html_head(
    b"<script><!--\nno-script path\n</script><p> c </p>",
    b"<script><!--\nno-script path</script><p>c",
  );
  // Without the `<!--`, or after its `-->`, the first end tag ends the script.
  eval_without_keep_html_head(
    b"<script>w(\"<script>\")</script><p> c </p>",
    b"<script>w(\"<script>\")</script><p>c",
  );
  eval_without_keep_html_head(
    b"<script><!-- --><script></script><p> c </p>",
    b"<script><!-- --><script></script><p>c",
  );
}

// sitevault patch 15.
#[test]
fn test_quirks_mode_is_kept() {
  // A doctype without the name `html` is quirks mode: kept as written.
  eval_without_keep_html_head(b"<!doctype><p>a", b"<!doctype><p>a");
  eval_without_keep_html_head(b"<!DOCTYPE htmlx><p>a", b"<!DOCTYPE htmlx><p>a");
  eval_without_keep_html_head(b"<!DOCTYPE html><p>a", b"<!doctype html><p>a");
  // In quirks mode (no doctype, an old one) a table does not close a paragraph.
  eval_without_keep_html_head(b"<p>a</p><table></table>", b"<p>a</p><table></table>");
  eval_without_keep_html_head(
    b"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.0 Transitional//EN\"><p>a</p><table></table>",
    b"<!doctype html PUBLIC \"-//W3C//DTD HTML 4.0 Transitional//EN\"><p>a</p><table></table>",
  );
  // Anything but a comment or spaces before the doctype: quirks mode too.
  eval_without_keep_html_head(
    b"</section><!doctype html><p>a</p><table></table>",
    b"</section><!doctype html><p>a</p><table></table>",
  );
  // Out of it, the end tag goes.
  eval_without_keep_html_head(
    b"<!doctype html><p>a</p><table></table>",
    b"<!doctype html><p>a<table></table>",
  );
  eval_without_keep_html_head(
    b"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"x.dtd\"><p>a</p><table></table>",
    b"<!doctype html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"x.dtd\"><p>a<table></table>",
  );
}

#[test]
fn test_line_breaks_read_as_browsers_read_them() {
  // sitevault patch 16: a CR LF pair or a lone CR is a line feed to browsers; a CR from a
  // reference stays one, written as a reference again.
  eval_without_keep_html_head(
    b"<textarea>a&#13;\r\nb</textarea>",
    b"<textarea>a&#13;\nb</textarea>",
  );
  eval_without_keep_html_head(
    b"<textarea>a\rb\r\n</textarea>",
    b"<textarea>a\nb\n</textarea>",
  );
  eval_without_keep_html_head(b"<pre>q&#13;\r</pre>", b"<pre>q&#13;\n</pre>");
  eval_without_keep_html_head(b"<pre>&#13;\nq</pre>", b"<pre>&#13;\nq</pre>");
  eval_without_keep_html_head(b"<p title=\"a&#13;b\r\nc\">x", b"<p title=\"a&#13;b\nc\">x");
  eval_without_keep_html_head(b"<input value=\"a&#13;\">", b"<input value=a&#13;>");
  eval_without_keep_html_head(b"<input value=\"a\r\">", b"<input value=\"a\n\">");
}

#[test]
fn test_a_pre_keeps_the_line_feed_a_comment_kept_from_its_start() {
  // sitevault patch 17: the line feed after `<pre>` is dropped by browsers; after a comment
  // it is not, and the comment is left out.
  eval_without_keep_html_head(b"<pre><!-- c -->\nq</pre>", b"<pre>\n\nq</pre>");
  eval_without_keep_html_head(b"<pre><!---->&#10;q</pre>", b"<pre>\n\nq</pre>");
  eval_without_keep_html_head(b"<pre><!-- c -->\n\nq</pre>", b"<pre>\n\n\nq</pre>");
  eval_without_keep_html_head(b"<pre>\n<!-- c -->\nq</pre>", b"<pre>\n\nq</pre>");
  eval_without_keep_html_head(b"<pre>\nq</pre>", b"<pre>\nq</pre>");
  eval_without_keep_html_head(b"<pre><b>x</b>\nq</pre>", b"<pre><b>x</b>\nq</pre>");
  // A dropped end tag or bogus comment came first too.
  eval_without_keep_html_head(b"<pre></body>\nq</pre>", b"<pre>\n\nq</pre>");
  eval_without_keep_html_head(b"<pre></ x>\nq</pre>", b"<pre>\n\nq</pre>");
  // An SVG text inside keeps its spaces.
  eval_without_keep_html_head(
    b"<pre><svg><text> a  b </text></svg></pre>",
    b"<pre><svg><text> a  b </text></svg></pre>",
  );
  // `<listing>` is shown as `<pre>` is: its spaces stay.
  eval_without_keep_html_head(
    b"<listing><!--c-->\n  z  y</listing>",
    b"<listing>\n\n  z  y</listing>",
  );
}

#[test]
fn test_a_tag_cut_by_the_end_of_the_page_makes_no_element() {
  // sitevault patch 18: browsers drop a tag the page ends in; it was written whole.
  eval_without_keep_html_head(b"<div><p class=x", b"<div><p class=x");
  eval_without_keep_html_head(b"<div><span title=\"a", b"<div><span title=\"a");
  eval_without_keep_html_head(b"<p>a<div", b"<p>a<div");
  eval_without_keep_html_head(b"<p>a<div ", b"<p>a<div ");
  eval_without_keep_html_head(b"<p>a<div>", b"<p>a<div>");
}

#[test]
fn test_raw_text_elements_keep_their_text() {
  // sitevault patch 19: browsers read these as text up to their end tag, references and
  // tags included; the original read them as markup.
  eval_without_keep_html_head(
    b"<iframe>x&#13;y&amp; <b>z</b>  w</iframe><p>q",
    b"<iframe>x&#13;y&amp; <b>z</b>  w</iframe><p>q",
  );
  eval_without_keep_html_head(
    b"<xmp> <b>&amp;</b> </xmp><noembed><i>a</i></noembed><noframes>&lt;</noframes>",
    b"<xmp> <b>&amp;</b> </xmp><noembed><i>a</i></noembed><noframes>&lt;</noframes>",
  );
  eval_without_keep_html_head(b"<IFRAME>a</IFRAME >b", b"<iframe>a</iframe>b");
  eval_without_keep_html_head(
    b"<iframe src=x></iframe><iframe>a",
    b"<iframe src=x></iframe><iframe>a",
  );
  // `</` that ends the page is text.
  eval_without_keep_html_head(b"<p>a</", b"<p>a</");
  eval_without_keep_html_head(b"<p>a</>b", b"<p>ab");
}

#[test]
fn test_svg_attributes_with_empty_values_are_kept() {
  // sitevault patch 20: the element still has the attribute (`[z]`, scripts).
  eval_without_keep_html_head(
    b"<svg><text z>x</text><rect fill=\"\"/></svg>",
    b"<svg><text z>x</text><rect fill /></svg>",
  );
  eval_without_keep_html_head(b"<svg><rect fill=red /></svg>", b"<svg><rect fill=red /></svg>");
}
