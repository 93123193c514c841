//! Bursts of broadcasts reach every client complete and in order. An array publish makes each
//! item a broadcast within the same millisecond: a burst, in which websocket writers hold briefly
//! to batch frames (`engine::worker::WRITE_HOLD`). Small arrays keep each batch under the size at
//! which a writer stops holding, so every publish here goes through a hold. A heartbeat sent
//! right after is still answered.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang};

use crate::gateway;

/// Publishes, and items in each: past the 3 broadcasts per 2 ms that make a burst.
const PUBLISHES: usize = 60;
const ITEMS: usize = 5;

fn run(lang: Lang) {
    let server = gateway().start();
    let mut client = Client::spawn(lang, &server);
    client.connected("s", &Connect::to(&server).transports(&["websocket"]));
    for p in 0..PUBLISHES {
        let items: Vec<Value> = (0..ITEMS)
            .map(|i| {
                let n = p * ITEMS + i;
                json!({"event": "system:alert", "data": {"message": format!("b{n}"), "severity": "info"}})
            })
            .collect();
        let resp = server.publish(&Value::Array(items));
        assert_eq!(resp.status, 200, "{resp:?}\n{}", server.context());
    }
    client.emit("s", "heartbeat", json!([{"timestamp": 77}]));
    for n in 0..PUBLISHES * ITEMS {
        let got = client.expect_event("s", "system:alert");
        if got.first().map(|d| &d["message"]) != Some(&json!(format!("b{n}"))) {
            client.fail(&format!("broadcast b{n} expected (in order), got {got:?}"));
        }
    }
    let ack = client.expect_event("s", "heartbeat_ack");
    assert_eq!(ack[0]["timestamp"], 77, "{ack:?}");
}

#[test]
fn burst_reaches_a_js_client_complete_and_in_order() {
    run(Lang::Js);
}

#[test]
fn burst_reaches_a_python_client_complete_and_in_order() {
    run(Lang::Py);
}
