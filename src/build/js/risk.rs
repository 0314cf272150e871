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
//! [`oxc_risk`] finds the constructs these need in oxc's tree, before it is compressed,
//! with a margin: a string that is not ASCII where its offsets could be read at build
//! time (a member of it, a name declared as it), the methods of string literals whose
//! arguments the compressor may know ([`Risk::string_method`]).

use oxc_ast::ast::*;
use oxc_ast_visit::{walk, Visit};

/// Templates with more substitutions than this are swc's.
const TEMPLATE_SUBSTITUTIONS: usize = 64;

/// Why oxc must not minify `program`, if it must not. `script`: minified as a classic
/// script (its top-level names are the page's).
pub(super) fn oxc_risk(program: &Program, script: bool) -> Option<&'static str> {
    if script {
        let top_level_lexical = program.body.iter().any(|s| match s {
            Statement::VariableDeclaration(v) => v.kind != VariableDeclarationKind::Var,
            Statement::ClassDeclaration(_) => true,
            _ => false,
        });
        if top_level_lexical {
            return Some("a classic script's top-level let, const or class");
        }
    }
    let mut v = Risk::default();
    v.visit_program(program);
    if v.why.is_none() && !v.names.is_empty() {
        let mut bindings = Bindings {
            names: std::mem::take(&mut v.names),
            folded: false,
        };
        bindings.visit_program(program);
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
    names: Vec<String>,
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
    fn string_method(&mut self, s: &StringLiteral, method: Option<&str>, args: &[Argument]) {
        let Some(method) = method else {
            return self.found("a computed method of a string literal");
        };
        let text = s.value.as_str();
        if s.lone_surrogates || !text.is_ascii() {
            return self.found("a method of a string that is not ASCII");
        }
        if !matches!(method, "slice" | "substring" | "indexOf" | "lastIndexOf") {
            return;
        }
        for arg in args {
            let in_range = match arg {
                Argument::SpreadElement(_) => false,
                Argument::NumericLiteral(n) => (0.0..=text.len() as f64).contains(&n.value),
                Argument::StringLiteral(s) => !s.lone_surrogates && s.value.is_ascii(),
                e => e
                    .as_expression()
                    .is_some_and(|e| opaque(e, &mut self.names)),
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
fn opaque(e: &Expression, names: &mut Vec<String>) -> bool {
    match e {
        Expression::ThisExpression(_)
        | Expression::AwaitExpression(_)
        | Expression::YieldExpression(_) => true,
        Expression::ParenthesizedExpression(p) => opaque(&p.expression, names),
        Expression::Identifier(i) if KNOWN_GLOBALS.contains(&i.name.as_str()) => false,
        Expression::Identifier(i) => {
            names.push(i.name.to_string());
            true
        }
        Expression::StaticMemberExpression(m) => opaque(&m.object, names),
        Expression::ComputedMemberExpression(m) => opaque(&m.object, names),
        Expression::PrivateFieldExpression(m) => opaque(&m.object, names),
        Expression::CallExpression(c) => match &c.callee {
            Expression::Identifier(i) => !KNOWN_GLOBALS.contains(&i.name.as_str()),
            Expression::StaticMemberExpression(m) => {
                !FOLDED_METHODS.contains(&m.property.name.as_str())
                    || matches!(&m.object, Expression::ThisExpression(_))
            }
            Expression::ComputedMemberExpression(m) => {
                matches!(&m.object, Expression::ThisExpression(_))
            }
            Expression::PrivateFieldExpression(m) => {
                matches!(&m.object, Expression::ThisExpression(_))
            }
            _ => false,
        },
        _ => false,
    }
}

/// Finds whether any of `names` is declared as a value the compressor may know: without
/// an initialiser (`undefined`), or with one that is not [`opaque`] by itself (a name
/// in it counts as known). Names are matched across scopes, which only errs to swc.
struct Bindings {
    names: Vec<String>,
    folded: bool,
}

impl<'a> Visit<'a> for Bindings {
    fn visit_variable_declarator(&mut self, d: &VariableDeclarator<'a>) {
        let bound = d.id.get_binding_identifiers();
        if bound
            .iter()
            .any(|b| self.names.iter().any(|n| n == b.name.as_str()))
        {
            let mut inner = Vec::new();
            let destructured_literal = !matches!(&d.id, BindingPattern::BindingIdentifier(_))
                && matches!(
                    &d.init,
                    Some(Expression::ArrayExpression(_) | Expression::ObjectExpression(_))
                );
            let known = destructured_literal
                || d.init
                    .as_ref()
                    .is_none_or(|e| !opaque(e, &mut inner) || !inner.is_empty());
            self.folded |= known;
        }
        walk::walk_variable_declarator(self, d);
    }
}

/// Text that folding gets wrong wherever it is: a number with white space around it or
/// `_` in it.
fn risky_text(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    let radix = ["0x", "0X", "0o", "0O", "0b", "0B"]
        .iter()
        .any(|p| t.starts_with(p) && t.len() > 2);
    let numeric = radix || t.replace('_', "").parse::<f64>().is_ok();
    numeric && (t.len() != s.len() || t.contains('_'))
}

/// A string or template literal that is not ASCII (its offsets and lengths folded in
/// UTF-8, its white space trimmed by other rules).
fn not_ascii(e: &Expression) -> bool {
    match e {
        Expression::StringLiteral(s) => s.lone_surrogates || !s.value.is_ascii(),
        Expression::TemplateLiteral(t) => t.quasis.iter().any(|q| !q.value.raw.is_ascii()),
        Expression::ParenthesizedExpression(p) => not_ascii(&p.expression),
        _ => false,
    }
}

fn is_number(e: &Expression) -> bool {
    match e {
        Expression::NumericLiteral(_) => true,
        Expression::UnaryExpression(u) => {
            matches!(
                u.operator,
                UnaryOperator::UnaryNegation | UnaryOperator::UnaryPlus
            ) && is_number(&u.argument)
        }
        Expression::ParenthesizedExpression(p) => is_number(&p.expression),
        _ => false,
    }
}

impl<'a> Visit<'a> for Risk {
    fn visit_with_statement(&mut self, _: &WithStatement<'a>) {
        self.found("a with statement");
    }

    fn visit_string_literal(&mut self, s: &StringLiteral<'a>) {
        if s.lone_surrogates || risky_text(s.value.as_str()) {
            self.found("a lone surrogate or a number with white space");
        }
    }

    fn visit_template_element(&mut self, e: &TemplateElement<'a>) {
        let risky = match &e.value.cooked {
            Some(c) => e.lone_surrogates || risky_text(c.as_str()),
            None => true,
        };
        if risky {
            self.found("a template with a lone surrogate or a number with white space");
        }
    }

    // A string that is not ASCII is folded wrong where its offsets or length are read:
    // as the object of a member (`'é'.length`, `'é'[0]`), or through a name it is
    // declared to, which the compressor may inline. Elsewhere (an argument, a property,
    // a `+`, a comparison) its text is kept as it is.
    fn visit_member_expression(&mut self, m: &MemberExpression<'a>) {
        if not_ascii(m.object()) {
            self.found("a member of a string that is not ASCII");
        }
        walk::walk_member_expression(self, m);
    }

    fn visit_variable_declarator(&mut self, d: &VariableDeclarator<'a>) {
        if d.init.as_ref().is_some_and(not_ascii) {
            self.found("a name declared as a string that is not ASCII");
        }
        walk::walk_variable_declarator(self, d);
    }

    fn visit_template_literal(&mut self, t: &TemplateLiteral<'a>) {
        if t.expressions.len() > TEMPLATE_SUBSTITUTIONS {
            self.found("a template with many substitutions");
        }
        walk::walk_template_literal(self, t);
    }

    fn visit_tagged_template_expression(&mut self, _: &TaggedTemplateExpression<'a>) {
        self.found("a tagged template");
    }

    fn visit_call_expression(&mut self, c: &CallExpression<'a>) {
        let first = c.arguments.first().and_then(|a| a.as_expression());
        let (object, method) = match &c.callee {
            Expression::StaticMemberExpression(m) => {
                (Some(&m.object), Some(m.property.name.as_str()))
            }
            Expression::ComputedMemberExpression(m) => (Some(&m.object), None),
            _ => (None, None),
        };
        match (object, &c.callee) {
            (Some(Expression::StringLiteral(s)), _) => self.string_method(s, method, &c.arguments),
            (Some(Expression::TemplateLiteral(_)), _) => {
                self.found("a method of a template literal")
            }
            // The fuzzing found `round` alone wrong of Math's functions.
            (Some(Expression::Identifier(i)), _)
                if i.name == "Math" && method == Some("round") && first.is_some_and(is_number) =>
            {
                self.found("Math.round of a number literal")
            }
            (None, Expression::Identifier(i))
                if matches!(i.name.as_str(), "Number" | "parseFloat" | "parseInt")
                    && matches!(first, Some(Expression::StringLiteral(_))) =>
            {
                self.found("a number read from a string literal")
            }
            _ => {}
        }
        walk::walk_call_expression(self, c);
    }
}
