//! A cheap nesting pre-scan run before the CSS, JS and HTML parsers: they recurse once
//! per level, and a hostile file must be refused with its position, never abort the
//! process. Strings, comments and (in JS) regular expressions are skipped; the count is
//! approximate, erring towards counting more, but only matters far past any real file's
//! depth. Element nesting in HTML is in `depth/html.rs`.

mod html;
pub(crate) use html::check_html;

/// Deepest bracket nesting accepted in CSS (lightningcss's printer keeps its indentation
/// in a `u8`: two per level).
pub(crate) const CSS_LIMIT: usize = 100;
/// Deepest bracket nesting accepted in JS (swc runs on the build's large-stack threads).
pub(crate) const JS_LIMIT: usize = 2000;

/// Longest chain of operators accepted in one JS expression. `1+1+…`, `a.b.c…`,
/// `f()()…`, `!!!…x` or `new new … X` nest one level per link in swc's tree, which every
/// pass then walks recursively: a chain of 600,000 links (1.2 MB) overflowed the build's
/// 256 MB stacks, 400,000 did not. Counted per bracket level, from the last `,` or `;` or
/// the newline that ends a statement; each operator character counts, so `===` is three.
pub(crate) const JS_CHAIN_LIMIT: usize = 50_000;

/// Deepest element nesting accepted in HTML (minify-html recurses once per open element:
/// a million unclosed `<span>`s overflowed even the build's 256 MB stacks).
pub(crate) const HTML_LIMIT: usize = 10_000;

/// Where nesting first goes past `limit`: (1-based line, 1-based column, message).
/// In JS, statements nested without braces count too: a run of labels (`a: b: c: x`),
/// `if (…)`, loops, `else` and `do` heads nests the parser once per head (300,000
/// nested labels overflowed even the build's 256 MB stacks).
pub(crate) fn check(text: &str, limit: usize, js: bool) -> Option<(usize, usize, String)> {
    shape(text, limit, js).err()
}

/// How deep a JS file's tree goes where it is not refused: the longest operator chain
/// (counted as the limit counts it), the most `?` in one chain (conditionals nested in
/// their branches), and the longest `else if` chain (read flat by the parser, but nested
/// in the tree).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) longest_chain: usize,
    pub(crate) longest_conditional: usize,
    pub(crate) longest_else_if: usize,
    /// Names and numbers outside strings, comments and regular expressions: at least as
    /// many as the file has declarations and references (0: not counted).
    pub(crate) words: usize,
}

/// [`check`], and the file's [`Shape`] when it passes.
pub(crate) fn shape(text: &str, limit: usize, js: bool) -> Result<Shape, (usize, usize, String)> {
    let mut longest_else_if = 0usize;
    let mut words = 0usize;
    // The `else if` chain the next `if` continues.
    let mut next_if_links = 0usize;
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut line_start = 0usize;
    let mut i = 0usize;
    // JS: heads nested without braces, the depth a head's condition closes back to, and
    // whether a head keyword waits for its `(`.
    let mut run = 0usize;
    let mut head_at: Option<usize> = None;
    let mut await_paren = false;
    // For each `if (…)` whose `else` may follow: its depth and the run it ended with
    // (`if (a) x(); else while (b) if (c) …` nests through the `else`).
    // (And the links of the `else if` chain it is part of.)
    let mut ifs: Vec<(usize, usize, usize)> = Vec::new();
    let mut head_is_if = false;
    // JS: the operator chain at each open bracket level, the levels that are a template's
    // `${…}`, and the last character that was not a space or a comment.
    let mut chain = Chains::new();
    let mut subst: Vec<usize> = Vec::new();
    let mut last = b';';
    let too_deep = |i: usize, line: usize, line_start: usize| {
        let col = text
            .get(line_start..i)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        Err((
            line,
            col,
            format!(
                "nested more than {limit} levels deep; sitevault refuses such nesting (flatten it, or pass --keep-going to copy the file as written)"
            ),
        ))
    };
    let too_long = |i: usize, line: usize, line_start: usize| {
        let col = text.get(line_start..i).map_or(0, |s| s.chars().count()) + 1;
        Err((
            line,
            col,
            format!(
                "an expression chains more than {JS_CHAIN_LIMIT} operators; sitevault refuses such chains (split it into statements, or pass --keep-going to copy the file as written)"
            ),
        ))
    };
    let ident = |c: u8| IDENT[c as usize];
    let mut newline = false;
    let mut code_on_line = false;
    while i < b.len() {
        let c = b[i];
        let first_on_line = !code_on_line;
        let after_newline = newline;
        if !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            code_on_line = true;
        }
        if after_newline && code_on_line {
            newline = false;
            // `in` and `instanceof` go on with the expression before them.
            let word = &b[i..i + b[i..].iter().take_while(|&&c| ident(c)).count()];
            if !is_operator(c)
                && !matches!(c, b'(' | b'[' | b'`')
                && word != b"in"
                && word != b"instanceof"
            {
                chain.reset();
            }
        }
        match c {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                // A newline ends a statement (and its chain) when what comes before can
                // end one and what follows cannot continue it (decided at what follows).
                newline = js && !is_operator(last);
                code_on_line = false;
            }
            // Other line terminators end statements (and `//` comments) as `\n` does.
            b'\r' => {
                newline = js && !is_operator(last);
                code_on_line = false;
            }
            0xE2 if js && line_end_at(b, i) => {
                newline = !is_operator(last);
                code_on_line = false;
                i += 3;
                continue;
            }
            b' ' | b'\t' => {
                // A run of indentation at once.
                i += 1 + b[i + 1..]
                    .iter()
                    .take_while(|&&c| c == b' ' || c == b'\t')
                    .count();
                continue;
            }
            // `<!--` anywhere, and `-->` first on a line, open a line comment in a script
            // (a module refuses both, and is then read as a script).
            b'<' if js && b[i..].starts_with(b"<!--") => {
                while i < b.len() && !line_end_at(b, i) {
                    i += 1;
                }
                continue;
            }
            b'-' if js && first_on_line && b[i..].starts_with(b"-->") => {
                while i < b.len() && !line_end_at(b, i) {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'`' => {
                if head_at.is_none() {
                    run = 0;
                }
                let q = c;
                if js && q == b'`' {
                    // A template is a link (`tag`a``b``); its `${…}` opens a level whose
                    // `}` goes back to the template's text.
                    if chain.bump() {
                        return too_long(i, line, line_start);
                    }
                    let lines = (&mut line, &mut line_start);
                    let at;
                    (at, last) = template_part(b, i + 1, lines, &mut depth, &mut chain, &mut subst);
                    if depth + run > limit {
                        return too_deep(i, line, line_start);
                    }
                    i = at;
                    continue;
                }
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    } else if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                        if q != b'`' {
                            break;
                        }
                    }
                    i += 1;
                }
                last = q;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                // A comment is not code on its line; one that spans lines starts a new one
                // (`/*\n*/ -->` is a line comment in a script).
                code_on_line = !first_on_line;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                        code_on_line = false;
                    } else if js && line_end_at(b, i) {
                        code_on_line = false;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'/' if js && b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && !line_end_at(b, i) {
                    i += 1;
                }
                continue;
            }
            // After a block's `}` and a newline, a statement starts.
            b'/' if js && (regex_can_start(last) || (last == b'}' && after_newline)) => {
                // A regular expression is one operand: its `|`, `(` and `[` are skipped.
                i = regex_end(b, i + 1);
                last = b'0';
                continue;
            }
            b'(' | b'[' | b'{' => {
                // A call or an index is a link of the chain it follows.
                if js && c != b'{' && chain.bump() {
                    return too_long(i, line, line_start);
                }
                if js {
                    chain.open();
                    last = c;
                }
                if js && await_paren && c == b'(' {
                    head_at = Some(depth);
                } else if head_at.is_none() {
                    run = 0;
                }
                await_paren = false;
                depth += 1;
                if depth + run > limit {
                    return too_deep(i, line, line_start);
                }
            }
            b')' | b']' | b'}' => {
                if js {
                    chain.close();
                    last = c;
                    if c == b'}' && subst.last() == Some(&depth) {
                        // The end of a template's `${…}`: back to its text.
                        subst.pop();
                        depth -= 1;
                        let lines = (&mut line, &mut line_start);
                        let at;
                        (at, last) =
                            template_part(b, i + 1, lines, &mut depth, &mut chain, &mut subst);
                        i = at;
                        continue;
                    }
                }
                depth = depth.saturating_sub(1);
                if c == b')' && head_at == Some(depth) {
                    // A statement starts after `if (…)`: a `/` there begins a regex.
                    last = b';';
                    head_at = None;
                    run += 1;
                    if head_is_if {
                        ifs.push((depth, run, std::mem::take(&mut next_if_links)));
                    }
                    if depth + run > limit {
                        return too_deep(i, line, line_start);
                    }
                } else if head_at.is_none() {
                    run = 0;
                }
            }
            c if js && ident(c) && (i == 0 || !ident(b[i - 1])) => {
                words += 1;
                let end = i + b[i..].iter().take_while(|&&c| ident(c)).count();
                let word = &b[i..end];
                let mut next = end;
                last = b[end - 1];
                if matches!(
                    word,
                    b"return" | b"throw" | b"case" | b"else" | b"do" | b"of"
                ) {
                    // An expression starts after them: a `/` there begins a regex.
                    last = b'=';
                }
                if CHAIN_WORDS.contains(&word) {
                    last = b'=';
                    if chain.bump() {
                        return too_long(i, line, line_start);
                    }
                }
                if head_at.is_none() {
                    match word {
                        b"if" | b"while" | b"for" | b"with" => {
                            await_paren = true;
                            head_is_if = word == b"if";
                        }
                        b"await" if await_paren => {}
                        b"else" => {
                            await_paren = false;
                            while ifs.last().is_some_and(|&(d, _, _)| d > depth) {
                                ifs.pop();
                            }
                            let mut r = run;
                            let mut links = 0;
                            if let Some(&(d, ri, li)) = ifs.last() {
                                if d == depth {
                                    ifs.pop();
                                    r = ri;
                                    links = li;
                                }
                            }
                            // `else if` continues a chain the parser reads in a loop: the
                            // `if` takes the place of the one before it.
                            let mut k = end;
                            while b.get(k).is_some_and(|c| c.is_ascii_whitespace()) {
                                k += 1;
                            }
                            let chained = b.get(k..k + 2) == Some(&b"if"[..])
                                && b.get(k + 2).is_none_or(|&c| !ident(c));
                            run = if chained { r.saturating_sub(1) } else { r + 1 };
                            if chained {
                                next_if_links = links + 1;
                                longest_else_if = longest_else_if.max(links + 1);
                            }
                        }
                        b"do" => {
                            await_paren = false;
                            run += 1;
                        }
                        _ => {
                            await_paren = false;
                            let mut k = end;
                            while b.get(k).is_some_and(|c| matches!(c, b' ' | b'\t')) {
                                k += 1;
                            }
                            if b.get(k) == Some(&b':') && b.get(k + 1) != Some(&b':') {
                                run += 1;
                                next = k + 1;
                            } else {
                                run = 0;
                            }
                        }
                    }
                    if depth + run > limit {
                        return too_deep(i, line, line_start);
                    }
                }
                i = next;
                continue;
            }
            _ => {
                if head_at.is_none() {
                    run = 0;
                    await_paren = false;
                }
                if js {
                    // `++` and `--` end an operand: a `/` after them divides.
                    let postfix = (c == b'+' || c == b'-') && i > 0 && b[i - 1] == c;
                    // `1.` is a number: a `/` after it divides.
                    let number = c == b'.' && i > 0 && b[i - 1].is_ascii_digit();
                    last = if postfix || number { b'0' } else { c };
                    if c == b',' || c == b';' {
                        chain.reset();
                    } else if is_operator(c) && chain.bump() {
                        return too_long(i, line, line_start);
                    }
                    if c == b'?'
                        && !matches!(b.get(i + 1), Some(b'?' | b'.'))
                        && (i == 0 || b[i - 1] != b'?')
                    {
                        chain.question();
                    }
                }
            }
        }
        i += 1;
    }
    Ok(Shape {
        longest_chain: chain.longest,
        longest_conditional: chain.longest_q,
        longest_else_if,
        words,
    })
}

/// The bytes of a JS name (ASCII; the bytes of other characters are read as punctuation
/// that counts nothing).
const IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
        c += 1;
    }
    t
};

/// Keyword operators: each is a link (`new new … X`, `class extends class extends …`).
#[rustfmt::skip]
const CHAIN_WORDS: &[&[u8]] = &[
    b"new", b"typeof", b"void", b"delete", b"await", b"yield", b"in", b"instanceof", b"extends",
];

/// Characters of JS operators (and of `.`, `?.`, `...`, `=>`).
fn is_operator(c: u8) -> bool {
    matches!(
        c,
        b'+' | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'<'
            | b'>'
            | b'&'
            | b'|'
            | b'^'
            | b'!'
            | b'~'
            | b'?'
            | b':'
            | b'='
            | b'.'
    )
}

/// Whether a `/` after `last` (the previous character that was not a space or a comment)
/// starts a regular expression rather than dividing: after an operator or an opening
/// bracket, `,` or `;`. After a name, a number, a string or a closing bracket it
/// divides (after `return` it does not, and the expression is counted as code: more,
/// never less).
fn regex_can_start(last: u8) -> bool {
    is_operator(last) || matches!(last, b'(' | b'[' | b'{' | b',' | b';')
}

/// Where a regular expression whose body starts at `from` ends (after its closing `/`;
/// at a newline, which no regular expression holds). A `/` inside `[…]` does not close.
fn regex_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    let mut class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => return i + 1,
            _ if line_end_at(b, i) => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Whether a JS line ends at `b[i]`: `\n`, `\r`, U+2028 or U+2029.
fn line_end_at(b: &[u8], i: usize) -> bool {
    matches!(b[i], b'\n' | b'\r')
        || (b[i] == 0xE2
            && b.get(i + 1) == Some(&0x80)
            && matches!(b.get(i + 2), Some(0xA8 | 0xA9)))
}

/// The operator chain at each open bracket level, as (the chain the level opened in, the
/// chain now), and the same for the `?`s in it. A level starts where its parent's chain
/// stands: swc nests the links of `a=>(a=>(…))` into one path, so levels add up; a
/// statement or list item inside one goes back to where it started. Also the longest
/// chain and the most `?`s seen.
struct Chains {
    levels: Vec<[usize; 4]>,
    longest: usize,
    longest_q: usize,
}

impl Chains {
    fn new() -> Self {
        Chains {
            levels: vec![[0; 4]],
            longest: 0,
            longest_q: 0,
        }
    }

    /// One more link; whether the chain is now too long.
    fn bump(&mut self) -> bool {
        let Some(l) = self.levels.last_mut() else {
            return false;
        };
        l[1] += 1;
        self.longest = self.longest.max(l[1]);
        l[1] > JS_CHAIN_LIMIT
    }

    /// A `?` of a conditional (not `?.` or `??`).
    fn question(&mut self) {
        if let Some(l) = self.levels.last_mut() {
            l[3] += 1;
            self.longest_q = self.longest_q.max(l[3]);
        }
    }

    fn reset(&mut self) {
        if let Some(l) = self.levels.last_mut() {
            l[1] = l[0];
            l[3] = l[2];
        }
    }

    fn open(&mut self) {
        let l = self.levels.last().copied().unwrap_or_default();
        self.levels.push([l[1], l[1], l[3], l[3]]);
    }

    fn close(&mut self) {
        if self.levels.len() > 1 {
            self.levels.pop();
        }
    }
}

/// Reads a template's text from `from` up to its closing backtick, or up to a `${`, which
/// opens a level (a substitution, its `}` read back to here). Returns where reading goes
/// on and the last character read (`` ` `` or `{`). Counts its lines.
fn template_part(
    b: &[u8],
    from: usize,
    (line, line_start): (&mut usize, &mut usize),
    depth: &mut usize,
    chain: &mut Chains,
    subst: &mut Vec<usize>,
) -> (usize, u8) {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'`' => return (i + 1, b'`'),
            b'$' if b.get(i + 1) == Some(&b'{') => {
                *depth += 1;
                chain.open();
                subst.push(*depth);
                return (i + 2, b'{');
            }
            b'\n' => {
                *line += 1;
                *line_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    (b.len(), b'`')
}

#[cfg(test)]
mod tests;
