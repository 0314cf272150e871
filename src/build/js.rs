//! JavaScript: read (references, licences, globals) and minify with oxc in one parse
//! (`js/oxc.rs`, `js/oxc_read.rs`), or with swc (parse, references, compress + mangle)
//! where oxc cannot parse the file or is not safe on it. `scan` and the copying of
//! `*.min.js` find references with swc (`js_refs.rs`), whose rules oxc's read follows.
//!
//! Classic scripts keep their top-level names (other scripts use them as globals);
//! modules get top-level mangling. Licence comments (`/*!`, `@license`,
//! `@preserve`) are kept at the top of the output.

use swc_core::common::comments::{Comment, Comments, SingleThreadedComments};
use swc_core::common::sync::Lrc;
use swc_core::common::{
    BytePos, FileName, Globals, Mark, SourceFile, SourceMap, Span, Spanned, GLOBALS,
};
use swc_core::ecma::ast::*;
use swc_core::ecma::codegen::text_writer::{omit_trailing_semi, JsWriter};
use swc_core::ecma::codegen::{Config as CodegenConfig, Emitter};
use swc_core::ecma::minifier::optimize;
use swc_core::ecma::minifier::option::{
    CompressOptions, ExtraOptions, MangleOptions, MinifyOptions, TopLevelOptions,
};
use swc_core::ecma::parser::{parse_file_as_module, parse_file_as_script, EsSyntax, Syntax};
use swc_core::ecma::transforms::base::fixer::{fixer, paren_remover};
use swc_core::ecma::transforms::base::resolver;
use swc_core::ecma::visit::{Visit, VisitMut, VisitMutWith, VisitWith};

use super::js_refs::RefVisitor;
use super::refs::{Placeholders, RawRef};

/// Whether a JS file is an ES module or a classic script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsKind {
    /// ES module: imports/exports allowed, top-level names private (mangled).
    Module,
    /// Classic script: top-level names are globals (kept).
    Script,
}

/// A JS syntax error (the parser's message, where).
pub use super::kinds::SourceErr as SyntaxErr;

/// What a scan finds: whether the file uses module syntax, and its references.
#[derive(Debug, Clone, Default)]
pub struct JsScan {
    /// `import`/`export` declarations or `import.meta` present.
    pub esm_syntax: bool,
    /// References found (imports, workers, `new URL`, `importScripts`).
    pub refs: Vec<RawRef>,
}

/// Finds a file's references and whether it uses module syntax, without minifying.
pub fn scan(src: &str, name: &str) -> Result<JsScan, SyntaxErr> {
    if let Some((line, col, msg)) = super::depth::check(src, super::depth::JS_LIMIT, true) {
        return Err(SyntaxErr { line, col, msg });
    }
    GLOBALS.set(&Globals::new(), || {
        let cm: Lrc<SourceMap> = Default::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Custom(name.into())), src.to_string());
        let (mut program, _) = parse_any(&cm, &fm, None, None)?;
        let mut ph = Placeholders::for_content(src.as_bytes());
        let mut v = RefVisitor::new(&cm, &mut ph, false);
        program.visit_mut_with(&mut v);
        let esm_syntax = v.esm;
        Ok(JsScan {
            esm_syntax,
            refs: ph.into_refs(),
        })
    })
}

/// Minifies `src`, replacing local references by placeholders from `ph`.
pub fn minify(
    src: &str,
    name: &str,
    kind: JsKind,
    ph: &mut Placeholders,
) -> Result<String, SyntaxErr> {
    minify_as(src, name, Some(kind), Effort::Full, ph).map(|(code, _)| code)
}

/// Minifies `src` as a module when it uses module syntax and as a classic script
/// otherwise (one parse for modules); returns the kind it used.
pub fn minify_auto(
    src: &str,
    name: &str,
    ph: &mut Placeholders,
) -> Result<(String, JsKind), SyntaxErr> {
    minify_as(src, name, None, Effort::Full, ph)
}

/// How much compressing a file gets: with oxc (`oxc.rs`), how many times its peephole
/// rules run; where swc minifies it, which of swc's passes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Compressed (dead code dropped, names inlined, expressions folded) and mangled;
    /// oxc's rules run twice.
    Full,
    /// Mangled, and compressed with oxc's rules run once, or without swc's passes that
    /// follow each name's uses through the program (inlining, collapsing, dropping what
    /// is unused, evaluating): for
    /// files minified already but with their names and statements as written
    /// (emscripten's output, bundles built without a mangler; see
    /// `kinds::looks_minified`). They shrink by renaming and by joining statements
    /// (draco's decoder by 10 %, basis' transcoder by half, below esbuild's output); the
    /// full compressor took twice the time for 1.5 % more on their asm.js.
    Light,
}

impl Effort {
    /// The compressor's options, before the module and pass settings.
    fn compress_options(self) -> CompressOptions {
        match self {
            Effort::Full => CompressOptions::default(),
            // Without the passes that follow each name's uses through the program.
            Effort::Light => CompressOptions {
                reduce_vars: false,
                collapse_vars: false,
                inline: 0,
                unused: false,
                hoist_props: false,
                reduce_fns: false,
                evaluate: false,
                side_effects: false,
                dead_code: false,
                ..Default::default()
            },
        }
    }
}

/// [`minify`] (`want` given) or [`minify_auto`] with the given effort.
pub fn minify_as(
    src: &str,
    name: &str,
    want: Option<JsKind>,
    effort: Effort,
    ph: &mut Placeholders,
) -> Result<(String, JsKind), SyntaxErr> {
    // Data (a search index, a table) is minified without swc's tree: it has no module
    // syntax, no references and nothing for the compressor (see `js_data`).
    if let Some(code) = super::js_data::minify(src) {
        return Ok((code, want.unwrap_or(JsKind::Script)));
    }
    let shape = super::depth::shape(src, super::depth::JS_LIMIT, true)
        .map_err(|(line, col, msg)| SyntaxErr { line, col, msg })?;
    if oxc::suits(shape) {
        let saved = ph.clone();
        if let Some(done) = oxc::minify(src, want, effort, ph, shape) {
            return Ok(done);
        }
        // swc registers the references again.
        *ph = saved;
    }
    swc_minify(src, name, want, effort, ph)
}

/// [`minify_as`] without the data shortcut and by swc (tests compare the two minifiers).
#[cfg(test)]
pub(super) fn minify_with_swc(
    src: &str,
    name: &str,
    want: Option<JsKind>,
    effort: Effort,
    ph: &mut Placeholders,
) -> Result<(String, JsKind), SyntaxErr> {
    if let Some((line, col, msg)) = super::depth::check(src, super::depth::JS_LIMIT, true) {
        return Err(SyntaxErr { line, col, msg });
    }
    swc_minify(src, name, want, effort, ph)
}

/// [`minify_with_swc`] of a text whose nesting was checked already.
fn swc_minify(
    src: &str,
    name: &str,
    want: Option<JsKind>,
    effort: Effort,
    ph: &mut Placeholders,
) -> Result<(String, JsKind), SyntaxErr> {
    GLOBALS.set(&Globals::new(), || {
        let cm: Lrc<SourceMap> = Default::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Custom(name.into())), src.to_string());
        let mut comments = SingleThreadedComments::default();
        let (mut program, mut parsed_as) = parse_any(&cm, &fm, Some(&comments), want)?;
        let esm = {
            let mut v = RefVisitor::new(&cm, ph, true);
            program.visit_mut_with(&mut v);
            v.esm
        };
        let kind = match want {
            Some(k) => k,
            None if esm => JsKind::Module,
            None => {
                // No module syntax: a classic script, minified with sloppy-mode
                // semantics. The module parse's tree is the script's tree unless the
                // goals read the text differently; only then parse it again.
                if parsed_as == JsKind::Module {
                    if let Some(script) = as_script(&mut program) {
                        program = script;
                        parsed_as = JsKind::Script;
                    } else {
                        let script_comments = SingleThreadedComments::default();
                        if let Ok((mut p, JsKind::Script)) =
                            parse_any(&cm, &fm, Some(&script_comments), Some(JsKind::Script))
                        {
                            let mut v = RefVisitor::new(&cm, ph, true);
                            p.visit_mut_with(&mut v);
                            program = p;
                            parsed_as = JsKind::Script;
                            comments = script_comments;
                        }
                    }
                }
                JsKind::Script
            }
        };
        let module = parsed_as == JsKind::Module;
        let licences = licence_comments(&comments);
        let unresolved_mark = Mark::new();
        let top_level_mark = Mark::new();
        // Before the parentheses go: `('x')` is no directive.
        program.visit_mut_with(&mut swc_fixes::StrayDirectives);
        let program = program.apply(paren_remover(None)).apply(resolver(
            unresolved_mark,
            top_level_mark,
            false,
        ));
        // Classic scripts must keep their top-level names: other scripts use them.
        let top_level_private = module && kind == JsKind::Module;
        let reserved = if top_level_private {
            Vec::new()
        } else {
            globals::declared_globals(&program)
        };
        let mut program = program;
        if !top_level_private {
            globals::spell_out_globals(&mut program, &reserved);
        }
        let options = MinifyOptions {
            // Without the passes found to miscompile (`swc_fixes.rs`).
            compress: Some(swc_fixes::compress_options(
                CompressOptions {
                    module: top_level_private,
                    top_level: top_level_private.then_some(TopLevelOptions { functions: true }),
                    // One compress pass: measured on the bench corpus, a second pass costs
                    // ~20 % more CPU for 0.06 % smaller JS.
                    passes: 1,
                    // `typeof f` of a function or class declared at the top of a classic
                    // script is not known to stay "function": another script may assign it.
                    typeofs: top_level_private,
                    ..effort.compress_options()
                },
                !top_level_private,
            )),
            mangle: Some(MangleOptions {
                top_level: Some(top_level_private),
                reserved,
                ..Default::default()
            }),
            ..Default::default()
        };
        let extra = ExtraOptions {
            unresolved_mark,
            top_level_mark,
            mangle_name_cache: None,
        };
        // A script without functions or classes is data (search indexes, tables): the
        // compressor has nothing to inline or drop there and took seconds on a few
        // megabytes. It is printed minified, identifier-like keys unquoted.
        let mut program = if is_data(&program) {
            let mut program = program;
            program.visit_mut_with(&mut UnquoteKeys);
            program
        } else {
            optimize(program, cm.clone(), None, None, &options, &extra)
        };
        if let Program::Module(m) = &mut program {
            join_exported_vars(&mut m.body);
        }
        if !top_level_private {
            globals::shorthand_patterns(&mut program);
        }
        let program = program.apply(fixer(None));
        let mut buf = Vec::with_capacity(src.len() / 2);
        {
            let wr = JsWriter::new(cm.clone(), "\n", &mut buf, None);
            let mut emitter = Emitter {
                // `</script`, `<!--` and `-->` escaped wherever they occur (strings,
                // templates, regular expressions, code), as esbuild does: the same code
                // may be inlined in a page, where they would end or re-open the element.
                cfg: CodegenConfig::default()
                    .with_minify(true)
                    .with_omit_last_semi(true)
                    .with_inline_script(true),
                cm: cm.clone(),
                comments: None,
                wr: omit_trailing_semi(wr),
            };
            emitter.emit_program(&program).map_err(|e| SyntaxErr {
                line: 1,
                col: 1,
                msg: format!("could not write minified output: {e}"),
            })?;
        }
        let code = String::from_utf8(buf).map_err(|_| SyntaxErr {
            line: 1,
            col: 1,
            msg: "minifier produced invalid UTF-8".into(),
        })?;
        Ok((with_licences(&licences, code), kind))
    })
}

/// `code` opened by its licence comments, after its `#!` line if it has one (a comment
/// before it is a syntax error).
fn with_licences(licences: &str, code: String) -> String {
    if licences.is_empty() {
        return code;
    }
    match code.strip_prefix("#!") {
        Some(rest) => {
            let line = rest.find('\n').map_or(code.len(), |n| n + 3);
            let (hashbang, body) = code.split_at(line);
            let sep = if hashbang.ends_with('\n') { "" } else { "\n" };
            format!("{hashbang}{sep}{licences}{body}")
        }
        None => format!("{licences}{code}"),
    }
}

/// Joins consecutive `export const`/`let`/`var` declarations of one kind into one, as
/// esbuild does (`export const a=1,b=2`): the compressor joins plain declarations only.
/// The same bindings, initialised in the same order.
fn join_exported_vars(body: &mut Vec<ModuleItem>) {
    fn exported_var(item: &mut ModuleItem) -> Option<&mut VarDecl> {
        match item {
            ModuleItem::ModuleDecl(ModuleDecl::ExportDecl(ExportDecl {
                decl: Decl::Var(v),
                ..
            })) if !v.declare => Some(v),
            _ => None,
        }
    }
    let mut out: Vec<ModuleItem> = Vec::with_capacity(body.len());
    for mut item in std::mem::take(body) {
        if let (Some(last), Some(v)) = (
            out.last_mut().and_then(exported_var),
            exported_var(&mut item),
        ) {
            if last.kind == v.kind {
                last.decls.append(&mut v.decls);
                continue;
            }
        }
        out.push(item);
    }
    *body = out;
}

/// The script a module without module syntax is, when both goals read `src` alike.
/// Only a top-level `await` parses in a module and means something else (or nothing) in
/// a script; every other difference makes the module parse fail: sloppy-only syntax,
/// `await`/`yield`/`let` or reserved words as names, legacy octals, and HTML-like
/// comments (`<!--`, `-->`), which swc refuses in a module. So a module that parsed has
/// the script's tree, and minified as a `Script` it gets sloppy-mode semantics (a
/// function declared in a block is visible after it). The caller keeps the comments.
fn as_script(program: &mut Program) -> Option<Program> {
    let Program::Module(m) = program else {
        return None;
    };
    if has_top_level_await(m) || !m.body.iter().all(|i| matches!(i, ModuleItem::Stmt(_))) {
        return None;
    }
    let body = std::mem::take(&mut m.body)
        .into_iter()
        .filter_map(|i| i.stmt())
        .collect();
    Some(Program::Script(Script {
        span: m.span,
        body,
        shebang: m.shebang.take(),
    }))
}

/// `await` or `for await` outside any function: legal in a module only.
fn has_top_level_await(m: &Module) -> bool {
    struct Finder(bool);
    impl Visit for Finder {
        // A function's own `await`s are its own; a class's computed keys and
        // `extends` are evaluated where the class is, so classes are searched.
        fn visit_function(&mut self, _: &Function) {}
        fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}
        fn visit_await_expr(&mut self, _: &AwaitExpr) {
            self.0 = true;
        }
        fn visit_for_of_stmt(&mut self, n: &ForOfStmt) {
            self.0 |= n.is_await;
            n.visit_children_with(self);
        }
    }
    let mut f = Finder(false);
    m.visit_with(&mut f);
    f.0
}

/// True when the program has no function, class or `with`: nothing for the compressor.
fn is_data(program: &Program) -> bool {
    struct Code(bool);
    impl Visit for Code {
        fn visit_function(&mut self, _: &Function) {
            self.0 = true;
        }
        fn visit_arrow_expr(&mut self, _: &ArrowExpr) {
            self.0 = true;
        }
        fn visit_class(&mut self, _: &Class) {
            self.0 = true;
        }
        fn visit_with_stmt(&mut self, _: &WithStmt) {
            self.0 = true;
        }
        fn visit_getter_prop(&mut self, _: &GetterProp) {
            self.0 = true;
        }
        fn visit_setter_prop(&mut self, _: &SetterProp) {
            self.0 = true;
        }
    }
    let mut v = Code(false);
    program.visit_with(&mut v);
    !v.0
}

/// `{"key": 1}` → `{key: 1}` where the key is an identifier name (same property).
struct UnquoteKeys;

impl VisitMut for UnquoteKeys {
    fn visit_mut_prop_name(&mut self, n: &mut PropName) {
        if let PropName::Str(s) = n {
            if let Some(a) = s.value.as_atom() {
                if super::js_data::is_identifier_name(a) {
                    *n = PropName::Ident(IdentName::new(a.clone(), s.span));
                } else if let Some(v) = canonical_index(a) {
                    // `"3"` and `3` name the same property when 3 prints back as "3".
                    *n = PropName::Num(Number {
                        span: s.span,
                        value: v as f64,
                        raw: None,
                    });
                }
            }
        }
    }
}

pub(super) fn canonical_index(s: &str) -> Option<u64> {
    let ok = !s.is_empty()
        && s.len() <= 15
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

/// For files copied as they are (`*.min.js`): the byte spans of local references
/// in `src`, with their replacement (placeholder) text, in source order.
pub fn reference_spans(
    src: &str,
    name: &str,
    ph: &mut Placeholders,
) -> Result<Vec<(usize, usize, String)>, SyntaxErr> {
    if let Some((line, col, msg)) = super::depth::check(src, super::depth::JS_LIMIT, true) {
        return Err(SyntaxErr { line, col, msg });
    }
    GLOBALS.set(&Globals::new(), || {
        let cm: Lrc<SourceMap> = Default::default();
        let fm = cm.new_source_file(Lrc::new(FileName::Custom(name.into())), src.to_string());
        let start = fm.start_pos;
        let (mut program, _) = parse_any(&cm, &fm, None, None)?;
        let mut v = RefVisitor::new(&cm, ph, false);
        program.visit_mut_with(&mut v);
        let mut spans: Vec<(usize, usize, String)> = v
            .found
            .into_iter()
            .map(|(span, text)| {
                let at = |p: BytePos| (p - start).0 as usize;
                (at(span.lo), at(span.hi), text)
            })
            .collect();
        spans.sort_by_key(|s| s.0);
        Ok(spans)
    })
}

fn parse_any(
    cm: &Lrc<SourceMap>,
    fm: &Lrc<SourceFile>,
    comments: Option<&dyn Comments>,
    want: Option<JsKind>,
) -> Result<(Program, JsKind), SyntaxErr> {
    let syntax = Syntax::Es(EsSyntax {
        import_attributes: true,
        ..Default::default()
    });
    let target = EsVersion::latest();
    let try_module = |comments: Option<&dyn Comments>| {
        let mut errors = vec![];
        let r = parse_file_as_module(fm, syntax, target, comments, &mut errors);
        match (r, errors.into_iter().next()) {
            (Ok(m), None) => Ok(Program::Module(m)),
            (Ok(_), Some(e)) | (Err(e), _) => {
                Err(to_err(cm, e.span(), e.kind().msg().into_owned()))
            }
        }
    };
    let try_script = |comments: Option<&dyn Comments>| {
        let mut errors = vec![];
        let r = parse_file_as_script(fm, syntax, target, comments, &mut errors);
        match (r, errors.into_iter().next()) {
            (Ok(s), None) => Ok(Program::Script(s)),
            (Ok(_), Some(e)) | (Err(e), _) => {
                Err(to_err(cm, e.span(), e.kind().msg().into_owned()))
            }
        }
    };
    match want {
        Some(JsKind::Script) => match try_script(comments) {
            Ok(p) => Ok((p, JsKind::Script)),
            // Top-level await or module syntax in a file used as a script: parse it as a
            // module but keep its top-level names (the caller asked for a script).
            Err(e) => try_module(comments)
                .map(|p| (p, JsKind::Module))
                .map_err(|e2| further(e, e2)),
        },
        _ => match try_module(comments) {
            Ok(p) => Ok((p, JsKind::Module)),
            Err(e) => try_script(comments)
                .map(|p| (p, JsKind::Script))
                .map_err(|e2| further(e, e2)),
        },
    }
}

/// Of two parse errors (module and script goal), the one that got further into the
/// file is the one that describes the real mistake.
fn further(a: SyntaxErr, b: SyntaxErr) -> SyntaxErr {
    if (b.line, b.col) > (a.line, a.col) {
        b
    } else {
        a
    }
}

fn to_err(cm: &Lrc<SourceMap>, span: Span, msg: String) -> SyntaxErr {
    let loc = cm.lookup_char_pos(span.lo);
    SyntaxErr {
        line: loc.line,
        col: loc.col_display + 1,
        msg,
    }
}

fn is_licence(c: &Comment) -> bool {
    is_licence_text(&c.text)
}

/// Whether a comment's text (without its delimiters) is a licence: `/*!`, `//!`,
/// `@license`, `@preserve`.
fn is_licence_text(text: &str) -> bool {
    text.starts_with('!') || text.contains("@license") || text.contains("@preserve")
}

fn licence_comments(comments: &SingleThreadedComments) -> String {
    let (leading, trailing) = comments.borrow_all();
    let mut all: Vec<(BytePos, String)> = Vec::new();
    for map in [&*leading, &*trailing] {
        for (pos, list) in map.iter() {
            for c in list.iter().filter(|c| is_licence(c)) {
                all.push((*pos, format!("/*{}*/\n", c.text.replace("*/", "* /"))));
            }
        }
    }
    all.sort();
    all.dedup_by(|a, b| a.1 == b.1);
    all.into_iter().map(|(_, s)| s).collect()
}

mod globals;
mod oxc;
mod oxc_read;
mod risk;
mod swc_fixes;
#[cfg(test)]
mod tests;
