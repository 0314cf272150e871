//! swc's read of a file before oxc minifies it: syntax errors, references, and what the
//! minifier needs (licence comments, a classic script's globals, the tree's shape).

use swc_core::common::comments::{Comments, SingleThreadedComments};
use swc_core::common::sync::Lrc;
use swc_core::common::{FileName, Globals, SourceMap, GLOBALS};
use swc_core::ecma::visit::VisitMutWith;

use super::{globals, licence_comments, parse_any, JsKind, SyntaxErr};
use crate::build::js_refs::RefVisitor;
use crate::build::refs::Placeholders;

/// What swc's read of a file finds (see [`read`]).
pub(super) struct Read {
    /// How deep its tree goes (`depth::shape`).
    pub(super) shape: crate::build::depth::Shape,
    /// The byte spans of local references, with their placeholder text, in order.
    pub(super) spans: Vec<(usize, usize, String)>,
    /// The kind to minify it as: `want`, else a module when it uses module syntax.
    pub(super) kind: JsKind,
    /// Whether it is minified as a classic script (its top-level names kept): everything
    /// but a module the module goal parsed.
    pub(super) script: bool,
    /// With `minifying`, for a file read as a script: every name it declares in its
    /// global scope (`globals::declared_globals`).
    pub(super) globals: Vec<String>,
    /// With `minifying`: why oxc must not minify it (`risk::oxc_risk`), if it must not.
    pub(super) oxc_risk: Option<&'static str>,
    /// With `minifying`: its licence comments, as they open the output.
    pub(super) licences: String,
}

/// Parses `src` (syntax errors as users see them), registers its references in `ph`
/// and finds their spans. With `minifying`, also what the minifier needs.
pub(super) fn read(
    src: &str,
    name: &str,
    want: Option<JsKind>,
    ph: &mut Placeholders,
    minifying: bool,
) -> Result<Read, SyntaxErr> {
    let shape = crate::build::depth::shape(src, crate::build::depth::JS_LIMIT, true)
        .map_err(|(line, col, msg)| SyntaxErr { line, col, msg })?;
    GLOBALS.set(&Globals::new(), || {
        let cm: Lrc<SourceMap> = Default::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Custom(name.into())), src.to_string());
        let start = fm.start_pos;
        let comments = SingleThreadedComments::default();
        let (mut program, parsed_as) = parse_any(
            &cm,
            &fm,
            minifying.then_some(&comments as &dyn Comments),
            want,
        )?;
        let mut v = RefVisitor::new(&cm, ph, false);
        program.visit_mut_with(&mut v);
        let kind = want.unwrap_or(if v.esm {
            JsKind::Module
        } else {
            JsKind::Script
        });
        let mut spans: Vec<(usize, usize, String)> = v
            .found
            .into_iter()
            .map(|(span, text)| {
                (
                    (span.lo - start).0 as usize,
                    (span.hi - start).0 as usize,
                    text,
                )
            })
            .collect();
        spans.sort_by_key(|s| s.0);
        let script = !(kind == JsKind::Module && parsed_as == JsKind::Module);
        Ok(Read {
            oxc_risk: if minifying {
                super::risk::oxc_risk(&program, script)
            } else {
                None
            },
            shape,
            spans,
            kind,
            script,
            globals: if minifying && script {
                globals::declared_globals(&program)
                    .iter()
                    .map(|a| a.to_string())
                    .collect()
            } else {
                Vec::new()
            },
            licences: if minifying {
                licence_comments(&comments)
            } else {
                String::new()
            },
        })
    })
}
