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
use swc_core::ecma::atoms::Atom;
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
    let mut v = Risk::default();
    program.visit_with(&mut v);
    if v.why.is_none() && !v.names.is_empty() {
        let mut bindings = Bindings {
            names: std::mem::take(&mut v.names),
            folded: false,
        };
        program.visit_with(&mut bindings);
        if bindings.folded {
            v.found("a string method given a name that may hold a constant");
        }
    }
    v.why
}

#[derive(Default)]
struct Risk {
    why: Option<&'static str>,
    /// Names given to a string literal's method whose value must be opaque to the
    /// compressor (checked against their declarations once the walk is done).
    names: Vec<Atom>,
}

impl Risk {
    fn found(&mut self, why: &'static str) {
        self.why.get_or_insert(why);
    }

    /// A method called on a string literal, which the compressor may evaluate. Its
    /// `slice`, `substring`, `indexOf` and `lastIndexOf` went wrong on an `undefined` end
    /// and on a position past the end (`'abc'.slice(0, undefined)` gave `''`): their
    /// arguments must be literals in range or values the compressor cannot know
    /// ([`opaque`]). Its other string methods were right on ASCII text (case, trim,
    /// `charAt`, `charCodeAt`, `startsWith`, `replace`, `concat`): Babel's `"".concat(a,
    /// "-")` and `'x'.charCodeAt(0)` stay oxc's.
    fn string_method(&mut self, text: Option<&str>, prop: &MemberProp, args: &[ExprOrSpread]) {
        let (Some(text), MemberProp::Ident(method)) = (text, prop) else {
            return self.found("a computed method of a string literal");
        };
        if !text.is_ascii() {
            return self.found("a method of a string that is not ASCII");
        }
        if !matches!(
            &*method.sym,
            "slice" | "substring" | "indexOf" | "lastIndexOf"
        ) {
            return;
        }
        for arg in args {
            let in_range = match &*arg.expr {
                _ if arg.spread.is_some() => false,
                Expr::Lit(Lit::Num(n)) => (0.0..=text.len() as f64).contains(&n.value),
                Expr::Lit(Lit::Str(s)) => s.value.as_atom().is_some_and(|a| a.is_ascii()),
                e => opaque(e, &mut self.names),
            };
            if !in_range {
                return self.found("a string method with arguments the compressor may misread");
            }
        }
    }
}

/// Global objects and functions the compressor evaluates calls and members of.
const KNOWN_GLOBALS: &[&str] = &[
    "Math",
    "Number",
    "String",
    "Boolean",
    "Array",
    "Object",
    "JSON",
    "Symbol",
    "BigInt",
    "globalThis",
    "window",
    "self",
    "undefined",
    "NaN",
    "Infinity",
    "parseInt",
    "parseFloat",
    "isNaN",
    "isFinite",
    "encodeURI",
    "encodeURIComponent",
    "decodeURI",
    "decodeURIComponent",
    "escape",
    "unescape",
];

/// Method names whose calls the compressor evaluates on constants (oxc 0.146,
/// `oxc_ecmascript`'s call evaluation and `replace_known_methods`).
const FOLDED_METHODS: &[&str] = &[
    "toLowerCase",
    "toUpperCase",
    "trim",
    "trimStart",
    "trimEnd",
    "substring",
    "slice",
    "indexOf",
    "lastIndexOf",
    "charAt",
    "charCodeAt",
    "startsWith",
    "replace",
    "replaceAll",
    "fromCharCode",
    "toString",
    "isFinite",
    "isNaN",
    "isInteger",
    "isSafeInteger",
    "sqrt",
    "cbrt",
    "abs",
    "ceil",
    "floor",
    "round",
    "fround",
    "trunc",
    "sign",
    "clz32",
    "imul",
    "min",
    "max",
    "concat",
    "pow",
    "of",
];

/// Whether the compressor cannot know `e`'s value: `this`, a member of it, a call of a
/// function or method it does not evaluate, or a name (pushed to `names`, to be checked
/// against its declarations) or a member of one.
fn opaque(e: &Expr, names: &mut Vec<Atom>) -> bool {
    match e {
        Expr::This(_) | Expr::Await(_) | Expr::Yield(_) => true,
        Expr::Paren(p) => opaque(&p.expr, names),
        Expr::Ident(i) if KNOWN_GLOBALS.contains(&&*i.sym) => false,
        Expr::Ident(i) => {
            names.push(i.sym.clone());
            true
        }
        Expr::Member(m) => opaque(&m.obj, names),
        Expr::Call(CallExpr {
            callee: Callee::Expr(callee),
            ..
        }) => match &**callee {
            Expr::Ident(i) => !KNOWN_GLOBALS.contains(&&*i.sym),
            Expr::Member(m) => match &m.prop {
                MemberProp::Ident(p) if !FOLDED_METHODS.contains(&&*p.sym) => true,
                _ => matches!(&*m.obj, Expr::This(_)),
            },
            _ => false,
        },
        _ => false,
    }
}

/// Finds whether any of `names` is declared as a value the compressor may know: without
/// an initialiser (`undefined`), or with one that is not [`opaque`] by itself (a name
/// in it counts as known). Names are matched across scopes, which only errs to swc.
struct Bindings {
    names: Vec<Atom>,
    folded: bool,
}

impl Visit for Bindings {
    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        let mut bound = Vec::new();
        collect_bound(&d.name, &mut bound);
        if bound.iter().any(|b| self.names.contains(b)) {
            let mut inner = Vec::new();
            let known = !matches!(&d.name, Pat::Ident(_))
                && d.init
                    .as_deref()
                    .is_some_and(|e| matches!(e, Expr::Array(_) | Expr::Object(_)))
                || d.init
                    .as_deref()
                    .is_none_or(|e| !opaque(e, &mut inner) || !inner.is_empty());
            self.folded |= known;
        }
        d.visit_children_with(self);
    }
}

fn collect_bound(p: &Pat, out: &mut Vec<Atom>) {
    match p {
        Pat::Ident(b) => out.push(b.id.sym.clone()),
        Pat::Array(a) => a.elems.iter().flatten().for_each(|e| collect_bound(e, out)),
        Pat::Object(o) => {
            for prop in &o.props {
                match prop {
                    ObjectPatProp::KeyValue(kv) => collect_bound(&kv.value, out),
                    ObjectPatProp::Assign(a) => out.push(a.key.sym.clone()),
                    ObjectPatProp::Rest(r) => collect_bound(&r.arg, out),
                }
            }
        }
        Pat::Assign(a) => collect_bound(&a.left, out),
        Pat::Rest(r) => collect_bound(&r.arg, out),
        _ => {}
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
                    match &*m.obj {
                        Expr::Lit(Lit::Str(s)) => {
                            let text = s.value.as_atom().map(|a| a.as_str());
                            self.string_method(text, &m.prop, &c.args)
                        }
                        _ => self.found("a method of a template literal"),
                    }
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
