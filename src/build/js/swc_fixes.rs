//! What swc's compressor (swc_ecma_minifier 64) was found to get wrong, and how the
//! build keeps it from doing so. swc minifies what oxc does not take (`risk.rs`): a
//! classic script with a top-level `let`, code oxc may fold wrong, text oxc will not
//! parse. Session 40's review ran about 1,400 generated and hand-written programs
//! through the build and node, original against minified:
//! - a global's assignment was merged into the compound assignment after it,
//!   `g = 5; g += f()` into `g = 5 + f()`, so `f` read the old `g` (the `sequences` and
//!   `collapse_vars` passes, each alone; only for a classic script's globals, which swc
//!   cannot follow into the functions that read them): both off for classic scripts
//!   ([`compress_options`]);
//! - a `switch` lost its fall-through from `default` into the cases after it, when its
//!   value was a constant, and (passes of `Effort::Light`) a `switch` whose `default`
//!   shares a body with a `case` became a block that kept its `break` (a syntax error
//!   outside a loop; inside one, the loop ended): the `switches` pass, off;
//! - a string statement after the start of a body became its directive once the
//!   statements before it were dropped (`var unused; 'use strict'` made the function
//!   strict): such statements do nothing and are removed first ([`StrayDirectives`]).
//!
//! Left as they are (none seen in real code): a function declared in a bare block is
//! hoisted out of it (`typeof f` before the block reads "function", not "undefined");
//! comparisons of an array literal with a string folded to false; unused expressions
//! whose `valueOf`, getter or thrown error is the point dropped; temporal-dead-zone
//! errors not thrown; `x ** y` of number literals folded with a correctly rounded power,
//! which V8's is not always (`10 ** -4`: 0.00009999999999999999 in node; oxc does the
//! same).

use swc_core::ecma::ast::*;
use swc_core::ecma::minifier::option::CompressOptions;
use swc_core::ecma::visit::{VisitMut, VisitMutWith};

/// `options` without the passes found wrong above; `classic`: the file is a classic
/// script (its top-level names are globals).
pub(super) fn compress_options(options: CompressOptions, classic: bool) -> CompressOptions {
    CompressOptions {
        switches: false,
        sequences: if classic { 0 } else { options.sequences },
        collapse_vars: options.collapse_vars && !classic,
        ..options
    }
}

/// Removes each statement that is only a string literal outside a directive prologue
/// (after a body's first other statement, or in a block), and each that is one in
/// parentheses (never a directive): it does nothing there, and swc's compressor made it
/// a directive when it dropped the statements before it, or dropped the parentheses
/// (`('x'); 'use strict'` became strict: session 41's review). Run before swc's
/// `paren_remover`.
pub(super) struct StrayDirectives;

/// Whether `s` is a string literal alone (`Some(true)`: a directive where a prologue may
/// be) or in parentheses (`Some(false)`).
fn string_statement(s: &Stmt) -> Option<bool> {
    let Stmt::Expr(e) = s else {
        return None;
    };
    let mut e = &*e.expr;
    let mut bare = true;
    while let Expr::Paren(p) = e {
        e = &p.expr;
        bare = false;
    }
    matches!(e, Expr::Lit(Lit::Str(_))).then_some(bare)
}

/// Keeps `items`' prologue (its first statements that are a string alone, where it has
/// one) and no other string statement.
fn strip<T>(items: &mut Vec<T>, prologue: bool, string: impl Fn(&T) -> Option<bool>) {
    let keep = if prologue {
        items.iter().take_while(|i| string(i) == Some(true)).count()
    } else {
        0
    };
    let mut at = 0;
    items.retain(|i| {
        at += 1;
        at <= keep || string(i).is_none()
    });
}

impl VisitMut for StrayDirectives {
    fn visit_mut_script(&mut self, s: &mut Script) {
        s.visit_mut_children_with(self);
        strip(&mut s.body, true, string_statement);
    }

    fn visit_mut_module(&mut self, m: &mut Module) {
        m.visit_mut_children_with(self);
        strip(&mut m.body, true, |i| match i {
            ModuleItem::Stmt(s) => string_statement(s),
            _ => None,
        });
    }

    // Every function's body: a function's, an arrow's, a method's, a constructor's.
    fn visit_mut_function_body(&mut self, b: &mut FunctionBody) {
        b.visit_mut_children_with(self);
        strip(&mut b.stmts, true, string_statement);
    }

    fn visit_mut_static_block(&mut self, b: &mut StaticBlock) {
        b.visit_mut_children_with(self);
        strip(&mut b.body.stmts, false, string_statement);
    }

    // A block statement has no prologue (a function's body is a `FunctionBody`).
    fn visit_mut_stmt(&mut self, s: &mut Stmt) {
        s.visit_mut_children_with(self);
        if let Stmt::Block(b) = s {
            strip(&mut b.stmts, false, string_statement);
        }
    }

    fn visit_mut_switch_case(&mut self, c: &mut SwitchCase) {
        c.visit_mut_children_with(self);
        strip(&mut c.cons, false, string_statement);
    }
}
