//! The server API (issue #14): what Node or python-socketio server code would ask of its
//! `io` object, as HTTP endpoints behind the publish API's Bearer keys, JSON in and out.
//!
//! - `GET /api/v1/rooms/{room}`: how many sockets are in a room and which users, paginated;
//! - `GET /api/v1/users/{sub}`: a user's sockets, their rooms, transport, connect time, node;
//! - `POST /api/v1/rooms/{room}/join|leave` `{"sockets"|"users": [...]}`: server-side
//!   subscribe/unsubscribe, the client told `subscribed`/`unsubscribed` as if it had asked;
//! - `POST /api/v1/disconnect` `{"sockets"|"users"|"rooms": [...], "reason"}`: a Socket.IO
//!   DISCONNECT (`41`), after which socket.io-client does not reconnect by itself;
//! - `POST /api/v1/revoke` `{"sub"|"jti", "until"}`: disconnects the matching sockets and
//!   refuses those tokens (CONNECT, `auth:refresh`) until `until` ([`revoke`]).
//!
//! Every endpoint first finds its sockets with one fetch-sockets query (clustered: the
//! adapter's REMOTE_FETCH, which Node socket.io nodes answer too), waiting at most
//! `redis_request_timeout_ms`; the answer says how many nodes answered (`nodes_answered`) and
//! whether all did (`complete`). A command is then applied to exactly the sockets found, by
//! id: on this node's cores, and on the others as REMOTE_JOIN / REMOTE_LEAVE /
//! REMOTE_DISCONNECT (`close: false`) whose `opts.rooms` are those ids. A socket that joins
//! between the query and the command is not included. A room or user nobody is in is not an
//! error: 200 with empty results.
//!
//! The submodules: `parse` validates requests, `answer` builds the JSON bodies, `revoke`
//! keeps the revocations.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::cluster_link::ClusterLink;
use crate::auth::ApiKeys;
use crate::engine::adapter::{RemoteCommand, Selector, SocketInfo};
use crate::engine::{self, Cores, HttpReply, HttpRequest, HttpResponse, Room};
use crate::metrics::GatewayStats;

mod answer;
mod parse;
pub mod revoke;

pub(super) use answer::Found;
pub use parse::handles;
use parse::{ApiError, Endpoint, Targets};
use revoke::Revoked;

/// What the endpoints need of the gateway.
pub(super) struct Context<'a> {
    pub api_keys: &'a ApiKeys,
    pub cluster: &'a ClusterLink,
    pub stats: &'a Arc<GatewayStats>,
}

/// Serves a request whose path [`handles`] accepted.
pub(super) fn serve(
    cx: &Context<'_>,
    req: &HttpRequest<'_>,
    server: &mut engine::Emitter<'_>,
) -> HttpReply {
    use ringcast_codec::http::Method;
    let label = parse::endpoint_label(req.head.path);
    if !cx.api_keys.check_bearer(req.head.authorization) {
        cx.stats.server_api_request(label, 401);
        let mut r = HttpResponse::json(401, r#"{"error":"missing or invalid API key"}"#);
        r.headers.push(("WWW-Authenticate", "Bearer".to_owned()));
        return HttpReply::Now(r);
    }
    let now = revoke::now_secs();
    let request = parse::Request {
        get: req.head.method == Method::Get,
        post: req.head.method == Method::Post,
        path: req.head.path,
        query: req.head.query,
        body: req.body,
        now,
    };
    let endpoint = match parse::parse_request(&request) {
        Some(Ok(e)) => e,
        Some(Err(e)) => return HttpReply::Now(refusal(cx, label, &e)),
        None => {
            cx.stats.server_api_request(label, 404);
            return HttpReply::Now(HttpResponse::json(404, r#"{"error":"not found"}"#));
        }
    };
    let job = Job::new(server.cores(), cx.cluster);
    let stats = cx.stats.clone();
    let revocations = cx.cluster.revocations().clone();
    HttpReply::Later(Box::pin(async move {
        let (status, body) = match job.run(endpoint, &revocations, now).await {
            Ok(body) => (200, body),
            Err(e) => (e.status, e.to_json()),
        };
        stats.server_api_request(label, status);
        HttpResponse::json(status, body)
    }))
}

fn refusal(cx: &Context<'_>, label: &'static str, e: &ApiError) -> HttpResponse {
    cx.stats.server_api_request(label, e.status);
    let mut r = HttpResponse::json(e.status, e.to_json());
    if let Some(allow) = e.allow {
        r.headers.push(("Allow", allow.to_owned()));
    }
    r
}

/// One request's work after validation: this node's cores and, clustered, the bridge. The
/// admin UI's cluster queries and commands run through it too (`super::admin_link`).
pub(super) struct Job {
    cores: Cores,
    #[cfg(feature = "cluster")]
    bridge: Option<Arc<crate::cluster::Bridge>>,
}

impl Job {
    /// A job on `cores` and, when this node is clustered, its bridge.
    pub(super) fn new(cores: Cores, cluster: &ClusterLink) -> Job {
        #[cfg(not(feature = "cluster"))]
        let _ = cluster;
        Job {
            cores,
            #[cfg(feature = "cluster")]
            bridge: cluster.bridge(),
        }
    }

    async fn run(
        &self,
        endpoint: Endpoint,
        revocations: &revoke::Revocations,
        now: u64,
    ) -> Result<String, ApiError> {
        // Refused before anything is changed here, rather than half done.
        #[cfg(feature = "cluster")]
        if !matches!(
            endpoint,
            Endpoint::RoomInfo { .. } | Endpoint::UserInfo { .. }
        ) && self.bridge.as_ref().is_some_and(|b| !b.sends_requests())
        {
            return Err(cluster_error(crate::cluster::ClusterError::Unsupported));
        }
        match endpoint {
            Endpoint::RoomInfo { room, page } => {
                let found = self.fetch(vec![room.clone()]).await?;
                Ok(answer::room(room.as_str(), &page, &found))
            }
            Endpoint::UserInfo { sub } => {
                // The user's room: only its sockets answer, on every node.
                let found = self.fetch(vec![user_room(&sub, "sub")?]).await?;
                Ok(answer::user(&sub, &found))
            }
            Endpoint::Membership {
                room,
                leave,
                targets,
            } => {
                let (found, ids) = self.find(&targets).await?;
                let selector = by_ids(&ids);
                let rooms = vec![room.clone()];
                let command = if leave {
                    RemoteCommand::Leave { selector, rooms }
                } else {
                    RemoteCommand::Join { selector, rooms }
                };
                self.apply(command, ids.is_empty()).await?;
                Ok(answer::applied(
                    serde_json::json!({ "room": room.as_str() }),
                    &ids,
                    &found,
                ))
            }
            Endpoint::Disconnect { targets, reason } => {
                let (found, ids) = self.find(&targets).await?;
                self.disconnect(&ids).await?;
                tracing::info!(sockets = ids.len(), reason = %reason, "server API: disconnected sockets");
                Ok(answer::applied(
                    serde_json::json!({ "reason": reason }),
                    &ids,
                    &found,
                ))
            }
            Endpoint::Revoke { who, until } => {
                revocations.add(who.clone(), until, now);
                self.spread(&who, until).await?;
                let found = self.fetch(Vec::new()).await?;
                let ids: Vec<String> = found
                    .sockets
                    .iter()
                    .filter(|s| matches_revoked(s, &who))
                    .map(|s| s.id.clone())
                    .collect();
                self.disconnect(&ids).await?;
                tracing::info!(sockets = ids.len(), until, "server API: token revoked");
                Ok(answer::applied(
                    serde_json::json!({ "revoked": who.to_json(until) }),
                    &ids,
                    &found,
                ))
            }
        }
    }

    /// The sockets `targets` designate, and their ids (sorted, distinct).
    async fn find(&self, targets: &Targets) -> Result<(Found, Vec<String>), ApiError> {
        let rooms: Vec<Room> = match targets {
            Targets::Sockets(ids) => ids.iter().map(|id| Room::from(id.as_str())).collect(),
            Targets::Rooms(rooms) => rooms.clone(),
            // Their `user:{id}` rooms, which every socket of theirs joined at connect.
            Targets::Users(users) => users
                .iter()
                .map(|u| user_room(u, "users"))
                .collect::<Result<_, _>>()?,
        };
        let found = self.fetch(rooms).await?;
        let mut ids: Vec<String> = found.sockets.iter().map(|s| s.id.clone()).collect();
        ids.sort();
        ids.dedup();
        Ok((found, ids))
    }

    async fn disconnect(&self, ids: &[String]) -> Result<(), ApiError> {
        // `close: false`: the Socket.IO DISCONNECT (`41`), which socket.io-client reads as
        // "io server disconnect" and does not reconnect after. A server-side disconnect is
        // never saved for connection state recovery.
        let command = RemoteCommand::Disconnect {
            selector: by_ids(ids),
            close: false,
        };
        self.apply(command, ids.is_empty()).await
    }

    /// Applies `command` here and sends it to the other nodes (unless it selects nothing:
    /// an empty `opts.rooms` would mean every socket).
    pub(super) async fn apply(
        &self,
        command: RemoteCommand,
        nothing: bool,
    ) -> Result<(), ApiError> {
        if nothing {
            return Ok(());
        }
        self.cores.apply(&command);
        // Each core takes its injected messages in order: once every core has answered a
        // fetch sent after the command, the command has been applied here, so the answer
        // (and a broadcast sent after it) finds this node's sockets changed.
        let selector = match &command {
            RemoteCommand::Join { selector, .. }
            | RemoteCommand::Leave { selector, .. }
            | RemoteCommand::Disconnect { selector, .. } => selector.clone(),
        };
        self.cores.fetch_sockets(selector).await;
        #[cfg(feature = "cluster")]
        if let Some(bridge) = &self.bridge {
            bridge.command(command).await.map_err(cluster_error)?;
        }
        Ok(())
    }

    /// Tells the other nodes of a revocation.
    async fn spread(&self, who: &Revoked, until: u64) -> Result<(), ApiError> {
        #[cfg(feature = "cluster")]
        if let Some(bridge) = &self.bridge {
            let data = revoke::message(who, until);
            bridge.server_side_emit(data).await.map_err(cluster_error)?;
        }
        #[cfg(not(feature = "cluster"))]
        let _ = (who, until);
        Ok(())
    }

    /// The sockets in any of `rooms` (every socket when empty): cluster-wide when clustered
    /// (the bridge waits at most `redis_request_timeout_ms` for the other nodes), else from
    /// every core.
    fn fetch(&self, rooms: Vec<Room>) -> Pin<Box<dyn Future<Output = Result<Found, ApiError>>>> {
        self.fetch_selected(Selector {
            nsp: Room::from("/"),
            rooms,
            except: Vec::new(),
        })
    }

    /// [`Job::fetch`] of any selector (the admin UI's `all_sockets` asks for every socket).
    pub(super) fn fetch_selected(
        &self,
        selector: Selector,
    ) -> Pin<Box<dyn Future<Output = Result<Found, ApiError>>>> {
        #[cfg(feature = "cluster")]
        if let Some(bridge) = &self.bridge {
            let gather = bridge.fetch_sockets(selector);
            return Box::pin(async move {
                let gathered = gather.await.map_err(cluster_error)?;
                Ok(Found {
                    sockets: gathered.items,
                    nodes_answered: gathered.responses + 1,
                    complete: gathered.complete,
                })
            });
        }
        let local = self.cores.fetch_sockets(selector);
        Box::pin(async move {
            Ok(Found {
                sockets: local.await,
                nodes_answered: 1,
                complete: true,
            })
        })
    }
}

/// A selector for exactly these sockets: in socket.io a socket id is also a room.
fn by_ids(ids: &[String]) -> Selector {
    Selector {
        nsp: Room::from("/"),
        rooms: ids.iter().map(|id| Room::from(id.as_str())).collect(),
        except: Vec::new(),
    }
}

fn matches_revoked(socket: &SocketInfo, who: &Revoked) -> bool {
    let Some(meta) = &socket.meta else {
        return false;
    };
    match who {
        Revoked::Sub(sub) => meta.sub.as_deref() == Some(sub.as_str()),
        Revoked::Jti(jti) => meta.jti.as_deref() == Some(jti.as_str()),
    }
}

/// A cluster operation that could not run: 503 (Redis down, bridge stopped), or 501 where the
/// cluster protocol lacks the message (sharded mode's commands).
#[cfg(feature = "cluster")]
fn cluster_error(e: crate::cluster::ClusterError) -> ApiError {
    use crate::cluster::ClusterError;
    let (status, message) = match e {
        ClusterError::Unavailable => (503, "redis unavailable: the other nodes cannot be reached"),
        ClusterError::Stopped => (503, "the cluster bridge has stopped"),
        ClusterError::Unsupported => (
            501,
            "not supported in cluster_mode = \"sharded\" (it has no REMOTE_JOIN/LEAVE/DISCONNECT or SERVER_SIDE_EMIT here); use pubsub or streams",
        ),
    };
    ApiError {
        status,
        field: "cluster",
        message: message.to_owned(),
        allow: None,
    }
}

/// The room of user `sub` (a 400 at `field` for an id no token can name).
fn user_room(sub: &parse::Sub, field: &'static str) -> Result<Room, ApiError> {
    crate::gateway::user_room(&sub.0).map_err(|e| ApiError::bad(field, e.to_string()))
}
