//! Subscribing to agent and task rooms, then receiving `agent:status_changed` and `task:updated`
//! published over HTTP with the default routing, in both stock clients.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, unique};

use crate::gateway;

/// The received payload is the published data plus a `timestamp` filled in by the server.
pub fn assert_payload(client: &Client, got: &[Value], data: &Value) {
    let [payload] = got else {
        client.fail(&format!("expected one argument, got {got:?}"))
    };
    for (key, value) in data.as_object().expect("data is an object") {
        if &payload[key] != value {
            client.fail(&format!(
                "field {key}: expected {value}, got {} in {payload}",
                payload[key]
            ));
        }
    }
    if payload["timestamp"].is_null() {
        client.fail(&format!("no timestamp filled in: {payload}"));
    }
}

fn run(lang: Lang) {
    let server = gateway().start();
    let mut client = Client::spawn(lang, &server);
    client.connected("s", &Connect::to(&server));
    let agent = unique("agent");
    let task = unique("task");
    client.subscribe("s", &format!("agent:{agent}"));
    client.subscribe("s", &format!("task:{task}"));

    let data = json!({"agent_id": agent, "old_status": "idle", "new_status": "busy"});
    // default routing: agent:{id} + dashboard; this one socket is in both, reached once
    let delivered = server.publish_ok(&json!({"event": "agent:status_changed", "data": data}));
    assert_eq!(delivered, 1, "{}", server.context());
    let got = client.expect_event("s", "agent:status_changed");
    assert_payload(&client, &got, &data);

    let data = json!({"task_id": task, "update": {"progress": 50, "note": "half"}});
    let delivered = server.publish_ok(&json!({"event": "task:updated", "data": data}));
    assert_eq!(delivered, 1, "{}", server.context());
    let got = client.expect_event("s", "task:updated");
    assert_payload(&client, &got, &data);
}

#[test]
fn rooms_agent_and_task_events_js() {
    run(Lang::Js);
}

#[test]
fn rooms_agent_and_task_events_python() {
    run(Lang::Py);
}
