pub mod attr;
pub mod bang;
pub mod comment;
pub mod content;
pub mod css;
pub mod doctype;
pub mod element;
pub mod instruction;
pub mod js;
// sitevault patch 15.
pub mod quirks;
pub mod rcdata;
#[cfg(test)]
mod tests;
// sitevault patch: whitespace edits on text borrowed from the page.
pub mod whitespace;
