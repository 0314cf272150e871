//! The global names a classic script declares from inside blocks, and the shorthand
//! patterns binding them spelled out around swc's mangler.

use swc_core::common::util::take::Take;
use swc_core::common::Spanned;
use swc_core::ecma::ast::*;
use swc_core::ecma::atoms::Atom;
use swc_core::ecma::visit::{Visit, VisitMut, VisitMutWith, VisitWith};

/// Every name a classic script (`program`) declares in its global scope: `var`s and functions
/// outside any function, also inside blocks (`if (x) { var Lib = … }`), where swc's
/// mangler renames them as if the block held them and the global is lost to the other
/// scripts of the page. Classes in blocks are added too (block-scoped, so reserving
/// them only keeps a longer name). Given to the mangler as reserved names.
pub(super) fn declared_globals(program: &Program) -> Vec<Atom> {
    let mut v = Globals::default();
    program.visit_with(&mut v);
    v.names.sort();
    v.names.dedup();
    v.names
}

#[derive(Default)]
struct Globals {
    names: Vec<Atom>,
}

impl Visit for Globals {
    // Their own scopes: nothing declared inside is global.
    fn visit_function(&mut self, _: &Function) {}
    fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}
    fn visit_class(&mut self, _: &Class) {}

    fn visit_fn_decl(&mut self, f: &FnDecl) {
        self.names.push(f.ident.sym.clone());
    }

    fn visit_class_decl(&mut self, c: &ClassDecl) {
        self.names.push(c.ident.sym.clone());
    }

    fn visit_var_decl(&mut self, v: &VarDecl) {
        if v.kind == VarDeclKind::Var {
            for d in &v.decls {
                d.name.visit_with(&mut Bindings(&mut self.names));
            }
        }
        // Initialisers may hold functions (skipped) and nothing else declares.
        v.visit_children_with(self);
    }
}

/// The names a binding pattern binds.
struct Bindings<'a>(&'a mut Vec<Atom>);

impl Visit for Bindings<'_> {
    fn visit_binding_ident(&mut self, b: &BindingIdent) {
        self.0.push(b.id.sym.clone());
    }
    // Default values are expressions, not bindings.
    fn visit_expr(&mut self, _: &Expr) {}
}

/// Spells out each shorthand property of a pattern that binds one of a classic script's
/// global names (`reserved`, sorted) or a name its top-level statements declare:
/// `{other}` becomes `{other: other}`. swc's mangler keeps those names where a pattern
/// binds them as plain identifiers, but not as shorthands (`const {other} = o` became
/// `const {other: e} = o`, and the page's other scripts lost `other`).
/// [`shorthand_patterns`] turns them back once the mangler is done.
pub(super) fn spell_out_globals(program: &mut Program, reserved: &[Atom]) {
    let top: Vec<&Stmt> = match &*program {
        Program::Script(s) => s.body.iter().collect(),
        Program::Module(m) => m.body.iter().filter_map(|i| i.as_stmt()).collect(),
    };
    let mut names = reserved.to_vec();
    for stmt in top {
        if let Stmt::Decl(Decl::Var(d)) = stmt {
            for d in &d.decls {
                d.name.visit_with(&mut Bindings(&mut names));
            }
        }
    }
    names.sort();
    names.dedup();
    program.visit_mut_with(&mut SpellOut(&names));
}

struct SpellOut<'a>(&'a [Atom]);

impl VisitMut for SpellOut<'_> {
    fn visit_mut_object_pat_prop(&mut self, p: &mut ObjectPatProp) {
        p.visit_mut_children_with(self);
        let ObjectPatProp::Assign(a) = p else {
            return;
        };
        if self.0.binary_search(&a.key.sym).is_err() {
            return;
        }
        let key = PropName::Ident(IdentName::new(a.key.sym.clone(), a.key.span));
        let binding = Pat::Ident(a.key.clone());
        let value = match a.value.take() {
            Some(default) => Pat::Assign(AssignPat {
                span: a.span,
                left: Box::new(binding),
                right: default,
            }),
            None => binding,
        };
        *p = ObjectPatProp::KeyValue(KeyValuePatProp {
            key,
            value: Box::new(value),
        });
    }
}

/// `{a: a}` and `{a: a = 1}` in patterns written as `{a}` and `{a = 1}`: the same
/// bindings.
pub(super) fn shorthand_patterns(program: &mut Program) {
    program.visit_mut_with(&mut Shorthand);
}

struct Shorthand;

impl VisitMut for Shorthand {
    fn visit_mut_object_pat_prop(&mut self, p: &mut ObjectPatProp) {
        p.visit_mut_children_with(self);
        let ObjectPatProp::KeyValue(kv) = p else {
            return;
        };
        let PropName::Ident(key) = &kv.key else {
            return;
        };
        let binding = match &*kv.value {
            Pat::Ident(b) => b,
            Pat::Assign(AssignPat { left, .. }) => match &**left {
                Pat::Ident(b) => b,
                _ => return,
            },
            _ => return,
        };
        if binding.id.sym != key.sym {
            return;
        }
        let span = kv.span();
        let (key, default) = match *kv.value.take() {
            Pat::Ident(b) => (b, None),
            Pat::Assign(AssignPat { left, right, .. }) => match *left {
                Pat::Ident(b) => (b, Some(right)),
                _ => return,
            },
            _ => return,
        };
        *p = ObjectPatProp::Assign(AssignPatProp {
            span,
            key,
            value: default,
        });
    }
}
