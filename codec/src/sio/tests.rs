#![allow(clippy::unwrap_used)]
use super::*;

const LIMITS: DecodeLimits = DecodeLimits {
    max_depth: 32,
    max_attachments: 10,
};

fn p<'a>(
    kind: PacketType,
    nsp: &'a str,
    id: Option<u64>,
    attachments: usize,
    data: Option<&'a str>,
) -> Packet<'a> {
    Packet {
        kind,
        nsp,
        id,
        attachments,
        data,
    }
}

use PacketType::*;

// Golden vectors: every encoding in the Socket.IO v5 protocol README ("Packet encoding"
// tables and the sample session), each decoded and re-encoded through `write_packet`.
macro_rules! golden {
    ($($name:ident: $wire:expr => $packet:expr;)*) => {$(
        #[test]
        fn $name() {
            let want: Packet<'_> = $packet;
            assert_eq!(Packet::decode($wire, &LIMITS), Ok(want));
            let mut out = Vec::new();
            write_packet(&mut out, &want);
            assert_eq!(out, format!("4{}", $wire).as_bytes());
        }
    )*};
}

golden! {
    golden_connect_main: "0" => p(Connect, "/", None, 0, None);
    golden_connect_main_sid: r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"# => p(Connect, "/", None, 0, Some(r#"{"sid":"wZX3oN0bSVIhsaknAAAI"}"#));
    golden_connect_admin: "0/admin," => p(Connect, "/admin", None, 0, None);
    golden_connect_admin_sid: r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"# => p(Connect, "/admin", None, 0, Some(r#"{"sid":"oSO0OpakMV_3jnilAAAA"}"#));
    golden_connect_error: r#"4{"message":"Not authorized"}"# => p(ConnectError, "/", None, 0, Some(r#"{"message":"Not authorized"}"#));
    golden_event: r#"2["foo"]"# => p(Event, "/", None, 0, Some(r#"["foo"]"#));
    golden_event_admin: r#"2/admin,["bar"]"# => p(Event, "/admin", None, 0, Some(r#"["bar"]"#));
    golden_binary_event: r#"51-["baz",{"_placeholder":true,"num":0}]"# => p(BinaryEvent, "/", None, 1, Some(r#"["baz",{"_placeholder":true,"num":0}]"#));
    golden_binary_event_admin: r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"# =>
        p(BinaryEvent, "/admin", None, 2, Some(r#"["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#));
    golden_event_ack: r#"212["foo"]"# => p(Event, "/", Some(12), 0, Some(r#"["foo"]"#));
    golden_ack_empty: "312[]" => p(Ack, "/", Some(12), 0, Some("[]"));
    golden_event_admin_ack: r#"2/admin,13["foo"]"# => p(Event, "/admin", Some(13), 0, Some(r#"["foo"]"#));
    golden_ack_admin: r#"3/admin,13["bar"]"# => p(Ack, "/admin", Some(13), 0, Some(r#"["bar"]"#));
    golden_binary_event_ack: r#"51-14["foo",{"_placeholder":true,"num":0}]"# => p(BinaryEvent, "/", Some(14), 1, Some(r#"["foo",{"_placeholder":true,"num":0}]"#));
    golden_ack_14: r#"314["bar"]"# => p(Ack, "/", Some(14), 0, Some(r#"["bar"]"#));
    golden_event_15: r#"215["foo"]"# => p(Event, "/", Some(15), 0, Some(r#"["foo"]"#));
    golden_binary_ack: r#"61-15["bar",{"_placeholder":true,"num":0}]"# => p(BinaryAck, "/", Some(15), 1, Some(r#"["bar",{"_placeholder":true,"num":0}]"#));
    golden_disconnect: "1" => p(Disconnect, "/", None, 0, None);
    golden_disconnect_admin: "1/admin," => p(Disconnect, "/admin", None, 0, None);
    golden_sample_hey_jude: r#"2["hey","Jude"]"# => p(Event, "/", None, 0, Some(r#"["hey","Jude"]"#));
    golden_sample_tellme: r#"2/admin,1["tellme"]"# => p(Event, "/admin", Some(1), 0, Some(r#"["tellme"]"#));
    golden_sample_binary_ack: r#"61-/admin,1[{"_placeholder":true,"num":0}]"# => p(BinaryAck, "/admin", Some(1), 1, Some(r#"[{"_placeholder":true,"num":0}]"#));
    golden_suite_connect_token: r#"0{"token":"123"}"# => p(Connect, "/", None, 0, Some(r#"{"token":"123"}"#));
    golden_suite_message: r#"2["message",1,"2",{"3":[true]}]"# => p(Event, "/", None, 0, Some(r#"["message",1,"2",{"3":[true]}]"#));
    golden_connect_error_string: r#"4"Not authorized""# => p(ConnectError, "/", None, 0, Some(r#""Not authorized""#));
}

#[test]
fn namespace_may_run_to_the_end() {
    // The protocol test suite sends `40/random` and `41/custom` without a comma.
    assert_eq!(
        Packet::decode("0/random", &LIMITS),
        Ok(p(Connect, "/random", None, 0, None))
    );
    assert_eq!(
        Packet::decode("1/custom", &LIMITS),
        Ok(p(Disconnect, "/custom", None, 0, None))
    );
}

macro_rules! errors {
    ($($name:ident: $wire:expr => $err:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(Packet::decode($wire, &LIMITS), Err($err));
        }
    )*};
}

errors! {
    err_empty: "" => SioError::Empty;
    err_type_7: "7" => SioError::UnknownType;
    err_type_letter: "abc" => SioError::UnknownType;
    err_att_no_dash: r#"51["a"]"# => SioError::BadAttachments;
    err_att_no_digits: r#"5-["a"]"# => SioError::BadAttachments;
    err_att_letters: r#"5x-["a"]"# => SioError::BadAttachments;
    err_att_over_limit: r#"511-["a"]"# => SioError::BadAttachments;
    err_att_overflow: r#"599999999999999999999999-["a"]"# => SioError::BadAttachments;
    err_att_end: "5" => SioError::BadAttachments;
    err_ack_id_overflow: r#"299999999999999999999999["a"]"# => SioError::BadAckId;
    err_ack_without_id: r#"3["a"]"# => SioError::BadAckId;
    err_binary_ack_without_id: r#"61-[{"_placeholder":true,"num":0}]"# => SioError::BadAckId;
    err_invalid_json: "2[\"a\"" => SioError::InvalidJson;
    err_invalid_json_tail: r#"2["a"]x"# => SioError::InvalidJson;
    err_suite_invalid_handshake: "abc" => SioError::UnknownType;
    err_event_object: r#"2{"a":1}"# => SioError::NotAnArray;
    err_event_string: r#"2"a""# => SioError::NotAnArray;
    err_event_empty: "2[]" => SioError::NotAnArray;
    err_event_name_object: r#"2[{"a":1}]"# => SioError::EventNameNotString;
    err_event_name_null: "2[null]" => SioError::EventNameNotString;
    err_event_name_bool: "2[true]" => SioError::EventNameNotString;
    err_event_name_array: r#"2[["a"]]"# => SioError::EventNameNotString;
    err_event_name_connect: r#"2["connect"]"# => SioError::EventNameReserved;
    err_event_name_connect_error: r#"2["connect_error",{}]"# => SioError::EventNameReserved;
    err_event_name_disconnect: r#"2["disconnect"]"# => SioError::EventNameReserved;
    err_event_name_disconnecting: r#"2["disconnecting"]"# => SioError::EventNameReserved;
    err_event_name_new_listener: r#"2["newListener"]"# => SioError::EventNameReserved;
    err_event_name_remove_listener: r#"2["removeListener"]"# => SioError::EventNameReserved;
    err_event_name_reserved_escaped: r#"2["conn\u0065ct"]"# => SioError::EventNameReserved;
    err_binary_event_name_reserved: r#"51-["disconnect",{"_placeholder":true,"num":0}]"# => SioError::EventNameReserved;
    err_binary_event_name_null: r#"51-[null,{"_placeholder":true,"num":0}]"# => SioError::EventNameNotString;
    err_event_missing: "2" => SioError::MissingData;
    err_event_nsp_missing: "2/admin," => SioError::MissingData;
    err_event_nsp_swallows_data: r#"2/admin["a"]"# => SioError::MissingData;
    err_ack_object: r#"31{"a":1}"# => SioError::NotAnArray;
    err_ack_missing: "31" => SioError::MissingData;
    err_connect_array: "0[1]" => SioError::NotAnObject;
    err_connect_string: r#"0"x""# => SioError::NotAnObject;
    err_connect_error_array: "4[1]" => SioError::NotAnObject;
    err_connect_error_missing: "4" => SioError::MissingData;
    err_too_deep: "2[\"a\",[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" => SioError::TooDeep;
}

#[test]
fn depth_limit_is_exact() {
    let nested = |n: usize| format!("2[\"a\",{}{}]", "[".repeat(n), "]".repeat(n));
    let limits = DecodeLimits {
        max_depth: 4,
        ..LIMITS
    };
    assert!(Packet::decode(&nested(3), &limits).is_ok());
    assert_eq!(Packet::decode(&nested(4), &limits), Err(SioError::TooDeep));
}

#[test]
fn disconnect_data_is_tolerated_if_json() {
    assert_eq!(
        Packet::decode("1{}", &LIMITS),
        Ok(p(Disconnect, "/", None, 0, Some("{}")))
    );
    assert_eq!(Packet::decode("1{", &LIMITS), Err(SioError::InvalidJson));
}

macro_rules! events {
    ($($name:ident: $wire:expr => $ev:expr, $args:expr;)*) => {$(
        #[test]
        fn $name() {
            let packet = Packet::decode($wire, &LIMITS).unwrap();
            let event = packet.event().unwrap();
            assert_eq!((&*event.name, event.args), ($ev, $args));
        }
    )*};
}

events! {
    ev_subscribe: r#"2["subscribe",{"room":"agent:123"}]"# => "subscribe", r#"{"room":"agent:123"}"#;
    ev_heartbeat: r#"2["heartbeat",{"timestamp":1234567890}]"# => "heartbeat", r#"{"timestamp":1234567890}"#;
    ev_no_args: r#"2["foo"]"# => "foo", "";
    ev_two_args: r#"2["hey","Jude",2]"# => "hey", r#""Jude",2"#;
    ev_whitespace: "2[ \"a\" , 1 , 2 ]" => "a", "1 , 2";
    ev_whitespace_no_args: "2[ \"a\" ]" => "a", "";
    ev_escaped_name: r#"2["a\"b\u00e9",1]"# => "a\"bé", "1";
    ev_binary: r#"51-["baz",{"_placeholder":true,"num":0}]"# => "baz", r#"{"_placeholder":true,"num":0}"#;
    ev_nsp_ack: r#"2/admin,13["foo",[1,[2]]]"# => "foo", "[1,[2]]";
    // socket.io-parser's isPayloadValid: `typeof payload[0] === "number"` is a name.
    ev_number_name: r#"2[1,{"room":"agent:1"}]"# => "1", r#"{"room":"agent:1"}"#;
    ev_number_name_alone: "2[42]" => "42", "";
    ev_negative_number_name: "2[-1.5e3,2]" => "-1.5e3", "2";
    ev_zero_name_with_ack: "27[0]" => "0", "";
    ev_binary_number_name: r#"51-[7,{"_placeholder":true,"num":0}]"# => "7", r#"{"_placeholder":true,"num":0}"#;
    // Names that only look reserved are ordinary names.
    ev_reserved_other_case: r#"2["Connect"]"# => "Connect", "";
    ev_reserved_prefix: r#"2["disconnected"]"# => "disconnected", "";
}

#[test]
fn event_name_borrows_without_escapes() {
    let packet = Packet::decode(r#"2["subscribe",{}]"#, &LIMITS).unwrap();
    assert!(matches!(
        packet.event().unwrap().name,
        Cow::Borrowed("subscribe")
    ));
}

#[test]
fn event_on_hand_built_packets_never_panics() {
    for data in [
        "",
        "[",
        "[\"",
        "[\"a\"",
        "[\"a\",",
        "[\"a\" x",
        "{}",
        "[null]",
        "[\"connect\"]",
        "[]",
        "[\"\\ud800\"]",
        "[[]]",
    ] {
        let packet = p(Event, "/", None, 0, Some(data));
        assert!(packet.event().is_err(), "{data:?}");
    }
    assert_eq!(
        p(Ack, "/", Some(1), 0, Some("[]")).event(),
        Err(SioError::NotAnArray)
    );
    assert_eq!(
        p(Event, "/", None, 0, None).event(),
        Err(SioError::MissingData)
    );
}

macro_rules! placeholders {
    ($($name:ident: $json:expr, $n:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(check_placeholders($json, $n), $want);
        }
    )*};
}

placeholders! {
    ph_one: r#"["baz",{"_placeholder":true,"num":0}]"#, 1 => Ok(());
    ph_two: r#"["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#, 2 => Ok(());
    ph_nested_and_reordered: r#"["a",{"x":[{"num":1,"_placeholder":true}]},{"_placeholder":true,"num":0}]"#, 2 => Ok(());
    ph_none_needed: r#"["a",1]"#, 0 => Ok(());
    ph_repeated_ref: r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#, 1 => Ok(());
    ph_out_of_range: r#"["a",{"_placeholder":true,"num":1}]"#, 1 => Err(SioError::AttachmentMismatch);
    ph_unreferenced: r#"["a",{"_placeholder":true,"num":0}]"#, 2 => Err(SioError::AttachmentMismatch);
    ph_count_lies_zero: r#"["a",{"_placeholder":true,"num":0}]"#, 0 => Err(SioError::AttachmentMismatch);
    ph_missing_num: r#"["a",{"_placeholder":true}]"#, 1 => Err(SioError::AttachmentMismatch);
    ph_num_string: r#"["a",{"_placeholder":true,"num":"0"}]"#, 1 => Err(SioError::AttachmentMismatch);
    ph_num_negative: r#"["a",{"_placeholder":true,"num":-1}]"#, 1 => Err(SioError::AttachmentMismatch);
    ph_num_float: r#"["a",{"_placeholder":true,"num":0.5}]"#, 1 => Err(SioError::AttachmentMismatch);
    ph_false_is_plain_object: r#"["a",{"_placeholder":false,"num":7}]"#, 0 => Ok(());
    ph_last_duplicate_wins: r#"["a",{"_placeholder":true,"_placeholder":false,"num":7}]"#, 0 => Ok(());
    ph_as_string_value_ignored: r#"["_placeholder",{"k":"_placeholder"}]"#, 0 => Ok(());
    ph_escaped_key: r#"["a",{"\u005fplaceholder":true,"num":0}]"#, 1 => Ok(());
    ph_huge_count: r#"["a"]"#, usize::MAX => Err(SioError::AttachmentMismatch);
    ph_invalid_json: r#"["a",{"_placeholder":true,"num":0}"#, 1 => Err(SioError::InvalidJson);
}

fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).unwrap()
}

macro_rules! writers {
    ($($name:ident: $f:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(written($f), $want);
        }
    )*};
}

writers! {
    w_event: |o| write_event(o, "/", None, 0, "foo", "") => r#"42["foo"]"#;
    w_event_args: |o| write_event(o, "/", None, 0, "hey", r#""Jude""#) => r#"42["hey","Jude"]"#;
    w_event_nsp: |o| write_event(o, "/admin", None, 0, "bar", "") => r#"42/admin,["bar"]"#;
    w_event_nsp_id: |o| write_event(o, "/admin", Some(13), 0, "foo", "") => r#"42/admin,13["foo"]"#;
    w_event_empty_nsp: |o| write_event(o, "", Some(12), 0, "foo", "") => r#"4212["foo"]"#;
    w_binary_event: |o| write_event(o, "/admin", None, 2, "baz", r#"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#) =>
        r#"452-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    w_event_escaped: |o| write_event(o, "/", None, 0, "a\"b\n", "1") => r#"42["a\"b\n",1]"#;
    w_ack_empty: |o| write_ack(o, "/", 12, 0, "") => "4312[]";
    w_ack_admin: |o| write_ack(o, "/admin", 13, 0, r#""bar""#) => r#"43/admin,13["bar"]"#;
    w_binary_ack: |o| write_ack(o, "/admin", 1, 1, r#"{"_placeholder":true,"num":0}"#) => r#"461-/admin,1[{"_placeholder":true,"num":0}]"#;
    w_connect: |o| write_connect(o, "/", "wZX3oN0bSVIhsaknAAAI") => r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#;
    w_connect_admin: |o| write_connect(o, "/admin", "oSO0OpakMV_3jnilAAAA") => r#"40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#;
    w_connect_error: |o| write_connect_error(o, "/", "Not authorized") => r#"44{"message":"Not authorized"}"#;
    w_connect_error_suite: |o| write_connect_error(o, "/random", "Invalid namespace") => r#"44/random,{"message":"Invalid namespace"}"#;
    w_disconnect: |o| write_disconnect(o, "/") => "41";
    w_disconnect_admin: |o| write_disconnect(o, "/admin") => "41/admin,";
}

#[test]
fn writers_into_a_frame_buf() {
    let mut buf = crate::ws::FrameBuf::new();
    write_event(
        &mut buf,
        "/",
        None,
        0,
        "subscribed",
        r#"{"room":"agent:123"}"#,
    );
    let frame = buf.finish(crate::ws::OpCode::Text);
    assert_eq!(
        &frame.payload()[..],
        br#"42["subscribed",{"room":"agent:123"}]"#
    );
    assert_eq!(frame.bytes()[..2], [0x81, 37]);
}

#[test]
fn parse_json_checks_depth_first() {
    let mut ok = br#"["a",{"b":[1,2]}]"#.to_vec();
    let value = parse_json(&mut ok, 3).unwrap();
    assert_eq!(
        simd_json::prelude::Writable::encode(&value),
        r#"["a",{"b":[1,2]}]"#
    );
    let mut deep = br#"["a",{"b":[1,2]}]"#.to_vec();
    assert_eq!(parse_json(&mut deep, 2).err(), Some(SioError::TooDeep));
    let mut bad = b"[1,".to_vec();
    assert_eq!(parse_json(&mut bad, 3).err(), Some(SioError::InvalidJson));
    let mut huge = vec![b'['; 1_000_000];
    assert_eq!(parse_json(&mut huge, 32).err(), Some(SioError::TooDeep));
}

#[test]
fn close_codes_say_why() {
    let deep = format!("2[\"a\",{}{}]", "[".repeat(40), "]".repeat(40));
    for (wire, code) in [
        ("9", CloseCode::PROTOCOL_ERROR),
        (r#"51["a"]"#, CloseCode::PROTOCOL_ERROR),
        (r#"3["a"]"#, CloseCode::PROTOCOL_ERROR),
        ("2[\"a\"", CloseCode::INVALID_PAYLOAD),
        (r#"2{"a":1}"#, CloseCode::INVALID_PAYLOAD),
        ("2[null]", CloseCode::INVALID_PAYLOAD),
        (r#"2["disconnect"]"#, CloseCode::INVALID_PAYLOAD),
        ("0[1]", CloseCode::INVALID_PAYLOAD),
        (&deep, CloseCode::POLICY_VIOLATION),
    ] {
        let err = Packet::decode(wire, &LIMITS).expect_err(wire);
        assert_eq!(err.close_code(), code, "{wire}");
    }
}

#[test]
fn reserved_events() {
    assert!(is_reserved_event("disconnect"));
    assert!(!is_reserved_event("subscribe"));
}

#[test]
fn binary_assembler_completes_at_count() {
    let mut asm = BinaryAssembler::new(2);
    assert!(!asm.is_complete());
    assert!(!asm.handle_attachment(bytes::Bytes::from_static(&[1, 2])));
    assert!(asm.handle_attachment(bytes::Bytes::from_static(&[3, 4])));
    assert_eq!(
        asm.into_attachments(),
        vec![
            bytes::Bytes::from_static(&[1, 2]),
            bytes::Bytes::from_static(&[3, 4])
        ]
    );
}
