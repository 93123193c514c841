//! A WebSocket client that connects, completes the Socket.IO CONNECT, and then never reads
//! again: a dashboard on a network that died without a FIN. Once the server has more to send
//! than the TCP buffers hold, its writer waits on this peer, and so does its drain.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use socket2::{Domain, Protocol, Socket, Type};

use super::{DEADLINE, Server};

/// The peer; the connection stays open (and unread) until it is dropped.
#[derive(Debug)]
pub struct StalledPeer {
    _stream: TcpStream,
}

impl StalledPeer {
    /// Connects to `/ws/` over WebSocket with `token`, waits for the CONNECT answer, stops reading.
    pub fn connect(server: &Server, token: &str) -> StalledPeer {
        let fail = |what: String| -> ! { server.fail(&format!("stalled peer: {what}")) };
        let addr: SocketAddr = ([127, 0, 0, 1], server.port).into();
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .unwrap_or_else(|e| fail(format!("socket: {e}")));
        // A small receive buffer (Linux doubles it and keeps a floor of a few KiB) caps the
        // window this peer ever advertises, so the server's sends pile up in its own buffers.
        socket
            .set_recv_buffer_size(4096)
            .unwrap_or_else(|e| fail(format!("SO_RCVBUF: {e}")));
        socket
            .connect(&addr.into())
            .unwrap_or_else(|e| fail(format!("connect: {e}")));
        let mut stream: TcpStream = socket.into();
        stream
            .set_read_timeout(Some(DEADLINE))
            .unwrap_or_else(|e| fail(format!("set_read_timeout: {e}")));
        // RFC 6455 §4.1's sample key; the server's answer is not checked beyond the 101.
        let upgrade = format!(
            "GET /ws/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            server.port
        );
        stream
            .write_all(upgrade.as_bytes())
            .unwrap_or_else(|e| fail(format!("write upgrade: {e}")));
        let mut buf: Vec<u8> = Vec::new();
        let head_end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            read_some(&mut stream, &mut buf).unwrap_or_else(|e| fail(e));
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            fail(format!("expected 101, got {head:?}"));
        }
        buf.drain(..head_end);
        let open = next_text(&mut stream, &mut buf).unwrap_or_else(|e| fail(e));
        if !open.starts_with("0{") {
            fail(format!("expected the Engine.IO OPEN packet, got {open:?}"));
        }
        let connect = format!("40{{\"token\":\"{token}\"}}");
        stream
            .write_all(&masked_text(connect.as_bytes()))
            .unwrap_or_else(|e| fail(format!("write CONNECT: {e}")));
        let deadline = Instant::now() + DEADLINE;
        loop {
            let packet = next_text(&mut stream, &mut buf).unwrap_or_else(|e| fail(e));
            if packet.starts_with("40{") {
                break;
            }
            if packet.starts_with("44") || Instant::now() > deadline {
                fail(format!("CONNECT refused or not answered: {packet:?}"));
            }
        }
        StalledPeer { _stream: stream }
    }
}

fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk) {
        Ok(0) => Err(format!(
            "server closed (after {:?})",
            String::from_utf8_lossy(buf)
        )),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(e) => Err(format!("read: {e}")),
    }
}

/// The next server frame's payload as text (servers never mask, RFC 6455 §5.1); control frames
/// and binary frames are skipped.
fn next_text(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<String, String> {
    loop {
        if let Some((opcode, start, end)) = frame_bounds(buf) {
            let payload = String::from_utf8_lossy(&buf[start..end]).into_owned();
            buf.drain(..end);
            if opcode == 0x1 {
                return Ok(payload);
            }
            continue;
        }
        read_some(stream, buf)?;
    }
}

/// RFC 6455 §5.2: opcode, payload start and end of the first complete frame in `buf`.
fn frame_bounds(buf: &[u8]) -> Option<(u8, usize, usize)> {
    let b0 = *buf.first()?;
    let b1 = *buf.get(1)?;
    let (len, header): (usize, usize) = match b1 & 0x7f {
        126 => (u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]) as usize, 4),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(bytes) as usize, 10)
        }
        n => (n as usize, 2),
    };
    let end = header.checked_add(len)?;
    (buf.len() >= end).then_some((b0 & 0x0f, header, end))
}

/// A masked text frame (clients must mask, RFC 6455 §5.3); payloads here are under 64 KiB.
fn masked_text(payload: &[u8]) -> Vec<u8> {
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x81u8];
    match payload.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}
