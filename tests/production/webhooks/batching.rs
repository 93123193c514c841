//! Events that arrive together go in one request, up to webhook_batch_max.

use ringcast_test_support::{Answer, WebhookSink, unique};

use super::{HOOK_SECRET, clients, connect, gateway_to};

#[test]
fn connects_within_the_batch_window_share_one_request() {
    let sink = WebhookSink::start(HOOK_SECRET, Answer::Ok);
    // A long window and a batch of 3: the third connect fills the batch, which then goes at
    // once (long before the window ends), and holds exactly those three events.
    let server = gateway_to(
        &sink,
        &[
            "--webhook-batch-ms",
            "600000",
            "--webhook-batch-max",
            "3",
            "--webhook-events",
            "connect",
        ],
    );
    let mut c = clients(&server);
    let sub = unique("batch-user");
    for sock in ["a", "b", "c"] {
        connect(&mut c, &server, sock, &sub);
    }
    sink.wait_requests(1);
    let hooks = sink.hooks();
    assert_eq!(hooks.len(), 1, "one request: {hooks:?}");
    let events = hooks[0].events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(
        events
            .iter()
            .all(|e| e["type"] == "connect" && e["sub"] == sub.as_str())
    );
    assert!(hooks[0].signature_ok);
}
