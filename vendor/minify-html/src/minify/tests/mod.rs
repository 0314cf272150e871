mod attr;
// sitevault patch: the `Cow` whitespace edits.
mod whitespace;
