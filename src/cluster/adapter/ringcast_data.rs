//! What ringcast adds to the adapter's messages for the server API: the `data.ringcast`
//! object of its fetch-sockets answers (a Node node reads `socket.data` and never this key),
//! and the commands and server-side emits it sends the other nodes.

use ringcast_codec::json::write_str;

use super::{Json, RequestType, obj_start, str_array};
use crate::engine::Room;
use crate::engine::adapter::{RemoteCommand, SocketMeta};

/// REMOTE_JOIN / REMOTE_LEAVE (`{"uid","type":2|3,"opts":{"rooms","except"},"rooms":[..]}`)
/// and REMOTE_DISCONNECT (`{"uid","type":4,"opts":{..},"close":bool}`): the forms
/// `socketsJoin`, `socketsLeave` and `disconnectSockets` send, which every node applies to its
/// matching sockets without answering.
pub fn command_request(uid: &str, command: &RemoteCommand) -> Vec<u8> {
    let (kind, selector) = match command {
        RemoteCommand::Join { selector, .. } => (RequestType::RemoteJoin, selector),
        RemoteCommand::Leave { selector, .. } => (RequestType::RemoteLeave, selector),
        RemoteCommand::Disconnect { selector, .. } => (RequestType::RemoteDisconnect, selector),
    };
    let mut out = Vec::with_capacity(128);
    obj_start(&mut out, "uid", uid);
    out.extend_from_slice(format!(",\"type\":{},\"opts\":{{\"rooms\":", kind as u8).as_bytes());
    str_array(&mut out, selector.rooms.iter().map(Room::as_str));
    out.extend_from_slice(b",\"except\":");
    str_array(&mut out, selector.except.iter().map(Room::as_str));
    out.push(b'}');
    match command {
        RemoteCommand::Join { rooms, .. } | RemoteCommand::Leave { rooms, .. } => {
            out.extend_from_slice(b",\"rooms\":");
            str_array(&mut out, rooms.iter().map(Room::as_str));
        }
        RemoteCommand::Disconnect { close, .. } => {
            out.extend_from_slice(if *close {
                b",\"close\":true"
            } else {
                b",\"close\":false"
            });
        }
    }
    out.push(b'}');
    out
}

/// SERVER_SIDE_EMIT without an ack: `{"uid","type":6,"data":[event, ...args]}` (`data_json`
/// is the array's JSON text). A Node node without a listener for the event ignores it.
pub fn server_side_emit_request(uid: &str, data_json: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + data_json.len());
    obj_start(&mut out, "uid", uid);
    out.extend_from_slice(b",\"type\":6,\"data\":");
    out.extend_from_slice(data_json.as_bytes());
    out.push(b'}');
    out
}

/// A peer's `data.ringcast` (see [`fetch_response`]); missing fields read as unknown.
pub(super) fn socket_meta(value: &Json) -> SocketMeta {
    SocketMeta {
        sub: value.get("sub").and_then(Json::as_str).map(str::to_owned),
        transport: value
            .get("transport")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned(),
        connected_at_ms: match value.get("connectedAt") {
            Some(Json::UInt(n)) => *n,
            _ => 0,
        },
        node: value.get("node").and_then(Json::as_str).map(str::to_owned),
        jti: value.get("jti").and_then(Json::as_str).map(str::to_owned),
    }
}

/// A fetched socket's `"data"`: `{}` (socket.io's default) without meta, else
/// `{"ringcast":{"sub","transport","connectedAt","node"?,"jti"?}}`.
pub(super) fn write_data(out: &mut Vec<u8>, meta: Option<&SocketMeta>) {
    let Some(meta) = meta else {
        out.extend_from_slice(b",\"data\":{}}");
        return;
    };
    out.extend_from_slice(b",\"data\":{\"ringcast\":{\"sub\":");
    match &meta.sub {
        Some(sub) => write_str(out, sub),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"transport\":");
    write_str(out, &meta.transport);
    out.extend_from_slice(b",\"connectedAt\":");
    out.extend_from_slice(meta.connected_at_ms.to_string().as_bytes());
    if let Some(node) = &meta.node {
        out.extend_from_slice(b",\"node\":");
        write_str(out, node);
    }
    if let Some(jti) = &meta.jti {
        out.extend_from_slice(b",\"jti\":");
        write_str(out, jti);
    }
    out.extend_from_slice(b"}}}");
}

#[cfg(test)]
mod tests {
    use super::super::{Request, decode_request, decode_response, fetch_response};
    use super::*;
    use crate::engine::adapter::{Selector, SocketInfo};

    #[test]
    fn meta_survives_a_fetch_answer_and_plain_data_reads_as_none() {
        let meta = SocketMeta {
            sub: Some("al\"ice".to_owned()),
            transport: "polling".to_owned(),
            connected_at_ms: 1_796_396_400_123,
            node: Some("AbC123".to_owned()),
            jti: Some("t-1".to_owned()),
        };
        let sockets = [
            SocketInfo {
                id: "s1".to_owned(),
                rooms: vec!["s1".to_owned()],
                meta: Some(meta),
            },
            SocketInfo {
                id: "s2".to_owned(),
                rooms: vec!["s2".to_owned()],
                meta: None,
            },
        ];
        let decoded = decode_response(&fetch_response("r1", &sockets)).expect("decodes");
        assert_eq!(decoded.sockets.as_deref(), Some(&sockets[..]));
    }

    #[test]
    fn commands_decode_as_the_adapter_reads_them() {
        let selector = Selector {
            nsp: Room::from("/"),
            rooms: vec![Room::from("sid1"), Room::from("sid2")],
            except: Vec::new(),
        };
        let rows = [
            RemoteCommand::Join {
                selector: selector.clone(),
                rooms: vec![Room::from("task:1")],
            },
            RemoteCommand::Leave {
                selector: selector.clone(),
                rooms: vec![Room::from("task:1")],
            },
            RemoteCommand::Disconnect {
                selector,
                close: false,
            },
        ];
        for command in rows {
            let payload = command_request("me1234", &command);
            match decode_request(&payload, "/") {
                Ok(Request::Command { uid, command: got }) => {
                    assert_eq!(uid.as_deref(), Some("me1234"));
                    assert_eq!(got, command);
                }
                other => panic!("{command:?} decoded as {other:?}"),
            }
        }
        let emit =
            server_side_emit_request("me1234", r#"["ringcast:revoke",{"sub":"a","until":1}]"#);
        match decode_request(&emit, "/") {
            Ok(Request::ServerSideEmit {
                data, request_id, ..
            }) => {
                assert_eq!(request_id, None);
                assert_eq!(
                    data.as_deref(),
                    Some(r#"["ringcast:revoke",{"sub":"a","until":1}]"#)
                );
            }
            other => panic!("decoded as {other:?}"),
        }
    }
}
