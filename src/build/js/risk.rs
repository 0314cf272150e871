//! What oxc's compressor (0.146) was found to get wrong, so that such files are swc's.
//!
//! A review (session 34) ran original and minified code side by side in node, on real
//! packages, targeted snippets and about 24,000 random constant expressions. The real
//! packages behaved the same; these did not, and swc got each of them right:
//! - names used inside `with` were mangled, and constants folded there;
//! - a classic script's top-level `let`/`const` were inlined into its functions, though
//!   other scripts of the page may assign them (`let flag = false` read as always false);
//! - strings folded at build time with UTF-8 offsets and lengths instead of UTF-16 ones,
//!   lone surrogates leaked as text or made the printer panic, `trim()` knew other white
//!   space than JS's;
//! - numbers read from strings with white space around them (`Number(' 12 ')`) or with
//!   `_` (`parseFloat('1_0')`) folded to the wrong value; `'abc'.slice(0, undefined)` to
//!   `''`, `'abc'.indexOf('', 10)` to 10, `Math.round(0.49999999999999994)` to 1;
//! - `` String.raw`</script>` `` changed its raw text;
//! - memory grew with the square of a template's constant substitutions (100 KB: 0.8 GB).
//!
//! [`oxc_risk`] finds the constructs these need (in swc's tree, read anyway), with a
//! margin: a string that is not ASCII where its offsets could be read at build time (a
//! member of it, a name declared as it), any method called on a string literal.

use swc_core::ecma::ast::*;
use swc_core::ecma::visit::{Visit, VisitWith};

/// Templates with more substitutions than this are swc's.
const TEMPLATE_SUBSTITUTIONS: usize = 64;

/// Why oxc must not minify `program`, if it must not. `script`: minified as a classic
/// script (its top-level names are the page's).
pub(super) fn oxc_risk(program: &Program, script: bool) -> Option<&'static str> {
    if script {
        let lexical = |s: &Stmt| match s {
            Stmt::Decl(Decl::Var(v)) => v.kind != VarDeclKind::Var,
            Stmt::Decl(Decl::Class(_) | Decl::Using(_)) => true,
            _ => false,
        };
        let top_level_lexical = match program {
            Program::Script(s) => s.body.iter().any(lexical),
            Program::Module(m) => m.body.iter().filter_map(|i| i.as_stmt()).any(lexical),
        };
        if top_level_lexical {
            return Some("a classic script's top-level let, const or class");
        }
    }
    let mut v = Risk(None);
    program.visit_with(&mut v);
    v.0
}

struct Risk(Option<&'static str>);

impl Risk {
    fn found(&mut self, why: &'static str) {
        self.0.get_or_insert(why);
    }
}

/// Text that folding gets wrong wherever it is: a lone surrogate, or a number with white
/// space around it or `_` in it.
fn risky_text(s: Option<&str>) -> bool {
    let Some(s) = s else {
        return true;
    };
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    let radix = ["0x", "0X", "0o", "0O", "0b", "0B"]
        .iter()
        .any(|p| t.starts_with(p) && t.len() > 2);
    let numeric = radix || t.replace('_', "").parse::<f64>().is_ok();
    numeric && (t.len() != s.len() || t.contains('_'))
}

/// A string or template literal that is not ASCII (its offsets and lengths folded in
/// UTF-8, its white space trimmed by other rules).
fn not_ascii(e: &Expr) -> bool {
    match e {
        Expr::Lit(Lit::Str(s)) => s.value.as_atom().is_none_or(|a| !a.is_ascii()),
        Expr::Tpl(t) => t.quasis.iter().any(|q| !q.raw.is_ascii()),
        Expr::Paren(p) => not_ascii(&p.expr),
        _ => false,
    }
}

fn is_number(e: &Expr) -> bool {
    match e {
        Expr::Lit(Lit::Num(_)) => true,
        Expr::Unary(u) => matches!(u.op, UnaryOp::Minus | UnaryOp::Plus) && is_number(&u.arg),
        Expr::Paren(p) => is_number(&p.expr),
        _ => false,
    }
}

impl Visit for Risk {
    fn visit_with_stmt(&mut self, _: &WithStmt) {
        self.found("a with statement");
    }

    fn visit_str(&mut self, s: &Str) {
        if risky_text(s.value.as_atom().map(|a| a.as_str())) {
            self.found("a lone surrogate or a number with white space");
        }
    }

    fn visit_tpl_element(&mut self, e: &TplElement) {
        let cooked = e.cooked.as_ref().and_then(|c| c.as_atom());
        if risky_text(cooked.map(|a| a.as_str())) {
            self.found("a template with a lone surrogate or a number with white space");
        }
    }

    // A string that is not ASCII is folded wrong where its offsets or length are read:
    // as the object of a member (`'é'.length`, `'é'[0]`), or through a name it is
    // declared to, which the compressor may inline. Elsewhere (an argument, a property,
    // a `+`, a comparison) its text is kept as it is.
    fn visit_member_expr(&mut self, m: &MemberExpr) {
        if not_ascii(&m.obj) {
            self.found("a member of a string that is not ASCII");
        }
        m.visit_children_with(self);
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if d.init.as_deref().is_some_and(not_ascii) {
            self.found("a name declared as a string that is not ASCII");
        }
        d.visit_children_with(self);
    }

    fn visit_tpl(&mut self, t: &Tpl) {
        if t.exprs.len() > TEMPLATE_SUBSTITUTIONS {
            self.found("a template with many substitutions");
        }
        t.visit_children_with(self);
    }

    fn visit_tagged_tpl(&mut self, _: &TaggedTpl) {
        self.found("a tagged template");
    }

    fn visit_call_expr(&mut self, c: &CallExpr) {
        if let Callee::Expr(callee) = &c.callee {
            let first = c.args.first().map(|a| &*a.expr);
            match &**callee {
                Expr::Member(m) if matches!(&*m.obj, Expr::Lit(Lit::Str(_)) | Expr::Tpl(_)) => {
                    self.found("a method of a string literal");
                }
                // The fuzzing found `round` alone wrong of Math's functions.
                Expr::Member(m)
                    if matches!(&*m.obj, Expr::Ident(i) if &*i.sym == "Math")
                        && matches!(&m.prop, MemberProp::Ident(p) if &*p.sym == "round")
                        && first.is_some_and(is_number) =>
                {
                    self.found("Math.round of a number literal");
                }
                Expr::Ident(i)
                    if matches!(&*i.sym, "Number" | "parseFloat" | "parseInt")
                        && first.is_some_and(|a| matches!(a, Expr::Lit(Lit::Str(_)))) =>
                {
                    self.found("a number read from a string literal");
                }
                _ => {}
            }
        }
        c.visit_children_with(self);
    }
}
