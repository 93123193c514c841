//! The gateway: the product on top of the engine. [`run`] starts it from a configuration;
//! [`Gateway`] is its engine [`Handler`](crate::engine::Handler).
//!
//! The rest are the gateway's rules, from the WebSocket API spec (summarized in the README's
//! "Behaviour" and "Publish API"): which rooms exist, what the three client events mean, and
//! what the publish API accepts and where it routes each of the eight server events. Beyond the
//! spec: which rooms a token's `rooms` claim grants ([`room_granted`]) and the `auth:refresh`
//! event ([`parse_refresh`]).
//!
//! Pure functions over text: the runtime hands in an event's name and JSON arguments or an HTTP
//! body, and gets back a value saying what to do ([`ClientAction`], [`Publish`]) or what to
//! answer (the `reply_*` JSON texts, [`InvalidPublish::to_json`]). Time is a parameter.

mod admin_link;
mod cluster_link;
mod events;
mod grants;
mod handler;
mod log_budget;
mod publish;
mod room_names;
mod run;
mod server_api;
mod summary;
mod user_rooms;

pub use events::{
    ClientAction, EV_ERROR, EV_HEARTBEAT_ACK, EV_SUBSCRIBED, EV_UNSUBSCRIBED, handle_client_event,
    reply_error, reply_subscribed, reply_unsubscribed,
};
pub use grants::{EV_AUTH_REFRESH, parse_refresh, room_granted};
pub use handler::{EV_AUTH_REFRESHED, Gateway, SocketState};
pub use publish::{
    InvalidPublish, MAX_PUBLISH_ITEMS, MAX_PUBLISH_ROOMS, Publish, SERVER_EVENTS, iso8601_utc,
    parse_publish, publish_answer, unconfirmed_events,
};
pub use room_names::{DASHBOARD, MAX_ROOM_ID_LEN, RoomError, USER_KIND, parse_room};
pub use run::{engine_config, run};
pub use user_rooms::{UserClaimError, user_room, user_room_of};

/// Longest piece of caller text quoted back in an error message: a bounded echo keeps error
/// frames and 400 bodies small whatever the input.
const MAX_QUOTED: usize = 64;

/// `"text"` with Rust-style escapes, cut at [`MAX_QUOTED`] characters (then `…`).
fn quoted(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}
