//! Plain HTTP requests outside the Engine.IO paths: handed to the application's
//! [`Handler::on_http`](crate::engine::Handler::on_http); a broadcast reply runs on every core
//! before the answer is written.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

use monoio::net::TcpStream;
use ringcast_codec::Status;
use ringcast_codec::http::{self, Method};

use super::{Head, preflight, write};
use crate::engine::adapter::PublishAck;
use crate::engine::delivery::ReplyToken;
use crate::engine::worker::with_worker;
use crate::engine::{
    BroadcastOp, BroadcastOutcome, Emitter, HttpReply, HttpRequest, HttpResponse, Msg,
};

/// The head again, borrowed from the buffer (the owned [`Head`] kept only what routing needs).
fn reparse(buf: &[u8], head_len: usize) -> Option<http::Request<'_>> {
    let limits = http::Limits {
        max_head: head_len.max(1),
        max_headers: 256,
    };
    match http::parse_request(&buf[..head_len], &limits) {
        Ok(Status::Complete(req)) => Some(req),
        _ => None,
    }
}

/// Serves a plain HTTP request (outside the Engine.IO paths) through the handler's `on_http`.
pub(super) async fn other_request(
    stream: TcpStream,
    peer: SocketAddr,
    buf: Vec<u8>,
    head: &Head,
    mut out: Vec<u8>,
) -> (Option<TcpStream>, Vec<u8>, Vec<u8>) {
    let cors = head.cors_refs();
    if head.method == Method::Options {
        preflight(&mut out, head);
        return match write(stream, buf, out).await {
            Some((s, b, o)) => (Some(s), b, o),
            None => (None, Vec::new(), Vec::new()),
        };
    }
    let reply = {
        let Some(req) = reparse(&buf, head.head_len) else {
            return (None, buf, out);
        };
        let body = &buf[head.head_len..head.head_len + head.content_length];
        with_worker(|w| {
            w.stats().http_requests.add(1);
            let handler = w.handler.clone();
            let mut emitter = Emitter { worker: w };
            handler.on_http(
                &HttpRequest {
                    head: &req,
                    body,
                    peer,
                },
                &mut emitter,
            )
        })
    };
    let response = match reply {
        None => HttpResponse::json(404, "{\"error\":\"not found\"}"),
        Some(HttpReply::Now(r)) => r,
        Some(HttpReply::Broadcast { ops, respond }) => {
            let outcome = broadcast_and_count(ops).await;
            respond(&outcome)
        }
        Some(HttpReply::Later(answer)) => answer.await,
    };
    let mut extra: Vec<(&str, &str)> = cors.clone();
    for (k, v) in &response.headers {
        extra.push((k, v.as_str()));
    }
    http::write_response(
        &mut out,
        response.status,
        response.content_type,
        &extra,
        head.keep_alive,
        &response.body,
    );
    match write(stream, buf, out).await {
        Some((s, b, o)) => (Some(s), b, o),
        None => (None, Vec::new(), Vec::new()),
    }
}

/// How long a publish waits for every answer: other cores' counts (immediate) and, clustered,
/// the Redis bridge's acknowledgements. The bridge answers each publication within its own
/// deadlines (1 s per PUBLISH, plus its queue), so this is a backstop: 5 s, the bridge's
/// default cluster request timeout. Past it the unanswered events report `no_answer`.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `ops` on every core that has recipients (and publishes them to other nodes when
/// clustered, each with an acknowledgement to wait for), then waits for every answer or
/// [`ANSWER_TIMEOUT`].
async fn broadcast_and_count(ops: Vec<BroadcastOp>) -> BroadcastOutcome {
    let n = ops.len().min(ReplyToken::MAX_BATCH);
    let slot = with_worker(|w| {
        let slot = w.pending.open(n);
        let clustered = w.publisher.is_some();
        // Streams mode: the adapter, not this core, delivers the event here; it reports the
        // count as another core would (a `Delivered`).
        let counted = w.publisher.as_ref().is_some_and(|p| p.delivers_locally());
        for (i, op) in ops.into_iter().take(n).enumerate() {
            let token = ReplyToken::new(slot, i);
            let ack = clustered.then(|| {
                w.pending.awaiting_ack(slot, i);
                let (mesh, shard) = (w.mesh.clone(), w.shard);
                let counts = mesh.clone();
                let ack = PublishAck::new(move |outcome| {
                    mesh.inject(shard, Msg::Published { token, outcome })
                });
                if counted {
                    ack.counting(move |c| {
                        counts.inject(shard, Msg::Delivered { token, count: c.0 })
                    })
                } else {
                    ack
                }
            });
            let sent = w.broadcast(op, Some(token), ack);
            w.pending.sent(slot, i, sent.local, sent.cores_asked);
        }
        slot
    });
    let wait = poll_fn(
        |cx| match with_worker(|w| w.pending.poll_done(slot, cx.waker())) {
            Some(done) => Poll::Ready(done),
            None => Poll::Pending,
        },
    );
    let mut done = match monoio::time::timeout(ANSWER_TIMEOUT, wait).await {
        Ok(done) => done,
        Err(_) => with_worker(|w| w.pending.abandon(slot)),
    };
    done.counts.resize(n, 0);
    done.cluster.resize(n, None);
    BroadcastOutcome {
        delivered: done.counts,
        cluster: done.cluster,
    }
}
