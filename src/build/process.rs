//! Processing one file: minify (HTML, CSS, JS) with placeholders for local references,
//! through the content cache; with `--keep-going` a file that fails is copied as written.

use super::cache::{Cache, Processed};
use super::kinds::{FileClass, SourceErr};
use super::refs::Placeholders;
use super::{css, html, js, Input};
use crate::error::{Error, Result};

pub(super) fn process_stage1(
    inp: &Input,
    cache: &Cache,
    options: &str,
    targets: lightningcss::targets::Targets,
    keep_going: bool,
    display: &str,
) -> Result<Processed> {
    if inp.raw.is_some() {
        return Ok(Processed {
            body: inp.bytes.clone(),
            ..Default::default()
        });
    }
    let stage = match inp.class {
        FileClass::Other => {
            return Ok(Processed {
                body: inp.bytes.clone(),
                ..Default::default()
            })
        }
        FileClass::Json => {
            let text = std::str::from_utf8(&inp.bytes).unwrap_or_default();
            let body = if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                bytes::Bytes::from(super::kinds::compact_json(text))
            } else {
                inp.bytes.clone()
            };
            return Ok(Processed {
                body,
                ..Default::default()
            });
        }
        FileClass::Html => "html",
        FileClass::Css => "css",
        FileClass::CssMin => "css-min",
        FileClass::Js => return process_js(inp, None, cache, options, keep_going, display),
        FileClass::JsMin => {
            return process_js(
                inp,
                Some(js::JsKind::Script),
                cache,
                options,
                keep_going,
                display,
            )
        }
    };
    let key = Cache::key(stage, options, &inp.rel, &inp.bytes);
    if let Some(p) = cache.get(&key) {
        return Ok(p);
    }
    let text = std::str::from_utf8(&inp.bytes).unwrap_or_default();
    let mut ph = Placeholders::for_content(&inp.bytes);
    let mut warnings = Vec::new();
    let (body, esm) = match inp.class {
        FileClass::Html => {
            match html::process(text, display, targets, &mut ph, keep_going, &mut warnings) {
                Ok(b) => (bytes::Bytes::from(b), false),
                Err(e) => {
                    copied(e, keep_going, display, &mut warnings)?;
                    ph = Placeholders::for_content(&inp.bytes);
                    (inp.bytes.clone(), false)
                }
            }
        }
        FileClass::Css => match css::minify(text, display, targets, &mut ph, 0) {
            Ok(b) => (bytes::Bytes::from(b), false),
            Err(e) => {
                copied(e, keep_going, display, &mut warnings)?;
                let mut ph2 = Placeholders::for_content(&inp.bytes);
                let b = css::rewrite_text(text, &mut ph2);
                ph = ph2;
                (bytes::Bytes::from(b), false)
            }
        },
        FileClass::CssMin => (bytes::Bytes::from(css::rewrite_text(text, &mut ph)), false),
        _ => (inp.bytes.clone(), false),
    };
    let p = Processed {
        prefix: ph.prefix().to_string(),
        refs: ph.into_refs(),
        esm,
        module: false,
        warnings,
        body,
    };
    cache.put(&key, &p);
    Ok(p)
}

pub(super) fn process_js(
    inp: &Input,
    kind: Option<js::JsKind>,
    cache: &Cache,
    options: &str,
    keep_going: bool,
    display: &str,
) -> Result<Processed> {
    let stage = match (inp.class, kind) {
        (FileClass::JsMin, _) => "js-min",
        (_, None) => "js-auto",
        (_, Some(js::JsKind::Module)) => "js-module",
        (_, Some(js::JsKind::Script)) => "js-script",
    };
    let key = Cache::key(stage, options, &inp.rel, &inp.bytes);
    if let Some(p) = cache.get(&key) {
        return Ok(p);
    }
    let text = std::str::from_utf8(&inp.bytes).unwrap_or_default();
    let mut ph = Placeholders::for_content(&inp.bytes);
    let mut warnings = Vec::new();
    let result = if inp.class == FileClass::JsMin {
        js::reference_spans(text, display, &mut ph)
            .map(|spans| (splice(text, &spans), js::JsKind::Script))
    } else {
        match kind {
            Some(k) => js::minify(text, display, k, &mut ph).map(|c| (c, k)),
            None => js::minify_auto(text, display, &mut ph),
        }
    };
    let (body, used) = match result {
        Ok((b, k)) => (bytes::Bytes::from(b), k),
        Err(e) => {
            copied(e, keep_going, display, &mut warnings)?;
            ph = Placeholders::for_content(&inp.bytes);
            (inp.bytes.clone(), kind.unwrap_or(js::JsKind::Script))
        }
    };
    let module = used == js::JsKind::Module;
    let p = Processed {
        prefix: ph.prefix().to_string(),
        refs: ph.into_refs(),
        esm: module && kind.is_none(),
        module,
        warnings,
        body,
    };
    cache.put(&key, &p);
    Ok(p)
}

/// A file that failed to minify: an error naming `path:line:col`, or with
/// `--keep-going` a warning (the caller then copies the file).
fn copied(e: SourceErr, keep_going: bool, display: &str, warnings: &mut Vec<String>) -> Result<()> {
    let at = format!("{display}:{}:{}: {}", e.line, e.col, e.msg);
    if !keep_going {
        return Err(Error::input(at));
    }
    warnings.push(format!("{at} (copied unminified)"));
    Ok(())
}

fn splice(text: &str, spans: &[(usize, usize, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (lo, hi, rep) in spans {
        if *lo < last || *hi > text.len() {
            continue;
        }
        out.push_str(&text[last..*lo]);
        out.push_str(rep);
        last = *hi;
    }
    out.push_str(&text[last..]);
    out
}
