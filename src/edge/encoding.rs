//! Content negotiation for precompressed variants (#12), the same rule as
//! `edge/worker.js`: `Accept-Encoding` with q-values (RFC 9110 §12.5.3), brotli
//! preferred, then gzip, then identity on equal q.
//!
//! - No header: identity (a client that says nothing may not decode anything).
//! - A coding's weight is its own entry, else `*`'s, else 0 (not acceptable).
//! - Identity is acceptable unless `identity;q=0`, or `*;q=0` without an
//!   `identity` entry, says otherwise.
//! - `x-gzip` counts as `gzip`. Bad q-values make their entry unacceptable.
//! - When nothing the file is stored in is acceptable, the answer is
//!   [`Choice::NotAcceptable`] (a 406).

use crate::schema::{Coding, Encodings};

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The bytes as they are.
    Identity,
    /// A stored variant.
    Encoded(Coding),
    /// Nothing acceptable is stored (identity refused, no acceptable variant).
    NotAcceptable,
}

/// Weights in thousandths (q has at most three decimals).
#[derive(Debug, Default)]
struct Weights {
    br: Option<u16>,
    gzip: Option<u16>,
    identity: Option<u16>,
    star: Option<u16>,
}

fn parse_q(s: &str) -> Option<u16> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut f: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        f += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(f),
        "1" if f == 0 => Some(1000),
        _ => None,
    }
}

fn weights(header: &str) -> Weights {
    let mut w = Weights::default();
    for item in header.split(',').take(64) {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim();
        let mut q = Some(1000);
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = parse_q(v);
                }
            }
        }
        let Some(q) = q else { continue };
        // Compared without case and without allocating (this runs on every request).
        let is = |t: &str| token.eq_ignore_ascii_case(t);
        let slot = if is("br") {
            &mut w.br
        } else if is("gzip") || is("x-gzip") {
            &mut w.gzip
        } else if is("identity") {
            &mut w.identity
        } else if token == "*" {
            &mut w.star
        } else {
            continue;
        };
        // A repeated token keeps its highest weight.
        *slot = Some(slot.map_or(q, |old| old.max(q)));
    }
    w
}

/// Chooses what to send for a file stored as `available`, given the request's
/// `Accept-Encoding` values (`None`: the header is absent).
pub fn negotiate(accept: Option<&str>, available: &Encodings) -> Choice {
    let Some(header) = accept else {
        return Choice::Identity;
    };
    let w = weights(header);
    // Unnamed, identity is acceptable but least preferred: any acceptable variant wins.
    let identity = w.identity.or(w.star.filter(|&q| q == 0)).unwrap_or(1);
    let mut best = (identity, Choice::Identity);
    // Listed from least to most preferred: an equal weight moves the choice up.
    for c in [Coding::Gzip, Coding::Br] {
        if available.get(c).is_none() {
            continue;
        }
        let own = match c {
            Coding::Br => w.br,
            Coding::Gzip => w.gzip,
        };
        let q = own.or(w.star).unwrap_or(0);
        if q > 0 && q >= best.0 {
            best = (q, Choice::Encoded(c));
        }
    }
    match best {
        (0, Choice::Identity) => Choice::NotAcceptable,
        (_, c) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Variant;
    use proptest::prelude::*;

    fn both() -> Encodings {
        let v = Variant {
            hash: "h".into(),
            size: 1,
        };
        Encodings {
            br: Some(v.clone()),
            gzip: Some(v),
        }
    }

    fn gzip_only() -> Encodings {
        Encodings {
            gzip: both().gzip,
            br: None,
        }
    }

    /// The shared table (`fixtures/encoding-vectors.json`), which the worker's
    /// `negotiate` passes inside workerd too (`edge/vectors-test.js`).
    #[test]
    fn the_shared_vectors() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../fixtures/encoding-vectors.json")).unwrap();
        let cases = v["cases"].as_array().unwrap();
        assert!(cases.len() >= 30);
        for c in cases {
            let mut enc = Encodings::default();
            for a in c["available"].as_array().unwrap() {
                let coding = Coding::parse(a.as_str().unwrap()).unwrap();
                enc.set(coding, both().br.unwrap());
            }
            let want = match c["want"].as_str() {
                None => Choice::NotAcceptable,
                Some("identity") => Choice::Identity,
                Some(t) => Choice::Encoded(Coding::parse(t).unwrap()),
            };
            assert_eq!(negotiate(c["accept"].as_str(), &enc), want, "{c}");
        }
    }

    proptest! {
        #[test]
        fn any_header_never_panics_and_never_picks_what_is_missing(h in any::<String>()) {
            let c = negotiate(Some(&h), &gzip_only());
            prop_assert_ne!(c, Choice::Encoded(Coding::Br));
            let _ = negotiate(Some(&h), &both());
        }

        #[test]
        fn a_zero_weight_is_never_chosen(q in "0(\\.0{0,3})?") {
            let h = format!("br;q={q}, gzip;q={q}");
            prop_assert_eq!(negotiate(Some(&h), &both()), Choice::Identity);
        }
    }
}
