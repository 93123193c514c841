//! Laws: a decoded Socket.IO packet re-encodes through `write_packet` to the same fields; an
//! event re-encoded through `write_event` gives the same header, name and arguments. Nothing
//! on the way panics (event name, placeholders, simd-json parse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcast_codec::sio::{self, DecodeLimits, Packet, PacketType};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = DecodeLimits::default();
    let Ok(packet) = Packet::decode(text, &limits) else {
        return;
    };

    let mut wire = Vec::new();
    sio::write_packet(&mut wire, &packet);
    let again = std::str::from_utf8(&wire[1..]).expect("UTF-8 in, UTF-8 out");
    assert_eq!(Packet::decode(again, &limits), Ok(packet));

    if let Some(json) = packet.data {
        let _ = sio::check_placeholders(json, packet.attachments);
        let mut buf = json.as_bytes().to_vec();
        // May still fail (simd-json is stricter on e.g. lone surrogates), but must not panic.
        let _ = sio::parse_json(&mut buf, limits.max_depth);
    }

    if let Ok(event) = packet.event() {
        assert!(matches!(
            packet.kind,
            PacketType::Event | PacketType::BinaryEvent
        ));
        let mut wire = Vec::new();
        sio::write_event(
            &mut wire,
            packet.nsp,
            packet.id,
            packet.attachments,
            &event.name,
            event.args,
        );
        let text = std::str::from_utf8(&wire[1..]).expect("UTF-8");
        let re = Packet::decode(text, &limits).expect("written events decode");
        assert_eq!(
            (re.nsp, re.id, re.attachments),
            (packet.nsp, packet.id, packet.attachments)
        );
        let re_event = re.event().expect("written events have a name");
        assert_eq!(re_event.name, event.name);
        assert_eq!(re_event.args, event.args);
    }
});
