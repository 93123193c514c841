use super::*;
use crate::cluster::msgpack::MsgpackError;
use crate::cluster::test_hex as hex;
use crate::engine::sid::Sid;
use ringcast_codec::ws::OpCode;

fn json(text: &str) -> Json {
    Json::parse(text.as_bytes()).unwrap()
}

fn opts(rooms: &[&str], except: &[&str], flags: &str) -> Opts {
    Opts {
        rooms: rooms.iter().map(|r| r.to_string()).collect(),
        except: except.iter().map(|r| r.to_string()).collect(),
        flags: Some(json(flags)),
    }
}

fn value(text: &str, attachments: &[&[u8]]) -> Value {
    Value {
        json: json(text),
        attachments: attachments
            .iter()
            .map(|a| Bytes::copy_from_slice(a))
            .collect(),
    }
}

fn event(data: &str, attachments: &[&[u8]]) -> EventPacket {
    let Json::Array(data) = json(data) else {
        panic!("event data is an array")
    };
    EventPacket {
        kind: 2,
        data,
        nsp: "/".into(),
        id: None,
        attachments: attachments
            .iter()
            .map(|a| Bytes::copy_from_slice(a))
            .collect(),
    }
}

fn msg(body: Body) -> ClusterMessage {
    ClusterMessage {
        uid: "a1b2c3d4e5f60718".into(),
        nsp: "/".into(),
        body,
    }
}

const P0: &str = r#"{"_placeholder":true,"num":0}"#;

/// One sample per message type: (name, message, `JSON.stringify(message.data)` or "" when the
/// type has no data, or "binary" when the data holds binary and travels as MessagePack).
fn samples() -> Vec<(&'static str, ClusterMessage, String)> {
    let rooms = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        ("initial_heartbeat", msg(Body::InitialHeartbeat), String::new()),
        ("heartbeat", msg(Body::Heartbeat), String::new()),
        (
            "broadcast",
            msg(Body::Broadcast(Broadcast {
                packet: event(r#"["chat",{"text":"hé \"x\""},1.5,null]"#, &[]),
                opts: opts(&["r1"], &["sid1"], "{}"),
                request_id: None,
            })),
            r#"{"packet":{"type":2,"data":["chat",{"text":"hé \"x\""},1.5,null],"nsp":"/"},"opts":{"rooms":["r1"],"except":["sid1"],"flags":{}}}"#.into(),
        ),
        (
            "broadcast_with_ack",
            msg(Body::Broadcast(Broadcast {
                packet: event(r#"["ask"]"#, &[]),
                opts: opts(&[], &[], r#"{"timeout":5000}"#),
                request_id: Some("req1".into()),
            })),
            r#"{"packet":{"type":2,"data":["ask"],"nsp":"/"},"requestId":"req1","opts":{"rooms":[],"except":[],"flags":{"timeout":5000}}}"#.into(),
        ),
        (
            "broadcast_binary",
            msg(Body::Broadcast(Broadcast {
                packet: event(&format!(r#"["file",{P0}]"#), &[&[1, 2, 3]]),
                opts: opts(&[], &[], r#"{"volatile":true}"#),
                request_id: None,
            })),
            "binary".into(),
        ),
        (
            "sockets_join",
            msg(Body::SocketsJoin {
                opts: opts(&["a"], &[], "{}"),
                rooms: rooms(&["b", "c"]),
            }),
            r#"{"opts":{"rooms":["a"],"except":[],"flags":{}},"rooms":["b","c"]}"#.into(),
        ),
        (
            "sockets_leave",
            msg(Body::SocketsLeave {
                opts: opts(&[], &["x"], "{}"),
                rooms: rooms(&["b"]),
            }),
            r#"{"opts":{"rooms":[],"except":["x"],"flags":{}},"rooms":["b"]}"#.into(),
        ),
        (
            "disconnect_sockets",
            msg(Body::DisconnectSockets {
                opts: opts(&["a"], &[], "{}"),
                close: Some(true),
            }),
            r#"{"opts":{"rooms":["a"],"except":[],"flags":{}},"close":true}"#.into(),
        ),
        (
            "disconnect_sockets_close_undefined",
            msg(Body::DisconnectSockets {
                opts: opts(&[], &[], "{}"),
                close: None,
            }),
            r#"{"opts":{"rooms":[],"except":[],"flags":{}}}"#.into(),
        ),
        (
            "fetch_sockets",
            msg(Body::FetchSockets {
                opts: opts(&["a"], &[], r#"{"timeout":1000}"#),
                request_id: "req2".into(),
            }),
            r#"{"opts":{"rooms":["a"],"except":[],"flags":{"timeout":1000}},"requestId":"req2"}"#.into(),
        ),
        (
            "fetch_sockets_response",
            msg(Body::FetchSocketsResponse {
                request_id: "req2".into(),
                sockets: value(r#"[{"id":"s1","handshake":{},"rooms":["s1","a"],"data":{"n":1}}]"#, &[]),
            }),
            r#"{"requestId":"req2","sockets":[{"id":"s1","handshake":{},"rooms":["s1","a"],"data":{"n":1}}]}"#.into(),
        ),
        (
            "server_side_emit",
            msg(Body::ServerSideEmit {
                request_id: None,
                packet: value(r#"["hello",1]"#, &[]),
            }),
            r#"{"packet":["hello",1]}"#.into(),
        ),
        (
            "server_side_emit_with_ack",
            msg(Body::ServerSideEmit {
                request_id: Some("req3".into()),
                packet: value(&format!(r#"["blob",{P0}]"#), &[&[9]]),
            }),
            "binary".into(),
        ),
        (
            "server_side_emit_response",
            msg(Body::ServerSideEmitResponse {
                request_id: "req3".into(),
                packet: value(r#""ok""#, &[]),
            }),
            r#"{"requestId":"req3","packet":"ok"}"#.into(),
        ),
        (
            "broadcast_client_count",
            msg(Body::BroadcastClientCount {
                request_id: "req1".into(),
                client_count: 3,
            }),
            r#"{"requestId":"req1","clientCount":3}"#.into(),
        ),
        (
            "broadcast_ack",
            msg(Body::BroadcastAck {
                request_id: "req1".into(),
                packet: value(r#"[{"fine":true}]"#, &[]),
            }),
            r#"{"requestId":"req1","packet":[{"fine":true}]}"#.into(),
        ),
        ("adapter_close", msg(Body::AdapterClose), String::new()),
    ]
}

fn owned_fields<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'a [u8], &'a [u8])> {
    fields
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect()
}

#[test]
fn every_type_round_trips_through_the_stream_entry_form() {
    for (name, m, data) in samples() {
        let fields = m.encode_entry().unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        let want_keys = if data.is_empty() {
            vec!["uid", "nsp", "type"]
        } else {
            vec!["uid", "nsp", "type", "data"]
        };
        assert_eq!(keys, want_keys, "{name}");
        assert_eq!(fields[2].1, (m.kind() as u8).to_string(), "{name}");
        match data.as_str() {
            "" => {}
            "binary" => {
                let text = &fields[3].1;
                assert!(!text.starts_with('{'), "{name}: {text}");
                let bytes = BASE64.decode(text).unwrap();
                assert_eq!(Body::from_msgpack_data(&m, &bytes), m, "{name}");
            }
            json => assert_eq!(fields[3].1, json, "{name}"),
        }
        assert_eq!(
            ClusterMessage::decode_entry(&owned_fields(&fields)),
            Ok(m.clone()),
            "{name}"
        );
    }
}

/// Found by the fuzz target: a FETCH_SOCKETS request with `"nsp":""` decodes from the whole
/// forms, but its stream entry would be skipped by every reader, so it is not written at all.
#[test]
fn an_empty_namespace_is_refused_as_a_stream_entry_and_kept_in_the_whole_forms() {
    let json = br#"{"type":7,"data":{"opts":{"rooms":["a"],"exlfagscept":[],"flags":{"timeout":1000}},"requestId":"req2"},"uid":"u","nsp":""}"#;
    let m = ClusterMessage::decode(json).unwrap();
    assert_eq!(m.nsp, "");
    assert_eq!(m.encode_entry(), Err(MessageError::MissingField("nsp")));
    let whole = m.encode_msgpack().unwrap();
    assert_eq!(ClusterMessage::decode(&whole), Ok(m.clone()));
    let sharded = m.encode_sharded().unwrap();
    assert_eq!(ClusterMessage::decode(&sharded), Ok(m));
}

#[test]
fn every_type_round_trips_through_whole_msgpack() {
    for (name, m, _) in samples() {
        let bytes = m.encode_msgpack().unwrap();
        // {type, data?, uid, nsp}: a fixmap of 3 or 4, "type" first.
        assert_eq!(&bytes[1..6], b"\xa4type", "{name}");
        assert_eq!(ClusterMessage::decode(&bytes), Ok(m.clone()), "{name}");
    }
}

#[test]
fn every_type_round_trips_through_the_sharded_form() {
    for (name, m, data) in samples() {
        let bytes = m.encode_sharded().unwrap();
        let kind = m.kind() as u8;
        match data.as_str() {
            "binary" => assert_eq!(bytes, m.encode_msgpack().unwrap(), "{name}"),
            "" => assert_eq!(
                String::from_utf8(bytes.clone()).unwrap(),
                format!(r#"{{"type":{kind},"uid":"a1b2c3d4e5f60718","nsp":"/"}}"#),
                "{name}"
            ),
            data => assert_eq!(
                String::from_utf8(bytes.clone()).unwrap(),
                format!(r#"{{"type":{kind},"data":{data},"uid":"a1b2c3d4e5f60718","nsp":"/"}}"#),
                "{name}"
            ),
        }
        assert_eq!(ClusterMessage::decode(&bytes), Ok(m.clone()), "{name}");
    }
}

impl Body {
    /// Test helper: a message whose `data` is `bytes` (MessagePack), other fields from `m`.
    fn from_msgpack_data(m: &ClusterMessage, bytes: &[u8]) -> ClusterMessage {
        let (data, attachments) = msgpack_to_json(bytes).unwrap();
        ClusterMessage {
            uid: m.uid.clone(),
            nsp: m.nsp.clone(),
            body: Body::from_data(m.kind() as u64, Some(data), attachments).unwrap(),
        }
    }
}

#[test]
fn whole_msgpack_heartbeat_is_byte_exact() {
    let bytes = msg(Body::Heartbeat).encode_msgpack().unwrap();
    let mut want = vec![0x83, 0xa4];
    want.extend_from_slice(b"type");
    want.push(0x02);
    want.push(0xa3);
    want.extend_from_slice(b"uid");
    want.push(0xb0);
    want.extend_from_slice(b"a1b2c3d4e5f60718");
    want.push(0xa3);
    want.extend_from_slice(b"nsp");
    want.extend_from_slice(b"\xa1/");
    assert_eq!(bytes, want);
}

#[test]
fn what_the_js_libraries_write_beyond_json_decodes() {
    // {type: 12, data: {requestId: "r", packet: [Date(1000), Uint8Array<01>, undefined]},
    //  uid: "u", nsp: "/"}: @msgpack/msgpack's timestamp32 and bin, nil for undefined.
    let msgpack_js = hex(
        "84 a4 74797065 0c a4 64617461 82 a9 726571756573744964 a1 72
         a6 7061636b6574 93 d6 ff 00000001 c4 01 01 c0 a3 756964 a1 75 a3 6e7370 a1 2f",
    );
    // The same from notepack.io (the sharded adapter): Date as fixext8 type 0, undefined as
    // `d4 00 00` (an array item: null once in JSON).
    let notepack = hex(
        "84 a4 74797065 0c a4 64617461 82 a9 726571756573744964 a1 72
         a6 7061636b6574 93 d7 00 00000000000003e8 c4 01 01 d4 00 00 a3 756964 a1 75 a3 6e7370 a1 2f",
    );
    let want = ClusterMessage {
        uid: "u".into(),
        nsp: "/".into(),
        body: Body::BroadcastAck {
            request_id: "r".into(),
            packet: value(
                &format!(r#"["1970-01-01T00:00:01.000Z",{P0},null]"#),
                &[&[1]],
            ),
        },
    };
    for (name, bytes) in [("@msgpack/msgpack", msgpack_js), ("notepack", notepack)] {
        assert_eq!(ClusterMessage::decode(&bytes), Ok(want.clone()), "{name}");
    }
}

/// (name, input to [`ClusterMessage::decode`], expected error).
#[test]
fn malformed_whole_messages_are_refused() {
    let cases: Vec<(&str, Vec<u8>, MessageError)> = vec![
        ("empty", vec![], MessageError::Wire(WireError::Msgpack(MsgpackError::Truncated))),
        ("not json", b"{nope".to_vec(), MessageError::Wire(WireError::Json(JsonError::Invalid))),
        ("array", b"\x90".to_vec(), MessageError::BadField("message")),
        ("no uid", br#"{"type":2,"nsp":"/"}"#.to_vec(), MessageError::MissingField("uid")),
        ("no nsp", br#"{"type":2,"uid":"u"}"#.to_vec(), MessageError::MissingField("nsp")),
        ("no type", br#"{"uid":"u","nsp":"/"}"#.to_vec(), MessageError::MissingField("type")),
        ("type text", br#"{"type":"2","uid":"u","nsp":"/"}"#.to_vec(), MessageError::BadField("type")),
        ("type 0", br#"{"type":0,"uid":"u","nsp":"/"}"#.to_vec(), MessageError::UnknownType(0)),
        ("type 14", br#"{"type":14,"uid":"u","nsp":"/"}"#.to_vec(), MessageError::UnknownType(14)),
        ("no data", br#"{"type":3,"uid":"u","nsp":"/"}"#.to_vec(), MessageError::MissingField("data")),
        ("data array", br#"{"type":4,"data":[],"uid":"u","nsp":"/"}"#.to_vec(), MessageError::BadField("data")),
        ("no opts", br#"{"type":4,"data":{"rooms":[]},"uid":"u","nsp":"/"}"#.to_vec(), MessageError::MissingField("opts")),
        ("room number", br#"{"type":4,"data":{"opts":{"rooms":[1]},"rooms":[]},"uid":"u","nsp":"/"}"#.to_vec(), MessageError::BadField("rooms")),
        ("no packet", br#"{"type":3,"data":{"opts":{}},"uid":"u","nsp":"/"}"#.to_vec(), MessageError::MissingField("packet")),
        ("packet data", br#"{"type":3,"data":{"packet":{"type":2,"data":{},"nsp":"/"},"opts":{}},"uid":"u","nsp":"/"}"#.to_vec(), MessageError::BadField("packet.data")),
        ("null requestId", br#"{"type":7,"data":{"opts":{},"requestId":null},"uid":"u","nsp":"/"}"#.to_vec(), MessageError::BadField("requestId")),
        ("negative count", br#"{"type":11,"data":{"requestId":"r","clientCount":-1},"uid":"u","nsp":"/"}"#.to_vec(), MessageError::BadField("clientCount")),
        ("close text", br#"{"type":6,"data":{"opts":{},"close":"yes"},"uid":"u","nsp":"/"}"#.to_vec(), MessageError::BadField("close")),
        // {type: 4, data: {opts: {rooms: [Buffer]}, ...}}: binary where a join cannot carry it.
        ("binary join", hex("84 a4 74797065 04 a4 64617461 81 a4 6f707473 81 a5 726f6f6d73 91 c4 00 a3 756964 a1 75 a3 6e7370 a1 2f"), MessageError::BadField("data")),
        ("trailing", {
            let mut b = msg(Body::Heartbeat).encode_msgpack().unwrap();
            b.push(0);
            b
        }, MessageError::Wire(WireError::Msgpack(MsgpackError::TrailingBytes))),
    ];
    for (name, input, want) in cases {
        assert_eq!(ClusterMessage::decode(&input), Err(want), "{name}");
    }
}

#[test]
fn malformed_stream_entries_are_refused() {
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        MessageError,
    );
    let cases: Vec<Case> = vec![
        (
            "no uid",
            vec![("nsp", "/"), ("type", "2")],
            MessageError::MissingField("uid"),
        ),
        (
            "no nsp",
            vec![("uid", "u"), ("type", "2")],
            MessageError::MissingField("nsp"),
        ),
        (
            "empty nsp",
            vec![("uid", "u"), ("nsp", ""), ("type", "2")],
            MessageError::MissingField("nsp"),
        ),
        (
            "no type",
            vec![("uid", "u"), ("nsp", "/")],
            MessageError::MissingField("type"),
        ),
        (
            "type 3abc",
            vec![("uid", "u"), ("nsp", "/"), ("type", "3abc")],
            MessageError::BadField("type"),
        ),
        (
            "type -1",
            vec![("uid", "u"), ("nsp", "/"), ("type", "-1")],
            MessageError::BadField("type"),
        ),
        (
            "type huge",
            vec![("uid", "u"), ("nsp", "/"), ("type", "99999999999999999999")],
            MessageError::BadField("type"),
        ),
        (
            "type 99",
            vec![("uid", "u"), ("nsp", "/"), ("type", "99")],
            MessageError::UnknownType(99),
        ),
        (
            "bad base64",
            vec![("uid", "u"), ("nsp", "/"), ("type", "3"), ("data", "!!")],
            MessageError::BadBase64,
        ),
        (
            "bad json",
            vec![("uid", "u"), ("nsp", "/"), ("type", "3"), ("data", "{")],
            MessageError::Wire(WireError::Json(JsonError::Invalid)),
        ),
        (
            "empty data",
            vec![("uid", "u"), ("nsp", "/"), ("type", "3"), ("data", "")],
            MessageError::MissingField("data"),
        ),
        // base64 of a msgpack `1`: not an object.
        (
            "data not a map",
            vec![("uid", "u"), ("nsp", "/"), ("type", "3"), ("data", "AQ==")],
            MessageError::BadField("data"),
        ),
    ];
    for (name, fields, want) in cases {
        let fields: Vec<(&[u8], &[u8])> = fields
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        assert_eq!(ClusterMessage::decode_entry(&fields), Err(want), "{name}");
    }
}

#[test]
fn entry_fields_later_duplicates_win_and_unknown_fields_are_ignored() {
    let fields: Vec<(&[u8], &[u8])> = vec![
        (b"type", b"1"),
        (b"uid", b"old"),
        (b"extra", b"x"),
        (b"nsp", b"/chat"),
        (b"uid", b"new"),
        (b"type", b"2"),
    ];
    let m = ClusterMessage::decode_entry(&fields).unwrap();
    assert_eq!(
        (m.uid.as_str(), m.nsp.as_str(), m.kind()),
        ("new", "/chat", MessageType::Heartbeat)
    );
}

#[test]
fn close_null_reads_as_undefined() {
    // @msgpack/msgpack: {type: 6, data: {opts: {}, close: undefined → nil}, uid: "u", nsp: "/"}.
    let bytes = hex(
        "84 a4 74797065 06 a4 64617461 82 a4 6f707473 80 a5 636c6f7365 c0 a3 756964 a1 75 a3 6e7370 a1 2f",
    );
    let m = ClusterMessage::decode(&bytes).unwrap();
    assert!(
        matches!(m.body, Body::DisconnectSockets { close: None, .. }),
        "{m:?}"
    );
}

#[test]
fn message_type_codes_and_binary_types() {
    for code in 1..=13u64 {
        let kind = MessageType::from_code(code).unwrap();
        assert_eq!(kind as u64, code);
    }
    assert_eq!(MessageType::from_code(0), None);
    assert_eq!(MessageType::from_code(14), None);
    assert_eq!(MessageType::from_code(u64::MAX), None);
    let binary: Vec<u64> = (1..=13)
        .filter(|&c| MessageType::from_code(c).unwrap().may_contain_binary())
        .collect();
    assert_eq!(binary, vec![3, 8, 9, 10, 12]);
}

#[test]
fn ephemeral_messages_are_the_ones_the_adapter_publishes() {
    let ephemeral: Vec<&str> = samples()
        .into_iter()
        .filter(|(_, m, _)| m.is_ephemeral())
        .map(|(name, _, _)| name)
        .collect();
    assert_eq!(
        ephemeral,
        vec![
            "broadcast_with_ack",
            "fetch_sockets",
            "server_side_emit",
            "server_side_emit_with_ack"
        ]
    );
}

// ---- BroadcastOp ----

fn op(text: &str, attachments: &[&[u8]], rooms: &[&str], except: &[&str]) -> BroadcastOp {
    let mut frames = vec![OutFrame::new(OpCode::Text, text.as_bytes())];
    frames.extend(attachments.iter().map(|a| OutFrame::new(OpCode::Binary, a)));
    BroadcastOp {
        nsp: Room::from("/"),
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: except.iter().map(|s| Sid::parse(s).unwrap()).collect(),
        except_rooms: Vec::new(),
        frames,
    }
}

use ringcast_codec::ws::OutFrame;

fn text(op: &BroadcastOp) -> String {
    String::from_utf8(op.frames[0].payload().to_vec()).unwrap()
}

const SID: &str = "AAAAAAAAAAAAAAAAAAAA";

#[test]
fn broadcast_op_maps_to_the_packet_and_back() {
    type Case = (
        &'static str,
        &'static str,
        &'static [&'static [u8]],
        &'static str,
    );
    // (name, frame text, attachments, packet.data as JSON)
    let cases: &[Case] = &[
        (
            "text",
            r#"42["chat",{"a":1},"x"]"#,
            &[],
            r#"["chat",{"a":1},"x"]"#,
        ),
        ("no args", r#"42["ping"]"#, &[], r#"["ping"]"#),
        (
            "binary",
            r#"451-["file",{"_placeholder":true,"num":0}]"#,
            &[&[7, 8]],
            r#"["file",{"_placeholder":true,"num":0}]"#,
        ),
    ];
    let sid = Sid::parse(SID).unwrap();
    for (name, frame, atts, data) in cases {
        let original = op(frame, atts, &["r1"], &[SID]);
        let b = Broadcast::from_op(&original, &[Room::from("muted")]).unwrap();
        assert_eq!(Json::Array(b.packet.data.clone()), json(data), "{name}");
        assert_eq!(b.packet.attachments.len(), atts.len(), "{name}");
        assert_eq!(
            b.opts.except,
            vec![SID.to_string(), "muted".to_string()],
            "{name}"
        );
        assert_eq!(b.opts.rooms, vec!["r1".to_string()], "{name}");
        assert!(b.keeps_offset(), "{name}");
        let inbound = b.to_inbound(None).unwrap();
        assert_eq!(text(&inbound.op), *frame, "{name}");
        assert_eq!(inbound.op.frames.len(), 1 + atts.len(), "{name}");
        assert_eq!(inbound.op.except, vec![sid], "{name}");
        assert_eq!(inbound.except_rooms, vec![Room::from("muted")], "{name}");
        assert_eq!(inbound.op.rooms, vec![Room::from("r1")], "{name}");
    }
}

#[test]
fn the_offset_is_appended_as_the_last_argument_in_the_one_encoded_frame() {
    let id = StreamId::parse("1700000000000-3").unwrap();
    let cases: &[(&str, &[&[u8]], &str)] = &[
        (
            r#"42["chat","hi"]"#,
            &[],
            r#"42["chat","hi","1700000000000-3"]"#,
        ),
        (r#"42["ping"]"#, &[], r#"42["ping","1700000000000-3"]"#),
        (
            r#"451-["file",{"_placeholder":true,"num":0}]"#,
            &[&[1]],
            r#"451-["file",{"_placeholder":true,"num":0},"1700000000000-3"]"#,
        ),
    ];
    for (frame, atts, want) in cases {
        let b = Broadcast::from_op(&op(frame, atts, &[], &[]), &[]).unwrap();
        let inbound = b.to_inbound(Some(id)).unwrap();
        assert_eq!(text(&inbound.op), *want);
    }
}

#[test]
fn keeps_offset_follows_add_offset_if_necessary() {
    let base = || Broadcast {
        packet: event(r#"["e"]"#, &[]),
        opts: opts(&[], &[], "{}"),
        request_id: None,
    };
    let cases: Vec<(&str, Broadcast, bool)> = vec![
        ("plain event", base(), true),
        (
            "flags absent",
            Broadcast {
                opts: Opts {
                    flags: None,
                    ..base().opts
                },
                ..base()
            },
            true,
        ),
        (
            "volatile",
            Broadcast {
                opts: opts(&[], &[], r#"{"volatile":true}"#),
                ..base()
            },
            false,
        ),
        (
            "volatile false still set",
            Broadcast {
                opts: opts(&[], &[], r#"{"volatile":false}"#),
                ..base()
            },
            false,
        ),
        (
            "with ack id",
            Broadcast {
                packet: EventPacket {
                    id: Some(4),
                    ..base().packet
                },
                ..base()
            },
            false,
        ),
        (
            "binary event type",
            Broadcast {
                packet: EventPacket {
                    kind: 5,
                    ..base().packet
                },
                ..base()
            },
            false,
        ),
        (
            "awaiting acks",
            Broadcast {
                request_id: Some("r".into()),
                ..base()
            },
            false,
        ),
    ];
    for (name, b, want) in cases {
        assert_eq!(b.keeps_offset(), want, "{name}");
    }
}

#[test]
fn packets_that_are_not_events_do_not_become_frames() {
    let base = || Broadcast {
        packet: event(r#"["e"]"#, &[]),
        opts: Opts::default(),
        request_id: None,
    };
    let not_event = MessageError::Wire(WireError::NotAnEvent);
    let cases: Vec<(&str, Broadcast, MessageError)> = vec![
        (
            "ack type",
            Broadcast {
                packet: EventPacket {
                    kind: 3,
                    ..base().packet
                },
                ..base()
            },
            not_event,
        ),
        (
            "empty data",
            Broadcast {
                packet: EventPacket {
                    data: vec![],
                    ..base().packet
                },
                ..base()
            },
            not_event,
        ),
        (
            "numeric name",
            Broadcast {
                packet: EventPacket {
                    data: vec![Json::UInt(1)],
                    ..base().packet
                },
                ..base()
            },
            not_event,
        ),
        (
            "placeholder without bytes",
            Broadcast {
                packet: event(&format!(r#"["e",{P0}]"#), &[]),
                ..base()
            },
            MessageError::Wire(WireError::Codec(SioError::AttachmentMismatch)),
        ),
    ];
    for (name, b, want) in cases {
        assert_eq!(b.to_inbound(None).map(|_| ()), Err(want), "{name}");
    }
}

// ---- session records and the replay filter ----

#[test]
fn session_records_round_trip_and_match_the_js_bytes() {
    let record = SessionRecord {
        sid: "s1".into(),
        pid: "p1".into(),
        rooms: vec!["s1".into(), "room".into()],
        data: json(r#"{"user":{"id":7,"name":"é"},"tags":["a"],"score":1.5,"gone":null}"#),
    };
    let text = record.encode().unwrap();
    assert_eq!(SessionRecord::decode(text.as_bytes()), Ok(record.clone()));
    // @msgpack/msgpack.encode({sid: "s1", pid: "p1", rooms: ["s1"], data: {}}), base64.
    let small = SessionRecord {
        sid: "s1".into(),
        pid: "p1".into(),
        rooms: vec!["s1".into()],
        data: json("{}"),
    };
    let bytes =
        hex("84 a3 736964 a2 7331 a3 706964 a2 7031 a5 726f6f6d73 91 a2 7331 a4 64617461 80");
    assert_eq!(small.encode().unwrap(), BASE64.encode(&bytes));
    assert_eq!(session_key("sio:session:", "p1"), "sio:session:p1");
}

#[test]
fn malformed_session_records_are_refused() {
    let b64 = |h: &str| BASE64.encode(hex(h));
    let cases: Vec<(&str, String, MessageError)> = vec![
        ("not base64", "%%".into(), MessageError::BadBase64),
        ("not a map", b64("90"), MessageError::BadField("session")),
        (
            "no pid",
            b64("81 a3 736964 a1 73"),
            MessageError::MissingField("pid"),
        ),
        (
            "binary data",
            b64("83 a3 736964 a1 73 a3 706964 a1 70 a4 64617461 c4 01 00"),
            MessageError::BadField("data"),
        ),
        (
            "truncated",
            b64("84 a3 7369"),
            MessageError::Wire(WireError::Msgpack(MsgpackError::Truncated)),
        ),
    ];
    for (name, text, want) in cases {
        assert_eq!(SessionRecord::decode(text.as_bytes()), Err(want), "{name}");
    }
    // No `data` (socket.data undefined and dropped) reads as null.
    let record = SessionRecord::decode(
        b64("83 a3 736964 a1 73 a3 706964 a1 70 a5 726f6f6d73 90").as_bytes(),
    );
    assert_eq!(record.map(|r| r.data), Ok(Json::Null));
}

#[test]
fn should_include_packet_matches_the_adapter() {
    let session = ["sid1", "a", "b"];
    // (name, rooms, except, included)
    let cases: &[(&str, &[&str], &[&str], bool)] = &[
        ("to everyone", &[], &[], true),
        ("to one of its rooms", &["b"], &[], true),
        ("to its own id", &["sid1"], &[], true),
        ("to other rooms only", &["c", "d"], &[], false),
        ("everyone except one of its rooms", &[], &["a"], false),
        ("everyone except itself", &[], &["sid1"], false),
        ("its room except another room", &["a"], &["c"], true),
        ("its room except its other room", &["a"], &["b"], false),
        ("other room except other room", &["c"], &["d"], false),
    ];
    for (name, rooms, except, want) in cases {
        let o = opts(rooms, except, "{}");
        assert_eq!(should_include_packet(&session, &o), *want, "{name}");
    }
    // A session in no room at all only gets broadcasts to everyone.
    let none: [&str; 0] = [];
    assert!(should_include_packet(&none, &opts(&[], &["x"], "{}")));
    assert!(!should_include_packet(&none, &opts(&["x"], &[], "{}")));
}

#[test]
fn entry_broadcast_without_packet_nsp_takes_the_entry_nsp() {
    // socket.io 4.8's `ClusterAdapter.broadcast` XADDs the packet before the in-memory adapter
    // sets `packet.nsp` (the sharded bridge found the same in its PUBLISH form).
    let data = br#"{"packet":{"type":2,"data":["task:updated",{"id":"9"}]},"opts":{"rooms":["task:9"],"except":[],"flags":{}}}"#;
    let fields: Vec<(&[u8], &[u8])> = vec![
        (b"uid", b"node1"),
        (b"nsp", b"/chat"),
        (b"type", b"3"),
        (b"data", data),
    ];
    let m = ClusterMessage::decode_entry(&fields).unwrap();
    let Body::Broadcast(b) = m.body else {
        panic!("not a broadcast: {:?}", m.body);
    };
    assert_eq!(b.packet.nsp, "/chat");
}
