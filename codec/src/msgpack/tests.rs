#![allow(clippy::unwrap_used)]
use super::*;
use crate::testing::hex;

/// msgpack hex → (JSON text, attachments).
fn json(h: &str) -> Result<(String, Vec<Vec<u8>>), MsgpackError> {
    let bytes = hex(h);
    let mut reader = Reader::new(&bytes);
    let mut out = Vec::new();
    let mut atts = Vec::new();
    to_json(&mut reader, &mut out, &mut atts)?;
    reader.finish()?;
    Ok((
        String::from_utf8(out).unwrap(),
        atts.into_iter().map(<[u8]>::to_vec).collect(),
    ))
}

macro_rules! to_json_cases {
    ($($name:ident: $hex:expr => $json:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(json($hex).map(|(j, _)| j), Ok($json.to_owned()));
        }
    )*};
}

to_json_cases! {
    positive_fixint: "07" => "7";
    negative_fixint: "e0" => "-32";
    uint8: "cc ff" => "255";
    uint64: "cf 0000000100000000" => "4294967296";
    int8: "d0 80" => "-128";
    int16: "d1 8000" => "-32768";
    int64: "d3 ffffffffffffffff" => "-1";
    float64: "cb 3ff8000000000000" => "1.5";
    float32_widened: "ca 3fc00000" => "1.5";
    float_big_uses_exponent: "cb 444b1ae4d6e2ef50" => "1e+21";
    float_small_uses_exponent: "cb 3e7ad7f29abcaf48" => "1e-7";
    nan_is_null: "cb 7ff8000000000000" => "null";
    negative_zero_is_zero: "cb 8000000000000000" => "0";
    nil: "c0" => "null";
    bools: "92 c2 c3" => "[false,true]";
    fixstr: "a3 616263" => "\"abc\"";
    str8_escapes: "d9 03 22 0a 5c" => "\"\\\"\\n\\\\\"";
    invalid_utf8_replaced: "a1 ff" => "\"\u{fffd}\"";
    array16: "dc 0002 01 02" => "[1,2]";
    map_keeps_order: "82 a1 62 01 a1 61 02" => "{\"b\":1,\"a\":2}";
    map16: "de 0001 a1 61 c0" => "{\"a\":null}";
    undefined_map_value_dropped: "82 a1 61 d4 00 00 a1 62 01" => "{\"b\":1}";
    undefined_array_item_is_null: "92 d4 00 00 01" => "[null,1]";
    numeric_key_is_string: "81 01 a1 78" => "{\"1\":\"x\"}";
    date_epoch: "d7 00 0000000000000000" => "\"1970-01-01T00:00:00.000Z\"";
    date_2024: "d7 00 0000018f34269cf8" => "\"2024-05-01T12:34:56.888Z\"";
    date_before_epoch: "d7 00 ffffffffffffffff" => "\"1969-12-31T23:59:59.999Z\"";
    bigint_digits: "c7 03 01 2d3132" => "-12";
    other_ext_is_type_and_buffer: "d5 05 abcd" => "[5,{\"_placeholder\":true,\"num\":0}]";
    fixext1_nonzero_type: "d4 07 ff" => "[7,{\"_placeholder\":true,\"num\":0}]";
}

macro_rules! error_cases {
    ($($name:ident: $hex:expr => $err:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(json($hex), Err($err));
        }
    )*};
}

error_cases! {
    empty_is_truncated: "" => MsgpackError::Truncated;
    str_truncated: "a5 6162" => MsgpackError::Truncated;
    forged_array32_len: "dd ffffffff 01" => MsgpackError::Truncated;
    forged_map16_len: "de ffff a1 61 01" => MsgpackError::Truncated;
    reserved_c1: "c1" => MsgpackError::ReservedByte;
    trailing: "01 02" => MsgpackError::TrailingBytes;
    map_key_array: "81 90 01" => MsgpackError::BadKey;
    bigint_not_digits: "c7 02 01 3178" => MsgpackError::BadBigInt;
    bin32_len_past_end: "c6 7fffffff 00" => MsgpackError::Truncated;
}

#[test]
fn binary_values_become_numbered_placeholders_in_traversal_order() {
    // [Buffer<01>, {a: ArrayBuffer<0203>}, Buffer<>]
    let (text, atts) = json("93 c4 01 01 81 a1 61 c7 02 00 0203 c4 00").unwrap();
    assert_eq!(
        text,
        r#"[{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":2}]"#
    );
    assert_eq!(atts, vec![vec![1], vec![2, 3], vec![]]);
}

#[test]
fn timestamps_are_dates_only_when_asked() {
    let cases: &[(&str, i64)] = &[
        // timestamp32: 1 s.
        ("d6 ff 00000001", 1000),
        // timestamp64: 2 s and 3_000_000 ns (nsec << 34 | sec).
        ("d7 ff 00b71b00 00000002", 2003),
        // timestamp96: -1 s and 1 ns: -999.999999 ms, truncated as a JS Date does.
        ("c7 0c ff 00000001 ffffffffffffffff", -999),
    ];
    for &(h, ms) in cases {
        let bytes = hex(h);
        assert_eq!(
            Reader::new(&bytes).timestamps().read(),
            Ok(Item::Date(ms)),
            "{h}"
        );
        assert!(
            matches!(Reader::new(&bytes).read(), Ok(Item::Ext(-1, _))),
            "{h}"
        );
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let mut bytes = vec![0x91; 100_000];
    bytes.push(0x01);
    let mut reader = Reader::new(&bytes);
    assert_eq!(
        to_json(&mut reader, &mut Vec::new(), &mut Vec::new()),
        Err(MsgpackError::TooDeep)
    );
    let mut reader = Reader::new(&bytes);
    assert_eq!(reader.skip(), Err(MsgpackError::TooDeep));
}

#[test]
fn skip_steps_over_whole_values() {
    let bytes = hex("92 82 a1 61 91 c4 01 ff a1 62 d4 00 00 07");
    let mut reader = Reader::new(&bytes);
    assert_eq!(reader.read(), Ok(Item::Array(2)));
    reader.skip().unwrap();
    assert_eq!(reader.read(), Ok(Item::UInt(7)));
    assert_eq!(reader.finish(), Ok(()));
}

#[test]
fn dates_match_js_to_iso_string_at_the_edges() {
    let cases: &[(i64, &str)] = &[
        (951_782_400_000, "\"2000-02-29T00:00:00.000Z\""),
        (253_402_300_799_999, "\"9999-12-31T23:59:59.999Z\""),
        (253_402_300_800_000, "\"+010000-01-01T00:00:00.000Z\""),
        (-62_167_219_200_001, "\"-000001-12-31T23:59:59.999Z\""),
        (8_640_000_000_000_001, "null"),
    ];
    for &(ms, want) in cases {
        let mut out = Vec::new();
        write_date(&mut out, ms);
        assert_eq!(String::from_utf8(out).unwrap(), want, "{ms}");
    }
}

macro_rules! writer_cases {
    ($($name:ident: |$w:ident| $body:expr => $hex:expr;)*) => {$(
        #[test]
        fn $name() {
            let mut $w = Writer::new();
            $body;
            assert_eq!($w.buf, hex($hex));
        }
    )*};
}

writer_cases! {
    w_fixint: |w| w.uint(127) => "7f";
    w_uint8: |w| w.uint(128) => "cc 80";
    w_uint16: |w| w.uint(256) => "cd 0100";
    w_uint32: |w| w.uint(65_536) => "ce 00010000";
    w_uint64: |w| w.uint(1 << 32) => "cf 0000000100000000";
    w_neg_fixint: |w| w.int(-32) => "e0";
    w_int8: |w| w.int(-33) => "d0 df";
    w_int16: |w| w.int(-129) => "d1 ff7f";
    w_int32: |w| w.int(-32_769) => "d2 ffff7fff";
    w_int64: |w| w.int(-(1 << 31) - 1) => "d3 ffffffff7fffffff";
    w_integral_float_is_int: |w| w.number(2.0) => "02";
    w_float64: |w| w.number(0.5) => "cb 3fe0000000000000";
    w_fixstr: |w| w.str("abc") => "a3 616263";
    w_str8_from_32: |w| w.str(&"x".repeat(32)) => &format!("d9 20 {}", "78".repeat(32));
    w_bin8: |w| w.bin(&[1, 2]) => "c4 02 0102";
    w_fixarray: |w| w.array(15) => "9f";
    w_array16: |w| w.array(16) => "dc 0010";
    w_map16: |w| w.map(16) => "de 0010";
}

#[test]
fn writer_output_reads_back() {
    let mut w = Writer::new();
    w.array(4);
    w.int(-70_000);
    w.str("é");
    w.bin(&[9]);
    w.map(1);
    w.str("k");
    w.nil();
    let mut r = Reader::new(&w.buf);
    assert_eq!(r.read(), Ok(Item::Array(4)));
    assert_eq!(r.read(), Ok(Item::Int(-70_000)));
    assert_eq!(r.read(), Ok(Item::Str(Cow::Borrowed("é"))));
    assert_eq!(r.read(), Ok(Item::Bin(&[9])));
    assert_eq!(r.read(), Ok(Item::Map(1)));
    assert_eq!(r.read(), Ok(Item::Str(Cow::Borrowed("k"))));
    assert_eq!(r.read(), Ok(Item::Nil));
    assert_eq!(r.finish(), Ok(()));
}
