//! Property tests for the parsers of outside data owned by the store layer and the
//! config: whatever bytes a store or a file holds, parsing ends in a value or a clear
//! error, never a panic.

use proptest::prelude::*;
use sitevault::publish::index::{ArchivedStub, VersionIndex};
use sitevault::schema::{self, BuildManifest};
use sitevault::Config;

/// JSON-ish text: braces, quotes, digits and the field names the documents use.
fn jsonish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\"schema\"",
        "\"files\"",
        "\"digest\"",
        "\"hash\"",
        "\"size\"",
        "\"type\"",
        "\"cache\"",
        "\"immutable\"",
        "1",
        "2",
        "-1",
        "1e999",
        "18446744073709551616",
        "null",
        "true",
        "\"/a\"",
        "\"\\u0000\"",
        " ",
    ]);
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn documents_never_panic(text in jsonish(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for input in [text.as_bytes(), &bytes[..]] {
            let _ = schema::parse::<BuildManifest>(input, "m");
            let _ = schema::parse::<VersionIndex>(input, "i");
            let _ = schema::parse::<ArchivedStub>(input, "s");
        }
    }

    #[test]
    fn public_paths_never_panic(p in ".{0,40}") {
        if schema::check_public_path(&p).is_ok() {
            prop_assert!(p.starts_with('/'));
            prop_assert!(p[1..].split('/').all(|s| !s.is_empty() && s != "." && s != ".."));
            prop_assert!(!p.contains(['\\', '\0']));
        }
    }

    #[test]
    fn store_toml_values_never_panic(
        key in prop::sample::select(vec![
            "[store]\nconcurrency", "[store]\ntimeout", "[retention]\ngrace",
            "[retention]\nhot_days", "[retention]\nkeep_latest", "[build]\nhash_length",
            "[channels.production]\nstages", "[health]\nmin_requests", "[store]\nurl",
        ]),
        value in prop::sample::select(vec![
            "0", "-1", "1", "99999999999999999999", "1e308", "\"99999999999999999999h\"",
            "\"0s\"", "\"-5s\"", "\"1.5.5s\"", "\"\"", "[0, 10.555, 100]", "[]", "[100, 0]",
            "[0, 100]", "nan", "inf", "\"x\"", "{}", "true",
        ]),
    ) {
        let text = format!("{key} = {value}\n");
        match Config::from_str_at(&text, "store.toml", ".".into()) {
            Ok(c) => {
                // An accepted config has a usable grace period.
                prop_assert!(sitevault::config::parse_duration(&c.retention.grace).is_ok());
            }
            Err(e) => prop_assert!(e.to_string().starts_with("store.toml"), "{e}"),
        }
    }

    #[test]
    fn durations_never_panic(s in ".{0,24}") {
        let _ = sitevault::config::parse_duration(&s);
    }
}
