//! Property tests: Engine.IO packet and payload round trips, Socket.IO packet round trips
//! through every writer, and "never panics" on arbitrary input.
#![allow(clippy::unwrap_used)]

use std::borrow::Cow;

use proptest::prelude::*;
use ringcast_codec::eio::{self, EioError, Packet};
use ringcast_codec::sio::{self, DecodeLimits, PacketType};

/// Engine.IO packets as a client or server may send them. Text never holds 0x1e (it could
/// not survive a polling payload either).
fn eio_packet() -> impl Strategy<Value = Packet<'static>> {
    let text = || "[^\u{1e}]{0,40}".prop_map(|s| &*Box::leak(s.into_boxed_str()));
    prop_oneof![
        text().prop_map(Packet::Open),
        Just(Packet::Close),
        text().prop_map(Packet::Ping),
        text().prop_map(Packet::Pong),
        text().prop_map(Packet::Message),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| Packet::Binary(Cow::Owned(b))),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn encode(packet: &Packet<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    eio::encode_text(&mut out, packet);
    out
}

/// JSON texts of each shape the Socket.IO decoder distinguishes.
fn json_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
    ]
}

fn json_value() -> impl Strategy<Value = String> {
    json_scalar().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((any::<String>(), inner), 0..4).prop_map(|kv| {
                let fields: Vec<_> = kv
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

fn json_object() -> impl Strategy<Value = String> {
    prop::collection::vec((any::<String>(), json_value()), 0..4).prop_map(|kv| {
        let fields: Vec<_> = kv
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
            .collect();
        format!("{{{}}}", fields.join(","))
    })
}

/// Comma-separated argument JSON (what `Event::args` and `write_event` use).
fn args() -> impl Strategy<Value = String> {
    prop::collection::vec(json_value(), 0..4).prop_map(|v| v.join(","))
}

/// Namespaces as clients use them: `/` or `/` + characters other than `,`.
fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[^,]{0,12}"]
}

/// A valid Socket.IO packet: (kind, nsp, id, attachments, data).
fn sio_parts() -> impl Strategy<Value = (PacketType, String, Option<u64>, usize, Option<String>)> {
    let kind = prop_oneof![
        Just(PacketType::Connect),
        Just(PacketType::Disconnect),
        Just(PacketType::Event),
        Just(PacketType::Ack),
        Just(PacketType::ConnectError),
        Just(PacketType::BinaryEvent),
        Just(PacketType::BinaryAck),
    ];
    (
        kind,
        nsp(),
        any::<Option<u64>>(),
        0..=10usize,
        any::<String>(),
        args(),
        json_object(),
        any::<bool>(),
    )
        .prop_map(|(kind, nsp, id, attachments, name, args, object, flag)| {
            let event = format!(
                "[{}{}{args}]",
                serde_json::to_string(&name).unwrap(),
                if args.is_empty() { "" } else { "," }
            );
            let (id, data) = match kind {
                PacketType::Connect => (None, flag.then_some(object)),
                PacketType::Disconnect => (None, None),
                PacketType::Event | PacketType::BinaryEvent => (id, Some(event)),
                PacketType::Ack | PacketType::BinaryAck => {
                    (Some(id.unwrap_or(0)), Some(format!("[{args}]")))
                }
                PacketType::ConnectError => (
                    None,
                    Some(if flag {
                        object
                    } else {
                        serde_json::to_string(&name).unwrap()
                    }),
                ),
            };
            let attachments = if kind.is_binary() { attachments } else { 0 };
            (kind, nsp, id, attachments, data)
        })
}

const LIMITS: DecodeLimits = DecodeLimits {
    max_depth: 32,
    max_attachments: 10,
};

proptest! {
    #[test]
    fn eio_packet_round_trip(packet in eio_packet()) {
        let wire = encode(&packet);
        let text = std::str::from_utf8(&wire).unwrap();
        prop_assert_eq!(eio::decode_text(text), Ok(packet));
    }

    #[test]
    fn eio_payload_round_trip(packets in prop::collection::vec(eio_packet(), 1..12)) {
        let records: Vec<Vec<u8>> = packets.iter().map(encode).collect();
        let body = records.join(&eio::SEPARATOR);
        let decoded: Vec<_> = eio::decode_payload(&body).collect();
        prop_assert_eq!(decoded, packets.into_iter().map(Ok).collect::<Vec<_>>());
    }

    /// Concatenating two payloads with a separator decodes to the concatenation of their
    /// packets: records are independent of their neighbours.
    #[test]
    fn eio_payload_concatenation(a in prop::collection::vec(eio_packet(), 1..6), b in prop::collection::vec(eio_packet(), 1..6)) {
        let join = |ps: &[Packet<'_>]| ps.iter().map(encode).collect::<Vec<_>>().join(&eio::SEPARATOR);
        let mut body = join(&a);
        body.push(eio::SEPARATOR);
        body.extend_from_slice(&join(&b));
        let decoded: Result<Vec<_>, EioError> = eio::decode_payload(&body).collect();
        prop_assert_eq!(decoded.unwrap(), [a, b].concat());
    }

    #[test]
    fn eio_arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), text in any::<String>()) {
        let items: Vec<_> = eio::decode_payload(&bytes).collect();
        // The iterator stops right after the first error.
        if let Some(pos) = items.iter().position(Result::is_err) {
            prop_assert_eq!(pos, items.len() - 1);
        }
        let _ = eio::decode_text(&text);
    }

    #[test]
    fn sio_packet_round_trip((kind, nsp, id, attachments, data) in sio_parts()) {
        let packet = sio::Packet { kind, nsp: &nsp, id, attachments, data: data.as_deref() };
        let mut wire = Vec::new();
        sio::write_packet(&mut wire, &packet);
        prop_assert_eq!(wire[0], b'4');
        let text = std::str::from_utf8(&wire[1..]).unwrap();
        prop_assert_eq!(sio::Packet::decode(text, &LIMITS), Ok(packet));
    }

    #[test]
    fn sio_event_round_trip(nsp in nsp(), id in any::<Option<u64>>(), attachments in 0..=10usize, name in any::<String>(), args in args()) {
        let mut wire = Vec::new();
        sio::write_event(&mut wire, &nsp, id, attachments, &name, &args);
        let packet = sio::Packet::decode(std::str::from_utf8(&wire[1..]).unwrap(), &LIMITS).unwrap();
        prop_assert_eq!(packet.kind, if attachments > 0 { PacketType::BinaryEvent } else { PacketType::Event });
        prop_assert_eq!((packet.nsp, packet.id, packet.attachments), (nsp.as_str(), id, attachments));
        let event = packet.event().unwrap();
        prop_assert_eq!(&*event.name, name.as_str());
        prop_assert_eq!(event.args, args.as_str());
    }

    #[test]
    fn sio_ack_round_trip(nsp in nsp(), id in any::<u64>(), attachments in 0..=10usize, args in args()) {
        let mut wire = Vec::new();
        sio::write_ack(&mut wire, &nsp, id, attachments, &args);
        let packet = sio::Packet::decode(std::str::from_utf8(&wire[1..]).unwrap(), &LIMITS).unwrap();
        prop_assert_eq!(packet.kind, if attachments > 0 { PacketType::BinaryAck } else { PacketType::Ack });
        prop_assert_eq!((packet.nsp, packet.id, packet.attachments), (nsp.as_str(), Some(id), attachments));
        let data = format!("[{args}]");
        prop_assert_eq!(packet.data, Some(data.as_str()));
    }

    #[test]
    fn sio_connect_family_round_trip(nsp in nsp(), text in any::<String>()) {
        let decode = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut wire = Vec::new();
            f(&mut wire);
            String::from_utf8(wire).unwrap()
        };
        let connect = decode(&|o| sio::write_connect(o, &nsp, &text));
        let p = sio::Packet::decode(&connect[1..], &LIMITS).unwrap();
        prop_assert_eq!((p.kind, p.nsp), (PacketType::Connect, nsp.as_str()));
        let sid: serde_json::Value = serde_json::from_str(p.data.unwrap()).unwrap();
        prop_assert_eq!(sid["sid"].as_str(), Some(text.as_str()));

        let error = decode(&|o| sio::write_connect_error(o, &nsp, &text));
        let p = sio::Packet::decode(&error[1..], &LIMITS).unwrap();
        prop_assert_eq!((p.kind, p.nsp), (PacketType::ConnectError, nsp.as_str()));
        let message: serde_json::Value = serde_json::from_str(p.data.unwrap()).unwrap();
        prop_assert_eq!(message["message"].as_str(), Some(text.as_str()));

        let disconnect = decode(&|o| sio::write_disconnect(o, &nsp));
        prop_assert_eq!(sio::Packet::decode(&disconnect[1..], &LIMITS), Ok(sio::Packet { kind: PacketType::Disconnect, nsp: &nsp, id: None, attachments: 0, data: None }));
    }

    /// Placeholders written for n attachments check out for exactly n.
    #[test]
    fn placeholders_round_trip(n in 0..=10usize, extra in args()) {
        let placeholders: Vec<_> = (0..n).rev().map(|i| format!(r#"{{"_placeholder":true,"num":{i}}}"#)).collect();
        let mut items = placeholders;
        if !extra.is_empty() {
            items.push(extra);
        }
        let json = if items.is_empty() { r#"["ev"]"#.to_owned() } else { format!("[\"ev\",{}]", items.join(",")) };
        prop_assert_eq!(sio::check_placeholders(&json, n), Ok(()));
        prop_assert!(sio::check_placeholders(&json, n + 1).is_err());
    }

    #[test]
    fn sio_arbitrary_input_never_panics(text in any::<String>(), soup in r#"[0-6][0-9\-/a,]{0,6}[\[\]{}",:0-9a\\]{0,20}"#, n in 0..20usize) {
        for input in [text.as_str(), soup.as_str()] {
            if let Ok(packet) = sio::Packet::decode(input, &LIMITS) {
                let _ = packet.event();
                if let Some(data) = packet.data {
                    let _ = sio::check_placeholders(data, n);
                }
            }
            let _ = sio::check_placeholders(input, n);
            let mut buf = input.as_bytes().to_vec();
            let _ = sio::parse_json(&mut buf, 8);
        }
    }
}
