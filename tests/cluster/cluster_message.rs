//! The `ClusterAdapter` wire format (src/cluster/cluster_message) against the real Node
//! adapters: @socket.io/redis-streams-adapter 0.3.1 and @socket.io/redis-adapter 8.3.0's sharded
//! adapter, run on recording fake clients by tests/clients/js-redis/cluster-messages.js (no
//! Redis needed). ringcast decodes every form the adapters wrote, re-encodes it byte for byte,
//! and the adapters' own receiving paths decode ringcast's encodings back to the same
//! messages; `restoreSession` replays a stream ringcast wrote, as ringcast filters it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ringcast::cluster::cluster_message::{
    Body, ClusterMessage, SessionRecord, should_include_packet,
};
use ringcast::cluster::json::Json;
use ringcast::cluster::stream_id::StreamId;
use ringcast::engine::BroadcastOp;
use ringcast_test_support::{Proc, redis_js};
use serde_json::{Value, json};

const UID: &str = "a1b2c3d4e5f60718";

/// (sample name, type code, is a response, Rust re-encodes it byte for byte). The one sample
/// not byte-exact holds a `Date`: ringcast keeps its ISO text, as JSON carries it.
const SAMPLES: &[(&str, u8, bool, bool)] = &[
    ("initial_heartbeat", 1, false, true),
    ("heartbeat", 2, false, true),
    ("broadcast", 3, false, true),
    ("broadcast_with_ack", 3, false, true),
    ("broadcast_binary", 3, false, true),
    ("sockets_join", 4, false, true),
    ("sockets_leave", 5, false, true),
    ("disconnect_sockets", 6, false, true),
    ("fetch_sockets", 7, false, true),
    ("server_side_emit", 9, false, true),
    ("server_side_emit_with_ack", 9, false, true),
    ("adapter_close", 13, false, true),
    ("fetch_sockets_response", 8, true, true),
    ("server_side_emit_response", 10, true, true),
    ("broadcast_client_count", 11, true, true),
    ("broadcast_ack", 12, true, true),
    ("broadcast_ack_binary", 12, true, true),
    ("server_side_emit_response_date", 10, true, false),
];

fn bytes(v: &Value) -> Vec<u8> {
    BASE64
        .decode(v.as_str().expect("base64 text"))
        .expect("base64")
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("field pairs")
        .iter()
        .map(|p| {
            let s = |i: usize| p[i].as_str().expect("a field string").to_owned();
            (s(0), s(1))
        })
        .collect()
}

fn decode_entry(fields: &[(String, String)]) -> ClusterMessage {
    let raw: Vec<(&[u8], &[u8])> = fields
        .iter()
        .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
        .collect();
    ClusterMessage::decode_entry(&raw).unwrap_or_else(|e| panic!("{fields:?}: {e:?}"))
}

fn entry_json(m: &ClusterMessage) -> Value {
    let fields = m.encode_entry().expect("encodes");
    Value::Array(fields.iter().map(|(k, v)| json!([k, v])).collect())
}

/// The EVENT's `[name, ...args]` from the text frame `42[...]` / `45<n>-[...]`.
fn frame_array(op: &BroadcastOp) -> Value {
    let payload = op.frames[0].payload();
    let text = std::str::from_utf8(&payload).expect("UTF-8 frame");
    let start = text.find('[').expect("an event array");
    serde_json::from_str(&text[start..]).expect("JSON arguments")
}

fn broadcast(m: &ClusterMessage) -> &ringcast::cluster::cluster_message::Broadcast {
    match &m.body {
        Body::Broadcast(b) => b,
        other => panic!("not a broadcast: {other:?}"),
    }
}

#[test]
fn ringcast_reads_and_writes_what_the_node_adapters_do() {
    let mut node = Proc::node(&redis_js(), "cluster-messages.js", &[]);
    let out = node.expect("the adapters' encodings", |v| v.get("samples").is_some());
    let samples = out["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), SAMPLES.len());
    let mut encoded = Vec::new();
    for (s, &(name, code, response, exact)) in samples.iter().zip(SAMPLES) {
        assert_eq!(s["name"], name);
        let entry = pairs(&s["entry"]);
        let m = decode_entry(&entry);
        let msgpack = bytes(&s["msgpack"]);
        let sharded = bytes(&s["sharded"]);
        assert_eq!(
            ClusterMessage::decode(&msgpack).as_ref(),
            Ok(&m),
            "{name}: msgpack"
        );
        assert_eq!(
            ClusterMessage::decode(&sharded).as_ref(),
            Ok(&m),
            "{name}: sharded"
        );
        assert_eq!(
            (m.kind() as u8, m.uid.as_str(), m.nsp.as_str()),
            (code, UID, "/"),
            "{name}"
        );
        if !response {
            // The streams adapter's own choice: XADD, or PUBLISH for the ephemeral ones.
            assert_eq!(
                s["via"] == "publish",
                m.is_ephemeral(),
                "{name}: {}",
                s["via"]
            );
        }
        if exact {
            let own: Vec<(String, String)> = m
                .encode_entry()
                .expect("encodes")
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            assert_eq!(own, entry, "{name}: entry");
            assert_eq!(m.encode_msgpack().as_ref(), Ok(&msgpack), "{name}: msgpack");
            assert_eq!(m.encode_sharded().as_ref(), Ok(&sharded), "{name}: sharded");
        }
        encoded.push(json!({
            "name": name,
            "entry": entry_json(&m),
            "msgpack": BASE64.encode(m.encode_msgpack().expect("encodes")),
            "sharded": BASE64.encode(m.encode_sharded().expect("encodes")),
        }));
        check_values(name, &m);
    }

    // persistSession's record: decoded, and re-encoded to the same text.
    let text = out["session"].as_str().expect("a session record");
    let record = SessionRecord::decode(text.as_bytes()).expect("the adapter's record decodes");
    assert_eq!((record.sid.as_str(), record.pid.as_str()), ("s1", "p1"));
    assert_eq!(record.rooms, ["s1", "room"]);
    let data = r#"{"user":{"id":7,"name":"é"},"tags":["a"]}"#;
    assert_eq!(Ok(record.data.clone()), Json::parse(data.as_bytes()));
    assert_eq!(record.encode().as_deref(), Ok(text));

    let (replay, missed) = replay_stream(&record);
    node.send(&json!({
        "encoded": encoded,
        "session": record.encode().expect("encodes"),
        "replay": replay,
        "offset": "1700000000000-0",
    }));
    let back = node.expect("the adapters' decodings", |v| v.get("results").is_some());
    for r in back["results"].as_array().expect("results") {
        let ok = r["entry"] == true && r["msgpack"] == true && r["sharded"] == true;
        assert!(
            ok,
            "{}: the adapters read ringcast's encodings as {}",
            r["name"], r["got"]
        );
    }
    let restored = &back["restored"];
    assert_eq!(
        (&restored["sid"], &restored["pid"], &restored["rooms"]),
        (&json!("s1"), &json!("p1"), &json!(["s1", "room"]))
    );
    assert_eq!(
        restored["data"],
        serde_json::from_str::<Value>(data).expect("JSON")
    );
    assert_eq!(restored["missedPackets"], Value::Array(missed));
    node.wait_success();
}

/// What the decoded samples must hold beyond their bytes.
fn check_values(name: &str, m: &ClusterMessage) {
    let id = StreamId::parse("1700000000000-7").expect("an id");
    match name {
        "broadcast" => {
            let b = broadcast(m);
            assert!(b.keeps_offset());
            let inbound = b.to_inbound(Some(id)).expect("an event");
            assert_eq!(
                frame_array(&inbound.op),
                json!(["chat", {"text": "hé \"x\""}, 1.5, null, "1700000000000-7"])
            );
            assert_eq!(inbound.op.rooms, [ringcast::Room::from("r1")]);
            // `sid1` is not a ringcast socket id: it stays an excepted room.
            assert_eq!(inbound.except_rooms, [ringcast::Room::from("sid1")]);
        }
        "broadcast_binary" => {
            let b = broadcast(m);
            assert!(!b.keeps_offset(), "volatile broadcasts are not stored");
            let inbound = b.to_inbound(None).expect("an event");
            let text = inbound.op.frames[0].payload();
            assert_eq!(
                std::str::from_utf8(&text).expect("UTF-8"),
                r#"451-["file",{"_placeholder":true,"num":0},{"n":-70000}]"#
            );
            assert_eq!(&inbound.op.frames[1].payload()[..], &[1, 2, 3]);
        }
        "server_side_emit_response_date" => match &m.body {
            Body::ServerSideEmitResponse { packet, .. } => assert_eq!(
                Ok(packet.json.clone()),
                Json::parse(br#"{"at":"1970-01-01T00:00:01.000Z"}"#)
            ),
            other => panic!("{other:?}"),
        },
        _ => {}
    }
}

/// A stream ringcast writes for `restoreSession` from offset `1700000000000-0`, and the
/// packets ringcast's own filter says the session missed (`[event, ...args, offset]`).
fn replay_stream(record: &SessionRecord) -> (Vec<Value>, Vec<Value>) {
    let event = |nsp: &str, name: &str, rooms: &[&str], except: &[&str]| {
        ClusterMessage::decode(
            &json!({
                "type": 3,
                "data": {
                    "packet": {"type": 2, "data": [name, 1], "nsp": nsp},
                    "opts": {"rooms": rooms, "except": except, "flags": {}},
                },
                "uid": UID,
                "nsp": nsp,
            })
            .to_string()
            .into_bytes(),
        )
        .expect("a broadcast")
    };
    let join = ClusterMessage::decode(
        format!(r#"{{"type":4,"data":{{"opts":{{"rooms":[],"except":[]}},"rooms":["x"]}},"uid":"{UID}","nsp":"/"}}"#)
            .as_bytes(),
    )
    .expect("a join");
    let stream = [
        ("1700000000000-0", event("/", "seen", &[], &[])),
        ("1700000000000-1", event("/", "to-room", &["room"], &[])),
        ("1700000000000-2", event("/", "to-other", &["other"], &[])),
        ("1700000000001-0", event("/", "except-me", &[], &["s1"])),
        ("1700000000001-1", join),
        ("1700000000001-2", event("/admin", "other-nsp", &[], &[])),
        ("1700000000002-0", event("/", "to-all", &[], &["other"])),
    ];
    let offset = StreamId::parse("1700000000000-0").expect("an id");
    let mut missed = Vec::new();
    for (id, m) in &stream {
        let id = StreamId::parse(id).expect("an id");
        if id <= offset || m.nsp != "/" {
            continue;
        }
        if let Body::Broadcast(b) = &m.body
            && should_include_packet(&record.rooms, &b.opts)
        {
            missed.push(frame_array(&b.to_inbound(Some(id)).expect("an event").op));
        }
    }
    assert_eq!(missed.len(), 2, "{missed:?}");
    let replay = stream
        .iter()
        .map(|(id, m)| json!([id, entry_json(m)]))
        .collect();
    (replay, missed)
}
