//! Tests of `store.toml` parsing and validation.
use super::*;

#[test]
fn defaults_without_file() {
    let c = Config::from_str_at("", "x", ".".into()).unwrap();
    assert_eq!(c.store.url, "file://.sitevault/store");
    assert_eq!(c.retention.hot_days, 30);
    assert_eq!(c.channel("production").stages.len(), 5);
}

#[test]
fn unknown_key_is_named() {
    let e = Config::from_str_at("[build]\nsrcs = 'x'\n", "store.toml", ".".into())
        .unwrap_err()
        .to_string();
    assert!(e.contains("store.toml:2:1"), "{e}");
    assert!(e.contains("srcs"), "{e}");
}

#[test]
fn bad_stages() {
    let e = Config::from_str_at("[channels.prod]\nstages=[10, 5]\n", "s", ".".into())
        .unwrap_err()
        .to_string();
    assert!(e.contains("channels.prod.stages"), "{e}");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("24h").unwrap().as_secs(), 86400);
    assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
    assert!(parse_duration("3y").is_err());
    for bad in [
        "99999999999999999999h",
        "1e309",
        "inf",
        "NaN",
        "-1s",
        "",
        ".",
        "101000d",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn out_of_range_values_are_config_errors() {
    for text in [
        "[retention]\ngrace = \"99999999999999999999h\"\n",
        "[channels.prod]\nstages = [0, 10.555, 100]\n",
        "[store]\nconcurrency = 99999999999999999999\n",
        "[store]\nconcurrency = 100000000\n",
        "[retention]\nhot_days = 4000000000\n",
        "[health]\nerror_rate = -1.0\n",
        "[health]\nerror_rate = inf\n",
        "[health]\np95_alert_ms = 5000\n",
        "[channels.production]\nbake = \"garbage\"\n",
    ] {
        let e = Config::from_str_at(text, "store.toml", ".".into()).unwrap_err();
        assert!(e.to_string().starts_with("store.toml"), "{text}: {e}");
    }
}

#[test]
fn line_col_inside_a_multibyte_character() {
    assert_eq!(line_col("é\nx", 1), (1, 1));
}
