//! The references in JavaScript: which string literals name other files (imports,
//! workers, `new URL(…, import.meta.url)`, `importScripts`), bare specifiers for the
//! import maps, and how computed `import()` specifiers start.

use std::collections::HashMap;

use swc_core::common::sync::Lrc;
use swc_core::common::{SourceMap, Span};
use swc_core::ecma::ast::*;
use swc_core::ecma::atoms::Atom;
use swc_core::ecma::visit::{Visit, VisitMut, VisitMutWith, VisitWith};

use super::refs::{Placeholders, RefKind};

/// Finds reference-carrying string literals, and (when `rewrite`) replaces them with
/// placeholders. Also notes module syntax.
pub(super) struct RefVisitor<'a> {
    cm: &'a Lrc<SourceMap>,
    ph: &'a mut Placeholders,
    rewrite: bool,
    pub(super) esm: bool,
    /// Span of each replaced literal (quotes included) and its replacement literal.
    pub(super) found: Vec<(Span, String)>,
    /// Top-level `const NAME = "text"`: what a computed `import()` may start with, and
    /// whether the name is known to be that constant wherever it is read (`mark_shadowed`).
    consts: HashMap<Atom, (String, bool)>,
}

impl<'a> RefVisitor<'a> {
    pub(super) fn new(cm: &'a Lrc<SourceMap>, ph: &'a mut Placeholders, rewrite: bool) -> Self {
        RefVisitor {
            cm,
            ph,
            rewrite,
            esm: false,
            found: Vec::new(),
            consts: Default::default(),
        }
    }

    fn handle(&mut self, s: &mut Str, kind: RefKind) {
        let Some(value) = s.value.as_atom().map(|a| a.to_string()) else {
            return;
        };
        let line = self.cm.lookup_char_pos(s.span.lo).line as u32;
        if let Some(new) = self.ph.script_reference(&value, line, kind) {
            self.found.push((s.span, format!("\"{new}\"")));
            if self.rewrite {
                s.value = new.as_str().into();
                s.raw = None;
            }
        }
    }
}

fn str_arg(args: &mut [ExprOrSpread], i: usize) -> Option<&mut Str> {
    match args.get_mut(i) {
        Some(ExprOrSpread { spread: None, expr }) => match &mut **expr {
            Expr::Lit(Lit::Str(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// `import.meta.<name>`.
fn is_import_meta(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Member(m) => {
            matches!(
                &*m.obj,
                Expr::MetaProp(MetaPropExpr {
                    kind: MetaPropKind::ImportMeta,
                    ..
                })
            ) && matches!(&m.prop, MemberProp::Ident(i) if &*i.sym == name)
        }
        _ => false,
    }
}

fn has_module_type(args: &[ExprOrSpread]) -> bool {
    let Some(ExprOrSpread { expr, .. }) = args.get(1) else {
        return false;
    };
    let Expr::Object(o) = &**expr else {
        return false;
    };
    o.props.iter().any(|p| match p {
        PropOrSpread::Prop(p) => match &**p {
            Prop::KeyValue(kv) => {
                let key_is_type = match &kv.key {
                    PropName::Ident(i) => &*i.sym == "type",
                    PropName::Str(s) => s.value.as_atom().map(|a| &**a == "type").unwrap_or(false),
                    _ => false,
                };
                key_is_type
                    && matches!(&*kv.value, Expr::Lit(Lit::Str(s)) if s.value.as_atom().map(|a| &**a == "module").unwrap_or(false))
            }
            _ => false,
        },
        _ => false,
    })
}

/// The text a specifier expression is known to start with, and whether that is all of
/// it: string literals, templates, `+` chains and top-level string constants.
fn static_start(e: &Expr, consts: &HashMap<Atom, (String, bool)>) -> (String, bool) {
    match e {
        Expr::Lit(Lit::Str(s)) => match s.value.as_atom() {
            Some(a) => (a.to_string(), true),
            None => (String::new(), false),
        },
        Expr::Ident(i) => match consts.get(&i.sym) {
            Some((v, whole)) => (v.clone(), *whole),
            None => (String::new(), false),
        },
        Expr::Paren(p) => static_start(&p.expr, consts),
        Expr::Bin(b) if b.op == BinaryOp::Add => {
            let (mut l, whole) = static_start(&b.left, consts);
            if !whole {
                return (l, false);
            }
            let (r, whole) = static_start(&b.right, consts);
            l.push_str(&r);
            (l, whole)
        }
        Expr::Tpl(t) => {
            let mut out = String::new();
            for (i, q) in t.quasis.iter().enumerate() {
                match q.cooked.as_ref().and_then(|c| c.as_atom()) {
                    Some(c) => out.push_str(c),
                    None => return (out, false),
                }
                if let Some(e) = t.exprs.get(i) {
                    let (s, whole) = static_start(e, consts);
                    out.push_str(&s);
                    if !whole {
                        return (out, false);
                    }
                }
            }
            (out, true)
        }
        _ => (String::new(), false),
    }
}

/// Top-level `const NAME = "text"` declarations of a module or script body.
fn string_consts<'a>(
    stmts: impl Iterator<Item = &'a Stmt>,
    out: &mut HashMap<Atom, (String, bool)>,
) {
    for s in stmts {
        let Stmt::Decl(Decl::Var(v)) = s else {
            continue;
        };
        if v.kind != VarDeclKind::Const {
            continue;
        }
        for d in &v.decls {
            if let (Pat::Ident(name), Some(init)) = (&d.name, &d.init) {
                if let (value, true) = static_start(init, out) {
                    out.insert(name.id.sym.clone(), (value, true));
                }
            }
        }
    }
}

/// Marks as not known whole every constant whose name the program declares more than
/// once, or every one where a `with` or a direct `eval` may bring another: swc's tree holds
/// no scopes yet, and `function f(D) { import(D) }` is not the top-level `D`. Its value is
/// then only what such an `import()` may start with, which keeps the files it may name
/// under their source names (a top-level `import(D)` that swc's compressor then writes as
/// the constant's text still loads its file).
fn mark_shadowed(consts: &mut HashMap<Atom, (String, bool)>, program: &impl VisitWith<Declared>) {
    if consts.is_empty() {
        return;
    }
    let mut declared = Declared {
        names: consts.keys().map(|k| (k.clone(), 0)).collect(),
        opaque: false,
    };
    program.visit_with(&mut declared);
    for (name, (_, whole)) in consts.iter_mut() {
        *whole = !declared.opaque && declared.names.get(name).is_some_and(|&n| n <= 1);
    }
}

/// How many times each of `names` is declared, and whether a `with` or a direct `eval`
/// may declare or bring any name.
struct Declared {
    names: HashMap<Atom, u32>,
    opaque: bool,
}

impl Declared {
    fn count(&mut self, name: &Atom) {
        if let Some(n) = self.names.get_mut(name) {
            *n += 1;
        }
    }
}

impl Visit for Declared {
    fn visit_binding_ident(&mut self, b: &BindingIdent) {
        self.count(&b.id.sym);
    }
    fn visit_fn_decl(&mut self, f: &FnDecl) {
        self.count(&f.ident.sym);
        f.visit_children_with(self);
    }
    fn visit_fn_expr(&mut self, f: &FnExpr) {
        if let Some(i) = &f.ident {
            self.count(&i.sym);
        }
        f.visit_children_with(self);
    }
    fn visit_class_decl(&mut self, c: &ClassDecl) {
        self.count(&c.ident.sym);
        c.visit_children_with(self);
    }
    fn visit_class_expr(&mut self, c: &ClassExpr) {
        if let Some(i) = &c.ident {
            self.count(&i.sym);
        }
        c.visit_children_with(self);
    }
    fn visit_import_specifier(&mut self, s: &ImportSpecifier) {
        self.count(&s.local().sym);
    }
    fn visit_with_stmt(&mut self, w: &WithStmt) {
        self.opaque = true;
        w.visit_children_with(self);
    }
    fn visit_call_expr(&mut self, c: &CallExpr) {
        if matches!(&c.callee, Callee::Expr(e) if matches!(&**e, Expr::Ident(i) if i.sym == "eval"))
        {
            self.opaque = true;
        }
        c.visit_children_with(self);
    }
}

impl VisitMut for RefVisitor<'_> {
    fn visit_mut_module(&mut self, m: &mut Module) {
        string_consts(m.body.iter().filter_map(|i| i.as_stmt()), &mut self.consts);
        mark_shadowed(&mut self.consts, m);
        m.visit_mut_children_with(self);
    }

    fn visit_mut_script(&mut self, s: &mut Script) {
        string_consts(s.body.iter(), &mut self.consts);
        mark_shadowed(&mut self.consts, s);
        s.visit_mut_children_with(self);
    }

    fn visit_mut_module_decl(&mut self, n: &mut ModuleDecl) {
        self.esm = true;
        match n {
            ModuleDecl::Import(i) => self.handle(&mut i.src, RefKind::Import),
            ModuleDecl::ExportAll(e) => self.handle(&mut e.src, RefKind::Import),
            ModuleDecl::ExportNamed(e) => {
                if let Some(src) = &mut e.src {
                    self.handle(src, RefKind::Import)
                }
            }
            _ => {}
        }
        n.visit_mut_children_with(self);
    }

    fn visit_mut_meta_prop_expr(&mut self, n: &mut MetaPropExpr) {
        if n.kind == MetaPropKind::ImportMeta {
            self.esm = true;
        }
    }

    fn visit_mut_call_expr(&mut self, n: &mut CallExpr) {
        match &n.callee {
            Callee::Import(_) => match str_arg(&mut n.args, 0) {
                Some(s) => self.handle(s, RefKind::Import),
                None => {
                    let (start, whole) = match n.args.first() {
                        Some(ExprOrSpread { spread: None, expr }) => {
                            static_start(expr, &self.consts)
                        }
                        _ => (String::new(), false),
                    };
                    match n.args.first_mut() {
                        // Known whole (`` `./a.js` ``, `"./" + "a.js"`, a string
                        // constant): a string literal, so that it is a reference the
                        // build renames with its file.
                        Some(ExprOrSpread { spread: None, expr }) if whole => {
                            let mut lit = Str {
                                span: swc_core::common::Spanned::span(&**expr),
                                value: start.as_str().into(),
                                raw: None,
                            };
                            self.handle(&mut lit, RefKind::Import);
                            **expr = Expr::Lit(Lit::Str(lit));
                        }
                        _ => self.ph.note_computed_import(&start),
                    }
                }
            },
            Callee::Expr(e) => {
                if matches!(&**e, Expr::Ident(i) if &*i.sym == "importScripts") {
                    for i in 0..n.args.len() {
                        if let Some(s) = str_arg(&mut n.args, i) {
                            self.handle(s, RefKind::ClassicScript);
                        }
                    }
                } else if is_import_meta(e, "resolve") {
                    // Resolved through the page's map at run time, like a computed import.
                    let start = match n.args.first() {
                        Some(ExprOrSpread { spread: None, expr }) => {
                            static_start(expr, &self.consts).0
                        }
                        _ => String::new(),
                    };
                    self.ph.note_computed_import(&start);
                }
            }
            _ => {}
        }
        n.visit_mut_children_with(self);
    }

    fn visit_mut_new_expr(&mut self, n: &mut NewExpr) {
        let callee = match &*n.callee {
            Expr::Ident(i) => Some(i.sym.to_string()),
            _ => None,
        };
        if let (Some(callee), Some(args)) = (callee, n.args.as_mut()) {
            match callee.as_str() {
                "URL" if args.get(1).is_some_and(|a| is_import_meta(&a.expr, "url")) => {
                    if let Some(s) = str_arg(args, 0) {
                        self.handle(s, RefKind::Url);
                    }
                }
                "Worker" | "SharedWorker" => {
                    let kind = if has_module_type(args) {
                        RefKind::ModuleScript
                    } else {
                        RefKind::ClassicScript
                    };
                    if let Some(s) = str_arg(args, 0) {
                        self.handle(s, kind);
                    }
                }
                _ => {}
            }
        }
        n.visit_mut_children_with(self);
    }
}

#[cfg(test)]
mod tests {
    use crate::build::js::{minify, JsKind};
    use crate::build::refs::{Placeholders, RefKind};

    /// An `import()` whose specifier is known whole (a template without
    /// substitutions, a `+` of strings, a string constant) is a reference like a
    /// string one (hunt, #13): it was left as written while its file was renamed.
    #[test]
    fn whole_static_import_specifiers_are_references() {
        let src = "const B = './b.js';\nimport(`./a.js`); import('./' + 'c.js'); import(B); import(`./d/${x}.js`);";
        let mut ph = Placeholders::for_content(src.as_bytes());
        let out = minify(src, "m.js", JsKind::Module, &mut ph).unwrap();
        let refs = ph.clone().into_refs();
        let found: Vec<(&str, RefKind)> = refs.iter().map(|r| (r.path.as_str(), r.kind)).collect();
        assert_eq!(
            found,
            [
                ("./a.js", RefKind::Import),
                ("./c.js", RefKind::Import),
                ("./b.js", RefKind::Import)
            ],
            "{out}"
        );
        assert!(out.contains("./d/${"), "{out}");
    }
}
