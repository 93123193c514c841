//! Default routing of all 8 server events: each reaches exactly the sockets of its rooms, once
//! (a socket in two target rooms too), and no other socket; `delivered` counts those sockets.
//! Runs with two workers so sockets and publishes spread over cores.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, unique};

use crate::gateway;
use crate::rooms::assert_payload;

#[test]
fn routing_every_server_event_reaches_exactly_its_rooms() {
    let server = gateway().workers(2).start();
    let (a, t, c, z) = (unique("a"), unique("t"), unique("c"), unique("z"));
    let (agent, task, conv) = (
        format!("agent:{a}"),
        format!("task:{t}"),
        format!("conversation:{c}"),
    );
    let end = format!("conversation:{}", unique("end"));

    // socket, stays in dashboard, its other rooms
    let sockets: [(&str, bool, Vec<String>); 7] = [
        ("dash", true, vec![]),
        ("agent", false, vec![agent.clone()]),
        ("task", false, vec![task.clone()]),
        ("conv", false, vec![conv.clone()]),
        ("both", false, vec![agent.clone(), task.clone()]),
        ("dash_agent", true, vec![agent.clone()]),
        (
            "other",
            false,
            vec![
                format!("agent:{z}"),
                format!("task:{z}"),
                format!("conversation:{z}"),
            ],
        ),
    ];
    let mut client = Client::spawn(Lang::Js, &server);
    for (sock, dashboard, rooms) in &sockets {
        client.connected(sock, &Connect::to(&server));
        if !dashboard {
            client.unsubscribe(sock, "dashboard");
        }
        for room in rooms.iter().chain([&end]) {
            client.subscribe(sock, room);
        }
    }

    // event, data, the sockets it must reach (default routing of the brief)
    let everyone_on_agent = ["dash", "agent", "both", "dash_agent"];
    let everyone_on_task = ["dash", "task", "both", "dash_agent"];
    let events: [(&str, Value, &[&str]); 8] = [
        (
            "agent:status_changed",
            json!({"agent_id": a, "old_status": "idle", "new_status": "busy"}),
            &everyone_on_agent,
        ),
        (
            "agent:heartbeat",
            json!({"agent_id": a, "metadata": {"cpu": 0.5}}),
            &everyone_on_agent,
        ),
        (
            "task:created",
            json!({"task_id": t, "task": {"title": "build"}}),
            &everyone_on_task,
        ),
        (
            "task:assigned",
            json!({"task_id": t, "agent_id": a, "task": {"title": "build"}}),
            &["dash", "agent", "task", "both", "dash_agent"],
        ),
        (
            "task:updated",
            json!({"task_id": t, "update": {"progress": 50}}),
            &everyone_on_task,
        ),
        (
            "task:completed",
            json!({"task_id": t, "result": {"ok": true}}),
            &everyone_on_task,
        ),
        (
            "conversation:message",
            json!({"conversation_id": c, "message": {"text": "hi"}}),
            &["conv"],
        ),
        (
            "system:alert",
            json!({"message": "disk full", "severity": "warning"}),
            &["dash", "dash_agent"],
        ),
    ];
    for (event, data, to) in &events {
        let delivered = server.publish_ok(&json!({"event": event, "data": data}));
        assert_eq!(
            delivered,
            to.len() as u64,
            "{event} must reach {to:?}\n{}",
            server.context()
        );
    }
    // The end marker reaches every socket after everything above.
    let end_id = end.trim_start_matches("conversation:");
    let delivered = server.publish_ok(&json!({"event": "conversation:message", "data": {"conversation_id": end_id, "message": {"text": "end"}}}),
    );
    assert_eq!(delivered, sockets.len() as u64, "{}", server.context());

    for (sock, _, _) in &sockets {
        for (event, data, to) in &events {
            if to.contains(sock) {
                let got = client.expect_event(sock, event);
                assert_payload(&client, &got, data);
            }
        }
    }
    for (sock, _, _) in &sockets {
        let got = client.expect_event(sock, "conversation:message");
        if got.first().map(|d| &d["conversation_id"]) != Some(&json!(end_id)) {
            client.fail(&format!("{sock}: expected the end marker, got {got:?}"));
        }
    }
    // Whatever is left arrived before the end markers: a duplicate or a misrouted event.
    let extra: Vec<String> = sockets
        .iter()
        .map(|(sock, _, _)| (sock, client.take_events(sock)))
        .filter(|(_, events)| !events.is_empty())
        .map(|(sock, events)| format!("{sock}: {events:?}"))
        .collect();
    if !extra.is_empty() {
        client.fail(&format!(
            "duplicate or misrouted deliveries:\n{}",
            extra.join("\n")
        ));
    }
}
