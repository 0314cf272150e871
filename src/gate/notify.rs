//! `[notify] webhook`: a JSON POST on alert, hold, rollback and promote. The body has
//! a Slack-compatible `text` and structured fields. Delivery is retried a few times;
//! a failure is reported and never stops the rollout (a rollback is written first).

use std::time::Duration;

use serde::Serialize;

use crate::channel::record::GateRecord;
use crate::report::Handle;

/// Attempts per event.
pub(crate) const ATTEMPTS: u32 = 3;

/// One event, as posted.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Slack-compatible one-line summary.
    pub text: String,
    /// `alert`, `hold`, `rollback` or `promote`.
    pub event: String,
    /// Channel.
    pub channel: String,
    /// The region the driver runs in, with `[regions.*]` (#14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Canary version.
    pub version: String,
    /// Canary percent at the time.
    pub percent: f64,
    /// Stage index.
    pub stage: usize,
    /// The verdict with its numbers, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<GateRecord>,
    /// The log generation written for it, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
}

/// Posts events to the webhook, when one is configured.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    /// The client, or why none could be made (said at each event not sent).
    client: std::result::Result<reqwest::Client, String>,
    url: Option<String>,
    reporter: Handle,
}

impl Notifier {
    pub(crate) fn new(url: Option<String>, timeout: Duration, reporter: Handle) -> Notifier {
        let client = crate::store::tls::http_client(timeout).map_err(|e| {
            format!(
                "cannot make an HTTP client: {}",
                crate::error::describe_http(&e)
            )
        });
        Notifier {
            client,
            url,
            reporter,
        }
    }

    /// Posts `event`; true when the receiver answered 2xx (false without a webhook).
    pub(crate) async fn send(&self, event: &Event) -> bool {
        let Some(url) = &self.url else {
            return false;
        };
        let body = match serde_json::to_vec(event) {
            Ok(b) => b,
            Err(_) => return false,
        };
        let client = match &self.client {
            Ok(c) => c,
            Err(why) => {
                self.reporter.warn(&format!(
                    "could not notify {url} of the {} of {} on {}: {why}",
                    event.event, event.version, event.channel
                ));
                return false;
            }
        };
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
            }
            let r = client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            match r {
                Ok(resp) if resp.status().is_success() => return true,
                Ok(resp) => last = format!("answered {}", resp.status()),
                Err(e) => last = crate::error::describe_http(&e),
            }
        }
        self.reporter.warn(&format!(
            "could not notify {url} of the {} of {} on {} after {ATTEMPTS} attempts: {last}",
            event.event, event.version, event.channel
        ));
        false
    }
}
