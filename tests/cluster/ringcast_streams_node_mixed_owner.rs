//! Who may take back a session a Node server saved, on ringcast (streams mode). ringcast checks
//! that a saved session's `data.owner` is the restoring token's `sub`; a Node server saves its
//! `socket.data`, which has an `owner` only when the application sets one
//! (`node-streams-server.js owner` does, from the handshake's JWT). Without one the session is
//! restored on its pid and the token verified again, as the reference restores on the pid alone.

use serde_json::json;

use ringcast_test_support::recovery::{answer, connect_through, receive};
use ringcast_test_support::{Client, Lang, Metrics, Proxy, RedisServer, token, unique};

use crate::ringcast_streams_node_mixed::node_streams_server;
use crate::ringcast_streams_recovery::{publish_n, streams_node};

#[test]
fn a_node_session_with_an_owner_is_restored_only_for_that_sub() {
    // (case, the Node server's mode, the `sub` of the token the client comes back with,
    //  restored)
    let cases = [
        ("owner saved, same sub", "owner", "alice", true),
        ("owner saved, another sub", "owner", "mallory", false),
        (
            "stock server, no owner: the pid decides",
            "stock",
            "mallory",
            true,
        ),
    ];
    for (case, mode, sub, restored) in cases {
        let redis = RedisServer::start();
        let ringcast = streams_node(&redis);
        let (mut node, node_addr) = node_streams_server(&redis, &[mode]);
        let proxy = Proxy::start(node_addr);

        let mut client = Client::spawn(Lang::Js, &ringcast);
        let room = format!("task:{}", unique("node-owner"));
        let id = connect_through(
            &mut client,
            &ringcast,
            &proxy,
            json!({"token": token::valid("alice")}),
            &room,
        );
        publish_n(&ringcast, &room, 0);
        assert_eq!(receive(&mut client, 1), [0], "{case}");

        proxy.block(true);
        proxy.sever();
        client.expect("the client's disconnect", |v| v["type"] == "disconnect");
        node.expect("the Node server's disconnect line", |v| {
            v["disconnect"] == id.as_str()
        });
        publish_n(&ringcast, &room, 1);
        // The next attempts carry this token (and the Node pid and offset, as always).
        client.send(&json!({"cmd": "reconnect", "sock": "s",
                            "auth": {"token": token::valid(sub)}}));
        proxy.set_upstream(ringcast.addr);
        proxy.block(false);

        let back = answer(&mut client, "the client back on ringcast");
        assert_eq!(back["recovered"], restored, "{case}: {back}");
        assert_eq!(back["id"] == id.as_str(), restored, "{case}: {back}");
        let m = Metrics::scrape(&ringcast);
        let (ok, auth) = (
            m.or_zero("ringcast_recovery_sessions_restored_total"),
            m.or_zero(r#"ringcast_recovery_sessions_failed_total{reason="auth"}"#),
        );
        assert_eq!(
            (ok, auth),
            if restored { (1.0, 0.0) } else { (0.0, 1.0) },
            "{case}"
        );
        if restored {
            assert_eq!(receive(&mut client, 1), [1], "{case}: the missed event");
        }
    }
}
