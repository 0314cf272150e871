//! What oxc's compressor can know of an expression, for [`Risk`](super::Risk): which
//! values it may evaluate at build time ([`opaque`], [`may_fold`], [`may_be_constant`]),
//! which method calls it folds right ([`folds_right`]), and the globals and methods it
//! evaluates.

use oxc_ast::ast::*;
use oxc_semantic::Scoping;
use oxc_syntax::reference::ReferenceId;

/// Whether the compressor folds `method(args)` right on an ASCII string of `len`
/// characters (unknown: `None`), or cannot fold it (see `Risk::string_method`), given
/// that the names pushed to `names` are [`opaque`].
pub(super) fn folds_right(
    method: &str,
    args: &[Argument],
    len: Option<usize>,
    names: &mut Vec<ReferenceId>,
) -> bool {
    let search = match method {
        "indexOf" | "lastIndexOf" => true,
        "slice" | "substring" => false,
        _ => return true,
    };
    if search && args.is_empty() {
        return false;
    }
    args.iter().enumerate().all(|(i, arg)| match arg {
        Argument::SpreadElement(_) => false,
        // A search that is not ASCII is unknown to the compressor (`oxc_read::Refs`).
        Argument::StringLiteral(s) if search && i == 0 => !s.lone_surrogates,
        Argument::NumericLiteral(n) if !(search && i == 0) => {
            len.is_some_and(|len| (0.0..=len as f64).contains(&n.value))
        }
        e => e.as_expression().is_some_and(|e| opaque(e, names)),
    })
}

/// Global objects and functions the compressor evaluates calls and members of.
pub(super) const KNOWN_GLOBALS: &[&str] = &[
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
pub(super) const FOLDED_METHODS: &[&str] = &[
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
/// method it does not evaluate, or a name (pushed to `names`, to be checked against its
/// declarations) or a member of one.
pub(super) fn opaque(e: &Expression, names: &mut Vec<ReferenceId>) -> bool {
    match e {
        Expression::ThisExpression(_)
        | Expression::AwaitExpression(_)
        | Expression::YieldExpression(_) => true,
        Expression::ParenthesizedExpression(p) => opaque(&p.expression, names),
        Expression::Identifier(i) if KNOWN_GLOBALS.contains(&i.name.as_str()) => false,
        Expression::Identifier(i) => {
            names.extend(i.reference_id.get());
            true
        }
        Expression::StaticMemberExpression(m) => opaque(&m.object, names),
        Expression::ComputedMemberExpression(m) => opaque(&m.object, names),
        Expression::PrivateFieldExpression(m) => opaque(&m.object, names),
        // A call of a function by name is not: the compressor inlines a function the file
        // declares and uses once (`const f = () => undefined; f()`).
        // A method it evaluates is opaque where the value it is called on is
        // (`input.charAt(i)` of a parameter `input`).
        Expression::CallExpression(c) => match &c.callee {
            Expression::StaticMemberExpression(m) => {
                !FOLDED_METHODS.contains(&m.property.name.as_str()) || opaque(&m.object, names)
            }
            Expression::ComputedMemberExpression(m) => opaque(&m.object, names),
            Expression::PrivateFieldExpression(m) => opaque(&m.object, names),
            _ => false,
        },
        _ => false,
    }
}

/// Whether the compressor may fold `e` into a string literal once the names pushed to
/// `unknown` are unknown to it (it folds a method only on a literal): a literal, a
/// member of an array or object literal (`['abc'][0]`), a call of a global function on
/// values it may know (`String(1)`) or of a method it evaluates on a value it may know,
/// `typeof` or `void`, or an operation whose value may be one of these. Not a name,
/// `this`, `new`, a function, an array or object, a member or other call of a value it
/// cannot know, nor a call of a function the file declares (pushed to `unknown` too: it
/// may inline it).
pub(super) fn may_fold(e: &Expression, unknown: &mut Vec<ReferenceId>, scoping: &Scoping) -> bool {
    let fold = |e: &Expression, unknown: &mut Vec<ReferenceId>| may_fold(e, unknown, scoping);
    let literal = |e: &Expression| {
        matches!(
            e.without_parentheses(),
            Expression::ArrayExpression(_) | Expression::ObjectExpression(_)
        )
    };
    match e {
        Expression::Identifier(i) if KNOWN_GLOBALS.contains(&i.name.as_str()) => true,
        Expression::Identifier(i) => {
            unknown.extend(i.reference_id.get());
            false
        }
        Expression::ThisExpression(_)
        | Expression::NewExpression(_)
        | Expression::FunctionExpression(_)
        | Expression::ArrowFunctionExpression(_)
        | Expression::ClassExpression(_)
        | Expression::AwaitExpression(_)
        | Expression::YieldExpression(_)
        | Expression::ArrayExpression(_)
        | Expression::ObjectExpression(_) => false,
        Expression::ParenthesizedExpression(p) => fold(&p.expression, unknown),
        Expression::StaticMemberExpression(m) => literal(&m.object) || fold(&m.object, unknown),
        Expression::ComputedMemberExpression(m) => literal(&m.object) || fold(&m.object, unknown),
        Expression::PrivateFieldExpression(m) => fold(&m.object, unknown),
        Expression::CallExpression(c) => match c.callee.without_parentheses() {
            Expression::StaticMemberExpression(m)
                if FOLDED_METHODS.contains(&m.property.name.as_str()) =>
            {
                fold(&m.object, unknown)
            }
            Expression::StaticMemberExpression(_) => false,
            Expression::Identifier(f) => match f.reference_id.get() {
                Some(r) if scoping.get_reference(r).symbol_id().is_some() => {
                    unknown.push(r);
                    false
                }
                _ => c.arguments.iter().all(|a| match a {
                    Argument::SpreadElement(s) => fold(&s.argument, unknown),
                    a => a.as_expression().is_none_or(|e| fold(e, unknown)),
                }),
            },
            _ => true,
        },
        Expression::UnaryExpression(u) => {
            matches!(u.operator, UnaryOperator::Typeof | UnaryOperator::Void)
                || fold(&u.argument, unknown)
        }
        Expression::BinaryExpression(b) => fold(&b.left, unknown) && fold(&b.right, unknown),
        // `a || b`, `a ?? b`: `b` where the compressor knows `a`; `a && b` also where it
        // knows only that `a` is truthy (`(x + 'a') && 'abc'`).
        Expression::LogicalExpression(l) => {
            let left = fold(&l.left, unknown);
            left || (l.operator == LogicalOperator::And && fold(&l.right, unknown))
        }
        Expression::ConditionalExpression(c) => {
            let test = fold(&c.test, unknown);
            let consequent = fold(&c.consequent, unknown);
            test || (consequent && fold(&c.alternate, unknown))
        }
        Expression::SequenceExpression(s) => s.expressions.last().is_some_and(|e| fold(e, unknown)),
        Expression::AssignmentExpression(a) => fold(&a.right, unknown),
        Expression::TemplateLiteral(t) => t.expressions.iter().all(|e| fold(e, unknown)),
        _ => true,
    }
}

/// Whether an initialiser may be a value the compressor knows (a string, for a method's
/// receiver): a literal, a name, an operation whose operands may all be known, a call
/// of a function by name (which it may inline), or a method it evaluates called on a
/// value it may know. Not arrays, objects, functions, `new`, `this`, members or other
/// calls, nor an operation on one of these (`node.getAttribute('href') || ''`).
pub(super) fn may_be_constant(e: &Expression) -> bool {
    match e {
        Expression::StringLiteral(_)
        | Expression::NumericLiteral(_)
        | Expression::BooleanLiteral(_)
        | Expression::NullLiteral(_)
        | Expression::BigIntLiteral(_)
        | Expression::TaggedTemplateExpression(_)
        | Expression::Identifier(_) => true,
        Expression::TemplateLiteral(t) => t.expressions.iter().all(may_be_constant),
        Expression::ParenthesizedExpression(p) => may_be_constant(&p.expression),
        Expression::UnaryExpression(u) => may_be_constant(&u.argument),
        Expression::BinaryExpression(b) => may_be_constant(&b.left) && may_be_constant(&b.right),
        Expression::LogicalExpression(l) => may_be_constant(&l.left) && may_be_constant(&l.right),
        Expression::ConditionalExpression(c) => {
            may_be_constant(&c.test)
                && may_be_constant(&c.consequent)
                && may_be_constant(&c.alternate)
        }
        Expression::SequenceExpression(s) => s.expressions.last().is_some_and(may_be_constant),
        Expression::AssignmentExpression(a) => may_be_constant(&a.right),
        Expression::CallExpression(c) => match &c.callee {
            Expression::StaticMemberExpression(m) => {
                FOLDED_METHODS.contains(&m.property.name.as_str()) && may_be_constant(&m.object)
            }
            Expression::Identifier(_) => true,
            _ => false,
        },
        _ => false,
    }
}

/// Text that folding gets wrong wherever it is: a number with white space around it or
/// `_` in it.
pub(super) fn risky_text(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    if t.len() == s.len() && !t.contains('_') {
        return false;
    }
    let radix = ["0x", "0X", "0o", "0O", "0b", "0B"]
        .iter()
        .any(|p| t.starts_with(p) && t.len() > 2);
    let numeric = radix || t.replace('_', "").parse::<f64>().is_ok();
    numeric && (t.len() != s.len() || t.contains('_'))
}
