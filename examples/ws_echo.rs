//! A plain WebSocket echo server on ringcast's WebSocket layer (the sans-IO codec driven by one
//! monoio runtime), for the Autobahn test suite. It accepts permessage-deflate offers as the
//! gateway does (`server_no_context_takeover`, `server_max_window_bits` < 15 declined) and then
//! echoes every data message compressed, for cases 12.* and 13.*: even where that makes it
//! longer (the gateway would send those plain), because kosoku 0.1.0's 12/13 cases fail on an
//! uncompressed text echo (they hash it as a `str`: "Strings must be encoded before hashing").
//!
//! Run: `cargo run --release --example ws_echo -- --listen 127.0.0.1:9001`
//! Then: `kosoku -p 2 -o OUTDIR ws://127.0.0.1:9001/`

use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{TcpListener, TcpStream};
use ringcast_codec::Status;
use ringcast_codec::http;
use ringcast_codec::ws::{
    Assembler, AssemblerConfig, CloseCode, Deflater, FrameHeader, MAX_HEADER, Message, OpCode,
    OutFrame, deflate,
};

/// Autobahn's section 9 sends messages up to 16 MiB.
const MAX_MESSAGE: usize = 64 << 20;

fn main() {
    let mut listen = "127.0.0.1:9001".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(v)) => listen = v,
            _ => {
                eprintln!("usage: ws_echo [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let runtime = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .enable_timer()
        .build();
    let mut runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ws_echo: cannot build a runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::bind(listen.as_str()) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("ws_echo: cannot listen on {listen}: {e}");
                std::process::exit(1);
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("ringcast listening on http://{addr}"),
            Err(e) => eprintln!("ws_echo: {e}"),
        }
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            monoio::spawn(serve(stream));
        }
    });
}

async fn serve(mut stream: TcpStream) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    // ---- the upgrade ----
    let (head_len, agreement) = loop {
        match http::parse_request(&buf, &http::Limits::default()) {
            Ok(Status::Complete(req)) => {
                let mut out = Vec::new();
                let head_len = req.head_len;
                let agreement = req.ws_extensions.and_then(deflate::negotiate);
                match http::validate_websocket_upgrade(&req) {
                    Ok(accept) => {
                        http::write_switching_protocols_with(&mut out, &accept, agreement.as_ref())
                    }
                    Err(e) => {
                        http::write_response(
                            &mut out,
                            e.status(),
                            "text/plain",
                            &[],
                            false,
                            b"websocket only",
                        );
                        let _ = stream.write_all(out).await;
                        return;
                    }
                }
                if stream.write_all(out).await.0.is_err() {
                    return;
                }
                break (head_len, agreement);
            }
            Ok(Status::Partial) => {}
            Err(_) => return,
        }
        match read(&mut stream, buf).await {
            Some(b) => buf = b,
            None => return,
        }
    };
    buf.drain(..head_len);
    // ---- echo ----
    let mut asm = Assembler::new(AssemblerConfig {
        max_message: MAX_MESSAGE,
        require_mask: true,
    });
    // One compressor per connection here (the gateway has one per core).
    let mut deflater = agreement.map(|a| {
        asm.enable_deflate(a);
        Deflater::new()
    });
    let mut echo = |out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]| match deflater.as_mut() {
        Some(d) => append_compressed(d, out, opcode, payload),
        None => out.extend_from_slice(OutFrame::new(opcode, payload).bytes()),
    };
    let mut out: Vec<u8> = Vec::new();
    loop {
        let mut pos = 0;
        let mut close = false;
        loop {
            match asm.decode(&mut buf[pos..]) {
                Ok((0, None)) => break,
                Ok((n, msg)) => {
                    match msg {
                        Some(Message::Text(t)) => echo(&mut out, OpCode::Text, t.as_bytes()),
                        Some(Message::Binary(b)) => echo(&mut out, OpCode::Binary, b),
                        Some(Message::Ping(p)) => {
                            out.extend_from_slice(OutFrame::new(OpCode::Pong, p).bytes())
                        }
                        Some(Message::Pong(_)) | None => {}
                        Some(Message::Close(c)) => {
                            let code = c.map(|(code, _)| code).unwrap_or(CloseCode::NORMAL);
                            let frame = match c {
                                Some(_) => OutFrame::close(code, ""),
                                None => OutFrame::new(OpCode::Close, b""),
                            };
                            out.extend_from_slice(frame.bytes());
                            close = true;
                        }
                    }
                    pos += n;
                    if close {
                        break;
                    }
                }
                Err(e) => {
                    out.extend_from_slice(OutFrame::close(e.close_code(), "").bytes());
                    close = true;
                    break;
                }
            }
        }
        buf.drain(..pos);
        if !out.is_empty() {
            let (res, b) = stream.write_all(out).await;
            out = b;
            out.clear();
            if res.is_err() {
                return;
            }
        }
        if close {
            return;
        }
        match read(&mut stream, buf).await {
            Some(b) => buf = b,
            None => return,
        }
    }
}

/// Appends `payload` as one compressed frame (RSV1, RFC 7692 §6), whatever its size.
fn append_compressed(d: &mut Deflater, out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    let mut body = Vec::new();
    if !d.compress(payload, &mut body) {
        out.extend_from_slice(OutFrame::new(opcode, payload).bytes());
        return;
    }
    let header = FrameHeader {
        fin: true,
        rsv: 0b100,
        opcode,
        mask: None,
        payload_len: body.len() as u64,
    };
    let mut head = [0; MAX_HEADER];
    let n = header.encode(&mut head);
    out.extend_from_slice(&head[..n]);
    out.extend_from_slice(&body);
}

async fn read(stream: &mut TcpStream, mut buf: Vec<u8>) -> Option<Vec<u8>> {
    if buf.capacity() - buf.len() < 2048 {
        buf.reserve(buf.len().max(4096));
    }
    let len = buf.len();
    let (res, slice) = stream.read(buf.slice_mut(len..)).await;
    match res {
        Ok(n) if n > 0 => Some(slice.into_inner()),
        _ => None,
    }
}
