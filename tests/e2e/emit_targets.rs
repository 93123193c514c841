//! `POST /api/v1/emit` targets beyond rooms: `users`, `sockets`, `except_rooms`,
//! `except_users`, `except_sockets`. Each case reaches exactly its sockets, once (a socket
//! matched by two targets too), and no other; `delivered` counts them. Two workers, so the
//! sockets and the publishes spread over cores.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, token, unique};

use crate::gateway;

#[test]
fn emit_targets_reach_exactly_their_sockets_once() {
    let server = gateway().workers(2).start();
    let task = format!("task:{}", unique("t"));
    let agent = format!("agent:{}", unique("a"));
    // socket, user, rooms besides dashboard
    let sockets: [(&str, &str, Vec<&str>); 4] = [
        ("alice1", "alice", vec![]),
        ("alice2", "alice", vec![]),
        ("bob", "bob", vec![&task]),
        ("carol", "carol", vec![&task, &agent]),
    ];
    let mut client = Client::spawn(Lang::Js, &server);
    let mut sid = std::collections::HashMap::new();
    for (sock, user, rooms) in &sockets {
        let line = client.connected(sock, &Connect::to(&server).token(Some(token::valid(user))));
        sid.insert(*sock, line["id"].as_str().unwrap_or_default().to_owned());
        for room in rooms {
            client.subscribe(sock, room);
        }
    }

    // case, its targets, the sockets it must reach
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "one user, all tabs",
            json!({"users": ["alice"]}),
            vec!["alice1", "alice2"],
        ),
        (
            "two users",
            json!({"users": ["alice", "bob"]}),
            vec!["alice1", "alice2", "bob"],
        ),
        (
            "a user without sockets",
            json!({"users": ["nobody"]}),
            vec![],
        ),
        ("one socket", json!({"sockets": [sid["bob"]]}), vec!["bob"]),
        (
            "room and user overlap",
            json!({"rooms": [task], "users": ["carol"]}),
            vec!["bob", "carol"],
        ),
        (
            "two rooms overlap",
            json!({"rooms": [task, agent]}),
            vec!["bob", "carol"],
        ),
        (
            "socket and its user overlap",
            json!({"sockets": [sid["alice1"]], "users": ["alice"]}),
            vec!["alice1", "alice2"],
        ),
        (
            "except a room",
            json!({"rooms": ["dashboard"], "except_rooms": [task]}),
            vec!["alice1", "alice2"],
        ),
        (
            "except a user",
            json!({"rooms": ["dashboard"], "except_users": ["alice"]}),
            vec!["bob", "carol"],
        ),
        (
            "except a socket",
            json!({"rooms": ["dashboard"], "except_sockets": [sid["alice1"]]}),
            vec!["alice2", "bob", "carol"],
        ),
        (
            "a user except one tab",
            json!({"users": ["alice"], "except_sockets": [sid["alice2"]]}),
            vec!["alice1"],
        ),
        (
            "default routing except a room",
            json!({"except_rooms": [agent]}),
            vec!["alice1", "alice2", "bob"],
        ),
    ];
    for (case, targets, to) in &cases {
        let mut body =
            json!({"event": "system:alert", "data": {"message": case, "severity": "info"}});
        for (k, v) in targets.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        let delivered = server.publish_ok(&body);
        assert_eq!(
            delivered,
            to.len() as u64,
            "{case}: must reach {to:?}\n{}",
            server.context()
        );
    }
    // The end marker reaches every socket after everything above.
    let end = json!({"event": "system:alert", "data": {"message": "end", "severity": "info"}});
    assert_eq!(server.publish_ok(&end), sockets.len() as u64);

    for (sock, _, _) in &sockets {
        let want: Vec<&str> = cases
            .iter()
            .filter(|(_, _, to)| to.contains(sock))
            .map(|(case, _, _)| *case)
            .chain(["end"])
            .collect();
        let got: Vec<String> = want
            .iter()
            .map(|_| client.expect_event(sock, "system:alert"))
            .map(|args| args[0]["message"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(got, want, "{sock}: the cases it received, in order");
        let extra = client.take_events(sock);
        assert!(
            extra.is_empty(),
            "{sock}: duplicate or misrouted: {extra:?}"
        );
    }
}
