// sitevault patch 15: whether a page is in quirks mode, which its doctype decides and the
// output keeps. In quirks mode a `<table>` start tag does not close an open `<p>`, so the
// `<p>`'s end tag before a table is kept (the original left it out: the table went into the
// paragraph). A doctype without the name `html` is kept as written (`parse::doctype`).

use crate::ast::NodeData;

/// Whether the page whose top-level nodes are `nodes` is in quirks mode (or may be: a page
/// whose doctype this does not know counts as one, which only keeps a few `</p>`s).
pub fn quirks(nodes: &[NodeData]) -> bool {
  for n in nodes {
    match n {
      NodeData::Doctype { legacy, .. } => return legacy_quirks(legacy),
      // A doctype kept as written (its name is not `html`), or anything else the parser
      // keeps as written (an end tag, template syntax): browsers meeting it first are in
      // quirks mode, or may be.
      NodeData::Opaque { .. } => return true,
      NodeData::Comment { .. } | NodeData::Bang { .. } | NodeData::Instruction { .. } => {}
      NodeData::Text { value } if value.iter().all(u8::is_ascii_whitespace) => {}
      // Content before any doctype: no doctype.
      _ => return true,
    }
  }
  true
}

/// Whether `<!doctype html` followed by `legacy` (its public and system identifiers) puts
/// a page in quirks mode. Known to keep it out: none (`<!doctype html>`), `about:legacy-compat`,
/// HTML 4.01 Strict, XHTML 1.0 and 1.1, and HTML 4.01 Transitional and Frameset with a
/// system identifier (limited quirks, where a table still closes a paragraph).
fn legacy_quirks(legacy: &[u8]) -> bool {
  let l = legacy.to_ascii_lowercase();
  let l = l.trim_ascii();
  if l.is_empty() {
    return false;
  }
  let quoted: Vec<&[u8]> = l
    .split(|&c| c == b'"' || c == b'\'')
    .skip(1)
    .step_by(2)
    .collect();
  if l.starts_with(b"system") {
    return quoted.first() != Some(&&b"about:legacy-compat"[..]);
  }
  if !l.starts_with(b"public") {
    return true;
  }
  let Some(public) = quoted.first() else {
    return true;
  };
  let system = quoted.len() > 1;
  let known = [
    &b"-//w3c//dtd html 4.01//en"[..],
    b"-//w3c//dtd xhtml 1.0 strict//en",
    b"-//w3c//dtd xhtml 1.0 transitional//en",
    b"-//w3c//dtd xhtml 1.0 frameset//en",
    b"-//w3c//dtd xhtml 1.1//en",
  ];
  let with_system = [
    &b"-//w3c//dtd html 4.01 transitional//en"[..],
    b"-//w3c//dtd html 4.01 frameset//en",
  ];
  !(known.contains(public) || (system && with_system.contains(public)))
}
