//! Tests of the classic redis-adapter protocol: golden vectors from Node nodes and the emitter,
//! requests and responses of every type, malformed input.

use ringcast_codec::ws::OpCode;

use super::*;
use crate::cluster::test_hex as hex;

fn text(op: &BroadcastOp) -> String {
    String::from_utf8(op.frames[0].payload().to_vec()).unwrap()
}

fn op(rooms: &[&str], except: &[Sid], args: &str, attachments: &[&[u8]]) -> BroadcastOp {
    BroadcastOp {
        nsp: Room::from("/"),
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: except.to_vec(),
        except_rooms: Vec::new(),
        frames: event_frames("/", "ev", args, attachments.iter().copied()),
    }
}

/// redis-interop.md §2(a): `io.to("dashboard").emit("agent:status_changed", {id:"42",
/// status:"online"})` from node `aB3xY9`.
const ADAPTER_GOLDEN: &str = "93 a6 614233785939 83 a4 74797065 02 a4 64617461 92 b4 6167656e743a7374617475735f6368616e676564
    82 a2 6964 a2 3432 a6 737461747573 a6 6f6e6c696e65 a3 6e7370 a1 2f 83 a5 726f6f6d73 91 a9 64617368626f617264
    a6 657863657074 90 a5 666c616773 80";

/// redis-interop.md §2(b): `emitter.to("task:7").emit("task:created", {id:"7"})`.
const EMITTER_GOLDEN: &str = "93a7656d697474657283a47479706502a46461746192ac7461736b3a6372656174656481a26964a137a36e7370a12f83a5726f6f6d7391a67461736b3a37a5666c61677380a665786365707490";

#[test]
fn encodes_the_node_adapter_golden_vector_byte_for_byte() {
    let op = BroadcastOp {
        nsp: Room::from("/"),
        rooms: vec![Room::from("dashboard")],
        except: Vec::new(),
        except_rooms: Vec::new(),
        frames: event_frames(
            "/",
            "agent:status_changed",
            r#"{"id":"42","status":"online"}"#,
            std::iter::empty(),
        ),
    };
    let mut w = Writer::new();
    encode_broadcast("aB3xY9", &op, &mut w).unwrap();
    assert_eq!(w.buf, hex(ADAPTER_GOLDEN));
}

#[test]
fn decodes_the_node_adapter_golden_vector() {
    let bytes = hex(ADAPTER_GOLDEN);
    let env = Envelope::parse(&bytes).unwrap();
    assert_eq!(
        (&*env.uid, &*env.nsp, env.packet_type, env.id),
        ("aB3xY9", "/", 2, None)
    );
    assert_eq!(
        (env.rooms.as_slice(), env.except.as_slice()),
        (&["dashboard".to_owned()][..], &[][..])
    );
    let inbound = env.to_inbound().unwrap();
    assert_eq!(
        text(&inbound.op),
        r#"42["agent:status_changed",{"id":"42","status":"online"}]"#
    );
    assert_eq!(inbound.op.rooms, vec![Room::from("dashboard")]);
    assert!(inbound.except_rooms.is_empty());
}

#[test]
fn decodes_the_emitter_golden_vector_with_its_key_order() {
    let bytes = hex(EMITTER_GOLDEN);
    let env = Envelope::parse(&bytes).unwrap();
    assert_eq!(&*env.uid, "emitter");
    assert_eq!(env.rooms, vec!["task:7".to_owned()]);
    let inbound = env.to_inbound().unwrap();
    assert_eq!(text(&inbound.op), r#"42["task:created",{"id":"7"}]"#);
    assert_eq!(inbound.op.frames.len(), 1);
}

#[test]
fn binary_arguments_become_attachment_frames_and_back_to_bin() {
    // Node: io.emit("ev", Buffer.from([1,2]), {a: new Uint8Array([3])}) → bin + ext type 0.
    let bytes = hex(
        "93 a1 78 83 a4 74797065 02 a4 64617461 93 a2 6576 c4 02 0102 81 a1 61 c7 01 00 03
         a3 6e7370 a1 2f 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80",
    );
    let inbound = Envelope::parse(&bytes).unwrap().to_inbound().unwrap();
    assert_eq!(
        text(&inbound.op),
        r#"452-["ev",{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}}]"#
    );
    assert_eq!(inbound.op.frames.len(), 3);
    assert_eq!(inbound.op.frames[1].opcode(), OpCode::Binary);
    assert_eq!(&inbound.op.frames[2].payload()[..], &[3]);
    // Published back, binary travels as `bin` (ArrayBuffers become Buffers, as in Node).
    let mut w = Writer::new();
    encode_broadcast("x", &inbound.op, &mut w).unwrap();
    assert_eq!(
        w.buf,
        hex(
            "93 a1 78 83 a4 74797065 02 a4 64617461 93 a2 6576 c4 02 0102 81 a1 61 c4 01 03
             a3 6e7370 a1 2f 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80"
        )
    );
}

#[test]
fn except_splits_socket_ids_from_rooms_and_publishes_ids() {
    let sid = Sid::parse("AAAAAAAAAAAAAAAAAAAB").unwrap();
    // [uid, {type:2, data:["ev"], nsp:"/"}, {rooms:[], except:[sid, "vip"], flags:{}}]
    let mut w = Writer::new();
    w.array(3);
    w.str("node01");
    w.map(3);
    w.str("type");
    w.uint(2);
    w.str("data");
    w.array(1);
    w.str("ev");
    w.str("nsp");
    w.str("/");
    w.map(3);
    w.str("rooms");
    w.array(0);
    w.str("except");
    w.array(2);
    w.str(sid.as_str());
    w.str("vip");
    w.str("flags");
    w.map(0);
    let inbound = Envelope::parse(&w.buf).unwrap().to_inbound().unwrap();
    assert_eq!(inbound.op.except, vec![sid]);
    assert_eq!(inbound.except_rooms, vec![Room::from("vip")]);
    let mut out = Writer::new();
    encode_broadcast("me", &op(&["a", "b"], &[sid], "1", &[]), &mut out).unwrap();
    let env = Envelope::parse(&out.buf).unwrap();
    assert_eq!(env.except, vec![sid.as_str().to_owned()]);
    assert_eq!(env.rooms, vec!["a".to_owned(), "b".to_owned()]);
}

#[test]
fn notepack_quirks_in_event_data() {
    // data: ["ev", undefined, {a: undefined, d: Date(0)}, 1.5, BigInt(-3)]
    let bytes = hex("93 a1 78 82 a4 74797065 02 a4 64617461 95 a2 6576 d4 00 00 82 a1 61 d4 00 00 a1 64 d7 00 0000000000000000
         cb 3ff8000000000000 c7 02 01 2d33 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80");
    let inbound = Envelope::parse(&bytes).unwrap().to_inbound().unwrap();
    assert_eq!(
        text(&inbound.op),
        r#"42["ev",null,{"d":"1970-01-01T00:00:00.000Z"},1.5,-3]"#
    );
    assert_eq!(inbound.op.nsp, Room::from("/"));
}

macro_rules! envelope_errors {
    ($($name:ident: $hex:expr => $err:expr;)*) => {$(
        #[test]
        fn $name() {
            let bytes = hex($hex);
            let got = Envelope::parse(&bytes).and_then(|e| e.to_inbound().map(|_| ()));
            assert_eq!(got.err(), Some($err));
        }
    )*};
}

envelope_errors! {
    env_not_an_array: "81 a1 61 01" => WireError::NotAnEnvelope;
    env_too_short: "92 a1 78 80" => WireError::NotAnEnvelope;
    env_uid_not_str: "93 01 80 80" => WireError::NotAnEnvelope;
    env_no_data: "93 a1 78 81 a4 74797065 02 80" => WireError::NotAnEnvelope;
    env_no_type: "93 a1 78 81 a4 64617461 91 a1 65 80" => WireError::NotAnEnvelope;
    env_connect_packet: "93 a1 78 82 a4 74797065 00 a4 64617461 91 a1 65 80" => WireError::NotAnEvent;
    env_empty_data: "93 a1 78 82 a4 74797065 02 a4 64617461 90 80" => WireError::NotAnEvent;
    env_numeric_event: "93 a1 78 82 a4 74797065 02 a4 64617461 91 01 80" => WireError::NotAnEvent;
    env_truncated: "93 a1 78 82 a4 74797065 02 a4 64617461 92 a1" => WireError::Msgpack(MsgpackError::Truncated);
    env_trailing: "93 a1 78 82 a4 74797065 02 a4 64617461 91 a1 65 80 00" => WireError::Msgpack(MsgpackError::TrailingBytes);
}

use super::msgpack::MsgpackError;

#[test]
fn missing_nsp_defaults_to_root_and_opts_may_be_nil() {
    let bytes = hex("93 a1 78 82 a4 74797065 02 a4 64617461 91 a1 65 c0");
    let env = Envelope::parse(&bytes).unwrap();
    assert_eq!(&*env.nsp, "/");
    assert!(env.rooms.is_empty());
    assert_eq!(text(&env.to_inbound().unwrap().op), r#"42["e"]"#);
}

macro_rules! channel_cases {
    ($($name:ident: $channel:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            let ch = Channels::new("socket.io", "/", "abc123");
            assert_eq!(ch.classify($channel), $want);
        }
    )*};
}

channel_cases! {
    ch_shared: "socket.io#/#" => BroadcastChannel::Shared;
    ch_room: "socket.io#/#agent:7#" => BroadcastChannel::Room("agent:7");
    ch_room_with_hash: "socket.io#/#a#b#" => BroadcastChannel::Room("a#b");
    ch_no_trailing_hash: "socket.io#/#agent:7" => BroadcastChannel::Foreign;
    ch_other_nsp: "socket.io#/admin#" => BroadcastChannel::Foreign;
    ch_other_prefix: "other#/#room#" => BroadcastChannel::Foreign;
}

#[test]
fn channel_names_follow_the_adapter() {
    let ch = Channels::new("socket.io", "/", "abc123");
    assert_eq!(ch.pattern, "socket.io#/#*");
    assert_eq!(ch.request, "socket.io-request#/#");
    assert_eq!(ch.response, "socket.io-response#/#");
    assert_eq!(ch.own_response, "socket.io-response#/#abc123#");
    assert_eq!(
        ch.broadcast_channel("/", &[Room::from("task:7")]),
        "socket.io#/#task:7#"
    );
    assert_eq!(ch.broadcast_channel("/", &[]), "socket.io#/#");
    assert_eq!(
        ch.broadcast_channel("/", &[Room::from("a"), Room::from("b")]),
        "socket.io#/#"
    );
}

fn sel(rooms: &[&str], except: &[&str]) -> Selector {
    Selector {
        nsp: Room::from("/"),
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: except.iter().map(|r| Room::from(*r)).collect(),
    }
}

fn rooms(names: &[&str]) -> Vec<Room> {
    names.iter().map(|r| Room::from(*r)).collect()
}

#[test]
fn decodes_requests_from_the_adapter_and_the_emitter() {
    let req = |s: &str| decode_request(s.as_bytes(), "/").unwrap();
    assert!(matches!(req(r#"{"uid":"n1","requestId":"r1","type":1}"#),
        Request::AllRooms { uid: Some(u), request_id } if u == "n1" && request_id == "r1"));
    // The emitter's socketsJoin: no uid.
    match req(r#"{"type":2,"opts":{"rooms":["agent:7"],"except":["x"]},"rooms":["vip"]}"#) {
        Request::Command { uid: None, command } => {
            assert_eq!(
                command,
                RemoteCommand::Join {
                    selector: sel(&["agent:7"], &["x"]),
                    rooms: rooms(&["vip"])
                }
            )
        }
        other => panic!("{other:?}"),
    }
    match req(r#"{"uid":"n1","type":3,"opts":{"rooms":[],"except":[]},"rooms":["a","b"]}"#) {
        Request::Command { command, .. } => assert_eq!(
            command,
            RemoteCommand::Leave {
                selector: sel(&[], &[]),
                rooms: rooms(&["a", "b"])
            }
        ),
        other => panic!("{other:?}"),
    }
    match req(r#"{"type":4,"opts":{"rooms":["r"],"except":[]},"close":true}"#) {
        Request::Command { command, .. } => assert_eq!(
            command,
            RemoteCommand::Disconnect {
                selector: sel(&["r"], &[]),
                close: true
            }
        ),
        other => panic!("{other:?}"),
    }
    match req(r#"{"uid":"n1","requestId":"r2","type":5,"opts":{"rooms":["r"],"except":["s"]}}"#) {
        Request::Fetch {
            request_id,
            selector,
            ..
        } => assert_eq!((request_id.as_str(), selector), ("r2", sel(&["r"], &["s"]))),
        other => panic!("{other:?}"),
    }
    match req(r#"{"requestId":"r3","type":2,"sid":"abc","room":"vip"}"#) {
        Request::Legacy {
            request_id,
            sid,
            command,
            ..
        } => {
            assert_eq!((request_id.as_deref(), sid.as_str()), (Some("r3"), "abc"));
            assert_eq!(
                command,
                RemoteCommand::Join {
                    selector: sel(&["abc"], &[]),
                    rooms: rooms(&["vip"])
                }
            );
        }
        other => panic!("{other:?}"),
    }
    match req(r#"{"requestId":"r4","type":4,"sid":"abc","close":false}"#) {
        Request::Legacy { command, .. } => assert_eq!(
            command,
            RemoteCommand::Disconnect {
                selector: sel(&["abc"], &[]),
                close: false
            }
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        req(r#"{"uid":"emitter","type":6,"data":["hello",1]}"#),
        Request::ServerSideEmit {
            request_id: None,
            ..
        }
    ));
    assert!(matches!(
        req(r#"{"uid":"n","type":6,"requestId":"q","data":["hello"]}"#),
        Request::ServerSideEmit {
            request_id: Some(_),
            ..
        }
    ));
    match req(r#"{"requestId":"r5","type":0,"rooms":["a"]}"#) {
        Request::Sockets {
            request_id,
            selector,
            ..
        } => assert_eq!((request_id.as_str(), selector), ("r5", sel(&["a"], &[]))),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        req(r#"{"uid":"n","type":42}"#),
        Request::Other { kind: 42, .. }
    ));
}

#[test]
fn decodes_a_msgpack_broadcast_with_ack_request() {
    // notepack({uid:"n1", requestId:"q1", type:7, packet:{type:2, data:["ev", Buffer<09>], nsp:"/"},
    //           opts:{rooms:["r"], except:[], flags:{timeout:1000}}})
    let mut w = Writer::new();
    w.map(5);
    for (k, v) in [("uid", "n1"), ("requestId", "q1")] {
        w.str(k);
        w.str(v);
    }
    w.str("type");
    w.uint(7);
    w.str("packet");
    w.map(3);
    w.str("type");
    w.uint(2);
    w.str("data");
    w.array(2);
    w.str("ev");
    w.bin(&[9]);
    w.str("nsp");
    w.str("/");
    w.str("opts");
    w.map(3);
    w.str("rooms");
    w.array(1);
    w.str("r");
    w.str("except");
    w.array(0);
    w.str("flags");
    w.map(1);
    w.str("timeout");
    w.uint(1000);
    match decode_request(&w.buf, "/").unwrap() {
        Request::BroadcastWithAck {
            request_id,
            inbound,
            uid,
        } => {
            assert_eq!((request_id.as_str(), uid.as_deref()), ("q1", Some("n1")));
            assert_eq!(
                text(&inbound.op),
                r#"451-["ev",{"_placeholder":true,"num":0}]"#
            );
            assert_eq!(&inbound.op.frames[1].payload()[..], &[9]);
            assert_eq!(inbound.op.rooms, rooms(&["r"]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_errors() {
    for (bad, want) in [
        (&b"{\"uid\":\"n\"}"[..], WireError::MissingField("type")),
        (b"{\"type\":1}", WireError::MissingField("requestId")),
        (
            b"{\"type\":2,\"room\":\"x\"}",
            WireError::MissingField("sid"),
        ),
        (
            b"{not json",
            WireError::Json(super::super::json::JsonError::Invalid),
        ),
        (b"\xc1", WireError::Msgpack(MsgpackError::ReservedByte)),
    ] {
        assert_eq!(
            decode_request(bad, "/").err(),
            Some(want),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn decodes_responses() {
    let r = decode_response(br#"{"requestId":"r1","rooms":["a","b"]}"#).unwrap();
    assert_eq!(
        (r.request_id.as_str(), r.rooms),
        ("r1", Some(vec!["a".to_owned(), "b".to_owned()]))
    );
    let r = decode_response(br#"{"requestId":"r2","sockets":[{"id":"s1","handshake":{},"rooms":["s1","x"],"data":{}}]}"#).unwrap();
    assert_eq!(
        r.sockets,
        Some(vec![SocketInfo {
            id: "s1".into(),
            rooms: vec!["s1".into(), "x".into()],
            ..Default::default()
        }])
    );
    assert!(decode_response(br#"{"type":6,"data":1}"#).is_err());
}

#[test]
fn builds_requests_and_responses_as_the_adapter_does() {
    let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
    assert_eq!(
        s(all_rooms_request("me", "q")),
        r#"{"uid":"me","requestId":"q","type":1}"#
    );
    assert_eq!(
        s(fetch_request("me", "q", &sel(&["a"], &["b"]))),
        r#"{"uid":"me","requestId":"q","type":5,"opts":{"rooms":["a"],"except":["b"]}}"#
    );
    assert_eq!(
        s(all_rooms_response("q", &rooms(&["a", "b\""]))),
        r#"{"requestId":"q","rooms":["a","b\""]}"#
    );
    assert_eq!(
        s(sockets_response(
            "q",
            &[SocketInfo {
                id: "s".into(),
                rooms: vec![],
                ..Default::default()
            }]
        )),
        r#"{"requestId":"q","sockets":["s"]}"#
    );
    assert_eq!(s(legacy_ack("q")), r#"{"requestId":"q"}"#);
    assert_eq!(
        s(client_count_response("q", 0)),
        r#"{"type":8,"requestId":"q","clientCount":0}"#
    );
    let fetched = s(fetch_response(
        "q",
        &[SocketInfo {
            id: "s".into(),
            rooms: vec!["s".into(), "r".into()],
            ..Default::default()
        }],
    ));
    let parsed = Json::parse(fetched.as_bytes()).unwrap();
    let socket = match parsed.get("sockets") {
        Some(Json::Array(items)) => items[0].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(socket.get("id"), Some(&Json::Str("s".into())));
    assert_eq!(
        socket.get("rooms"),
        Some(&Json::Array(vec![
            Json::Str("s".into()),
            Json::Str("r".into())
        ]))
    );
    assert!(matches!(
        socket.get("handshake").and_then(|h| h.get("auth")),
        Some(Json::Object(_))
    ));
    // A response we build decodes as a response.
    assert_eq!(
        decode_response(fetched.as_bytes())
            .unwrap()
            .sockets
            .map(|s| s.len()),
        Some(1)
    );
}

#[test]
fn ack_ids_are_published_but_not_delivered() {
    let mut w = Writer::new();
    let mut with_id = op(&[], &[], "1", &[]);
    let mut buf = ringcast_codec::ws::FrameBuf::new();
    ringcast_codec::sio::write_event(&mut buf, "/", Some(12), 0, "ev", "1");
    with_id.frames = vec![buf.finish(OpCode::Text)];
    encode_broadcast("me", &with_id, &mut w).unwrap();
    let env = Envelope::parse(&w.buf).unwrap();
    assert_eq!(env.id, Some(12));
    assert_eq!(text(&env.to_inbound().unwrap().op), r#"42["ev",1]"#);
}

#[test]
fn unpublishable_broadcasts_are_errors() {
    let mut not_event = op(&[], &[], "", &[]);
    not_event.frames = vec![ringcast_codec::ws::OutFrame::new(OpCode::Text, b"40")];
    assert_eq!(
        encode_broadcast("me", &not_event, &mut Writer::new()).err(),
        Some(WireError::NotAnEvent)
    );
    let mut missing_attachment = op(&[], &[], r#"{"_placeholder":true,"num":0}"#, &[b"x"]);
    missing_attachment.frames.truncate(1);
    assert!(encode_broadcast("me", &missing_attachment, &mut Writer::new()).is_err());
    assert_eq!(
        encode_broadcast(
            "me",
            &BroadcastOp {
                frames: vec![],
                ..op(&[], &[], "", &[])
            },
            &mut Writer::new()
        )
        .err(),
        Some(WireError::NotAnEvent)
    );
}
