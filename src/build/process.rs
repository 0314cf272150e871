//! Processing one file: minify (HTML, CSS, JS) with placeholders for local references,
//! through the content cache; with `--keep-going` a file that fails is copied as written.

use std::collections::HashSet;
use std::time::Instant;

use super::cache::{Cache, Processed};
use super::html_scan::Base;
use super::kinds::{FileClass, SourceErr};
use super::refs::{Placeholders, RefKind};
use super::{css, html, js, Input};
use crate::error::{Error, Result};
use rayon::prelude::*;

pub(super) fn process_stage1(
    inp: &Input,
    cache: &Cache,
    options: &str,
    targets: lightningcss::targets::Targets,
    keep_going: bool,
    display: &str,
) -> Result<Processed> {
    if inp.raw.is_some() {
        let text = String::from_utf8_lossy(&inp.bytes);
        let base = match inp.class {
            FileClass::Html => super::html_scan::base_of(&text, &inp.rel),
            _ => Base::Page,
        };
        return Ok(Processed {
            body: inp.bytes.clone(),
            computed_imports: unread_imports(inp.class),
            kept: match (inp.class, &base) {
                (FileClass::Other | FileClass::Json | FileClass::Svg, _)
                | (_, Base::Elsewhere(_)) => Vec::new(),
                _ => super::originals::names_in(&text),
            },
            base: match base {
                Base::Site(from) => Some(from),
                _ => None,
            },
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
        FileClass::Svg => {
            // Its references (`<image href>`, `<use href>`, `url(…)`) are not rewritten:
            // the files they name keep their source names, as for a file copied as written.
            let (body, kept) = match super::svg::minify(&inp.bytes) {
                Some(m) => (
                    m.body.map_or_else(|| inp.bytes.clone(), Into::into),
                    super::originals::names_in(&m.refs),
                ),
                None => (
                    inp.bytes.clone(),
                    std::str::from_utf8(&inp.bytes)
                        .map(super::originals::names_in)
                        .unwrap_or_default(),
                ),
            };
            return Ok(Processed {
                body,
                kept,
                ..Default::default()
            });
        }
        FileClass::Json if inp.rel.ends_with(".webmanifest") => {
            if let Some(p) = webmanifest(&inp.bytes) {
                return Ok(p);
            }
            return Ok(Processed {
                body: inp.bytes.clone(),
                ..Default::default()
            });
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
    let (key, digest) = key_of(stage, options, inp);
    if let Some(p) = cache.get(&key) {
        return Ok(p);
    }
    let text = std::str::from_utf8(&inp.bytes).unwrap_or_default();
    let mut ph = Placeholders::for_content_digest(&inp.bytes, &digest);
    let mut warnings = Vec::new();
    let mut base = None;
    let (body, esm) = match inp.class {
        FileClass::Html => {
            match super::html_scan::base_of(text, &inp.rel) {
                Base::Page => {}
                Base::Site(from) => base = Some(from),
                Base::Elsewhere(href) => {
                    warnings.push(format!(
                        "{display}: <base href={href:?}> is outside the site: the page's \
                         relative references are left as written"
                    ));
                    ph.set_base_elsewhere();
                }
            }
            match html::process(text, display, targets, &mut ph, keep_going, &mut warnings) {
                Ok(b) => (bytes::Bytes::from(b), false),
                Err(e) => {
                    copied(e, keep_going, display, &mut warnings)?;
                    let elsewhere = ph.base_elsewhere();
                    ph = Placeholders::for_content(&inp.bytes);
                    if elsewhere {
                        ph.set_base_elsewhere();
                    }
                    ph.note_computed_import("");
                    ph.note_unread(text);
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
        computed_imports: ph.computed_imports().to_vec(),
        kept: ph.take_kept(),
        refs: ph.into_refs(),
        base,
        esm,
        module: false,
        warnings,
        body,
    };
    cache.put(&key, &p);
    Ok(p)
}

/// A web app manifest, compacted, its image URLs (`icons`, `screenshots`, each
/// shortcut's `icons`) made references, which fingerprinting renames; `None` when it
/// is not a JSON object (then it is copied as written).
fn webmanifest(bytes: &[u8]) -> Option<Processed> {
    let mut doc: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut ph = Placeholders::for_content(bytes);
    let obj = doc.as_object_mut()?;
    let mut images: Vec<&mut serde_json::Value> = Vec::new();
    for (key, v) in obj.iter_mut() {
        match key.as_str() {
            "icons" | "screenshots" => images.extend(v.as_array_mut().into_iter().flatten()),
            "shortcuts" => {
                for s in v.as_array_mut().into_iter().flatten() {
                    if let Some(icons) = s.get_mut("icons").and_then(|i| i.as_array_mut()) {
                        images.extend(icons.iter_mut());
                    }
                }
            }
            _ => {}
        }
    }
    for image in images {
        if let Some(src) = image.get_mut("src") {
            let new = src.as_str().and_then(|u| ph.replace(u, 0, RefKind::Url));
            if let Some(new) = new {
                *src = serde_json::Value::String(new);
            }
        }
    }
    Some(Processed {
        prefix: ph.prefix().to_string(),
        refs: ph.into_refs(),
        body: bytes::Bytes::from(serde_json::to_vec(&doc).ok()?),
        ..Default::default()
    })
}

/// The cache key of `inp`'s processing and its content's digest, which also seeds its
/// placeholder nonce ([`Placeholders::for_content_digest`]): the content is hashed once.
fn key_of(stage: &str, options: &str, inp: &Input) -> (String, [u8; 32]) {
    let digest = *blake3::hash(&inp.bytes).as_bytes();
    (
        Cache::key_of_digest(stage, options, &inp.rel, &digest),
        digest,
    )
}

pub(super) fn process_js(
    inp: &Input,
    kind: Option<js::JsKind>,
    cache: &Cache,
    options: &str,
    keep_going: bool,
    display: &str,
) -> Result<Processed> {
    let stage = match (inp.class, kind, inp.packed) {
        (FileClass::JsMin, _, _) => "js-min",
        (_, None, false) => "js-auto",
        (_, Some(js::JsKind::Module), false) => "js-module",
        (_, Some(js::JsKind::Script), false) => "js-script",
        (_, None, true) => "js-packed-auto",
        (_, Some(js::JsKind::Module), true) => "js-packed-module",
        (_, Some(js::JsKind::Script), true) => "js-packed-script",
    };
    let (key, digest) = key_of(stage, options, inp);
    if let Some(p) = cache.get(&key) {
        return Ok(p);
    }
    let text = std::str::from_utf8(&inp.bytes).unwrap_or_default();
    let mut ph = Placeholders::for_content_digest(&inp.bytes, &digest);
    let mut warnings = Vec::new();
    let as_written = |ph: &mut Placeholders, k: js::JsKind| {
        js::reference_spans(text, display, ph).map(|spans| (super::refs::splice(text, &spans), k))
    };
    let result = if inp.class == FileClass::JsMin {
        as_written(&mut ph, js::JsKind::Script)
    } else if inp.packed {
        // Minified already: kept as written when minifying again does not make it
        // smaller (a string of raw control bytes is printed escaped, four bytes each).
        match js::minify_as(text, display, kind, js::Effort::Light, &mut ph) {
            Ok((b, k)) if b.len() >= text.len() => {
                ph = Placeholders::for_content(&inp.bytes);
                as_written(&mut ph, k)
            }
            r => r,
        }
    } else {
        js::minify_as(text, display, kind, js::Effort::Full, &mut ph)
    };
    let (body, used) = match result {
        Ok((b, k)) => (bytes::Bytes::from(b), k),
        Err(e) => {
            copied(e, keep_going, display, &mut warnings)?;
            ph = Placeholders::for_content(&inp.bytes);
            ph.note_computed_import("");
            ph.note_unread(text);
            (inp.bytes.clone(), kind.unwrap_or(js::JsKind::Script))
        }
    };
    let module = used == js::JsKind::Module;
    let p = Processed {
        prefix: ph.prefix().to_string(),
        computed_imports: ph.computed_imports().to_vec(),
        kept: ph.take_kept(),
        refs: ph.into_refs(),
        base: None,
        esm: module && kind.is_none(),
        module,
        warnings,
        body,
    };
    cache.put(&key, &p);
    Ok(p)
}

/// A page or script copied without being read: it may import anything through the
/// import maps, which then keep an entry per file below their prefixes.
fn unread_imports(class: FileClass) -> Vec<String> {
    match class {
        FileClass::Html | FileClass::Js | FileClass::JsMin => vec![String::new()],
        _ => Vec::new(),
    }
}

/// A file that failed to minify: an error naming `path:line:col`, or with
/// `--keep-going` a warning (the caller then copies the file).
fn copied(e: SourceErr, keep_going: bool, display: &str, warnings: &mut Vec<String>) -> Result<()> {
    let at = format!("{display}:{}:{}: {}", e.line, e.col, e.msg);
    if !keep_going {
        return Err(Error::input(at));
    }
    warnings.push(format!(
        "{at} (copied unminified; the files it names keep their source names)"
    ));
    Ok(())
}

/// Stage 3's shared state: options, the cache, progress and per-file timings.
pub(super) struct Minify<'a> {
    pub(super) opts: &'a super::BuildOptions,
    pub(super) cache: &'a Cache,
    pub(super) options_key: String,
    pub(super) targets: lightningcss::targets::Targets,
    pub(super) pb: &'a dyn crate::report::Task,
    pub(super) timings: std::sync::Mutex<Vec<(String, u128)>>,
    pub(super) busy: Busy,
}

/// Per kind of file: files minified, their bytes and the time spent on them, summed
/// over the threads (cache hits left out), for `build -v`'s MB/s per core.
#[derive(Default)]
pub(super) struct Busy(
    std::sync::Mutex<std::collections::BTreeMap<&'static str, (usize, u64, u128)>>,
);

impl Busy {
    /// Notes the work on `inp` since `started`; `files` is 0 when it is the same file
    /// minified a second time (stage 2).
    fn note(&self, inp: &Input, files: usize, started: Instant) {
        // Copied files are not minified: their speed is the disk's.
        let class = inp.class;
        if super::cache::took_hit() || class == FileClass::Other || inp.raw.is_some() {
            return;
        }
        let bytes = inp.bytes.len();
        let kind = match class {
            FileClass::Html => "html",
            FileClass::Css => "css",
            FileClass::CssMin => "css (min)",
            FileClass::Js if inp.packed => "js (packed)",
            FileClass::Js => "js",
            FileClass::JsMin => "js (min)",
            FileClass::Json => "json",
            FileClass::Svg => "svg",
            FileClass::Other => "other",
        };
        let ns = started.elapsed().as_nanos();
        if let Ok(mut m) = self.0.lock() {
            let e = m.entry(kind).or_default();
            e.0 += files;
            e.1 += bytes as u64;
            e.2 += ns;
        }
    }

    pub(super) fn report(self) -> Vec<super::KindThroughput> {
        let m = self.0.into_inner().unwrap_or_default();
        m.into_iter()
            .map(|(kind, (files, bytes, ns))| super::KindThroughput {
                kind: kind.to_string(),
                files,
                bytes,
                busy_ms: ns as f64 / 1e6,
            })
            .collect()
    }
}

impl Minify<'_> {
    pub(super) fn display(&self, rel: &str) -> String {
        self.opts.src.join(rel).display().to_string()
    }

    /// Everything but JS is minified and JS scanned (stage 1); the import graph then
    /// decides module vs classic script, and only JS whose first guess was wrong is
    /// minified again (stage 2).
    pub(super) fn minify(
        &self,
        inputs: &[Input],
        laps: &mut super::Laps,
    ) -> Result<Vec<Processed>> {
        let mut stage1 = self.first_pass(inputs)?;
        laps.mark("process");
        let modules = super::graph::module_files(inputs, &stage1);
        self.second_pass(inputs, &mut stage1, &modules)?;
        laps.mark("minify-js");
        Ok(stage1)
    }

    fn first_pass(&self, inputs: &[Input]) -> Result<Vec<Processed>> {
        let (cache, options_key, targets, opts, pb, timings, busy) = (
            self.cache,
            &self.options_key,
            self.targets,
            self.opts,
            self.pb,
            &self.timings,
            &self.busy,
        );
        let src_display = |rel: &str| self.display(rel);
        // The costliest files first, taken one at a time in that order by whichever thread
        // is free (longest-processing-time-first): a big bundle picked up last leaves the
        // other core idle at the end. `par_iter` splits the list in halves instead, so one
        // thread took the small files while the other worked through the big ones: on the
        // ES-module site one core sat idle for 105 ms of the 600 (session 41).
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_cached_key(|&i| std::cmp::Reverse(cost(&inputs[i])));
        let done = std::sync::Mutex::new(Vec::with_capacity(inputs.len()));
        rayon::scope_fifo(|s| {
            for &i in &order {
                let done = &done;
                s.spawn_fifo(move |_| {
                    let inp = &inputs[i];
                    let t = Instant::now();
                    super::cache::took_hit();
                    let r = process_stage1(
                        inp,
                        cache,
                        options_key,
                        targets,
                        opts.keep_going,
                        &src_display(&inp.rel),
                    );
                    pb.inc(1);
                    busy.note(inp, 1, t);
                    note_time(timings, &inp.rel, t);
                    if let Ok(mut d) = done.lock() {
                        d.push((i, r));
                    }
                });
            }
        });
        let mut stage1 = done.into_inner().unwrap_or_default();
        if stage1.len() != inputs.len() {
            return Err(Error::Internal(
                "a file's minification did not finish (a bug in sitevault: please report it)"
                    .to_string(),
            ));
        }
        stage1.sort_unstable_by_key(|(i, _)| *i);
        let stage1: Vec<Result<Processed>> = stage1.into_iter().map(|(_, r)| r).collect();
        stage1.into_iter().collect::<Result<Vec<_>>>()
    }

    fn second_pass(
        &self,
        inputs: &[Input],
        stage1: &mut [Processed],
        modules: &HashSet<usize>,
    ) -> Result<()> {
        let (cache, options_key, opts, pb, timings, busy) = (
            self.cache,
            &self.options_key,
            self.opts,
            self.pb,
            &self.timings,
            &self.busy,
        );
        let src_display = |rel: &str| self.display(rel);
        // Stage 2: JS minification, now that module vs classic script is known.
        let stage2: Vec<Result<Option<Processed>>> = inputs
            .par_iter()
            .enumerate()
            .map(|(i, inp)| {
                let t = Instant::now();
                // Re-minify only the JS files whose first guess (module syntax or not) was wrong.
                let r = if inp.class == FileClass::Js && inp.raw.is_none() {
                    let want = if modules.contains(&i) && !inp.rel.ends_with(".cjs") {
                        js::JsKind::Module
                    } else {
                        js::JsKind::Script
                    };
                    if (want == js::JsKind::Module) != stage1[i].module {
                        super::cache::took_hit();
                        let r = process_js(
                            inp,
                            Some(want),
                            cache,
                            options_key,
                            opts.keep_going,
                            &src_display(&inp.rel),
                        )
                        .map(Some);
                        busy.note(inp, 0, t);
                        r
                    } else {
                        Ok(None)
                    }
                } else {
                    Ok(None)
                };
                pb.inc(1);
                note_time(timings, &inp.rel, t);
                r
            })
            .collect();
        for (i, r) in stage2.into_iter().enumerate() {
            if let Some(p) = r? {
                stage1[i] = p;
            }
        }
        Ok(())
    }
}

/// A file's expected minification time, for the order files are taken in: its size, and
/// four times that for JS minified already (`Input::packed`: emscripten's glue costs
/// about four times as much per byte, its code that much denser).
fn cost(inp: &Input) -> usize {
    if inp.packed {
        inp.bytes.len() * 4
    } else {
        inp.bytes.len()
    }
}

/// Keeps the slowest files' processing times (ten at most, ties included).
fn note_time(timings: &std::sync::Mutex<Vec<(String, u128)>>, rel: &str, started: Instant) {
    let ms = started.elapsed().as_millis();
    if ms < 5 {
        return;
    }
    if let Ok(mut t) = timings.lock() {
        t.push((rel.to_string(), ms));
        if t.len() > 64 {
            t.sort_by_key(|e| std::cmp::Reverse(e.1));
            t.truncate(10);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file's placeholders come from its content alone: the same file in two folders is
    /// minified to the same text (oxc's mangler picks names by character frequency, so a
    /// nonce that followed the path gave it other names: one blob became two).
    #[test]
    fn a_files_placeholders_do_not_follow_its_path() {
        let src = "import {a, b} from './dep.js'; export const c = a + b;";
        let cache = Cache::new(None);
        let run = |rel: &str, class: FileClass| {
            let inp = Input {
                rel: rel.into(),
                class,
                bytes: bytes::Bytes::from(src),
                raw: None,
                packed: false,
            };
            let t = lightningcss::targets::Targets::default();
            let p = process_stage1(&inp, &cache, "o", t, false, rel).unwrap();
            assert!(!p.prefix.is_empty() && !p.refs.is_empty(), "{rel}");
            (p.prefix, p.body)
        };
        assert_eq!(run("a/m.js", FileClass::Js), run("b/c/m.js", FileClass::Js));
        let page = |rel: &str| {
            let inp = Input {
                rel: rel.into(),
                class: FileClass::Html,
                bytes: bytes::Bytes::from("<a href=x.html>x</a>"),
                raw: None,
                packed: false,
            };
            let t = lightningcss::targets::Targets::default();
            process_stage1(&inp, &cache, "o", t, false, rel)
                .unwrap()
                .prefix
        };
        assert_eq!(page("a/i.html"), page("b/i.html"));
    }

    /// A web app manifest's images are references (hunt, #13): left as written they
    /// named files the build had fingerprinted away.
    #[test]
    fn a_web_app_manifest_names_its_images_by_reference() {
        let src = br#"{"name":"x","start_url":"/","icons":[{"src":"img/a.png","sizes":"192x192"},{"src":"data:image/png;base64,AA"}],
            "screenshots":[{"src":"/shots/1.png"}],"shortcuts":[{"url":"/n","icons":[{"src":"img/n.png"}]}]}"#;
        let p = webmanifest(src).unwrap();
        let paths: Vec<&str> = p.refs.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["img/a.png", "/shots/1.png", "img/n.png"]);
        let body = std::str::from_utf8(&p.body).unwrap();
        assert!(
            body.contains("data:image/png") && body.contains("\"start_url\":\"/\""),
            "{body}"
        );
        assert!(!body.contains("img/a.png"), "{body}");
        assert!(webmanifest(b"[1]").is_none() && webmanifest(b"{").is_none());
    }
}
