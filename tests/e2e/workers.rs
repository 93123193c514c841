//! Two workers (`--workers 2`): SO_REUSEPORT spreads connections over both cores, so polling
//! requests of one session and its WebSocket upgrade land on either core. 30 clients over every
//! transport mix all receive every broadcast, in order, and room broadcasts reach exactly their
//! members.

use serde_json::json;

use ringcast_test_support::{Client, Connect, Lang, Server, unique};

use crate::gateway;

/// How many sockets of each transport mix each driver opens.
const PER_MIX: usize = 8;
const PY_PER_MIX: usize = 2;
/// Broadcasts to everyone; polling sockets need a fresh GET for (nearly) each.
const BROADCASTS: u64 = 6;

#[test]
fn workers_two_cores_many_clients_all_transports() {
    all_transports_on(&gateway().workers(2).start());
}

/// Every transport mix connects, upgrades and receives every broadcast in order; a room
/// broadcast reaches exactly its members.
pub fn all_transports_on(server: &Server) {
    // default (polling, then upgrade), polling only, websocket only
    let mixes: [Option<&[&str]>; 3] = [None, Some(&["polling"]), Some(&["websocket"])];
    let mut js = Client::spawn(Lang::Js, server);
    let mut py = Client::spawn(Lang::Py, server);
    // (client, socket, the transport it must connect on when forced)
    let mut all: Vec<(Lang, String, Option<&str>)> = Vec::new();
    for (client, per_mix) in [(&mut js, PER_MIX), (&mut py, PY_PER_MIX)] {
        for (m, transports) in mixes.iter().enumerate() {
            for i in 0..per_mix {
                let sock = format!("m{m}-{i}");
                let mut how = Connect::to(server);
                if let Some(t) = transports {
                    how = how.transports(t);
                }
                client.connect(&sock, &how);
                all.push((client.lang, sock, transports.map(|t| t[0])));
            }
        }
    }
    for (lang, sock, forced) in &all {
        let c = pick(&mut js, &mut py, *lang);
        let line = c.expect(&format!("{sock} to connect"), |v| {
            v["sock"] == sock.as_str() && (v["type"] == "connect" || v["type"] == "connect_error")
        });
        if line["type"] != "connect" {
            c.fail(&format!("{sock}: {line}"));
        }
        if let Some(t) = forced
            && line["transport"] != *t
        {
            c.fail(&format!("{sock} was restricted to {t}: {line}"));
        }
    }
    // Upgrades (the socket.io-client default mix) complete: a probe and the upgrade packet, on a
    // new connection that may land on the other core.
    for i in 0..PER_MIX {
        let sock = format!("m0-{i}");
        let line = js.expect(&format!("{sock} to upgrade"), |v| {
            v["sock"] == sock.as_str() && v["type"] == "upgrade"
        });
        assert_eq!(line["transport"], "websocket", "{line}");
    }

    let total = all.len() as u64;
    for n in 0..BROADCASTS {
        let alert = json!({"event": "system:alert", "data": {"message": format!("b{n}"), "severity": "info"}});
        assert_eq!(
            server.publish_ok(&alert),
            total,
            "broadcast {n}\n{}",
            server.context()
        );
    }
    for (lang, sock, _) in &all {
        let c = pick(&mut js, &mut py, *lang);
        for n in 0..BROADCASTS {
            let got = c.expect_event(sock, "system:alert");
            if got.first().map(|d| &d["message"]) != Some(&json!(format!("b{n}"))) {
                c.fail(&format!(
                    "{sock}: broadcast b{n} expected (in order), got {got:?}"
                ));
            }
        }
    }

    // Every third socket joins a room; a room broadcast reaches exactly those.
    let room = format!("task:{}", unique("t"));
    let members: Vec<(Lang, &str)> = all
        .iter()
        .step_by(3)
        .map(|(l, s, _)| (*l, s.as_str()))
        .collect();
    for (lang, sock) in &members {
        let c = pick(&mut js, &mut py, *lang);
        c.subscribe(sock, &room);
    }
    let task_id = room.trim_start_matches("task:");
    let update = json!({"event": "task:updated", "rooms": [room], "data": {"task_id": task_id, "update": {"p": 1}}});
    assert_eq!(
        server.publish_ok(&update),
        members.len() as u64,
        "{}",
        server.context()
    );
    let end = json!({"event": "system:alert", "data": {"message": "end", "severity": "info"}});
    assert_eq!(server.publish_ok(&end), total, "{}", server.context());
    for (lang, sock, _) in &all {
        let c = pick(&mut js, &mut py, *lang);
        if members.contains(&(*lang, sock.as_str())) {
            c.expect_event(sock, "task:updated");
        }
        c.expect_event(sock, "system:alert");
        let extra = c.take_events(sock);
        if !extra.is_empty() {
            c.fail(&format!("{sock} received unexpected events: {extra:?}"));
        }
    }
}

fn pick<'a>(js: &'a mut Client, py: &'a mut Client, lang: Lang) -> &'a mut Client {
    match lang {
        Lang::Js | Lang::JsV2 => js,
        Lang::Py => py,
    }
}
