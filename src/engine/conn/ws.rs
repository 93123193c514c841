//! The WebSocket transport: a reader loop on this task and a writer task, both driving the
//! session that lives in the worker's slab. Neither holds an I/O buffer while idle (see
//! `buffers`).

use std::cell::RefCell;
use std::future::poll_fn;
use std::os::fd::AsRawFd;
use std::task::Poll;

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt, OwnedReadHalf, OwnedWriteHalf, Splitable};
use monoio::net::TcpStream;
use ringcast_codec::eio::{self, Transport};
use ringcast_codec::ws::{
    Agreement, Assembler, AssemblerConfig, CloseCode, Deflater, FrameHeader, Message, OpCode,
    OutFrame, Sent, WsError,
};

use super::buffers;
use super::write_policy::{Batch, should_hold};
use crate::engine::worker::{ConnRef, Worker, with_worker};

/// Smallest read space (client messages here are subscribe/heartbeat events of 40–120 bytes; a
/// pooled read buffer has 4 KiB, see `buffers`). A read that fills its space doubles the next
/// one, up to [`MAX_READ`].
const MIN_READ: usize = 512;
/// Largest single read.
const MAX_READ: usize = 64 * 1024;
/// A writer sends at most this much per write call (then comes back for more).
const WRITE_BATCH: usize = 256 * 1024;

thread_local! {
    /// This core's permessage-deflate compressor, made at the first compressed frame: one per
    /// core serves every connection because the server never takes context over
    /// (`server_no_context_takeover`), and its 200+ KiB of state must not be per connection.
    static DEFLATER: RefCell<Option<Deflater>> = const { RefCell::new(None) };
}

/// What a websocket starts with.
pub(crate) struct Start {
    /// Its session.
    pub r: ConnRef,
    /// Bytes to send before anything else (the 101 response, and for a new session the OPEN
    /// frame).
    pub first: Vec<u8>,
    /// Bytes read past the request head.
    pub leftover: Vec<u8>,
    /// The permessage-deflate agreement, if the upgrade negotiated one.
    pub deflate: Option<Agreement>,
}

/// Appends an unmasked text frame (used for the OPEN packet right after the 101).
pub(crate) fn append_text_frame(out: &mut Vec<u8>, payload: &[u8]) {
    let mut header = [0u8; ringcast_codec::ws::MAX_HEADER];
    let n = FrameHeader {
        fin: true,
        rsv: 0,
        opcode: OpCode::Text,
        mask: None,
        payload_len: payload.len() as u64,
    }
    .encode(&mut header);
    out.extend_from_slice(&header[..n]);
    out.extend_from_slice(payload);
}

/// Runs a websocket for session `start.r`: sets it up now and returns the reader's future (the
/// caller spawns it; the writer gets a task of its own here).
///
/// Not an `async fn`: an async fn's future keeps its arguments beside what its body moved them
/// into (`stream`, `start` and `permit` twice over), and this future lives as long as the
/// connection. Set up here, the future holds only what the read loop uses.
pub(crate) fn run(
    stream: TcpStream,
    start: Start,
    permit: Option<crate::engine::limits::Permit>,
) -> impl std::future::Future<Output = ()> {
    let Start {
        r,
        first,
        leftover,
        deflate,
    } = start;
    let fd = stream.as_raw_fd();
    let max_message = with_worker(|w| {
        if let Some(c) = w.conn(r) {
            c.attached += 1;
            c.ws_attached = true;
            c.ws_fd = Some(fd);
            c.deflate = deflate.is_some();
        }
        w.config.session.max_payload
    });
    let (rd, wr) = stream.into_split();
    let writer = monoio::spawn(writer(wr, r, fd, first));
    let mut asm = Assembler::new(AssemblerConfig {
        max_message,
        require_mask: true,
    });
    if let Some(agreement) = deflate {
        asm.enable_deflate(agreement);
    }
    read_loop(rd, asm, leftover, r, writer, permit)
}

/// Reads and decodes until the peer or the session ends the websocket, then joins the writer.
///
/// An `async move` block rather than an `async fn`, for the reason given on [`run`]: the block
/// uses what it captured in place (608 → 392 bytes of future per connection, measured).
fn read_loop(
    mut rd: OwnedReadHalf<TcpStream>,
    mut asm: Assembler,
    leftover: Vec<u8>,
    r: ConnRef,
    writer: monoio::task::JoinHandle<()>,
    permit: Option<crate::engine::limits::Permit>,
) -> impl std::future::Future<Output = ()> {
    let mut buf = leftover;
    let mut want = MIN_READ;
    async move {
        'read: loop {
            let mut pos = 0;
            loop {
                let step = asm.decode(&mut buf[pos..]);
                let done = with_worker(|w| match step {
                    Err(e) => {
                        tracing::debug!(error = ?e, "websocket protocol error");
                        if e == WsError::InflatedTooBig {
                            w.stats().ws_inflate_bombs.add(1);
                        }
                        close_with(w, r, e.close_code());
                        Err(())
                    }
                    Ok((0, None)) => Ok(None),
                    Ok((consumed, msg)) => {
                        let keep = msg.map(|m| on_message(w, r, m)).unwrap_or(true);
                        if keep { Ok(Some(consumed)) } else { Err(()) }
                    }
                });
                match done {
                    Ok(Some(consumed)) => pos += consumed,
                    Ok(None) => break,
                    Err(()) => break 'read,
                }
            }
            buf.drain(..pos);
            if buf.is_empty() {
                // Nothing half-read: wait for the next bytes without a buffer (an idle websocket then
                // holds none; measured 0.5 KiB per idle connection with the 512-byte read pending),
                // and take one from the core's pool once they are there.
                buffers::give_read(std::mem::take(&mut buf));
                // SAFETY: the cell is the stream both halves share; monoio's own
                // `OwnedReadHalf::read` derefs it the same way while the write half is in use.
                // `readable` takes `&self` and reads only the descriptor, which stays open until
                // `rd` is dropped below.
                let stream = unsafe { &*rd.0.get() };
                // Not relaxed: the legacy (epoll) driver's readiness stays set after a read that
                // drained the socket, and a relaxed wait would return at once and leave the read
                // below waiting with a buffer; strict, it checks with a zero-timeout poll(2) first.
                // io_uring ignores the flag (a PollAdd either way).
                if stream.readable(false).await.is_err() {
                    break;
                }
                buf = buffers::take_read();
            }
            if buf.capacity() - buf.len() < want {
                buf.reserve(want);
            }
            let len = buf.len();
            let space = buf.capacity() - len;
            let (res, slice) = rd.read(buf.slice_mut(len..)).await;
            buf = slice.into_inner();
            match res {
                Ok(n) if n > 0 => {
                    with_worker(|w| w.stats().bytes_in.add(n as u64));
                    want = if n == space {
                        (want * 2).min(MAX_READ)
                    } else if n < want / 4 {
                        (want / 2).max(MIN_READ)
                    } else {
                        want
                    };
                }
                _ => break,
            }
        }
        buffers::give_read(buf);
        with_worker(|w| {
            let now = w.now();
            if let Some(c) = w.conn(r) {
                c.ws_attached = false;
                c.eio.handle_transport_closed(Transport::WebSocket, now);
            }
            w.after(r.key);
        });
        let _ = writer.await;
        with_worker(|w| {
            if let Some(c) = w.conn(r) {
                // Before the descriptor closes with `rd` below.
                c.ws_fd = None;
            }
        });
        drop(rd);
        with_worker(|w| {
            if let Some(c) = w.conn(r) {
                c.attached = c.attached.saturating_sub(1);
            }
            w.after(r.key);
        });
        // Counts against the connection caps until the websocket ends.
        drop(permit);
    }
}

/// Handles one message; `false` stops reading.
fn on_message(w: &mut Worker, r: ConnRef, msg: Message<'_>) -> bool {
    let v3 = w
        .conn(r)
        .is_some_and(|c| c.eio.protocol() != eio::Protocol::V4);
    match msg {
        Message::Text(text) if v3 => return on_v3(w, r, eio::v3::decode_text(text)),
        Message::Binary(data) if v3 => return on_v3(w, r, eio::v3::decode_binary(data)),
        Message::Text(text) => match eio::decode_text(text) {
            Ok(packet) => w.on_eio_packet(r.key, packet, Transport::WebSocket),
            Err(e) => {
                tracing::debug!(error = ?e, "bad Engine.IO packet on websocket");
                w.parse_error(r.key);
                close_with(w, r, CloseCode::PROTOCOL_ERROR);
                return false;
            }
        },
        Message::Binary(data) => {
            w.on_eio_packet(r.key, eio::decode_binary(data), Transport::WebSocket)
        }
        Message::Ping(data) => {
            // RFC 6455 §5.5.3: with several pings pending, answering only the most recent is
            // enough; a client that floods pings without reading cannot grow this queue.
            if let Some(c) = w.conn(r) {
                c.ws_control.retain(|f| f.opcode() != OpCode::Pong);
                c.ws_control.push(OutFrame::new(OpCode::Pong, data));
            }
            w.wake(r.key);
        }
        Message::Pong(_) => {}
        Message::Close(code) => {
            // RFC 6455 §5.5.1: answer a close with a close, echoing the status code.
            let code = code.map(|(c, _)| c).unwrap_or(CloseCode::NORMAL);
            close_with(w, r, code);
            return false;
        }
    }
    w.conn(r).is_some_and(|c| c.ws_attached)
}

/// An Engine.IO v3 packet (text, or a binary frame with its type byte); `false` stops reading.
fn on_v3(w: &mut Worker, r: ConnRef, packet: Result<eio::Packet<'_>, eio::EioError>) -> bool {
    match packet {
        Ok(packet) => w.on_eio_packet(r.key, packet, Transport::WebSocket),
        Err(e) => {
            tracing::debug!(error = ?e, "bad Engine.IO v3 packet on websocket");
            w.parse_error(r.key);
            close_with(w, r, CloseCode::PROTOCOL_ERROR);
            return false;
        }
    }
    w.conn(r).is_some_and(|c| c.ws_attached)
}

fn close_with(w: &mut Worker, r: ConnRef, code: CloseCode) {
    if let Some(c) = w.conn(r)
        && c.ws_close.is_none()
    {
        c.ws_close = Some(code);
    }
    w.wake(r.key);
}

enum Step {
    Write,
    /// Wait for the flush epoch to end (see `write_policy`), then drain and write.
    Hold,
    Finish(Option<CloseCode>),
}

/// The writer task: drains the session's queue into the socket (see `write_policy` for when it
/// holds a batch). An `async move` block for the reason given on [`run`] (224 → 176 bytes of future, measured).
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn's future would also keep its arguments"
)]
fn writer(
    mut wr: OwnedWriteHalf<TcpStream>,
    r: ConnRef,
    fd: i32,
    first: Vec<u8>,
) -> impl std::future::Future<Output = ()> {
    async move {
        let mut out = first;
        if !out.is_empty() {
            let (res, b) = Box::pin(wr.write_all(out)).await;
            out = b;
            if res.is_err() {
                shutdown(fd);
                return;
            }
        }
        // Freed, not pooled: every connection brings one (the HTTP response buffer), so pooling it
        // would fill the pool with a buffer per connection accepted.
        drop(out);
        // The writer holds a buffer only while it has bytes to send: `out` goes back to the core's
        // pool whenever it is written or found empty, and a new one is taken for the next batch.
        let mut out = Vec::new();
        loop {
            let step = poll_fn(|cx| {
                if out.capacity() == 0 {
                    out = buffers::take_write();
                }
                with_worker(|w| {
                    // RFC 6455 §7.4.1: 1001 "going away" when the server is shutting down.
                    let bye = if w.is_shutting_down() {
                        CloseCode::GOING_AWAY
                    } else {
                        CloseCode::NORMAL
                    };
                    let Some(c) = w.conn(r) else {
                        return Poll::Ready(Step::Finish(None));
                    };
                    for f in c.ws_control.drain(..) {
                        c.urgent = true;
                        out.extend_from_slice(f.bytes());
                    }
                    if c.ws_close.is_none() {
                        let threshold = match (c.deflate, w.config.compression) {
                            (true, Some(z)) => Some(z.threshold),
                            _ => None,
                        };
                        // `w.conn(r)` again: `w.config` was read in between.
                        let Some(c) = w.conn(r) else {
                            return Poll::Ready(Step::Finish(None));
                        };
                        let mut tally = Tally::default();
                        while out.len() < WRITE_BATCH {
                            match c.eio.poll_ws_frame() {
                                Some(f) => tally.add(write_frame(&f, &mut out, threshold)),
                                None => break,
                            }
                        }
                        tally.record(w);
                    }
                    let Some(c) = w.conn(r) else {
                        return Poll::Ready(Step::Finish(None));
                    };
                    if !out.is_empty() {
                        let batch = Batch {
                            urgent: c.urgent,
                            closing: c.ws_close.is_some(),
                            streaming: c.streaming,
                            held: c.waited,
                        };
                        c.urgent = false;
                        if !should_hold(batch) {
                            // This batch goes now: frames queued after it have waited for nothing.
                            c.waited = false;
                            return Poll::Ready(Step::Write);
                        }
                        w.hold_writer(r.key);
                        return Poll::Ready(Step::Hold);
                    }
                    if let Some(code) = c.ws_close {
                        return Poll::Ready(Step::Finish(Some(code)));
                    }
                    if c.closed {
                        return Poll::Ready(Step::Finish(Some(c.close_code.unwrap_or(bye))));
                    }
                    if !c.ws_attached {
                        return Poll::Ready(Step::Finish(None));
                    }
                    c.trim_idle();
                    c.ws_waker = Some(cx.waker().clone());
                    buffers::give_write(std::mem::take(&mut out));
                    Poll::Pending
                })
            })
            .await;
            match step {
                Step::Hold => {
                    // Woken when the epoch ends (or at once by a reply or a close).
                    poll_fn(|cx| {
                        with_worker(|w| match w.conn(r) {
                            Some(c) if c.held && !c.urgent && c.ws_close.is_none() && !c.closed => {
                                c.ws_waker = Some(cx.waker().clone());
                                Poll::Pending
                            }
                            _ => Poll::Ready(()),
                        })
                    })
                    .await;
                }
                Step::Write => {
                    let len = out.len() as u64;
                    // Boxed while it runs: inline, its 240 bytes of operation state would stay in
                    // this task's future for the connection's life, written to or idle (one
                    // allocation per batch written, beside a send(2) of microseconds).
                    let (res, b) = Box::pin(wr.write_all(out)).await;
                    if res.is_ok() {
                        with_worker(|w| {
                            let stats = w.stats();
                            stats.bytes_out.add(len);
                            stats.ws_writes.add(1);
                        });
                    }
                    // Back to the pool (a batch over 64 KiB is freed there); the next batch takes
                    // one again, most likely this same buffer.
                    buffers::give_write(b);
                    out = Vec::new();
                    if res.is_err() {
                        break;
                    }
                }
                Step::Finish(code) => {
                    if let Some(code) = code {
                        let frame = OutFrame::close(code, "");
                        let _ = Box::pin(wr.write_all(frame.bytes().to_vec())).await;
                    }
                    break;
                }
            }
        }
        buffers::give_write(out);
        shutdown(fd);
    }
}

/// Appends `frame` as this connection sends it: compressed when `threshold` is set (the
/// connection negotiated permessage-deflate) and the frame qualifies (see `OutFrame::write_to`).
fn write_frame(frame: &OutFrame, out: &mut Vec<u8>, threshold: Option<usize>) -> Sent {
    match threshold {
        None => frame.write_to(out, None),
        Some(threshold) => DEFLATER.with_borrow_mut(|d| {
            let deflater = d.get_or_insert_with(Deflater::new);
            frame.write_to(out, Some((deflater, threshold)))
        }),
    }
}

/// What a writer's batch did with compression, counted once per batch.
#[derive(Default)]
struct Tally {
    frames: u64,
    runs: u64,
    saved: u64,
}

impl Tally {
    fn add(&mut self, sent: Sent) {
        if let Sent::Deflated {
            saved,
            compressed_now,
        } = sent
        {
            self.frames += 1;
            self.runs += u64::from(compressed_now);
            self.saved += saved as u64;
        }
    }

    fn record(&self, w: &mut Worker) {
        if self.frames > 0 {
            let stats = w.stats();
            stats.ws_compressed_frames.add(self.frames);
            stats.ws_compressions.add(self.runs);
            stats.ws_compression_saved.add(self.saved);
        }
    }
}

/// Shuts both directions so the reader's pending read completes and the task ends.
fn shutdown(fd: i32) {
    // SAFETY: `fd` belongs to the stream whose halves this connection still holds (the read half
    // lives until after the writer is joined), so it is open; shutdown does not close it.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}
