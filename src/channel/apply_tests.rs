//! Table-driven tests of the channel state machine ([`super::apply`]).
use super::*;
use crate::config::ChannelConfig;

fn canary(v: &str, percent: f64) -> Option<Canary> {
    Some(Canary {
        version: v.into(),
        percent,
        stage: 0,
        started_at: "t0".into(),
    })
}

fn state(stable: Option<&str>, canary: Option<Canary>, previous: &[&str]) -> ChannelState {
    ChannelState {
        stable: stable.map(str::to_string),
        canary,
        previous: previous.iter().map(|s| s.to_string()).collect(),
        pinned: None,
        rolled_back: Vec::new(),
    }
}

fn pinned(mut s: ChannelState) -> ChannelState {
    s.pinned = Some(Pin {
        by: "ops".into(),
        at: "t0".into(),
        reason: "why".into(),
    });
    s
}

/// `(stable, canary version, canary percent, previous, pinned)` of a state.
type Shape = (Option<String>, Option<(String, f64)>, Vec<String>, bool);

fn shape(s: &ChannelState) -> Shape {
    (
        s.stable.clone(),
        s.canary.as_ref().map(|c| (c.version.clone(), c.percent)),
        s.previous.clone(),
        s.pinned.is_some(),
    )
}

fn want(stable: Option<&str>, canary: Option<(&str, f64)>, prev: &[&str], pin: bool) -> Shape {
    (
        stable.map(str::to_string),
        canary.map(|(v, p)| (v.to_string(), p)),
        prev.iter().map(|s| s.to_string()).collect(),
        pin,
    )
}

/// (name, state, intent, force, the new shape or part of the error message)
type Row = (
    &'static str,
    ChannelState,
    Intent,
    bool,
    Result<Shape, &'static str>,
);

#[test]
fn every_action_in_every_relevant_state() {
    let empty = state(None, None, &[]);
    let stable = state(Some("v1"), None, &["v0"]);
    let rolling = state(Some("v1"), canary("v2", 10.0), &["v0"]);
    let start = |v: &str, p: Option<f64>| Intent::Start {
        version: v.into(),
        percent: p,
    };
    let back = |to: Option<&str>| Intent::Rollback {
        to: to.map(str::to_string),
    };
    // (name, state, intent, force, Ok(shape) or Err(part of the message))
    let table: Vec<Row> = vec![
        (
            "start on empty is stable",
            empty.clone(),
            start("v1", None),
            false,
            Ok(want(Some("v1"), None, &[], false)),
        ),
        (
            "start at first stage",
            stable.clone(),
            start("v2", None),
            false,
            Ok(want(Some("v1"), Some(("v2", 0.0)), &["v0"], false)),
        ),
        (
            "start at percent",
            stable.clone(),
            start("v2", Some(25.0)),
            false,
            Ok(want(Some("v1"), Some(("v2", 25.0)), &["v0"], false)),
        ),
        (
            "start at 100 promotes",
            stable.clone(),
            start("v2", Some(100.0)),
            false,
            Ok(want(Some("v2"), None, &["v1", "v0"], false)),
        ),
        (
            "start the stable",
            stable.clone(),
            start("v1", None),
            false,
            Err("already the stable"),
        ),
        (
            "start the canary",
            rolling.clone(),
            start("v2", None),
            false,
            Err("already the canary"),
        ),
        (
            "start over a canary",
            rolling.clone(),
            start("v3", None),
            false,
            Err("--promote or --abort"),
        ),
        (
            "start bad percent",
            stable.clone(),
            start("v2", Some(33.333)),
            false,
            Err("two decimals"),
        ),
        (
            "start pinned",
            pinned(stable.clone()),
            start("v2", None),
            false,
            Err("pinned by ops"),
        ),
        (
            "start pinned forced unpins",
            pinned(stable.clone()),
            start("v2", Some(10.0)),
            true,
            Ok(want(Some("v1"), Some(("v2", 10.0)), &["v0"], false)),
        ),
        (
            "advance",
            rolling.clone(),
            Intent::Advance,
            false,
            Ok(want(Some("v1"), Some(("v2", 25.0)), &["v0"], false)),
        ),
        (
            "advance past the last stage promotes",
            state(Some("v1"), canary("v2", 50.0), &[]),
            Intent::Advance,
            false,
            Ok(want(Some("v2"), None, &["v1"], false)),
        ),
        (
            "advance without canary",
            stable.clone(),
            Intent::Advance,
            false,
            Err("no canary"),
        ),
        (
            "advance pinned",
            pinned(rolling.clone()),
            Intent::Advance,
            false,
            Err("pinned"),
        ),
        (
            "percent",
            rolling.clone(),
            Intent::Percent(33.33),
            false,
            Ok(want(Some("v1"), Some(("v2", 33.33)), &["v0"], false)),
        ),
        (
            "percent 100 promotes",
            rolling.clone(),
            Intent::Percent(100.0),
            false,
            Ok(want(Some("v2"), None, &["v1", "v0"], false)),
        ),
        (
            "percent out of range",
            rolling.clone(),
            Intent::Percent(101.0),
            false,
            Err("between 0 and 100"),
        ),
        (
            "percent without canary",
            stable.clone(),
            Intent::Percent(5.0),
            false,
            Err("no canary"),
        ),
        (
            "promote",
            rolling.clone(),
            Intent::Promote,
            false,
            Ok(want(Some("v2"), None, &["v1", "v0"], false)),
        ),
        (
            "promote without canary",
            stable.clone(),
            Intent::Promote,
            false,
            Err("no canary"),
        ),
        (
            "abort",
            rolling.clone(),
            Intent::Abort,
            false,
            Ok(want(Some("v1"), None, &["v0"], false)),
        ),
        (
            "abort pinned is allowed",
            pinned(rolling.clone()),
            Intent::Abort,
            false,
            Ok(want(Some("v1"), None, &["v0"], true)),
        ),
        (
            "abort without canary",
            stable.clone(),
            Intent::Abort,
            false,
            Err("no canary"),
        ),
        (
            "rollback drops the canary",
            rolling.clone(),
            back(None),
            false,
            Ok(want(Some("v1"), None, &["v0"], true)),
        ),
        (
            "rollback to previous keeps the version rolled back from in previous",
            stable.clone(),
            back(None),
            false,
            Ok(want(Some("v0"), None, &["v1"], true)),
        ),
        (
            "rollback to a version",
            stable.clone(),
            back(Some("v9")),
            false,
            Ok(want(Some("v9"), None, &["v1", "v0"], true)),
        ),
        (
            "rollback to a previous by name",
            state(Some("v2"), None, &["v1", "v0"]),
            back(Some("v0")),
            false,
            Ok(want(Some("v0"), None, &["v2", "v1"], true)),
        ),
        (
            "rollback with a canary to a previous",
            state(Some("v2"), canary("v3", 10.0), &["v1", "v0"]),
            back(Some("v1")),
            false,
            Ok(want(Some("v1"), None, &["v2", "v0"], true)),
        ),
        (
            "rollback to the canary",
            rolling.clone(),
            back(Some("v2")),
            false,
            Err("makes no sense"),
        ),
        (
            "rollback to stable drops canary",
            rolling.clone(),
            back(Some("v1")),
            false,
            Ok(want(Some("v1"), None, &["v0"], true)),
        ),
        (
            "rollback without previous",
            state(Some("v1"), None, &[]),
            back(None),
            false,
            Err("no previous"),
        ),
        (
            "rollback on empty",
            empty.clone(),
            back(None),
            false,
            Err("no releases"),
        ),
        (
            "rollback on empty with --to",
            empty.clone(),
            back(Some("v1")),
            false,
            Ok(want(Some("v1"), None, &[], true)),
        ),
        (
            "pin",
            stable.clone(),
            Intent::Pin,
            false,
            Ok(want(Some("v1"), None, &["v0"], true)),
        ),
        (
            "unpin",
            pinned(stable.clone()),
            Intent::Unpin,
            false,
            Ok(want(Some("v1"), None, &["v0"], false)),
        ),
        (
            "unpin unpinned",
            stable.clone(),
            Intent::Unpin,
            false,
            Err("not pinned"),
        ),
    ];
    for (name, st, intent, force, expected) in table {
        let opts = ChangeOptions {
            actor: "ops".into(),
            force,
            config: ChannelConfig::default(),
            ..Default::default()
        };
        match (apply("production", &st, &intent, &opts, "t1"), expected) {
            (Ok(s), Ok(w)) => assert_eq!(shape(&s), w, "{name}"),
            (Err(e), Err(part)) => {
                assert!(e.to_string().contains(part), "{name}: {e}")
            }
            (got, w) => panic!("{name}: got {got:?}, want {w:?}"),
        }
    }
}

#[test]
fn previous_is_kept_to_the_configured_length() {
    let mut opts = ChangeOptions::default();
    opts.config.keep_previous = 2;
    let st = state(Some("v3"), canary("v4", 10.0), &["v2", "v1"]);
    let s = apply("c", &st, &Intent::Promote, &opts, "t").unwrap();
    assert_eq!(s.previous, vec!["v3".to_string(), "v2".to_string()]);
}

#[test]
fn a_second_rollback_goes_further_back_not_to_the_version_rolled_back_from() {
    let opts = ChangeOptions::default();
    let back = Intent::Rollback { to: None };
    let st = state(Some("v2"), None, &["v1", "v0"]);
    let s1 = apply("c", &st, &back, &opts, "t").unwrap();
    assert_eq!(s1.stable.as_deref(), Some("v1"));
    // v2 stays in previous (its assets keep being served to open tabs) but is marked.
    assert_eq!(s1.previous, vec!["v2".to_string(), "v0".to_string()]);
    assert_eq!(s1.rolled_back, vec!["v2".to_string()]);
    let s2 = apply("c", &s1, &back, &opts, "t").unwrap();
    assert_eq!(s2.stable.as_deref(), Some("v0"));
    assert_eq!(s2.rolled_back, vec!["v1".to_string(), "v2".to_string()]);
    let err = apply("c", &s2, &back, &opts, "t").unwrap_err();
    assert!(err.to_string().contains("no previous"), "{err}");
    // Still reachable by name, and then no longer marked.
    let s3 = apply(
        "c",
        &s2,
        &Intent::Rollback {
            to: Some("v2".into()),
        },
        &opts,
        "t",
    )
    .unwrap();
    assert_eq!(s3.stable.as_deref(), Some("v2"));
    assert!(!s3.rolled_back.contains(&"v2".to_string()));
    // A new rollout of a marked version clears its mark.
    let start = Intent::Start {
        version: "v1".into(),
        percent: Some(10.0),
    };
    let s4 = apply(
        "c",
        &s3,
        &start,
        &ChangeOptions {
            force: true,
            ..opts.clone()
        },
        "t",
    )
    .unwrap();
    assert!(
        !s4.rolled_back.contains(&"v1".to_string()),
        "{:?}",
        s4.rolled_back
    );
}

#[test]
fn negative_zero_percent_is_zero() {
    let p = check_percent(-0.0).unwrap();
    assert!(p == 0.0 && p.is_sign_positive(), "{p}");
    let opts = ChangeOptions::default();
    let st = state(Some("v1"), None, &[]);
    let intent = Intent::Start {
        version: "v2".into(),
        percent: Some(-0.0),
    };
    let s = apply("c", &st, &intent, &opts, "t").unwrap();
    let c = s.canary.unwrap();
    assert!(c.percent.is_sign_positive());
    assert!(!serde_json::to_string(&c).unwrap().contains("-0"));
    for bad in [f64::NAN, f64::INFINITY, -5.0, 150.0] {
        assert!(check_percent(bad).is_err(), "{bad}");
    }
}

#[test]
fn approvals_and_gate_records_leave_the_state_as_it_was() {
    let mut opts = ChangeOptions::default();
    opts.config.approvals = vec!["qa".into(), "lead".into()];
    let rolling = state(Some("v1"), canary("v2", 10.0), &[]);
    let approve = |role: &str, s: &ChannelState, o: &ChangeOptions| {
        apply(
            "prod",
            s,
            &Intent::Approve {
                role: role.into(),
                version: None,
            },
            o,
            "t1",
        )
    };
    assert_eq!(approve("qa", &rolling, &opts).unwrap(), rolling);
    assert_eq!(
        apply("prod", &rolling, &Intent::Gate, &opts, "t1").unwrap(),
        rolling
    );
    // An unknown role is a usage error; no canary, or no approvals configured, is refused.
    assert!(matches!(
        approve("dev", &rolling, &opts),
        Err(Error::Usage(_))
    ));
    assert!(approve("qa", &state(Some("v1"), None, &[]), &opts).is_err());
    assert!(approve("qa", &rolling, &ChangeOptions::default()).is_err());
    // Approving a version that is no longer the canary is a conflict.
    let other = Intent::Approve {
        role: "qa".into(),
        version: Some("v3".into()),
    };
    assert!(matches!(
        apply("prod", &rolling, &other, &opts, "t1"),
        Err(Error::Conflict(_))
    ));
}

#[test]
fn more_traffic_is_a_later_stage_a_higher_percent_or_a_promotion_never_a_rollback() {
    let at = |stage: usize, p: f64| {
        let mut c = canary("v2", p);
        if let Some(c) = c.as_mut() {
            c.stage = stage;
        }
        state(Some("v1"), c, &[])
    };
    let s10 = at(1, 10.0);
    assert!(raises_canary(&s10, &at(2, 25.0)));
    assert!(raises_canary(&s10, &at(1, 12.0)));
    assert!(!raises_canary(&s10, &at(1, 5.0)));
    assert!(raises_canary(&s10, &state(Some("v2"), None, &["v1"])));
    assert!(!raises_canary(&s10, &state(Some("v1"), None, &[])));
    assert!(!raises_canary(&state(Some("v1"), None, &[]), &s10));
    // Starting above the first stage, or straight to stable, skips it.
    let stable = state(Some("v1"), None, &[]);
    let stages = [0.0, 10.0, 100.0];
    assert!(!skips_first_stage(&stable, &at(0, 0.0), &stages));
    assert!(skips_first_stage(&stable, &at(1, 10.0), &stages));
    assert!(skips_first_stage(
        &stable,
        &state(Some("v2"), None, &["v1"]),
        &stages
    ));
    assert!(!skips_first_stage(
        &state(None, None, &[]),
        &state(Some("v2"), None, &[]),
        &stages
    ));
}
