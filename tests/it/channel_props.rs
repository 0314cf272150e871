//! Property tests: arbitrary bytes stored as a channel's log record or manifest never
//! panic a read; a record that is not a record is an integrity error.

use bytes::Bytes;
use proptest::prelude::*;
use sitevault::channel;
use sitevault::error::Error;
use sitevault::store::{keys, Attrs, Store};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// JSON-ish bytes: fragments of a real record shuffled with noise.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let frags = prop_oneof![
        Just(r#"{"schema":1,"channel":"c","generation":1,"prev":null,"at":"t","actor":"a","action":"pin","state":{"stable":"v1","canary":null,"previous":[],"pinned":null}}"#.to_string()),
        Just(r#"{"schema":1,"generation":18446744073709551615}"#.to_string()),
        Just(r#"{"schema":99}"#.to_string()),
        Just(r#"{"canary":{"version":"v","percent":1e308,"stage":18446744073709551615,"started_at":"x"}}"#.to_string()),
        "[\\[\\]{}\":,0-9a-z ]{0,64}",
    ];
    (
        proptest::collection::vec(frags, 1..4),
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(f, noise)| {
            let mut b = f.concat().into_bytes();
            if !noise.is_empty() {
                let at = noise[0] as usize % (b.len() + 1);
                b.splice(at..at, noise[1..].iter().copied());
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_log_records_are_integrity_errors_or_valid(data in prop_oneof![jsonish(), proptest::collection::vec(any::<u8>(), 0..256)]) {
        let r = rt().block_on(async {
            let s = Store::memory();
            s.put_create(&keys::channel_log("c", 1), Bytes::from(data), &Attrs::default()).await.unwrap();
            channel::status(&s, "c").await
        });
        match r {
            Ok(st) => prop_assert_eq!(st.generation, 1),
            Err(Error::Integrity(_)) => {}
            // A newer schema asks for an upgrade instead.
            Err(e) => prop_assert!(e.to_string().contains("schema"), "{}", e),
        }
    }

    #[test]
    fn arbitrary_manifests_never_panic(data in prop_oneof![jsonish(), proptest::collection::vec(any::<u8>(), 0..256)]) {
        let r = rt().block_on(async {
            let s = Store::memory();
            s.put_overwrite(&keys::channel_manifest("c"), Bytes::from(data), &Attrs::default()).await.unwrap();
            channel::status(&s, "c").await
        });
        if let Err(e) = r {
            prop_assert!(
                matches!(e, Error::Integrity(_)) || e.to_string().contains("schema"),
                "{}", e
            );
        }
    }
}
