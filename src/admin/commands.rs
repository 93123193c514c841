//! The UI's commands (typed-events.ts `ClientEvents`), parsed from the event's JSON arguments:
//!
//! ```text
//! emit: (nsp: string, filter: string | undefined, ev: string, ...args: any[]) => void;
//! join: (nsp: string, room: string, filter?: string) => void;
//! leave: (nsp: string, room: string, filter?: string) => void;
//! _disconnect: (nsp: string, close: boolean, filter?: string) => void;
//! ```
//!
//! `filter` is a room or a socket id (socket.io's `io.of(nsp).in(filter)`); absent or `null`:
//! every socket of the namespace.

use serde_json::Value;

use crate::engine::Room;

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    /// `io.of(nsp).in(filter).emit(event, ...args)`; `args` is the arguments' JSON,
    /// comma-separated, as the engine's encoders take it.
    Emit {
        nsp: Room,
        filter: Option<Room>,
        event: String,
        args: String,
    },
    /// `socketsJoin(room)`.
    Join {
        nsp: Room,
        room: Room,
        filter: Option<Room>,
    },
    /// `socketsLeave(room)`.
    Leave {
        nsp: Room,
        room: Room,
        filter: Option<Room>,
    },
    /// `disconnectSockets(close)`.
    Disconnect {
        nsp: Room,
        close: bool,
        filter: Option<Room>,
    },
}

/// Namespaces a command may name: the only two this server has.
const NAMESPACES: [&str; 2] = ["/", super::NAMESPACE];

/// `Ok(None)`: not a command (the event is ignored, as the package ignores unknown events).
pub(super) fn parse(event: &str, args: &str) -> Result<Option<Command>, String> {
    if !matches!(event, "emit" | "join" | "leave" | "_disconnect") {
        return Ok(None);
    }
    let args: Vec<Value> =
        serde_json::from_str(args).map_err(|_| format!("{event}: arguments are not JSON"))?;
    let text = |i: usize, what: &str| -> Result<String, String> {
        args.get(i)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("{event}: argument {} ({what}) must be a string", i + 1))
    };
    let filter = |i: usize| -> Result<Option<Room>, String> {
        match args.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(Room::from(s.as_str()))),
            Some(_) => Err(format!(
                "{event}: argument {} (filter) must be a string",
                i + 1
            )),
        }
    };
    let nsp = text(0, "namespace")?;
    if !NAMESPACES.contains(&nsp.as_str()) {
        return Err(format!("{event}: unknown namespace {nsp:?}"));
    }
    let nsp = Room::from(nsp.as_str());
    let command = match event {
        "emit" => Command::Emit {
            nsp,
            filter: filter(1)?,
            event: text(2, "event name")?,
            args: args
                .get(3..)
                .unwrap_or_default()
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(","),
        },
        "join" => Command::Join {
            nsp,
            room: Room::from(text(1, "room")?.as_str()),
            filter: filter(2)?,
        },
        "leave" => Command::Leave {
            nsp,
            room: Room::from(text(1, "room")?.as_str()),
            filter: filter(2)?,
        },
        _ => Command::Disconnect {
            nsp,
            close: args.get(1).and_then(Value::as_bool).unwrap_or(false),
            filter: filter(2)?,
        },
    };
    Ok(Some(command))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(s: &str) -> Room {
        Room::from(s)
    }

    #[test]
    fn commands_as_the_ui_sends_them() {
        let ok = [
            (
                "emit",
                r#"["/","task:9","note",{"a":1},2]"#,
                Command::Emit {
                    nsp: room("/"),
                    filter: Some(room("task:9")),
                    event: "note".into(),
                    args: r#"{"a":1},2"#.into(),
                },
            ),
            (
                "emit",
                r#"["/",null,"ping"]"#,
                Command::Emit {
                    nsp: room("/"),
                    filter: None,
                    event: "ping".into(),
                    args: String::new(),
                },
            ),
            (
                "join",
                r#"["/","vip","abc"]"#,
                Command::Join {
                    nsp: room("/"),
                    room: room("vip"),
                    filter: Some(room("abc")),
                },
            ),
            (
                "leave",
                r#"["/","vip"]"#,
                Command::Leave {
                    nsp: room("/"),
                    room: room("vip"),
                    filter: None,
                },
            ),
            (
                "_disconnect",
                r#"["/",true,"abc"]"#,
                Command::Disconnect {
                    nsp: room("/"),
                    close: true,
                    filter: Some(room("abc")),
                },
            ),
        ];
        for (event, args, want) in ok {
            assert_eq!(parse(event, args), Ok(Some(want)), "{event} {args}");
        }
        let bad = [
            ("emit", "not json", "not JSON"),
            ("emit", r#"["/other",null,"x"]"#, "unknown namespace"),
            ("emit", r#"["/",null]"#, "event name"),
            ("join", r#"["/",5]"#, "room"),
            ("leave", r#"["/","r",{}]"#, "filter"),
            ("_disconnect", r#"[]"#, "namespace"),
        ];
        for (event, args, part) in bad {
            let err = parse(event, args).expect_err(args);
            assert!(err.contains(part), "{event} {args}: {err}");
        }
        assert_eq!(parse("subscribe", "[]"), Ok(None));
    }
}
