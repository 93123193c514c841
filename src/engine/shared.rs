//! A broadcast as the cores share it: the op, encoded once by the JSON parser's encoders, and
//! the same packet for msgpack-parser recipients, built on first use.

use std::ops::Deref;
use std::sync::OnceLock;

use ringcast_codec::sio;
use ringcast_codec::ws::OutFrame;

use super::BroadcastOp;

/// One broadcast in flight between cores ([`super::Msg::Broadcast`]): every recipient gets
/// refcounted clones of the frames of its session's parser, each encoded at most once.
#[derive(Debug)]
pub struct SharedBroadcast {
    op: BroadcastOp,
    /// The msgpack parser's one binary frame: built by the first core that reaches a msgpack
    /// recipient (a [`OnceLock`]: a second core waits for it rather than encoding again), never
    /// when there is none. `None` inside: the frames cannot be transcoded (not a Socket.IO
    /// message), so msgpack recipients are skipped.
    msgpack: OnceLock<Option<OutFrame>>,
}

impl SharedBroadcast {
    pub fn new(op: BroadcastOp) -> Self {
        SharedBroadcast {
            op,
            msgpack: OnceLock::new(),
        }
    }

    /// The msgpack frame, and whether this call built it (for the stats).
    pub fn msgpack_frame(&self) -> (Option<&OutFrame>, bool) {
        let mut built = false;
        let frame = self.msgpack.get_or_init(|| {
            built = true;
            match sio::msgpack::encode_frames(&self.op.frames) {
                // Shared compressed variant too: a msgpack recipient that negotiated
                // permessage-deflate reuses the one compression (made only if one exists and
                // the frame reaches the threshold: `OutFrame::write_to` decides).
                Ok(frame) => Some(frame.share_deflated()),
                Err(error) => {
                    tracing::warn!(?error, "broadcast not encodable for the msgpack parser");
                    None
                }
            }
        });
        (frame.as_ref(), built)
    }
}

impl Deref for SharedBroadcast {
    type Target = BroadcastOp;

    fn deref(&self) -> &BroadcastOp {
        &self.op
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine::{Room, encode_event};

    #[test]
    fn msgpack_frame_is_built_once() {
        let op = BroadcastOp {
            nsp: Room::from("/"),
            rooms: Vec::new(),
            except: Vec::new(),
            except_rooms: Vec::new(),
            frames: encode_event("/", None, "task:updated", r#"{"task_id":"9"}"#, &[]),
        };
        let shared = SharedBroadcast::new(op);
        let (first, built) = shared.msgpack_frame();
        assert!(built);
        let first = first.unwrap().clone();
        let (again, built) = shared.msgpack_frame();
        assert!(!built);
        assert_eq!(again.unwrap().bytes(), first.bytes());
        let payload = first.payload();
        let limits = sio::DecodeLimits::default();
        let decoded = sio::msgpack::decode(&payload, &limits).unwrap();
        assert_eq!(decoded.text, r#"2["task:updated",{"task_id":"9"}]"#);
    }

    #[test]
    fn msgpack_frame_is_compressed_once_for_every_deflate_recipient() {
        use ringcast_codec::ws::{Deflater, Sent};
        // 2 KiB of repetitive text: past the 1 KiB threshold and compressible.
        let args = format!(r#"{{"log":"{}"}}"#, "agent step ".repeat(200));
        let op = BroadcastOp {
            nsp: Room::from("/"),
            rooms: Vec::new(),
            except: Vec::new(),
            except_rooms: Vec::new(),
            frames: encode_event("/", None, "task:updated", &args, &[]),
        };
        let shared = SharedBroadcast::new(op);
        let frame = shared.msgpack_frame().0.unwrap().clone();
        let (mut a, mut b) = (Deflater::new(), Deflater::new());
        let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
        let first = frame.write_to(&mut out_a, Some((&mut a, 1024)));
        let second = frame.write_to(&mut out_b, Some((&mut b, 1024)));
        assert!(
            matches!(
                first,
                Sent::Deflated {
                    compressed_now: true,
                    ..
                }
            ),
            "{first:?}"
        );
        assert!(
            matches!(
                second,
                Sent::Deflated {
                    compressed_now: false,
                    ..
                }
            ),
            "{second:?}"
        );
        assert_eq!(out_a, out_b);
    }
}
