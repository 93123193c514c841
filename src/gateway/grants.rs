//! Room grants and token refresh: what a token's `rooms` claim allows when `room_policy` is
//! `claims`, and the `auth:refresh` event by which a connected client replaces its token before
//! (or shortly after, within `token_expiry_grace_ms`) the old one's `exp`.
//!
//! A grant pattern is one of:
//!
//! | pattern                                 | grants                   |
//! |-----------------------------------------|--------------------------|
//! | `task:123`, `dashboard`                 | exactly that room        |
//! | `agent:*`, `task:*`, `conversation:*`   | every room of that kind  |
//! | `*`                                     | every room               |
//!
//! Anything else grants nothing: no prefix wildcards (`agent:12*`), no case folding, no
//! trimming, since a claim that is not understood must not widen access. `*` is not a valid id
//! character ([`parse_room`]), so a wildcard can never be read as an exact room, nor a room as
//! a wildcard.

use serde::Deserialize;

use super::events::{Member, first_object};
use super::room_names::parse_room;
use crate::auth::MAX_TOKEN_LEN;

/// The client event carrying a fresh token: `auth:refresh` with `[{"token": "<jwt>"}]`.
pub const EV_AUTH_REFRESH: &str = "auth:refresh";

/// Whether any of `patterns` (a token's `rooms` claim) grants `room`. A room that is not valid
/// ([`parse_room`]) is never granted, whatever the patterns say, so even `*` only reaches the
/// spec's four kinds of room.
pub fn room_granted(patterns: &[String], room: &str) -> bool {
    if parse_room(room).is_err() {
        return false;
    }
    // `dashboard` has no kind; every other valid room is `kind:id` with a non-empty kind.
    let kind = room.split_once(':').map(|(kind, _)| kind);
    patterns.iter().any(|pattern| {
        pattern == "*"
            || pattern == room
            || kind.is_some_and(|kind| pattern.strip_suffix(":*") == Some(kind))
    })
}

/// Reads the arguments of `auth:refresh` (`[{"token": "<jwt>"}]`, only the first is read) and
/// returns the token, still to be verified. The error names the event and the problem, for the
/// client's `error` event; it never quotes the token, which is a credential.
pub fn parse_refresh(args_json: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct RefreshData<'a> {
        #[serde(borrow, default)]
        token: Member<'a>,
    }
    const EV: &str = EV_AUTH_REFRESH;
    let data = first_object(EV, args_json, r#"{"token": "<jwt>"}"#)?;
    let data: RefreshData<'_> = serde_json::from_str(data.get())
        .map_err(|_| format!("{EV}: data must have a single \"token\""))?;
    let raw = data
        .token
        .0
        .ok_or_else(|| format!("{EV}: missing \"token\""))?;
    let token: String =
        serde_json::from_str(raw.get()).map_err(|_| format!("{EV}: \"token\" must be a string"))?;
    if token.is_empty() {
        return Err(format!("{EV}: \"token\" is empty"));
    }
    // The verifier refuses these too; saying why here spares the client a bare "invalid token".
    if token.len() > MAX_TOKEN_LEN {
        return Err(format!(
            "{EV}: \"token\" is longer than {MAX_TOKEN_LEN} bytes"
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[patterns] room => granted`.
    macro_rules! grant_cases {
        ($($name:ident: [$($p:expr),*] $room:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                let patterns: Vec<String> = vec![$(String::from($p)),*];
                let room: String = $room.into();
                assert_eq!(room_granted(&patterns, &room), $want, "{patterns:?} {room:?}");
            }
        )*};
    }

    grant_cases! {
        exact_task: ["task:123"] "task:123" => true;
        exact_dashboard: ["dashboard"] "dashboard" => true;
        exact_is_not_prefix: ["task:12"] "task:123" => false;
        exact_other_kind_same_id: ["task:123"] "agent:123" => false;
        exact_case_sensitive: ["Task:123"] "task:123" => false;
        exact_not_trimmed: [" task:123"] "task:123" => false;
        agent_wildcard: ["agent:*"] "agent:a-1" => true;
        task_wildcard: ["task:*"] "task:123e4567-e89b-12d3-a456-426614174000" => true;
        conversation_wildcard: ["conversation:*"] "conversation:c1" => true;
        wildcard_other_kind: ["agent:*"] "task:1" => false;
        wildcard_not_dashboard: ["agent:*", "task:*", "conversation:*"] "dashboard" => false;
        dashboard_wildcard_grants_nothing: ["dashboard:*"] "dashboard" => false;
        unknown_kind_wildcard: ["user:*"] "user:1" => false;
        kind_without_colon: ["agent*"] "agent:1" => false;
        prefix_wildcard_unsupported: ["agent:1*"] "agent:12" => false;
        bare_colon_star: [":*"] "agent:1" => false;
        double_star: ["**"] "agent:1" => false;
        star_grants_agent: ["*"] "agent:1" => true;
        star_grants_dashboard: ["*"] "dashboard" => true;
        star_not_invalid_room: ["*"] "user:1" => false;
        exact_invalid_room_never: ["agent:a b"] "agent:a b" => false;
        wildcard_empty_id: ["agent:*"] "agent:" => false;
        star_empty_room: ["*"] "" => false;
        wildcard_star_room_is_invalid: ["agent:*"] "agent:*" => false;
        empty_claim: [] "dashboard" => false;
        empty_pattern: [""] "dashboard" => false;
        any_of_several: ["task:1", "conversation:*", "agent:9"] "agent:9" => true;
        none_of_several: ["task:1", "conversation:*", "agent:9"] "agent:8" => false;
    }

    /// `args_json => Ok(token) | Err(message)`.
    macro_rules! refresh_cases {
        ($($name:ident: $args:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                let want: Result<&str, &str> = $want;
                assert_eq!(
                    parse_refresh($args),
                    want.map(str::to_owned).map_err(str::to_owned),
                    "{:?}", $args
                );
            }
        )*};
    }

    refresh_cases! {
        refresh_token: r#"[{"token":"aaa.bbb.ccc"}]"# => Ok("aaa.bbb.ccc");
        refresh_spaced: r#" [ { "token" : "aaa.bbb.ccc" } ] "# => Ok("aaa.bbb.ccc");
        refresh_escaped: r#"[{"token":"a\u002eb"}]"# => Ok("a.b");
        refresh_extra_fields: r#"[{"token":"t","x":1}]"# => Ok("t");
        refresh_extra_args: r#"[{"token":"t"},"more"]"# => Ok("t");
        refresh_not_array: r#"{"token":"t"}"# => Err("auth:refresh: arguments must be a JSON array");
        refresh_bad_json: "[{" => Err("auth:refresh: arguments must be a JSON array");
        refresh_no_args: "[]" => Err(r#"auth:refresh: missing data, expected {"token": "<jwt>"}"#);
        refresh_bare_string: r#"["aaa.bbb.ccc"]"# => Err(r#"auth:refresh: data must be an object, expected {"token": "<jwt>"}"#);
        refresh_null_data: "[null]" => Err(r#"auth:refresh: data must be an object, expected {"token": "<jwt>"}"#);
        refresh_missing: r#"[{"tokens":"t"}]"# => Err(r#"auth:refresh: missing "token""#);
        refresh_number: r#"[{"token":5}]"# => Err(r#"auth:refresh: "token" must be a string"#);
        refresh_null: r#"[{"token":null}]"# => Err(r#"auth:refresh: "token" must be a string"#);
        refresh_object: r#"[{"token":{"jwt":"t"}}]"# => Err(r#"auth:refresh: "token" must be a string"#);
        refresh_duplicate: r#"[{"token":"a","token":"b"}]"# => Err(r#"auth:refresh: data must have a single "token""#);
        refresh_empty: r#"[{"token":""}]"# => Err(r#"auth:refresh: "token" is empty"#);
    }

    #[test]
    fn refresh_token_length_bound() {
        let at_bound = "a".repeat(MAX_TOKEN_LEN);
        let args = format!(r#"[{{"token":"{at_bound}"}}]"#);
        assert_eq!(parse_refresh(&args), Ok(at_bound));
        let over = "a".repeat(MAX_TOKEN_LEN + 1);
        let args = format!(r#"[{{"token":"{over}"}}]"#);
        assert_eq!(
            parse_refresh(&args),
            Err(format!(
                "auth:refresh: \"token\" is longer than {MAX_TOKEN_LEN} bytes"
            ))
        );
    }

    #[test]
    fn refresh_errors_never_quote_the_token() {
        for args in [
            r#"[{"token":"secret-jwt","token":"secret-jwt"}]"#,
            r#"["secret-jwt"]"#,
            r#"[{"token":["secret-jwt"]}]"#,
        ] {
            let err = parse_refresh(args).expect_err("refused");
            assert!(!err.contains("secret-jwt"), "{err}");
        }
    }
}
