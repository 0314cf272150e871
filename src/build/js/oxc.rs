//! The minifier proper: oxc's compressor, mangler and printer.
//!
//! oxc parses each file once: on its tree `oxc_read.rs` finds the references (replaced
//! by placeholders in place), the licence comments and a classic script's global names,
//! and in the same walk `risk.rs` what its compressor may fold wrong; the same tree is
//! then compressed, mangled and printed. What it would fold wrong is hidden from the
//! compressor where that can be done (since session 41): names are made unknown to it
//! ([`unknown_to_the_compressor`]) and text that is not ASCII stands behind calls it
//! cannot evaluate, put back once printed ([`with_texts`]). On the bench's ES-module site its compressor
//! did in 1.4 s of one core what swc's did in 4.5 s, and its output was 1 % smaller
//! than esbuild's where swc's was 0.8 % smaller. Until session 35, swc parsed every file
//! first for those reads (with the dropping of its tree, about a quarter of the
//! ES-module build's CPU).
//!
//! Whatever oxc cannot do the way sitevault needs is minified with swc as before: text
//! oxc will not parse (swc then reports the syntax errors users see); output holding `<!--` or `</script`, which swc escapes (the code
//! may be inlined in a page, where they would open an escaped run of the script's text or
//! end the script) and oxc's printer does not everywhere; trees it walks superlinearly
//! ([`suits`]); code its compressor was found to fold wrong that cannot be hidden from it
//! (`risk.rs`); and a panic.

use oxc_allocator::{Allocator, Vec as ArenaVec};
use oxc_ast::ast::{Declaration, Statement, VariableDeclaration};
use oxc_codegen::{Codegen, CodegenOptions, CommentOptions};
use oxc_mangler::Mangler;
use oxc_minifier::{CompressOptions, Compressor, MangleOptions};
use oxc_parser::Parser;
use oxc_semantic::{Scoping, SemanticBuilder, Stats};
use oxc_span::SourceType;
use oxc_syntax::node::NodeId;
use oxc_syntax::reference::{Reference, ReferenceFlags};
use oxc_syntax::symbol::{SymbolFlags, SymbolId};

use std::panic::AssertUnwindSafe;

use oxc_ast_visit::VisitMut;

use super::{oxc_read, risk, Effort, JsKind};
use crate::build::depth::Shape;
use crate::build::refs::Placeholders;

/// Whether oxc's compressor keeps time and memory near-linear on a file of this shape.
/// It walks a chain again at each of its links, and a conditional nested in a branch
/// costs memory by the square of the nesting. Measured on one core (oxc 0.146, one
/// pass), for one chain: 8,000 links of `a&&` 1.1 s (4,000: 0.24 s); 10,000 `else if`s
/// 3.0 s, 20,000 of them 22 s. For 1 MB files of repeated statements: `a?b:` chains of
/// 250 links 2.6 s and 1.5 GB (swc: 16.9 s, 114 MB), of 50 links 0.8 s and 405 MB
/// (swc: 1.7 s, 110 MB), of 8 links 0.3 s and 159 MB; `a&&` chains of 250 links 2.3 s
/// (swc: 5.6 s). swc is no faster on chains, but its memory stays flat and it reads
/// `else if` chains in a loop, so past these bounds a file is swc's. The bench's sites
/// and 81 MB of npm packages have two files past them (ace's `mode-objectivec.js`).
pub(super) fn suits(shape: Shape) -> bool {
    shape.longest_chain <= 1000 && shape.longest_conditional <= 32 && shape.longest_else_if <= 500
}

/// `src` minified by oxc as `want` (a module when it uses module syntax, if `None`) with
/// `effort`, its references registered in `ph` and replaced by placeholders, and the kind
/// it was minified as; `None` when oxc cannot read or print it as sitevault needs, or may fold
/// it wrong (`risk.rs`). `ph` is then left as it was part-way: the caller restores it.
/// `shape`: the file's pre-scan, whose count of names sizes oxc's tables, or
/// `Shape::default()` to let oxc count them itself.
pub(super) fn minify(
    src: &str,
    want: Option<JsKind>,
    effort: Effort,
    ph: &mut Placeholders,
    shape: Shape,
) -> Option<(String, JsKind)> {
    // oxc's printer panicked on a lone surrogate its compressor had folded (0.146; such
    // strings are swc's now, `risk.rs`): whatever else panics in oxc is swc's too.
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        minify_unguarded(src, want, effort, ph, shape)
    }))
    .ok()
    .flatten()
}

fn minify_unguarded(
    src: &str,
    want: Option<JsKind>,
    effort: Effort,
    ph: &mut Placeholders,
    shape: Shape,
) -> Option<(String, JsKind)> {
    let alloc = Allocator::default();
    // A file of no given kind is a module when it uses module syntax and a classic
    // script otherwise, read once either way. What oxc does not parse is swc's, which
    // reports the syntax errors users see. A script the script goal refuses (a top-level
    // `await`) is swc's too: oxc's compressor drops a module's unused top-level names
    // even where the mangler keeps them.
    let source_type = match want {
        Some(JsKind::Module) => SourceType::mjs(),
        Some(JsKind::Script) => SourceType::script(),
        None => SourceType::unambiguous(),
    };
    let ret = Parser::new(&alloc, src, source_type).parse();
    if ret.panicked || !ret.diagnostics.is_empty() {
        return None;
    }
    let mut program = ret.program;
    let module = program.source_type.is_module();
    let kind = want.unwrap_or(if module {
        JsKind::Module
    } else {
        JsKind::Script
    });
    // Minified as a classic script (top-level names kept): all but a module read as one.
    let script = !(kind == JsKind::Module && module);
    // oxc's parser leaves some early errors to its semantic checker (a label declared
    // twice, `let x; let x`); a file it finds one in is swc's, which reports it.
    // The analysis reserves room for the declarations, references and scopes it will
    // find; without counts given, it counts them first in a walk of its own (a fifth of
    // its time on emscripten's glue). The pre-scan's count of names bounds the first two.
    let mut builder = SemanticBuilder::new().with_check_syntax_error(true);
    if let Ok(words) = u32::try_from(shape.words) {
        if words > 0 {
            builder = builder.with_stats(Stats::new(0, words / 8 + 16, words, words));
        }
    }
    let checked = builder.build(&program);
    if !checked.diagnostics.is_empty() {
        return None;
    }
    let mut stats = checked.semantic.stats();
    let mut scoping = checked.semantic.into_scoping();
    let reserved = if script {
        oxc_read::declared_globals(&program)
    } else {
        Vec::new()
    };
    let licences = oxc_read::licence_comments(src, &program);
    // One walk finds the references (replaced in place) and what the compressor may fold
    // wrong (read before any replacement): what makes the file swc's, and the names it
    // must not know the values of.
    let risk = risk::Risk::new(&scoping);
    let mut refs = oxc_read::Refs::new(src, &alloc, ph, risk);
    refs.visit_program(&mut program);
    let texts = std::mem::take(&mut refs.texts);
    let Ok(mut opaque) = refs.risk.finish() else {
        return None;
    };
    if want.is_none() && refs.esm != module {
        return None;
    }
    if refs.replaced {
        // An `import()` of a computed specifier became a string: the names it read are
        // gone from the tree, and the compressor must not count them. The declarations
        // are the same, numbered in the same order (checked: the names made opaque).
        let spans: Vec<_> = opaque.iter().map(|&id| scoping.symbol_span(id)).collect();
        let semantic = SemanticBuilder::new().build(&program).semantic;
        stats = semantic.stats();
        scoping = semantic.into_scoping();
        let same = opaque.iter().zip(&spans).all(|(&id, &span)| {
            id.index() < scoping.symbols_len() && scoping.symbol_span(id) == span
        });
        if !same {
            return None;
        }
    }
    if script {
        opaque.extend(top_level_lets(&scoping));
    }
    unknown_to_the_compressor(&mut scoping, opaque);
    // As `oxc_minifier::Minifier::minify` does, with the semantic built above. The
    // peephole rules run at most twice (`max_iterations: 1` stops after the first repeat)
    // instead of until nothing changes: on the bench's ES-module and npm sites, 15–20 %
    // less time for 0.02 % more bytes. Once alone wrote 1.15 % more on the ES-module site,
    // but on files minified already (`Effort::Light`: emscripten's glue) 0.03 % more for
    // 35–40 % less of the compressor's time, where those files are half the site's JS time.
    let max_iterations = match effort {
        Effort::Full => 1,
        Effort::Light => 0,
    };
    Compressor::new(&alloc).build_with_scoping(
        &mut program,
        scoping,
        CompressOptions {
            max_iterations: Some(max_iterations),
            ..CompressOptions::smallest()
        },
    );
    let mut semantic = SemanticBuilder::new()
        .with_build_nodes(true)
        .with_class_table(true)
        .with_stats(stats)
        .build(&program)
        .semantic;
    Mangler::default()
        .with_options(MangleOptions {
            top_level: Some(!script),
            reserved: reserved.iter().map(|s| s.as_str().into()).collect(),
            ..MangleOptions::default()
        })
        .build_with_semantic(&mut semantic, &program);
    let scoping = semantic.into_scoping();
    join_exported_vars(&alloc, &mut program.body);
    let code = Codegen::new()
        .with_options(CodegenOptions {
            minify: true,
            comments: CommentOptions::disabled(),
            ..CodegenOptions::default()
        })
        .with_scoping(Some(scoping))
        .build(&program)
        .code;
    let code = with_texts(code, src, &texts, &program)?;
    let closes_script = code
        .as_bytes()
        .windows(8)
        .any(|w| w.eq_ignore_ascii_case(b"</script"));
    (!code.contains("<!--") && !closes_script && !line_opens_with_close_comment(&code))
        .then(|| (super::with_licences(&licences, code), kind))
}

/// Tells the compressor that each of `names` is assigned somewhere it cannot see, so
/// that it neither inlines nor folds their values: those it would fold wrong (`risk.rs`)
/// and a classic script's top-level `let`s ([`top_level_lets`]). A write reference with
/// no node in the tree does it for every pass: the compressor only prunes references of
/// nodes it drops, so this one stays (its docs: an extra reference costs optimisations,
/// never correctness), and one it cannot place keeps its name alive. (oxc's debug-only
/// check that every reference has a node is off in the test profile for this:
/// `Cargo.toml`.) The mangler reads a semantic built afresh. Until session 41 each of
/// these made the file swc's: three.js' `three.cjs` (1.3 MB, the npm site's slowest
/// file), lodash, ten of three.js' addons.
fn unknown_to_the_compressor(scoping: &mut Scoping, mut names: Vec<SymbolId>) {
    names.sort_unstable();
    names.dedup();
    let root = scoping.root_scope_id();
    for id in names {
        let write = Reference::new_with_symbol_id(NodeId::DUMMY, id, root, ReferenceFlags::Write);
        let reference = scoping.create_reference(write);
        scoping.add_resolved_reference(id, reference);
    }
}

/// A classic script's top-level `let`s, which other scripts of the page may assign. oxc
/// 0.146 inlined such a `let` the file never assigns into its functions (`let flag =
/// false; function f() { return flag }` became `return!1`), and one whose only writes
/// are in code it drops as dead (`if (false) flag = true`).
fn top_level_lets(scoping: &Scoping) -> Vec<SymbolId> {
    scoping
        .get_bindings(scoping.root_scope_id())
        .values()
        .copied()
        .filter(|&id| {
            let flags = scoping.symbol_flags(id);
            flags.contains(SymbolFlags::BlockScopedVariable)
                && !flags.contains(SymbolFlags::ConstVariable)
        })
        .collect()
}

/// `code`, printed from `program`, with each stand-in `oxc_read::Refs` put in the place
/// of a text that is not ASCII replaced by the text as written in `src` at `texts`;
/// `None` (the file is swc's) if the code holds the stand-ins' text other than where
/// `program` has stand-ins (the compressor can make it from strings: session 41's
/// review), or one is printed other than as the call it was made.
fn with_texts(
    code: String,
    src: &str,
    texts: &[std::ops::Range<usize>],
    program: &oxc_ast::ast::Program,
) -> Option<String> {
    if texts.is_empty() {
        return Some(code);
    }
    let printed: Vec<usize> =
        memchr::memmem::find_iter(code.as_bytes(), oxc_read::TEXT.as_bytes()).collect();
    let mut stand_ins = StandIns(0);
    oxc_ast_visit::Visit::visit_program(&mut stand_ins, program);
    if printed.len() != stand_ins.0 {
        return None;
    }
    let mut out = String::with_capacity(code.len() + texts.iter().map(|t| t.len()).sum::<usize>());
    let mut last = 0;
    for at in printed {
        let number = at + oxc_read::TEXT.len();
        let digits = code[number..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let n: usize = code[number..number + digits].parse().ok()?;
        let end = number + digits;
        if !code[end..].starts_with("()") {
            return None;
        }
        out.push_str(&code[last..at]);
        out.push_str(src.get(texts.get(n)?.clone())?);
        last = end + 2;
    }
    out.push_str(&code[last..]);
    Some(out)
}

/// Counts the calls of stand-ins for text in a tree (`oxc_read::TEXT`).
struct StandIns(usize);

impl<'a> oxc_ast_visit::Visit<'a> for StandIns {
    fn visit_call_expression(&mut self, c: &oxc_ast::ast::CallExpression<'a>) {
        if matches!(&c.callee, oxc_ast::ast::Expression::Identifier(i) if i.name.starts_with(oxc_read::TEXT))
        {
            self.0 += 1;
        }
        oxc_ast_visit::walk::walk_call_expression(self, c);
    }
}

/// Whether `-->` opens a line of `code` (after spaces), where a script reads it as a
/// comment. Elsewhere it is left as printed (`i-->0` for `i-- > 0`): in a page it only
/// closes a run a `<!--` opened, which the output never holds. Refusing every `-->` sent
/// one JS file in ten of the bench's npm corpus to swc.
fn line_opens_with_close_comment(code: &str) -> bool {
    memchr::memmem::find_iter(code.as_bytes(), b"-->").any(|at| {
        let before = code[..at].trim_end_matches([' ', '\t']);
        before.is_empty() || before.ends_with(['\n', '\r', '\u{2028}', '\u{2029}'])
    })
}

/// Joins consecutive `export const`/`let`/`var` declarations of one kind into one, as
/// esbuild does (`export const a=1,b=2`): the compressor joins plain declarations only.
/// The same bindings, initialised in the same order.
fn join_exported_vars<'a>(alloc: &'a Allocator, body: &mut ArenaVec<'a, Statement<'a>>) {
    fn exported_var<'b, 'a>(s: &'b mut Statement<'a>) -> Option<&'b mut VariableDeclaration<'a>> {
        match s {
            Statement::ExportDeclaration(e) => match &mut e.declaration {
                Declaration::VariableDeclaration(v) if !v.declare => Some(v),
                _ => None,
            },
            _ => None,
        }
    }
    let statements = std::mem::replace(body, ArenaVec::new_in(&alloc));
    for mut statement in statements {
        if let (Some(last), Some(v)) = (
            body.last_mut().and_then(exported_var),
            exported_var(&mut statement),
        ) {
            if last.kind == v.kind {
                last.declarations.extend(v.declarations.drain(..));
                continue;
            }
        }
        body.push(statement);
    }
}
