//! Precompressed variants (#12): brotli (quality 11) and gzip (level 9) of every
//! compressible output, made once at build time so no server compresses per request.
//!
//! A variant is kept only when it saves a useful amount (see [`worth_it`]): a
//! visitor's decoder costs something too, and a variant that saves nothing is a
//! blob to store for no gain. Results are cached by content like minification,
//! so an unchanged file is never compressed twice (brotli 11 is the slow part).

use std::io::Write;

use bytes::Bytes;
use rayon::prelude::*;

use super::cache::{Cache, Processed};
use crate::schema::Coding;

/// Files smaller than this are sent as they are: a response's headers outweigh any
/// saving, and nginx's and Cloudflare's defaults skip them too.
pub(crate) const MIN_SIZE: usize = 256;

/// True when a content type is worth compressing: text, JSON, XML, JavaScript,
/// SVG, WebAssembly, uncompressed fonts and icons. Images, fonts in woff/woff2,
/// archives and media are compressed already.
pub(crate) fn compressible(content_type: &str) -> bool {
    let t = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    t.starts_with("text/")
        || t.ends_with("+json")
        || t.ends_with("+xml")
        || matches!(
            t.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/wasm"
                | "application/manifest+json"
                | "application/vnd.ms-fontobject"
                | "application/x-font-ttf"
                | "font/ttf"
                | "font/otf"
                | "image/x-icon"
                | "image/vnd.microsoft.icon"
                | "image/bmp"
        )
}

/// True when the output at `path` gets variants: a compressible type, and not a
/// source map (only developer tools fetch those, and brotli 11 on them would cost
/// as much build time as the scripts themselves).
pub(crate) fn wanted(path: &str, content_type: &str) -> bool {
    !path.ends_with(".map") && compressible(content_type)
}

/// A variant is kept when it is at least 5 % and 64 bytes smaller.
pub(crate) fn worth_it(original: usize, compressed: usize) -> bool {
    compressed + 64 <= original && compressed * 20 <= original * 19
}

/// Compresses `data` with `coding`. Deterministic: the same bytes in give the same
/// bytes out (gzip's header carries no time and no name).
pub(crate) fn encode(coding: Coding, data: &[u8]) -> Vec<u8> {
    match coding {
        Coding::Br => {
            let mut out = Vec::with_capacity(data.len() / 3 + 64);
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                size_hint: data.len(),
                ..Default::default()
            };
            let mut input = data;
            // Writing into a Vec cannot fail.
            let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
            out
        }
        Coding::Gzip => {
            let mut enc = flate2::GzBuilder::new().mtime(0).write(
                Vec::with_capacity(data.len() / 3 + 64),
                flate2::Compression::best(),
            );
            let _ = enc.write_all(data);
            enc.finish().unwrap_or_default()
        }
    }
}

/// True when `encoded` decodes to exactly `original`.
pub(crate) fn decodes_to(coding: Coding, encoded: &[u8], original: &[u8]) -> bool {
    use std::io::Read;
    let mut out = Vec::with_capacity(original.len());
    // Read one byte more than expected: a longer output is a mismatch, found early.
    let limit = original.len() as u64 + 1;
    let ok = match coding {
        Coding::Br => brotli::Decompressor::new(encoded, 4096)
            .take(limit)
            .read_to_end(&mut out)
            .is_ok(),
        Coding::Gzip => flate2::read::GzDecoder::new(encoded)
            .take(limit)
            .read_to_end(&mut out)
            .is_ok(),
    };
    ok && out == original
}

/// The variants of one file, each `(coding, bytes)`, only those worth keeping.
pub(crate) type Variants = Vec<(Coding, Bytes)>;

/// The variants of every output, in parallel and through the cache. `wanted(i)`
/// says whether output `i` may have variants (compressible type, not too small, no
/// site file already named like its sidecar).
pub(crate) fn variants(
    outputs: &[&[u8]],
    wanted: impl Fn(usize) -> bool + Sync,
    codings: &[Coding],
    cache: &Cache,
) -> Vec<Variants> {
    // One task per (file, coding): brotli on a large bundle is the long pole, and
    // splitting by coding lets the other core take gzip and the smaller files.
    let jobs: Vec<(usize, Coding)> = (0..outputs.len())
        .filter(|&i| outputs[i].len() >= MIN_SIZE && wanted(i))
        .flat_map(|i| codings.iter().map(move |&c| (i, c)))
        .collect();
    let done: Vec<(usize, Coding, Option<Bytes>)> = jobs
        .into_par_iter()
        .map(|(i, c)| {
            let data = outputs[i];
            let key = Cache::key(c.token(), "q11|lgwin22|gzip9|brotli8|flate2-1", "", data);
            // A cached variant is decoded and compared before use: brotli has no
            // checksum, and a flipped bit in the cache would otherwise be published.
            let bytes = match cache.get(&key).filter(|p| decodes_to(c, &p.body, data)) {
                Some(p) => p.body,
                None => {
                    let b = Bytes::from(encode(c, data));
                    let p = Processed {
                        body: b.clone(),
                        ..Default::default()
                    };
                    cache.put(&key, &p);
                    b
                }
            };
            (i, c, worth_it(data.len(), bytes.len()).then_some(bytes))
        })
        .collect();
    let mut out: Vec<Variants> = vec![Vec::new(); outputs.len()];
    for (i, c, b) in done {
        if let Some(b) = b {
            out[i].push((c, b));
        }
    }
    for v in &mut out {
        v.sort_by_key(|(c, _)| *c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_deterministic() {
        let text = "body { color: red; }\n".repeat(200);
        for c in Coding::ALL {
            let a = encode(c, text.as_bytes());
            assert_eq!(a, encode(c, text.as_bytes()), "{c:?}");
            assert!(worth_it(text.len(), a.len()));
            // Decodes to exactly the input (and a flipped byte does not).
            assert!(decodes_to(c, &a, text.as_bytes()));
            let mut bad = a.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 0x10;
            assert!(!decodes_to(c, &bad, text.as_bytes()), "{c:?}");
        }
    }

    #[test]
    fn types_and_margins() {
        assert!(compressible("text/html; charset=utf-8"));
        assert!(compressible("image/svg+xml"));
        assert!(compressible("application/wasm"));
        assert!(!compressible("image/png"));
        assert!(!compressible("font/woff2"));
        assert!(!worth_it(1000, 990));
        assert!(!worth_it(300, 250));
        assert!(worth_it(1000, 900));
        assert!(!wanted("/app.js.map", "application/json"));
        assert!(wanted("/app.js", "text/javascript; charset=utf-8"));
    }

    #[test]
    fn small_or_incompressible_files_get_none() {
        let cache = Cache::new(None);
        let mut random = vec![0u8; 4096];
        blake3::Hasher::new().finalize_xof().fill(&mut random);
        let text = b"hello world ".repeat(100);
        let outs: Vec<&[u8]> = vec![b"tiny", &random, &text];
        let v = variants(&outs, |_| true, &Coding::ALL, &cache);
        assert!(v[0].is_empty());
        assert!(v[1].is_empty(), "random bytes do not compress");
        assert_eq!(
            v[2].iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            Coding::ALL.to_vec()
        );
    }
}
