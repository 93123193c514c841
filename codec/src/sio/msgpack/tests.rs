use super::*;
use crate::testing::hex;

const LIMITS: DecodeLimits = DecodeLimits {
    max_depth: 32,
    max_attachments: 10,
};

fn decoded(h: &str) -> Result<(String, Vec<Vec<u8>>), MsgpackPacketError> {
    let bytes = hex(h);
    let d = decode(&bytes, &LIMITS)?;
    Ok((d.text, d.attachments.iter().map(|a| a.to_vec()).collect()))
}

macro_rules! decodes {
    ($($name:ident: $hex:expr => $text:expr, $atts:expr;)*) => {$(
        #[test]
        fn $name() {
            let atts: &[&[u8]] = $atts;
            let want: Vec<Vec<u8>> = atts.iter().map(|a| a.to_vec()).collect();
            assert_eq!(decoded($hex), Ok(($text.to_owned(), want)));
        }
    )*};
}

// Golden vectors: notepack.io 2.2 (socket.io-msgpack-parser 3.0.2) and python msgpack 1.1.2.
decodes! {
    js_connect_auth: "83a47479706500a46461746181a5746f6b656ea174a36e7370a12f" => r#"0{"token":"t"}"#, &[];
    js_event_with_options_and_id: "85a47479706502a46461746192a973756273637269626581a4726f6f6da67461736b3a39a76f7074696f6e7381a8636f6d7072657373c3a36e7370a12fa2696403"
        => r#"23["subscribe",{"room":"task:9"}]"#, &[];
    js_event_buffer: "83a47479706502a46461746192a362696ec403010203a36e7370a12f"
        => r#"51-["bin",{"_placeholder":true,"num":0}]"#, &[&[1, 2, 3]];
    js_ack_admin: "84a47479706503a4646174619181a26f6bc3a36e7370a62f61646d696ea269640c" => r#"3/admin,12[{"ok":true}]"#, &[];
    js_disconnect: "82a47479706501a36e7370a12f" => "1", &[];
    js_undefined: "83a47479706502a46461746193a165d4000082a161d40000a162cb3ff8000000000000a36e7370a12f"
        => r#"2["e",null,{"b":1.5}]"#, &[];
    py_connect_none: "83a47479706500a464617461c0a36e7370a12f" => "0", &[];
}

#[test]
fn py_event_bytes_id_is_a_binary_ack_shape() {
    // Type 2 with bytes and an id is a BINARY_EVENT with an ack id, not an ACK.
    let (text, atts) =
        decoded("84a47479706502a46461746192a26576c40101a36e7370a12fa2696401").unwrap();
    assert_eq!(text, r#"51-1["ev",{"_placeholder":true,"num":0}]"#);
    assert_eq!(atts, vec![vec![1u8]]);
}

macro_rules! rejects {
    ($($name:ident: $hex:expr => $err:expr, $code:expr;)*) => {$(
        #[test]
        fn $name() {
            let err = decoded($hex).unwrap_err();
            assert_eq!(err, $err);
            assert_eq!(err.close_code(), $code);
        }
    )*};
}

const P: CloseCode = CloseCode::PROTOCOL_ERROR;
const I: CloseCode = CloseCode::INVALID_PAYLOAD;
const V: CloseCode = CloseCode::POLICY_VIOLATION;

rejects! {
    err_empty: "" => MsgpackPacketError::Malformed(MsgpackError::Truncated), I;
    err_truncated_map: "83a474797065" => MsgpackPacketError::Malformed(MsgpackError::Truncated), I;
    err_reserved_byte: "c1" => MsgpackPacketError::Malformed(MsgpackError::ReservedByte), I;
    err_trailing: "82a47479706501a36e7370a12f00" => MsgpackPacketError::Malformed(MsgpackError::TrailingBytes), I;
    err_array: "9102" => MsgpackPacketError::NotAMap, P;
    err_string: "a3616263" => MsgpackPacketError::NotAMap, P;
    err_no_type: "81a36e7370a12f" => MsgpackPacketError::BadType, P;
    err_type_5: "82a47479706505a36e7370a12f" => MsgpackPacketError::BadType, P;
    err_type_negative: "82a474797065ffa36e7370a12f" => MsgpackPacketError::BadType, P;
    err_type_string: "82a474797065a132a36e7370a12f" => MsgpackPacketError::BadType, P;
    err_type_float: "82a474797065cb3ff8000000000000a36e7370a12f" => MsgpackPacketError::BadType, P;
    err_no_nsp: "81a47479706501" => MsgpackPacketError::BadNamespace, P;
    err_nsp_number: "82a47479706501a36e737001" => MsgpackPacketError::BadNamespace, P;
    err_nsp_no_slash: "82a47479706501a36e7370a161" => MsgpackPacketError::BadNamespace, P;
    err_nsp_comma: "82a47479706501a36e7370a32f612c" => MsgpackPacketError::BadNamespace, P;
    err_id_string: "84a47479706502a46461746191a165a36e7370a12fa26964a131" => MsgpackPacketError::BadId, P;
    err_id_negative: "84a47479706502a46461746191a165a36e7370a12fa26964ff" => MsgpackPacketError::BadId, P;
    err_event_no_data: "82a47479706502a36e7370a12f" => MsgpackPacketError::BadData, I;
    err_event_map_data: "83a47479706502a46461746180a36e7370a12f" => MsgpackPacketError::BadData, I;
    err_connect_array_data: "83a47479706500a46461746190a36e7370a12f" => MsgpackPacketError::BadData, I;
    err_disconnect_data: "83a47479706501a46461746180a36e7370a12f" => MsgpackPacketError::BadData, I;
    err_connect_error_number: "83a47479706504a46461746101a36e7370a12f" => MsgpackPacketError::BadData, I;
    err_connect_binary_auth: "83a47479706500a46461746181a174c40101a36e7370a12f" => MsgpackPacketError::BadData, I;
    err_map_key_array: "83a47479706502a46461746191819001a36e7370a12f" => MsgpackPacketError::Malformed(MsgpackError::BadKey), I;
    err_forged_length: "dfffffffff" => MsgpackPacketError::Malformed(MsgpackError::Truncated), I;
}

#[test]
fn container_keys_are_skipped_whole() {
    // {[1,2]: 3, "type": 1, "nsp": "/"}: the array key's items are not the value.
    assert_eq!(
        decoded("83 920102 03 a474797065 01 a36e7370 a12f"),
        Ok(("1".to_owned(), vec![]))
    );
}

#[test]
fn too_deep_is_a_policy_violation() {
    // {"type":2,"nsp":"/","data":[[[…]]]} nested past msgpack::MAX_DEPTH (64).
    let mut bytes = hex("83a47479706502a36e7370a12fa464617461");
    bytes.extend(std::iter::repeat_n(0x91, 70));
    bytes.push(0x01);
    let err = decode(&bytes, &LIMITS).unwrap_err();
    assert_eq!(err, MsgpackPacketError::Malformed(MsgpackError::TooDeep));
    assert_eq!(err.close_code(), V);
}

#[test]
fn binary_values_are_capped() {
    // An EVENT with 11 empty buffers (`c4 00`), one past the limit of 10.
    let mut bytes = hex("83a47479706502a36e7370a12fa464617461 9c a165");
    for _ in 0..11 {
        bytes.extend_from_slice(&[0xc4, 0x00]);
    }
    let err = decode(&bytes, &LIMITS).unwrap_err();
    assert_eq!(err, MsgpackPacketError::TooManyBinaries);
    assert_eq!(err.close_code(), V);
}

/// text-form packet (+ attachments) → msgpack → the same text form.
fn round_trip(text: &str, attachments: &[&[u8]]) -> (String, Vec<Vec<u8>>) {
    let atts: Vec<Bytes> = attachments
        .iter()
        .map(|a| Bytes::copy_from_slice(a))
        .collect();
    let mut w = Writer::new();
    encode(text, &atts, &mut w).unwrap();
    let d = decode(&w.buf, &LIMITS).unwrap();
    (d.text, d.attachments.iter().map(|a| a.to_vec()).collect())
}

macro_rules! round_trips {
    ($($name:ident: $text:expr, $atts:expr;)*) => {$(
        #[test]
        fn $name() {
            let atts: &[&[u8]] = $atts;
            let want: Vec<Vec<u8>> = atts.iter().map(|a| a.to_vec()).collect();
            assert_eq!(round_trip($text, atts), ($text.to_owned(), want));
        }
    )*};
}

round_trips! {
    rt_connect_reply: r#"0{"sid":"wZX3oN0bSVIhsaknAAAI","pid":"p"}"#, &[];
    rt_connect_error: r#"4{"message":"invalid token"}"#, &[];
    rt_connect_error_string: r#"4"Not authorized""#, &[];
    rt_event_nested: r#"2["task:updated",{"task_id":"9","update":{"progress":50,"tags":["a","b"],"ratio":0.25,"n":null,"ok":false,"neg":-7,"big":18446744073709551615,"esc":"a\"b\né"}}]"#, &[];
    rt_event_ack_id: r#"27["heartbeat_ack",{"timestamp":1234567890123}]"#, &[];
    rt_ack: r#"3/admin,12[]"#, &[];
    rt_disconnect: "1", &[];
    rt_binary_event: r#"52-["b",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]"#, &[b"zero", b"one"];
    rt_binary_ack: r#"61-5[{"x":{"_placeholder":true,"num":0}}]"#, &[&[0xff, 0]];
}

#[test]
fn placeholders_are_renumbered_in_traversal_order() {
    // msgpack has no numbers for its binary values: decoding numbers them as it meets them.
    let text = r#"52-["b",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]"#;
    assert_eq!(
        round_trip(text, &[b"zero", b"one"]),
        (
            r#"52-["b",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]"#.to_owned(),
            vec![b"one".to_vec(), b"zero".to_vec()]
        )
    );
}

#[test]
fn numbers_take_the_forms_notepack_writes() {
    let mut w = Writer::new();
    encode(r#"2["n",1,-1,1.5,1e3,300]"#, &[], &mut w).unwrap();
    // {type:2, nsp:"/", data:["n",1,-1,1.5,1000.0→float64 (written with an exponent),300]}
    let want =
        hex("83a47479706502a36e7370a12fa464617461 96 a16e 01 ff cb3ff8000000000000 cd03e8 cd012c");
    assert_eq!(w.buf, want);
}

#[test]
fn frames_transcode_once_with_attachments() {
    let frames = super::super::encode_event(
        "/",
        None,
        "file",
        r#"{"_placeholder":true,"num":0}"#,
        &[Bytes::from_static(b"xyz")],
    );
    let mut out = Outbound::default();
    assert_eq!(out.push(frames[0].clone()), Ok(None));
    let frame = out.push(frames[1].clone()).unwrap().unwrap();
    assert_eq!(frame.opcode(), OpCode::Binary);
    assert_eq!(
        Ok(frame.payload()),
        encode_frames(&frames).map(|f| f.payload())
    );
    let payload = frame.payload();
    let d = decode(&payload, &LIMITS).unwrap();
    assert_eq!(d.text, r#"51-["file",{"_placeholder":true,"num":0}]"#);
    assert_eq!(d.attachments, vec![&b"xyz"[..]]);
    // A frame without attachments goes out at once.
    let plain = super::super::encode_event("/", None, "e", "1", &[]);
    assert!(out.push(plain[0].clone()).unwrap().is_some());
}

#[test]
fn encode_refuses_lying_placeholders() {
    let mut w = Writer::new();
    let att = [Bytes::from_static(b"a")];
    assert_eq!(
        encode(r#"51-["b",{"_placeholder":true,"num":3}]"#, &att, &mut w),
        Err(SioError::AttachmentMismatch)
    );
    assert_eq!(
        encode(r#"51-["b",{"_placeholder":true,"num":0}]"#, &[], &mut w),
        Err(SioError::AttachmentMismatch)
    );
}
