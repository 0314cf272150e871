//! What oxc's compressor (0.146) was found to get wrong, so that such files are swc's.
//!
//! A review (session 34) ran original and minified code side by side in node, on real
//! packages, targeted snippets and about 24,000 random constant expressions. The real
//! packages behaved the same; these did not, and swc got each of them right:
//! - names used inside `with` were mangled, and constants folded there;
//! - a classic script's top-level `let` was inlined into its functions where the file
//!   never assigns it, though other scripts of the page may (`let flag = false` read as
//!   always false), and also where its only writes are in code the compressor drops
//!   (`if (false)`, after a `return`: session 36's review). Its `const`s are inlined as
//!   swc inlines them (no other script can assign one), and its classes and `var`s are
//!   kept as written. Until session 41 a top-level `let` made a script swc's; now the
//!   compressor is told each such `let` is assigned elsewhere (`oxc.rs`);
//! - strings folded at build time with UTF-8 offsets and lengths instead of UTF-16 ones,
//!   lone surrogates leaked as text or made the printer panic, `trim()` knew other white
//!   space than JS's;
//! - numbers read from strings with white space around them (`Number(' 12 ')`) or with
//!   `_` (`parseFloat('1_0')`) folded to the wrong value; `'abc'.slice(0, undefined)` to
//!   `''`, `'abc'.indexOf('', 10)` to 10, `Math.round(0.49999999999999994)` to 1;
//! - `` String.raw`</script>` `` changed its raw text;
//! - memory grew with the square of a template's constant substitutions (100 KB: 0.8 GB).
//!
//! A second review (session 35, about 3,000 generated programs) found the same four
//! string methods wrong on more arguments once swc no longer took every method of a
//! string literal: a position given as a string (`'abcabc'.indexOf('', '10')` gave 10), a
//! missing search (`'xundefined'.indexOf()` gave -1), a local function the compressor
//! inlines (`const f = () => undefined; 'abc'.slice(0, f())`), and a name holding the
//! string (`const s = 'abc'; s.slice(0, undefined)`).
//!
//! A third review (session 40, about 1,400 programs) found `decodeURI`,
//! `decodeURIComponent`, `encodeURI` and `encodeURIComponent` taken for pure: a call of
//! them whose value is unused was dropped with the URIError it throws (`try {
//! decodeURIComponent(s); return true } catch …`), so a file that calls one where its value
//! may be unused is swc's. (What it found swc wrong on: `swc_fixes.rs`.)
//!
//! Session 41's reviews (about 21,500 programs) found the rules for those methods blind
//! to `s['slice']`, `(s)`, chained and concatenated receivers and assigned names, and text
//! that is not ASCII reaching a read through a conditional or a concatenation. Since then
//! what can be hidden from the compressor is: the names [`Risk::finish`] returns are made
//! unknown to it (`oxc::unknown_to_the_compressor`), and text that is not ASCII is not in
//! its tree (`oxc_read::TEXT`).
//!
//! [`Risk`] finds the constructs these need in oxc's tree, before it is compressed,
//! with a margin: the calls of those methods whose string and arguments the compressor
//! may both know ([`folds_right`]; names resolved through the program's scoping), whose
//! names are then made unknown to it. Strings that are not ASCII are not in the tree it
//! reads: `oxc_read::Refs` puts a call it cannot evaluate in the place of each and the
//! text is put back once printed (since session 41; before, a string that is not ASCII
//! where its offsets could be read made the file swc's, and a review found it reached
//! such reads in more ways than the rule knew: `const a = c ? 'é' : 0, b = a + 'x';
//! b.indexOf('x')` gave 2).

use oxc_ast::ast::*;
use oxc_semantic::Scoping;
use oxc_syntax::reference::ReferenceId;
use oxc_syntax::symbol::{SymbolFlags, SymbolId};
use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Range;

mod known;
use known::{folds_right, may_be_constant, may_fold, opaque, risky_text};

/// Templates with more substitutions than this are swc's.
const TEMPLATE_SUBSTITUTIONS: usize = 64;

/// What oxc's compressor may fold wrong in a program, read in `oxc_read::Refs`'s walk
/// of its tree (the hooks below, called before the references are replaced).
pub(super) struct Risk<'s> {
    scoping: &'s Scoping,
    why: Option<&'static str>,
    /// Names given to a string literal's method whose value must be opaque to the
    /// compressor (checked against their declarations once the walk is done).
    names: Vec<ReferenceId>,
    /// Names whose `slice`, `substring`, `indexOf` or `lastIndexOf` is called, with the
    /// names among its arguments (`None`: arguments that would be folded wrong as they
    /// are): if the receiver may be a string the compressor knows, those names must be
    /// opaque.
    receivers: Vec<(ReferenceId, Option<Vec<ReferenceId>>)>,
    /// Every name's declarator, as the compressor may read it (read in the same walk:
    /// which ones matter is known only at its end).
    decls: Vec<Decl>,
    /// The names in the declarators' initialisers ([`Decl::names`]).
    decl_names: Vec<ReferenceId>,
}

/// What the compressor may know of a name from one of its declarators.
struct Decl {
    id: SymbolId,
    /// It may know the value whatever the names in it hold: no initialiser (`undefined`),
    /// a destructured literal, or one that is not [`opaque`] by itself.
    known: bool,
    /// Or if one of these names (in `Risk::decl_names`) may be a constant.
    names: Range<usize>,
    /// It may be a string the compressor knows ([`may_be_constant`]).
    string: bool,
}

/// The declaration the name of `reference` refers to, if the file declares it (a
/// global's value the compressor does not know). One the file assigns counts: the
/// compressor joins `let v; v = 'abc'` into `let v = 'abc'` and then knows it (session
/// 41's review: `v.slice(0, undefined)` gave `''`).
fn symbol(scoping: &Scoping, reference: ReferenceId) -> Option<SymbolId> {
    scoping.get_reference(reference).symbol_id()
}

impl<'s> Risk<'s> {
    /// The risks of a program, to be read by the hooks below. `scoping`: the program's,
    /// which tells which declaration a name is.
    pub(super) fn new(scoping: &'s Scoping) -> Self {
        Risk {
            scoping,
            why: None,
            names: Vec::new(),
            receivers: Vec::new(),
            decls: Vec::new(),
            decl_names: Vec::new(),
        }
    }

    /// The program's scoping, as given to [`Risk::new`].
    pub(super) fn scoping(&self) -> &'s Scoping {
        self.scoping
    }

    /// Once the walk is done: why oxc must not minify the program (`Err`), or the names
    /// whose values its compressor must not know (`oxc::unknown_to_the_compressor`): the
    /// names given to a string method that may be constants ([`Risk::must_not_be_known`]).
    /// Until session 41 they made the file swc's (three.js' `fflate`, `rhino3dm`, …).
    pub(super) fn finish(self) -> Result<Vec<SymbolId>, &'static str> {
        match self.why {
            Some(why) => Err(why),
            None => Ok(self.must_not_be_known()),
        }
    }

    fn found(&mut self, why: &'static str) {
        self.why.get_or_insert(why);
    }

    /// The names given to a string method that may be constants the compressor knows
    /// (one of their declarators [`Decl::known`], or naming such a name), and the
    /// receivers whose arguments must be opaque that may be strings it knows while an
    /// argument may be a constant: unknown to it, it cannot fold the call.
    fn must_not_be_known(&self) -> Vec<SymbolId> {
        if self.names.is_empty() && self.receivers.is_empty() {
            return Vec::new();
        }
        let resolve = |refs: &[ReferenceId]| -> Vec<SymbolId> {
            refs.iter()
                .filter_map(|&r| symbol(self.scoping, r))
                .collect()
        };
        let names = resolve(&self.names);
        let receivers: Vec<(SymbolId, Option<Vec<SymbolId>>)> = self
            .receivers
            .iter()
            .filter_map(|(r, args)| Some((symbol(self.scoping, *r)?, args.as_deref().map(resolve))))
            .collect();
        let interest: FxHashSet<SymbolId> = names
            .iter()
            .chain(
                receivers
                    .iter()
                    .flat_map(|(r, args)| std::iter::once(r).chain(args.iter().flatten())),
            )
            .copied()
            .collect();
        // Per name of interest: whether the compressor may know it, and may know it as a
        // string.
        let mut facts: FxHashMap<SymbolId, (bool, bool)> = FxHashMap::default();
        for d in self.decls.iter().filter(|d| interest.contains(&d.id)) {
            let known = d.known
                || self.decl_names[d.names.clone()]
                    .iter()
                    .any(|&r| symbol(self.scoping, r).is_some());
            let f = facts.entry(d.id).or_default();
            f.0 |= known;
            f.1 |= d.string;
        }
        // An assigned name may hold whatever it is assigned.
        for &id in &interest {
            if self
                .scoping
                .get_resolved_references(id)
                .any(|r| r.is_write())
            {
                facts.insert(id, (true, true));
            }
        }
        // A function the file declares may be inlined where it is called.
        let known = |id: &SymbolId| {
            facts.get(id).is_some_and(|f| f.0)
                || self
                    .scoping
                    .symbol_flags(*id)
                    .contains(SymbolFlags::Function)
        };
        let mut opaque: Vec<SymbolId> = names.iter().copied().filter(known).collect();
        opaque.extend(receivers.iter().filter_map(|(receiver, args)| {
            (facts.get(receiver).is_some_and(|f| f.1)
                && args.as_ref().is_none_or(|a| a.iter().any(known)))
            .then_some(*receiver)
        }));
        opaque
    }

    /// A method called on a string literal, which the compressor may evaluate. Its
    /// `slice`, `substring`, `indexOf` and `lastIndexOf` went wrong on an `undefined` end,
    /// on a position past the end, on a position given as a string (read as an Int32:
    /// `'Infinity'` as 0), on `lastIndexOf`'s NaN position and on a missing search
    /// (`'abc'.slice(0, undefined)` gave `''`, `'xundefined'.indexOf()` -1): their
    /// positions must be number literals in range, a search an ASCII string literal, or
    /// either a value the compressor cannot know ([`opaque`]). Its other string methods
    /// were right on ASCII text (case, trim, `charAt`, `charCodeAt`, `startsWith`,
    /// `replace`, `concat`): Babel's `"".concat(a, "-")` and `'x'.charCodeAt(0)` stay
    /// oxc's.
    fn string_method(&mut self, s: &StringLiteral, method: Option<&str>, args: &[Argument]) {
        let Some(method) = method else {
            return self.found("a computed method of a string literal");
        };
        let text = s.value.as_str();
        // One that is not ASCII is not in the tree the compressor reads (`oxc_read::Refs`
        // puts a call it cannot evaluate in its place); lone surrogates are swc's.
        if s.lone_surrogates || !text.is_ascii() {
            return;
        }
        if !folds_right(method, args, Some(text.len()), &mut self.names) {
            self.found("a string method with arguments the compressor may misread");
        }
    }
}

/// The hooks `oxc_read::Refs` calls at each node of these kinds, before it walks on.
impl Risk<'_> {
    pub(super) fn with_statement(&mut self) {
        self.found("a with statement");
    }

    pub(super) fn string_literal(&mut self, s: &StringLiteral) {
        if s.lone_surrogates || risky_text(s.value.as_str()) {
            self.found("a lone surrogate or a number with white space");
        }
    }

    /// A file holding a name that starts like the stand-ins for strings that are not
    /// ASCII (`oxc_read::TEXT`).
    pub(super) fn text_stand_in_name(&mut self) {
        self.found("a name like sitevault's stand-ins for text");
    }

    pub(super) fn template_element(&mut self, e: &TemplateElement) {
        let risky = match &e.value.cooked {
            Some(c) => e.lone_surrogates || risky_text(c.as_str()),
            None => true,
        };
        if risky {
            self.found("a template with a lone surrogate or a number with white space");
        }
    }

    pub(super) fn variable_declarator(&mut self, d: &VariableDeclarator) {
        // The name may be unused, and its value dropped with it.
        if let Some(init) = &d.init {
            self.unused_value(init);
        }
        // What the compressor may know of the names it declares: without an initialiser
        // `undefined`; with one that is not opaque by itself, or a name in it that may be
        // a constant, its value (`must_not_be_known` resolves those names at the end).
        let from = self.decl_names.len();
        let destructured_literal = !matches!(&d.id, BindingPattern::BindingIdentifier(_))
            && matches!(
                &d.init,
                Some(Expression::ArrayExpression(_) | Expression::ObjectExpression(_))
            );
        let known = destructured_literal
            || d.init
                .as_ref()
                .is_none_or(|e| !opaque(e, &mut self.decl_names));
        let names = from..self.decl_names.len();
        let string = d.init.as_ref().is_some_and(may_be_constant);
        d.id.all_binding_identifiers(&mut |b| {
            if let Some(id) = b.symbol_id.get() {
                self.decls.push(Decl {
                    id,
                    known,
                    names: names.clone(),
                    string,
                });
            }
            true
        });
    }

    /// `e`'s value may be unused (an expression statement, a declaration's value): a call
    /// in it to a global function the compressor takes for pure but that throws on some
    /// arguments would be dropped with its error (session 40's review: `try {
    /// decodeURIComponent(s); return true } catch { return false }` always said true).
    pub(super) fn unused_value(&mut self, e: &Expression) {
        let throws = match e.without_parentheses() {
            Expression::CallExpression(c) => self.throwing_global_call(c),
            Expression::SequenceExpression(s) => s.expressions.iter().any(|e| {
                matches!(e.without_parentheses(), Expression::CallExpression(c) if self.throwing_global_call(c))
            }),
            _ => false,
        };
        if throws {
            self.found("a call to decodeURI or encodeURI whose value may be unused");
        }
    }

    /// A call of the global `decodeURI`, `decodeURIComponent`, `encodeURI` or
    /// `encodeURIComponent` (not a name the program declares): they throw a URIError on a
    /// malformed escape or a lone surrogate, and oxc's compressor drops a call of them
    /// whose value is unused.
    fn throwing_global_call(&self, c: &CallExpression) -> bool {
        let Expression::Identifier(i) = &c.callee else {
            return false;
        };
        matches!(
            i.name.as_str(),
            "decodeURI" | "decodeURIComponent" | "encodeURI" | "encodeURIComponent"
        ) && i
            .reference_id
            .get()
            .is_none_or(|r| self.scoping.get_reference(r).symbol_id().is_none())
    }

    pub(super) fn template_literal(&mut self, t: &TemplateLiteral) {
        if t.expressions.len() > TEMPLATE_SUBSTITUTIONS {
            self.found("a template with many substitutions");
        }
        // Text that is not ASCII in a template with substitutions: its stand-in would
        // hide them from the build (a template without is one, `oxc_read::Refs`).
        let not_ascii = t
            .quasis
            .iter()
            .any(|q| q.value.cooked.is_some_and(|c| !c.is_ascii()));
        if not_ascii && !t.expressions.is_empty() {
            self.found("a template with substitutions and text that is not ASCII");
        }
    }

    pub(super) fn tagged_template(&mut self) {
        self.found("a tagged template");
    }

    /// A call the compressor may evaluate into text that is not ASCII, which it would then
    /// measure in UTF-8 (`decodeURIComponent('%C3%A9').length`, `String.fromCharCode(233)`):
    /// its arguments must be unknown to it, or give ASCII text.
    fn makes_text(&mut self, args: &[Argument]) {
        let ascii = args.iter().all(|a| match a {
            // No escape to decode, and no number to read (`String.fromCharCode('233')`).
            Argument::StringLiteral(s) => !s.value.bytes().any(|b| b == b'%' || b.is_ascii_digit()),
            Argument::NumericLiteral(n) => (0.0..128.0).contains(&n.value),
            // Or a value it cannot know once its names are unknown to it.
            Argument::SpreadElement(s) => !may_fold(&s.argument, &mut self.names, self.scoping),
            a => a
                .as_expression()
                .is_some_and(|e| !may_fold(e, &mut self.names, self.scoping)),
        });
        if !ascii {
            self.found("a call the compressor may fold into text that is not ASCII");
        }
    }

    pub(super) fn call_expression(&mut self, c: &CallExpression) {
        let first = c.arguments.first().and_then(|a| a.as_expression());
        // The method as the compressor reads it: `s['slice']` is `s.slice`, `(s)` is `s`
        // (session 41's review).
        let (object, method) = match c.callee.without_parentheses() {
            Expression::StaticMemberExpression(m) => (
                Some(m.object.without_parentheses()),
                Some(m.property.name.as_str()),
            ),
            Expression::ComputedMemberExpression(m) => (
                Some(m.object.without_parentheses()),
                match &m.expression {
                    Expression::StringLiteral(k) => Some(k.value.as_str()),
                    _ => None,
                },
            ),
            _ => (None, None),
        };
        let searched = matches!(
            method,
            Some("slice" | "substring" | "indexOf" | "lastIndexOf")
        );
        match (object, c.callee.without_parentheses()) {
            (Some(Expression::StringLiteral(s)), _) => self.string_method(s, method, &c.arguments),
            (Some(Expression::TemplateLiteral(_)), _) => {
                self.found("a method of a template literal")
            }
            // A name holding a string may be inlined and the method folded as on a literal
            // (`const s = 'abc'; s.slice(0, undefined)`): unless its arguments are folded
            // right whatever the string, the name must not be declared as one.
            (Some(Expression::Identifier(i)), _) if searched => {
                if let Some(receiver) = i.reference_id.get() {
                    let mut names = Vec::new();
                    let right =
                        folds_right(method.unwrap_or_default(), &c.arguments, None, &mut names);
                    if !right || !names.is_empty() {
                        self.receivers.push((receiver, right.then_some(names)));
                    }
                }
            }
            // The fuzzing found `round` alone wrong of Math's functions: it now rounds as JS
            // does (oxc_ecmascript patch 2).
            (None, Expression::Identifier(i))
                if matches!(i.name.as_str(), "decodeURI" | "decodeURIComponent") =>
            {
                self.makes_text(&c.arguments)
            }
            (Some(_), _) if method == Some("fromCharCode") => self.makes_text(&c.arguments),
            // Any other value the method is called on (`s.trim().slice(0, undefined)`,
            // `(s + 'x').indexOf()`): unless its arguments are folded right whatever the
            // string, it must be unknown to the compressor, its names made unknown.
            (Some(receiver), _) if searched => {
                let mut names = Vec::new();
                let right = folds_right(method.unwrap_or_default(), &c.arguments, None, &mut names);
                self.names.extend(names);
                if !right && may_fold(receiver, &mut self.names, self.scoping) {
                    self.found("a string method of a value the compressor may know");
                }
            }
            // `Number(s)` reads as the compressor now reads it (oxc_ecmascript patch 1).
            (None, Expression::Identifier(i))
                if matches!(i.name.as_str(), "parseFloat" | "parseInt")
                    && matches!(first, Some(Expression::StringLiteral(_))) =>
            {
                self.found("a number read from a string literal")
            }
            _ => {}
        }
    }
}
