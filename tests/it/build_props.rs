//! Property tests for the build's parsers of hostile input (issue #10): import maps and
//! site paths. Whatever the input, the result is a value or a clear error, never a panic.

use proptest::prelude::*;
use sitevault::build::refs::Placeholders;
use sitevault::build::{html, BuildOptions};

/// Import-map-ish JSON: the keys, paths and punctuation an import map uses.
fn importmapish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "\"imports\"",
        "\"scopes\"",
        "\"lib/\"",
        "\"/js/\"",
        "\"./a.js\"",
        "\"../../x\"",
        "\"a\\\\b\"",
        "\"\\u0000\"",
        "\"//evil/\"",
        "\"/\"",
        "\"\"",
        "null",
        "1",
        "\"js/app.js\"",
        "</script>",
        "<",
        " ",
    ]);
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

fn page(map: &str) -> String {
    format!("<!doctype html><script type=\"importmap\">{map}</script><script type=\"module\">import \"lib/a.js\";</script>")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn import_maps_never_panic_in_html(map in importmapish(), raw in ".{0,60}") {
        for m in [map.as_str(), raw.as_str()] {
            let text = page(m);
            let mut ph = Placeholders::for_content(text.as_bytes());
            let mut w = Vec::new();
            if let Err(e) = html::process(&text, "p.html", Default::default(), &mut ph, false, &mut w) {
                prop_assert!(!e.msg.is_empty() && e.line >= 1);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn import_maps_never_panic_in_a_build(map in importmapish()) {
        let t = tempfile::tempdir().unwrap();
        let site = t.path().join("site");
        std::fs::create_dir_all(site.join("lib")).unwrap();
        std::fs::create_dir_all(site.join("js")).unwrap();
        std::fs::write(site.join("lib/a.js"), "export const a = 1;").unwrap();
        std::fs::write(site.join("js/app.js"), "import {a} from 'lib/a.js'; console.log(a);").unwrap();
        std::fs::write(site.join("index.html"), page(&map)).unwrap();
        let mut o = BuildOptions::from_config(&sitevault::Config::default());
        o.src = site;
        o.out = t.path().join("dist");
        o.cache_dir = None;
        match sitevault::build::build(&o) {
            Ok(r) => prop_assert!(r.files >= 3),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        // Nothing is ever written outside OUT.
        let names: Vec<_> = std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        prop_assert!(names.len() <= 2, "{names:?}");
    }
}
