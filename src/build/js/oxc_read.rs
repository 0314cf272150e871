//! oxc's read of a file it minifies, on the tree it then compresses: the references
//! (replaced by placeholders in place), whether it uses module syntax, a classic
//! script's global names and its licence comments. The same rules as swc's
//! [`RefVisitor`](crate::build::js_refs::RefVisitor) and
//! [`declared_globals`](super::globals::declared_globals), which `scan` and swc's
//! minifier use; `oxc_reads_what_swc_reads` checks that the two agree.

use std::collections::HashMap;

use oxc_allocator::{Allocator, Vec as ArenaVec};
use oxc_ast::ast::*;
use oxc_ast::builder::AstBuilder;
use oxc_ast_visit::{walk, walk_mut, Visit, VisitMut};
use oxc_semantic::Scoping;
use oxc_span::GetSpan;
use oxc_str::{Ident, Str as OxcStr};
use oxc_syntax::scope::ScopeFlags;
use oxc_syntax::symbol::SymbolId;

use super::risk::Risk;
use crate::build::refs::{Placeholders, RefKind};

/// Finds reference-carrying string literals and replaces them with placeholders; notes
/// module syntax. The same walk reads what oxc's compressor may fold wrong (`risk`): each
/// walk of a large file's tree cost about a third of printing it.
pub(super) struct Refs<'s, 'a> {
    src: &'s str,
    builder: AstBuilder<'a>,
    ph: &'s mut Placeholders,
    lines: Lines,
    /// `import`/`export` declarations or `import.meta` seen.
    pub(super) esm: bool,
    /// An expression was replaced (a computed `import()` specifier known whole).
    pub(super) replaced: bool,
    /// Top-level `const NAME = "text"`: what a computed `import()` may start with.
    consts: Consts<'s>,
    /// What the compressor may fold wrong, read before the references are replaced.
    pub(super) risk: Risk<'s>,
    /// Where the strings and templates that are not ASCII are written: each is replaced
    /// in the tree by a call of [`TEXT`] and its index, which `oxc::with_texts` puts back.
    pub(super) texts: Vec<std::ops::Range<usize>>,
}

/// The name of the stand-ins for text that is not ASCII. oxc's compressor (0.146) folds
/// such text with UTF-8 offsets and lengths (`'é'.length` gave 2, `'a😀b'.indexOf('b')`
/// 5), and text reaches those reads through names, conditionals and concatenations
/// (session 41's review). In its place it reads `@sv_text_N()`, a call of a global
/// marked pure: it cannot evaluate it, and may drop it where its value is unused, as it
/// would the string. No name in JS starts with `@`, so every such call in the tree is a
/// stand-in; the same text printed otherwise (made by the compressor from strings or a
/// decorator) is told apart by counting (`oxc::with_texts`).
pub(super) const TEXT: &str = "@sv_text_";

/// 1-based line numbers of byte offsets, counted as swc counts them (`\n`, `\r\n`, `\r`),
/// for offsets visited mostly in increasing order.
struct Lines {
    at: usize,
    line: u32,
}

impl Lines {
    fn of(&mut self, src: &str, offset: usize) -> u32 {
        if offset < self.at {
            *self = Lines { at: 0, line: 1 };
        }
        let b = src.as_bytes();
        let end = offset.min(b.len());
        for i in self.at..end {
            match b[i] {
                b'\n' => self.line += 1,
                b'\r' if b.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.at = end;
        self.line
    }
}

impl<'s, 'a> Refs<'s, 'a> {
    pub(super) fn new(
        src: &'s str,
        alloc: &'a Allocator,
        ph: &'s mut Placeholders,
        mut risk: Risk<'s>,
    ) -> Self {
        if memchr::memmem::find(src.as_bytes(), TEXT.as_bytes()).is_some() {
            risk.text_stand_in_name();
        }
        Refs {
            src,
            builder: AstBuilder::new(alloc),
            ph,
            lines: Lines { at: 0, line: 1 },
            esm: false,
            replaced: false,
            consts: Consts {
                scoping: risk.scoping(),
                values: HashMap::new(),
                // A direct `eval` may declare any name anywhere (`with` is swc's).
                whole: !risk
                    .scoping()
                    .root_unresolved_references()
                    .keys()
                    .any(|k| k.as_str() == "eval"),
            },
            risk,
            texts: Vec::new(),
        }
    }

    /// Replaces `e` by a stand-in if it is a string or a template without substitutions
    /// whose text is not ASCII (lone surrogates are swc's).
    fn hide_text(&mut self, e: &mut Expression<'a>) {
        let span = match e {
            Expression::StringLiteral(s) if !s.lone_surrogates && !s.value.is_ascii() => s.span,
            Expression::TemplateLiteral(t)
                if t.expressions.is_empty()
                    && t.quasis.iter().any(|q| {
                        !q.lone_surrogates && q.value.cooked.is_some_and(|c| !c.is_ascii())
                    }) =>
            {
                t.span
            }
            _ => return,
        };
        // As written, quotes and escapes included (a string made by the build, such as a
        // computed `import()` known whole, is left to the compressor: it holds a path).
        let at = span.start as usize..span.end as usize;
        if !self
            .src
            .get(at.clone())
            .is_some_and(|t| t.starts_with(['"', '\'', '`']))
        {
            return;
        }
        let name = format!("{TEXT}{}", self.texts.len());
        self.texts.push(at);
        let callee = Expression::new_identifier(
            span,
            Ident::from_str_in(&name, &self.builder),
            &self.builder,
        );
        *e = Expression::new_call_expression_with_pure(
            span,
            callee,
            None,
            ArenaVec::new_in(&self.builder),
            false,
            true,
            &self.builder,
        );
        self.replaced = true;
    }

    fn handle(&mut self, s: &mut StringLiteral<'a>, kind: RefKind) {
        // Read for risks as written (the walk then sees the placeholder).
        self.risk.string_literal(s);
        if s.lone_surrogates {
            return;
        }
        let line = self.lines.of(self.src, s.span.start as usize);
        if let Some(new) = self.ph.script_reference(s.value.as_str(), line, kind) {
            s.value = OxcStr::from_str_in(&new, &self.builder);
            s.raw = None;
        }
    }

    fn handle_arg(&mut self, args: &mut [Argument<'a>], i: usize, kind: RefKind) {
        if let Some(Argument::StringLiteral(s)) = args.get_mut(i) {
            self.handle(s, kind);
        }
    }
}

/// `import.meta.<name>`.
fn is_import_meta(e: &Expression, name: &str) -> bool {
    match e {
        Expression::StaticMemberExpression(m) => {
            matches!(&m.object, Expression::ImportMeta(_)) && m.property.name == name
        }
        _ => false,
    }
}

fn has_module_type(args: &[Argument]) -> bool {
    let Some(Argument::ObjectExpression(o)) = args.get(1) else {
        return false;
    };
    o.properties.iter().any(|p| match p {
        ObjectPropertyKind::ObjectProperty(p) => {
            let key_is_type = match &p.key {
                PropertyKey::StaticIdentifier(i) => i.name == "type",
                PropertyKey::StringLiteral(s) => !s.lone_surrogates && s.value == "type",
                _ => false,
            };
            key_is_type
                && !p.computed
                && matches!(&p.value, Expression::StringLiteral(s) if !s.lone_surrogates && s.value == "module")
        }
        _ => false,
    })
}

/// The values of a program's top-level `const NAME = "text"` declarations, by symbol: a
/// name a function's parameter or a block's declaration shadows is another symbol.
struct Consts<'s> {
    scoping: &'s Scoping,
    values: HashMap<SymbolId, String>,
    /// Whether a name resolved to a constant is known to be it: not where a direct `eval`
    /// may declare another (then its value is only a start).
    whole: bool,
}

impl Consts<'_> {
    fn get(&self, i: &IdentifierReference) -> Option<&String> {
        let symbol = self
            .scoping
            .get_reference(i.reference_id.get()?)
            .symbol_id()?;
        self.values.get(&symbol)
    }
}

/// The text a specifier expression is known to start with, and whether that is all of
/// it: string literals, templates, `+` chains and top-level string constants.
fn static_start(e: &Expression, consts: &Consts) -> (String, bool) {
    match e {
        Expression::StringLiteral(s) if !s.lone_surrogates => (s.value.to_string(), true),
        Expression::Identifier(i) => match consts.get(i) {
            Some(v) => (v.clone(), consts.whole),
            None => (String::new(), false),
        },
        Expression::ParenthesizedExpression(p) => static_start(&p.expression, consts),
        Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
            let (mut l, whole) = static_start(&b.left, consts);
            if !whole {
                return (l, false);
            }
            let (r, whole) = static_start(&b.right, consts);
            l.push_str(&r);
            (l, whole)
        }
        Expression::TemplateLiteral(t) => {
            let mut out = String::new();
            for (i, q) in t.quasis.iter().enumerate() {
                match &q.value.cooked {
                    Some(c) if !q.lone_surrogates => out.push_str(c),
                    _ => return (out, false),
                }
                if let Some(e) = t.expressions.get(i) {
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

/// The risk hooks of the nodes [`static_start`] reads, for a specifier replaced by the
/// literal it is known to be.
fn static_risks(risk: &mut Risk, e: &Expression) {
    match e {
        Expression::StringLiteral(s) => risk.string_literal(s),
        Expression::ParenthesizedExpression(p) => static_risks(risk, &p.expression),
        Expression::BinaryExpression(b) => {
            static_risks(risk, &b.left);
            static_risks(risk, &b.right);
        }
        Expression::TemplateLiteral(t) => {
            risk.template_literal(t);
            for q in &t.quasis {
                risk.template_element(q);
            }
            for e in &t.expressions {
                static_risks(risk, e);
            }
        }
        _ => {}
    }
}

impl<'a> VisitMut<'a> for Refs<'_, 'a> {
    fn visit_program(&mut self, p: &mut Program<'a>) {
        // Top-level `const NAME = "text"` declarations, in order.
        for s in &p.body {
            let Statement::VariableDeclaration(v) = s else {
                continue;
            };
            if v.kind != VariableDeclarationKind::Const {
                continue;
            }
            for d in &v.declarations {
                if let (BindingPattern::BindingIdentifier(name), Some(init)) = (&d.id, &d.init) {
                    if let (Some(symbol), (value, true)) =
                        (name.symbol_id.get(), static_start(init, &self.consts))
                    {
                        self.consts.values.insert(symbol, value);
                    }
                }
            }
        }
        walk_mut::walk_program(self, p);
    }

    fn visit_import_declaration(&mut self, d: &mut ImportDeclaration<'a>) {
        self.esm = true;
        self.handle(&mut d.source, RefKind::Import);
        walk_mut::walk_import_declaration(self, d);
    }

    fn visit_export_all_declaration(&mut self, d: &mut ExportAllDeclaration<'a>) {
        self.esm = true;
        self.handle(&mut d.source, RefKind::Import);
        walk_mut::walk_export_all_declaration(self, d);
    }

    fn visit_export_named_declaration(&mut self, d: &mut ExportNamedDeclaration<'a>) {
        self.esm = true;
        walk_mut::walk_export_named_declaration(self, d);
    }

    fn visit_export_from_declaration(&mut self, d: &mut ExportFromDeclaration<'a>) {
        self.esm = true;
        self.handle(&mut d.source, RefKind::Import);
        walk_mut::walk_export_from_declaration(self, d);
    }

    fn visit_export_declaration(&mut self, d: &mut ExportDeclaration<'a>) {
        self.esm = true;
        walk_mut::walk_export_declaration(self, d);
    }

    fn visit_export_default_declaration(&mut self, d: &mut ExportDefaultDeclaration<'a>) {
        self.esm = true;
        walk_mut::walk_export_default_declaration(self, d);
    }

    fn visit_import_meta(&mut self, _: &mut ImportMeta) {
        self.esm = true;
    }

    fn visit_with_statement(&mut self, w: &mut WithStatement<'a>) {
        self.risk.with_statement();
        walk_mut::walk_with_statement(self, w);
    }

    fn visit_string_literal(&mut self, s: &mut StringLiteral<'a>) {
        self.risk.string_literal(s);
    }

    fn visit_template_element(&mut self, e: &mut TemplateElement<'a>) {
        self.risk.template_element(e);
    }

    fn visit_variable_declarator(&mut self, d: &mut VariableDeclarator<'a>) {
        self.risk.variable_declarator(d);
        walk_mut::walk_variable_declarator(self, d);
    }

    fn visit_expression_statement(&mut self, s: &mut ExpressionStatement<'a>) {
        self.risk.unused_value(&s.expression);
        // A statement of text alone is left as it is: nothing reads it, and a stand-in
        // put back there could become a directive.
        match &mut s.expression {
            Expression::StringLiteral(l) => self.visit_string_literal(l),
            Expression::TemplateLiteral(t) if t.expressions.is_empty() => {
                self.visit_template_literal(t)
            }
            e => self.visit_expression(e),
        }
    }

    fn visit_expression(&mut self, e: &mut Expression<'a>) {
        walk_mut::walk_expression(self, e);
        self.hide_text(e);
    }

    fn visit_template_literal(&mut self, t: &mut TemplateLiteral<'a>) {
        self.risk.template_literal(t);
        walk_mut::walk_template_literal(self, t);
    }

    fn visit_tagged_template_expression(&mut self, t: &mut TaggedTemplateExpression<'a>) {
        self.risk.tagged_template();
        walk_mut::walk_tagged_template_expression(self, t);
    }

    fn visit_import_expression(&mut self, e: &mut ImportExpression<'a>) {
        match &mut e.source {
            Expression::StringLiteral(s) => self.handle(s, RefKind::Import),
            source => {
                let (start, whole) = static_start(source, &self.consts);
                if whole {
                    // Its parts are read for risks as written: the walk sees the literal.
                    static_risks(&mut self.risk, source);
                    // Known whole (`` `./a.js` ``, `"./" + "a.js"`, a string constant): a
                    // string literal, so that it is a reference the build renames with
                    // its file.
                    let span = source.span();
                    let value = OxcStr::from_str_in(&start, &self.builder);
                    let mut lit = StringLiteral::boxed(span, value, None, &self.builder);
                    self.handle(&mut lit, RefKind::Import);
                    *source = Expression::StringLiteral(lit);
                    self.replaced = true;
                } else {
                    self.ph.note_computed_import(&start);
                }
            }
        }
        walk_mut::walk_import_expression(self, e);
    }

    fn visit_call_expression(&mut self, c: &mut CallExpression<'a>) {
        self.risk.call_expression(c);
        if matches!(&c.callee, Expression::Identifier(i) if i.name == "importScripts") {
            for i in 0..c.arguments.len() {
                self.handle_arg(&mut c.arguments, i, RefKind::ClassicScript);
            }
        } else if is_import_meta(&c.callee, "resolve") {
            // Resolved through the page's map at run time, like a computed import.
            let start = match c.arguments.first().and_then(|a| a.as_expression()) {
                Some(e) => static_start(e, &self.consts).0,
                None => String::new(),
            };
            self.ph.note_computed_import(&start);
        }
        walk_mut::walk_call_expression(self, c);
    }

    fn visit_new_expression(&mut self, n: &mut NewExpression<'a>) {
        if let Expression::Identifier(callee) = &n.callee {
            match callee.name.as_str() {
                "URL"
                    if n.arguments
                        .get(1)
                        .and_then(|a| a.as_expression())
                        .is_some_and(|e| is_import_meta(e, "url")) =>
                {
                    self.handle_arg(&mut n.arguments, 0, RefKind::Url);
                }
                "Worker" | "SharedWorker" => {
                    let kind = if has_module_type(&n.arguments) {
                        RefKind::ModuleScript
                    } else {
                        RefKind::ClassicScript
                    };
                    self.handle_arg(&mut n.arguments, 0, kind);
                }
                _ => {}
            }
        }
        walk_mut::walk_new_expression(self, n);
    }
}

/// Every name a classic script declares in its global scope, as
/// [`declared_globals`](super::globals::declared_globals) finds them in swc's tree.
pub(super) fn declared_globals(program: &Program) -> Vec<String> {
    let mut v = Globals(Vec::new());
    v.visit_program(program);
    v.0.sort();
    v.0.dedup();
    v.0
}

struct Globals(Vec<String>);

impl<'a> Visit<'a> for Globals {
    // Their own scopes: nothing declared inside is global.
    fn visit_function(&mut self, f: &Function<'a>, _: ScopeFlags) {
        if f.is_declaration() {
            if let Some(id) = &f.id {
                self.0.push(id.name.to_string());
            }
        }
    }

    fn visit_arrow_function_expression(&mut self, _: &ArrowFunctionExpression<'a>) {}

    fn visit_class(&mut self, c: &Class<'a>) {
        if c.is_declaration() {
            if let Some(id) = &c.id {
                self.0.push(id.name.to_string());
            }
        }
    }

    fn visit_variable_declaration(&mut self, v: &VariableDeclaration<'a>) {
        if v.kind == VariableDeclarationKind::Var {
            for d in &v.declarations {
                for b in d.id.get_binding_identifiers() {
                    self.0.push(b.name.to_string());
                }
            }
        }
        // Initialisers may hold functions (skipped) and nothing else declares.
        walk::walk_variable_declaration(self, v);
    }
}

/// The licence comments (`/*!`, `//!`, `@license`, `@preserve`) of `program`, each as
/// a block comment on its own line, in source order, each text once, as they open the
/// output.
pub(super) fn licence_comments(src: &str, program: &Program) -> String {
    let mut out: Vec<String> = Vec::new();
    for c in program.comments.iter() {
        let Some(raw) = src.get(c.span.start as usize..c.span.end as usize) else {
            continue;
        };
        // A line comment opens with `//`, or in a script with `<!--` or `-->`.
        let text = if c.is_block() {
            raw.strip_prefix("/*").and_then(|t| t.strip_suffix("*/"))
        } else {
            ["//", "<!--", "-->"]
                .iter()
                .find_map(|p| raw.strip_prefix(p))
        };
        let Some(text) = text else {
            continue;
        };
        if super::is_licence_text(text) {
            let block = format!("/*{}*/\n", text.replace("*/", "* /"));
            if !out.contains(&block) {
                out.push(block);
            }
        }
    }
    out.concat()
}
