//! A batch the receiver answers 500 is sent again, the same body, and then delivered; the
//! retry is counted.

use ringcast_test_support::{Answer, Metrics, WebhookSink, unique, wait_until};

use super::{HOOK_SECRET, clients, connect, gateway_to, is};

#[test]
fn a_batch_answered_500_is_retried_until_accepted() {
    let sink = WebhookSink::start(HOOK_SECRET, Answer::FailFirst(2));
    let server = gateway_to(
        &sink,
        &["--webhook-batch-ms", "0", "--webhook-events", "connect"],
    );
    let mut c = clients(&server);
    let sub = unique("retry-user");
    connect(&mut c, &server, "a", &sub);
    sink.wait_event("the connect, delivered", |e| is(e, "connect", &sub));
    let hooks = sink.hooks();
    let statuses: Vec<u16> = hooks.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert!(
        hooks.iter().all(|h| h.body == hooks[0].body),
        "the same body each time"
    );
    assert!(hooks.iter().all(|h| h.signature_ok));
    // The sink records a request before it answers: the gateway counts the 200 a moment later.
    let sent = || Metrics::scrape(&server).value("ringcast_webhook_events_sent_total");
    wait_until(
        "the delivery counted",
        || sent() == Some(1.0),
        || format!("{:?}", sent()),
    );
    let m = Metrics::scrape(&server);
    assert_eq!(m.value("ringcast_webhook_retries_total"), Some(2.0));
    assert_eq!(m.value("ringcast_webhook_events_sent_total"), Some(1.0));
    assert_eq!(m.value("ringcast_webhook_events_failed_total"), Some(0.0));
}
