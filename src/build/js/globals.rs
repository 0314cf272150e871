//! The global names a classic script declares from inside blocks.

use swc_core::ecma::ast::*;
use swc_core::ecma::atoms::Atom;
use swc_core::ecma::visit::{Visit, VisitWith};

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
