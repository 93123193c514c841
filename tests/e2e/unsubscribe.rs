//! After `unsubscribe`, nothing published to that room reaches the socket any more, while a
//! socket still subscribed keeps receiving.

use serde_json::json;

use ringcast_test_support::{Client, Connect, Lang, unique};

use crate::gateway;

fn run(lang: Lang) {
    let server = gateway().start();
    let mut client = Client::spawn(lang, &server);
    let room = format!("agent:{}", unique("agent"));
    for sock in ["leaver", "stayer"] {
        client.connected(sock, &Connect::to(&server));
        client.subscribe(sock, &room);
    }
    let status = |n: u64| {
        json!({"event": "agent:status_changed", "rooms": [room],
               "data": {"agent_id": "x", "old_status": "idle", "new_status": format!("busy-{n}")}})
    };
    assert_eq!(server.publish_ok(&status(1)), 2, "{}", server.context());
    for sock in ["leaver", "stayer"] {
        client.expect_event(sock, "agent:status_changed");
    }

    client.unsubscribe("leaver", &room);
    assert_eq!(server.publish_ok(&status(2)), 1, "{}", server.context());
    let got = client.expect_event("stayer", "agent:status_changed");
    assert_eq!(got[0]["new_status"], "busy-2", "{got:?}");

    // The end marker (to dashboard, where both still are) comes after status 2: once it is in,
    // status 2 would have been too.
    let alert = json!({"event": "system:alert", "data": {"message": "end", "severity": "info"}});
    assert_eq!(server.publish_ok(&alert), 2, "{}", server.context());
    client.expect_event("leaver", "system:alert");
    let extra = client.take_events("leaver");
    if !extra.is_empty() {
        client.fail(&format!(
            "after unsubscribe, leaver still received {extra:?}"
        ));
    }
}

#[test]
fn unsubscribe_stops_delivery_js() {
    run(Lang::Js);
}

#[test]
fn unsubscribe_stops_delivery_python() {
    run(Lang::Py);
}
