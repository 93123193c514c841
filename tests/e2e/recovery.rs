//! Connection state recovery with the stock socket.io-client 4.8 behind a TCP proxy that the
//! test cuts (a network drop, not a client `disconnect()`): the client reconnects on its own
//! with its `pid` and `offset`, and gets its socket id, its rooms and the events published while
//! it was away, before its `connect` (`socket.recovered === true`). socket.io-client hands the
//! offset to the handlers as the last argument (it does not strip it), so each event is
//! `[data, "<offset>"]`.

use serde_json::{Value, json};

use ringcast_test_support::recovery::{answer, connect_through, numbered, receive};
use ringcast_test_support::{
    Client, Connect, Lang, Metrics, Proxy, Server, token, unique, wait_until,
};

use crate::gateway;

fn recovery_server(extra: &[&str]) -> Server {
    let mut args = vec!["--recovery", "true"];
    args.extend_from_slice(extra);
    gateway().workers(2).args(args).start()
}

/// A recovery server (with `extra` flags), a proxy in front of it, a JS client, and a fresh
/// room named after `what`: the set-up every network-drop case starts from.
struct Rig {
    server: Server,
    proxy: Proxy,
    client: Client,
    room: String,
}

impl Rig {
    fn start(extra: &[&str], what: &str) -> Rig {
        let server = recovery_server(extra);
        let proxy = Proxy::start(server.addr);
        let client = Client::spawn(Lang::Js, &server);
        let room = format!("task:{}", unique(what));
        Rig {
            server,
            proxy,
            client,
            room,
        }
    }

    /// Connects through the proxy with `auth` and subscribes to the rig's room; the socket id.
    fn connect(&mut self, auth: Value) -> String {
        connect_through(
            &mut self.client,
            &self.server,
            &self.proxy,
            auth,
            &self.room,
        )
    }
}

fn publish(server: &Server, room: &str, n: u64) -> u64 {
    server.publish_ok(&json!({"event": "task:updated", "rooms": [room],
                              "data": {"task_id": room, "update": {"n": n}}}))
}

/// Cuts the client off (and keeps it off) until [`come_back`]; waits for its disconnect, and
/// for the server to have saved its session (the server sees the cut connection on its own
/// schedule: a publish before that still reaches the old socket).
fn drop_network(server: &Server, client: &mut Client, proxy: &Proxy) {
    let saved = metric(server, SAVED);
    proxy.block(true);
    proxy.sever();
    let line = client.expect("the client's disconnect", |v| v["type"] == "disconnect");
    assert_eq!(line["reason"], "transport close", "{line}");
    wait_until(
        "the server saved the session",
        || metric(server, SAVED) > saved,
        || server.context(),
    );
}

const SAVED: &str = "ringcast_recovery_sessions_saved_total";

/// Lets the client back in; returns its `connect` line (or the server's `connect_error`; the
/// refused attempts while blocked are `connect_error`s of the transport, skipped).
fn come_back(client: &mut Client, proxy: &Proxy) -> Value {
    proxy.block(false);
    answer(client, "the client back")
}

fn metric(server: &Server, key: &str) -> f64 {
    Metrics::scrape(server).or_zero(key)
}

#[test]
fn a_network_drop_recovers_the_id_rooms_and_exactly_the_missed_events() {
    // (case, events received before the drop)
    for (case, before) in [("received one event", 1), ("received no event yet", 0)] {
        let mut rig = Rig::start(&[], "rec");
        let id = rig.connect(json!({"token": token::good()}));
        let Rig {
            server,
            proxy,
            mut client,
            room,
        } = rig;
        for n in 0..before {
            publish(&server, &room, n);
        }
        assert_eq!(
            receive(&mut client, before as usize),
            (0..before).collect::<Vec<_>>(),
            "{case}"
        );

        drop_network(&server, &mut client, &proxy);
        for n in 100..105 {
            assert_eq!(publish(&server, &room, n), 0, "{case}: nobody is connected");
        }
        let back = come_back(&mut client, &proxy);
        assert_eq!(
            back["recovered"],
            true,
            "{case}: {back}\n{}",
            server.context()
        );
        assert_eq!(back["id"], id.as_str(), "{case}: the old socket id");
        assert_eq!(receive(&mut client, 5), [100, 101, 102, 103, 104], "{case}");
        // Rooms are back without a subscribe, and nothing was replayed twice: the next event
        // is the new one.
        assert_eq!(publish(&server, &room, 200), 1, "{case}");
        assert_eq!(receive(&mut client, 1), [200], "{case}");
        assert_eq!(
            metric(&server, "ringcast_recovery_sessions_restored_total"),
            1.0,
            "{case}"
        );
    }
}

#[test]
fn a_quiet_client_recovers_past_a_trimmed_offset_unless_it_needed_what_was_trimmed() {
    // Each log (one per worker) keeps 3 events. The client got event 0, then 7 events for
    // another room went into the logs: 8 events in two logs of 3 drop at least one event after
    // event 0, so its offset is no longer usable as a replay start.
    // (case, events for its room while away, recovered)
    // - 2 while away: nothing it needed is gone (everything between its offset and the drop was
    //   for other rooms), so the replay starts at the drop and it gets both.
    // - 8 while away: over two logs of 3, some event it needed was trimmed: a fresh session
    //   rather than a replay with a hole.
    for (away, recovered) in [(2u64, true), (8, false)] {
        let mut rig = Rig::start(&["--recovery-log-max-events", "3"], "quiet");
        let other = format!("task:{}", unique("other"));
        let id = rig.connect(json!({"token": token::good()}));
        let Rig {
            server,
            proxy,
            mut client,
            room,
        } = rig;
        publish(&server, &room, 0);
        assert_eq!(receive(&mut client, 1), [0]);
        for n in 0..7 {
            publish(&server, &other, n);
        }
        drop_network(&server, &mut client, &proxy);
        // The server saved the session before the events below are published, so they are
        // all "never queued" ones (a publish racing the disconnect across cores is replayed
        // once too: `engine/recovery/interleavings.rs` covers every such interleaving).
        ringcast_test_support::wait_until(
            "the session saved",
            || metric(&server, "ringcast_recovery_sessions_saved_total") >= 1.0,
            || server.context(),
        );
        for n in 100..100 + away {
            publish(&server, &room, n);
        }
        let back = come_back(&mut client, &proxy);
        assert_eq!(
            back["recovered"],
            recovered,
            "{away} away: {back}\n{}",
            server.context()
        );
        if recovered {
            assert_eq!(back["id"], id.as_str());
            assert_eq!(receive(&mut client, 2), [100, 101]);
        } else {
            assert_ne!(back["id"], id.as_str(), "a fresh session has a fresh id");
            let gone = metric(
                &server,
                r#"ringcast_recovery_sessions_failed_total{reason="offset_gone"}"#,
            );
            assert_eq!(gone, 1.0, "{}", server.context());
        }
    }
}

#[test]
fn after_the_disconnection_window_a_fresh_session() {
    // 1 ms: gone long before the client can be let back in.
    let mut rig = Rig::start(&["--recovery-max-disconnection-ms", "1"], "late");
    let id = rig.connect(json!({"token": token::good()}));
    let Rig {
        server,
        proxy,
        mut client,
        room,
    } = rig;
    drop_network(&server, &mut client, &proxy);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let back = come_back(&mut client, &proxy);
    assert_eq!(back["type"], "connect", "{back}");
    assert_eq!(back["recovered"], false, "{back}");
    assert_ne!(back["id"], id.as_str());
    assert_eq!(
        metric(
            &server,
            r#"ringcast_recovery_sessions_failed_total{reason="expired"}"#
        ),
        1.0,
        "{}",
        server.context()
    );
    // The normal connect flow ran: the fresh socket is in `dashboard` again, not in its room.
    assert_eq!(publish(&server, &room, 1), 0);
}

#[test]
fn a_recovered_session_keeps_its_user_room() {
    let mut rig = Rig::start(&[], "user");
    let sub = unique("rec-user");
    let id = rig.connect(json!({"token": token::valid(&sub)}));
    let Rig {
        server,
        proxy,
        mut client,
        room,
    } = rig;
    let to_user = |n: u64| {
        server.publish_ok(&json!({"event": "task:updated", "users": [sub],
                                  "data": {"task_id": room, "update": {"n": n}}}))
    };
    drop_network(&server, &mut client, &proxy);
    assert_eq!(to_user(1), 0, "nobody is connected");
    let back = come_back(&mut client, &proxy);
    assert_eq!(back["recovered"], true, "{back}\n{}", server.context());
    assert_eq!(back["id"], id.as_str(), "the old socket id");
    // The event to the user while it was away is replayed (the session's rooms include
    // `user:{sub}`), and the restored socket is in the user room again without a subscribe.
    assert_eq!(receive(&mut client, 1), [1]);
    assert_eq!(to_user(2), 1, "{}", server.context());
    assert_eq!(receive(&mut client, 1), [2]);
}

#[test]
fn an_expired_token_gets_connect_error_and_loses_the_session() {
    // No leeway, so the token is refused as soon as its `exp` passes.
    let mut rig = Rig::start(&["--jwt-leeway-secs", "0"], "exp");
    // 6 s: long enough to connect and drop before it expires (at `exp` the server would
    // disconnect the socket itself, and save nothing).
    let issued = token::now_secs();
    let short = token::hs256(ringcast_test_support::SECRET.as_bytes(), &token::claims(6));
    rig.connect(json!({"token": short}));
    let Rig {
        server,
        proxy,
        mut client,
        room,
    } = rig;
    drop_network(&server, &mut client, &proxy);
    publish(&server, &room, 1);
    // Waits for the token to expire (a wait, not an assertion on time).
    while token::now_secs() <= issued + 7 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let back = come_back(&mut client, &proxy);
    assert_eq!(back["type"], "connect_error", "{back}");
    assert_eq!(back["message"], "token expired", "{back}");
    // The session was dropped with the refusal: a good token afterwards gets a fresh one.
    client.send(&json!({"cmd": "reconnect", "sock": "s", "auth": {"token": token::good()}}));
    let again = answer(&mut client, "the reconnect");
    assert_eq!(again["recovered"], false, "{again}");
    let m = Metrics::scrape(&server);
    assert_eq!(
        m.or_zero(r#"ringcast_recovery_sessions_failed_total{reason="auth"}"#),
        1.0
    );
    assert_eq!(
        m.or_zero(r#"ringcast_recovery_sessions_failed_total{reason="unknown"}"#),
        1.0
    );
    assert_eq!(m.or_zero("ringcast_recovery_sessions_restored_total"), 0.0);
}

#[test]
fn python_socketio_works_with_recovery_on_and_sees_the_offset_argument() {
    // python-socketio ignores the pid and passes every argument to its handler: a handler of
    // one parameter would get a TypeError, so python clients must take `*args` (README).
    let server = recovery_server(&[]);
    let mut client = Client::spawn(Lang::Py, &server);
    client.connected("s", &Connect::to(&server));
    let room = format!("task:{}", unique("py"));
    client.subscribe("s", &room);
    publish(&server, &room, 7);
    let args = client.expect_event("s", "task:updated");
    let (n, offset) = numbered(&client, &args);
    assert_eq!(n, 7);
    assert!(!offset.is_empty());
}
