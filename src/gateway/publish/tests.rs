use std::time::Duration;

use super::*;

/// 2026-11-26T00:00:00.000Z
const NOW_SECS: u64 = 1_795_651_200;
const TS: &str = "2026-11-26T00:00:00.000Z";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// `(event, rooms, data_json)`, for comparison.
type Flat = (&'static str, Vec<String>, String);

fn got(body: &str) -> Result<Vec<Flat>, InvalidPublish> {
    parse_publish(body.as_bytes(), now()).map(|items| {
        items
            .into_iter()
            .map(|p| {
                (
                    p.event,
                    p.rooms.iter().map(|r| r.as_str().to_owned()).collect(),
                    p.data_json,
                )
            })
            .collect()
    })
}

/// `body => [(event, [rooms], data_json)]`; `$TS` in the expected data is the filled timestamp.
macro_rules! ok_cases {
    ($($name:ident: $body:expr => [$(($event:expr, [$($room:expr),*], $data:expr)),*];)*) => {$(
        #[test]
        fn $name() {
            let want: Vec<Flat> =
                vec![$(($event, vec![$($room.to_owned()),*], $data.replace("$TS", TS))),*];
            assert_eq!(got($body), Ok(want));
        }
    )*};
}

ok_cases! {
    status_changed_routes_to_agent_and_dashboard:
        r#"{"event":"agent:status_changed","data":{"agent_id":"1","old_status":"idle","new_status":"busy"}}"#
        => [("agent:status_changed", ["agent:1", "dashboard"], r#"{"timestamp":"$TS","agent_id":"1","old_status":"idle","new_status":"busy"}"#)];
    heartbeat_without_metadata:
        r#"{"event":"agent:heartbeat","data":{"agent_id":"a-1"}}"#
        => [("agent:heartbeat", ["agent:a-1", "dashboard"], r#"{"timestamp":"$TS","agent_id":"a-1"}"#)];
    heartbeat_with_metadata:
        r#"{"event":"agent:heartbeat","data":{"agent_id":"a-1","metadata":{"cpu":0.5}}}"#
        => [("agent:heartbeat", ["agent:a-1", "dashboard"], r#"{"timestamp":"$TS","agent_id":"a-1","metadata":{"cpu":0.5}}"#)];
    task_created:
        r#"{"event":"task:created","data":{"task_id":"t1","task":{"title":"x"}}}"#
        => [("task:created", ["task:t1", "dashboard"], r#"{"timestamp":"$TS","task_id":"t1","task":{"title":"x"}}"#)];
    task_assigned_routes_to_task_agent_and_dashboard:
        r#"{"event":"task:assigned","data":{"task_id":"t1","agent_id":"a1","task":{}}}"#
        => [("task:assigned", ["task:t1", "agent:a1", "dashboard"], r#"{"timestamp":"$TS","task_id":"t1","agent_id":"a1","task":{}}"#)];
    task_updated:
        r#"{"event":"task:updated","data":{"task_id":"t1","update":{"progress":50}}}"#
        => [("task:updated", ["task:t1", "dashboard"], r#"{"timestamp":"$TS","task_id":"t1","update":{"progress":50}}"#)];
    task_completed_with_null_result:
        r#"{"event":"task:completed","data":{"task_id":"t1","result":null}}"#
        => [("task:completed", ["task:t1", "dashboard"], r#"{"timestamp":"$TS","task_id":"t1","result":null}"#)];
    conversation_message_goes_only_to_its_room:
        r#"{"event":"conversation:message","data":{"conversation_id":"c1","message":{"text":"hi"}}}"#
        => [("conversation:message", ["conversation:c1"], r#"{"timestamp":"$TS","conversation_id":"c1","message":{"text":"hi"}}"#)];
    system_alert_goes_to_dashboard:
        r#"{"event":"system:alert","data":{"message":"disk full","severity":"critical"}}"#
        => [("system:alert", ["dashboard"], r#"{"timestamp":"$TS","message":"disk full","severity":"critical"}"#)];
    uuid_ids:
        r#"{"event":"task:assigned","data":{"task_id":"123e4567-e89b-12d3-a456-426614174000","agent_id":"00000000-0000-0000-0000-000000000001","task":1}}"#
        => [("task:assigned", ["task:123e4567-e89b-12d3-a456-426614174000", "agent:00000000-0000-0000-0000-000000000001", "dashboard"],
             r#"{"timestamp":"$TS","task_id":"123e4567-e89b-12d3-a456-426614174000","agent_id":"00000000-0000-0000-0000-000000000001","task":1}"#)];
    integer_id_routes_as_digits:
        r#"{"event":"agent:heartbeat","data":{"agent_id":42}}"#
        => [("agent:heartbeat", ["agent:42", "dashboard"], r#"{"timestamp":"$TS","agent_id":42}"#)];
    escaped_id_is_unescaped_for_routing:
        r#"{"event":"agent:heartbeat","data":{"agent_id":"\u0061"}}"#
        => [("agent:heartbeat", ["agent:a", "dashboard"], r#"{"timestamp":"$TS","agent_id":"\u0061"}"#)];
    explicit_rooms_replace_routing:
        r#"{"event":"agent:status_changed","rooms":["task:9","dashboard","task:9"],"data":{"agent_id":"1","old_status":"a","new_status":"b"}}"#
        => [("agent:status_changed", ["task:9", "dashboard"], r#"{"timestamp":"$TS","agent_id":"1","old_status":"a","new_status":"b"}"#)];
    explicit_rooms_skip_id_room_validity:
        r#"{"event":"agent:heartbeat","rooms":["dashboard"],"data":{"agent_id":"not a room id"}}"#
        => [("agent:heartbeat", ["dashboard"], r#"{"timestamp":"$TS","agent_id":"not a room id"}"#)];
    given_timestamp_is_kept_verbatim:
        r#"{"event":"system:alert","data":{"message":"m","severity":"low","timestamp":"2020-01-01T00:00:00Z"}}"#
        => [("system:alert", ["dashboard"], r#"{"message":"m","severity":"low","timestamp":"2020-01-01T00:00:00Z"}"#)];
    data_bytes_are_forwarded_verbatim:
        "{\"event\":\"system:alert\",\"data\":{ \"severity\" : \"lo\\u0077\" ,\"message\":123456789012345678901234567890, \"n\": 1.50, \"x\":\"\\u00e9\" }}"
        => [("system:alert", ["dashboard"], "{\"timestamp\":\"$TS\", \"severity\" : \"lo\\u0077\" ,\"message\":123456789012345678901234567890, \"n\": 1.50, \"x\":\"\\u00e9\" }")];
    timestamp_with_offset_and_no_fraction:
        r#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"2026-11-26T01:00:00+01:00"}}"#
        => [("agent:heartbeat", ["agent:1", "dashboard"], r#"{"agent_id":"1","timestamp":"2026-11-26T01:00:00+01:00"}"#)];
    timestamp_with_microseconds:
        r#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"2026-11-26T00:00:00.123456Z"}}"#
        => [("agent:heartbeat", ["agent:1", "dashboard"], r#"{"agent_id":"1","timestamp":"2026-11-26T00:00:00.123456Z"}"#)];
    severity_any_string:
        r#"{"event":"system:alert","data":{"message":"m","severity":"sev-7 (custom)"}}"#
        => [("system:alert", ["dashboard"], r#"{"timestamp":"$TS","message":"m","severity":"sev-7 (custom)"}"#)];
    member_order_in_item_is_free:
        r#"{"data":{"message":"m","severity":"s"},"event":"system:alert"}"#
        => [("system:alert", ["dashboard"], r#"{"timestamp":"$TS","message":"m","severity":"s"}"#)];
    whitespace_around_body:
        " \n {\"event\":\"system:alert\",\"data\":{\"message\":\"m\",\"severity\":\"s\"}} \n"
        => [("system:alert", ["dashboard"], r#"{"timestamp":"$TS","message":"m","severity":"s"}"#)];
    array_body:
        r#"[{"event":"system:alert","data":{"message":"m","severity":"s"}},{"event":"agent:heartbeat","data":{"agent_id":"7"}}]"#
        => [("system:alert", ["dashboard"], r#"{"timestamp":"$TS","message":"m","severity":"s"}"#),
            ("agent:heartbeat", ["agent:7", "dashboard"], r#"{"timestamp":"$TS","agent_id":"7"}"#)];
}

/// `body => (field, fragment of the message)`.
macro_rules! error_cases {
    ($($name:ident: $body:expr => ($field:expr, $fragment:expr);)*) => {$(
        #[test]
        fn $name() {
            let body: &[u8] = $body;
            let err = parse_publish(body, now()).expect_err("must be refused");
            assert_eq!(err.field, $field, "{err}");
            assert!(err.message.contains($fragment), "{err}");
        }
    )*};
}

error_cases! {
    body_empty: b"" => ("body", "must be a JSON object or an array");
    body_not_json: b"nope" => ("body", "must be a JSON object or an array");
    body_string: br#""agent""# => ("body", "must be a JSON object or an array");
    body_number: b"5" => ("body", "must be a JSON object or an array");
    body_not_utf8: b"{\"event\":\"\xff\"}" => ("body", "not UTF-8");
    body_truncated: br#"{"event":"system:alert""# => ("body", "invalid JSON");
    body_trailing_garbage: br#"{"event":"system:alert","data":{"message":"m","severity":"s"}} x"# => ("body", "invalid JSON");
    body_empty_array: b"[]" => ("body", "empty array");
    body_array_truncated: b"[{}" => ("body", "invalid JSON");
    item_not_object: b"[1]" => ("[0]", "must be an object");
    second_item_bad: br#"[{"event":"system:alert","data":{"message":"m","severity":"s"}},{"event":"nope","data":{}}]"# => ("[1].event", "unknown event");
    second_item_missing_field: br#"[{"event":"system:alert","data":{"message":"m","severity":"s"}},{"event":"system:alert","data":{"message":"m"}}]"# => ("[1].data.severity", "missing");
    event_missing: br#"{"data":{}}"# => ("event", "missing");
    event_number: br#"{"event":1,"data":{}}"# => ("event", "must be a string");
    event_unknown: br#"{"event":"foo","data":{}}"# => ("event", r#"unknown event "foo" (expected one of agent:status_changed,"#);
    event_client_facing: br#"{"event":"subscribed","data":{"room":"dashboard"}}"# => ("event", "unknown event");
    event_case_sensitive: br#"{"event":"System:Alert","data":{"message":"m","severity":"s"}}"# => ("event", "unknown event");
    data_missing: br#"{"event":"system:alert"}"# => ("data", "missing");
    data_string: br#"{"event":"system:alert","data":"m"}"# => ("data", "must be an object");
    data_array: br#"{"event":"system:alert","data":[]}"# => ("data", "must be an object");
    data_null: br#"{"event":"system:alert","data":null}"# => ("data", "must be an object");
    data_duplicate_key: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","agent_id":"2"}}"# => ("data.agent_id", "duplicate key");
    item_duplicate_key: br#"{"event":"system:alert","event":"agent:heartbeat","data":{"agent_id":"1"}}"# => ("event", "duplicate key");
    item_unknown_field: br#"{"event":"system:alert","room":"dashboard","data":{"message":"m","severity":"s"}}"# => ("room", "unknown field (expected event, rooms, data, users, sockets, except_rooms, except_users, except_sockets)");
    status_changed_missing_new_status: br#"{"event":"agent:status_changed","data":{"agent_id":"1","old_status":"a"}}"# => ("data.new_status", "missing (required by agent:status_changed)");
    id_bool: br#"{"event":"agent:heartbeat","data":{"agent_id":true}}"# => ("data.agent_id", "must be a string or a non-negative integer");
    id_null: br#"{"event":"agent:heartbeat","data":{"agent_id":null}}"# => ("data.agent_id", "must be a string or a non-negative integer");
    id_negative: br#"{"event":"agent:heartbeat","data":{"agent_id":-1}}"# => ("data.agent_id", "must be a string or a non-negative integer");
    id_float: br#"{"event":"agent:heartbeat","data":{"agent_id":1.5}}"# => ("data.agent_id", "must be a string or a non-negative integer");
    id_object: br#"{"event":"agent:heartbeat","data":{"agent_id":{"id":1}}}"# => ("data.agent_id", "must be a string or a non-negative integer");
    id_typed_even_when_not_routed: br#"{"event":"system:alert","data":{"message":"m","severity":"s","task_id":[1]}}"# => ("data.task_id", "must be a string or a non-negative integer");
    id_bad_for_routing: br#"{"event":"agent:heartbeat","data":{"agent_id":"a b"}}"# => ("data.agent_id", "cannot route to agent:\"a b\"");
    id_empty_for_routing: br#"{"event":"task:created","data":{"task_id":"","task":{}}}"# => ("data.task_id", "room id is empty");
    assigned_bad_agent_id: br#"{"event":"task:assigned","data":{"task_id":"t","agent_id":"x/y","task":{}}}"# => ("data.agent_id", "cannot route");
    rooms_string: br#"{"event":"system:alert","rooms":"dashboard","data":{"message":"m","severity":"s"}}"# => ("rooms", "must be an array of room names");
    rooms_numbers: br#"{"event":"system:alert","rooms":[1],"data":{"message":"m","severity":"s"}}"# => ("rooms", "must be an array of room names");
    rooms_empty: br#"{"event":"system:alert","rooms":[],"data":{"message":"m","severity":"s"}}"# => ("rooms", "is empty (leave it out to route by event)");
    rooms_bad_first: br#"{"event":"system:alert","rooms":["users:1"],"data":{"message":"m","severity":"s"}}"# => ("rooms[0]", r#"invalid room "users:1": unknown room kind"#);
    rooms_user_room: br#"{"event":"system:alert","rooms":["dashboard","user:1"],"data":{"message":"m","severity":"s"}}"# => ("rooms[1]", r#"invalid room "user:1": user rooms are server-managed; name the user in "users" instead"#);
    except_rooms_user_room: br#"{"event":"system:alert","except_rooms":["user:1"],"data":{"message":"m","severity":"s"}}"# => ("except_rooms[0]", r#"user rooms are server-managed; name the user in "except_users" instead"#);
    except_rooms_empty: br#"{"event":"system:alert","except_rooms":[],"data":{"message":"m","severity":"s"}}"# => ("except_rooms", "is empty (leave it out)");
    users_string: br#"{"event":"system:alert","users":"alice","data":{"message":"m","severity":"s"}}"# => ("users", "must be an array of user ids");
    users_empty: br#"{"event":"system:alert","users":[],"data":{"message":"m","severity":"s"}}"# => ("users", "is empty (leave it out)");
    users_bad_second: br#"{"event":"system:alert","users":["alice","a b"],"data":{"message":"m","severity":"s"}}"# => ("users[1]", r#"invalid user id "a b": user id may only contain printable ASCII"#);
    users_empty_id: br#"{"event":"system:alert","users":[""],"data":{"message":"m","severity":"s"}}"# => ("users[0]", "user id is empty");
    except_users_bad: br#"{"event":"system:alert","except_users":["ok","x\\y"],"data":{"message":"m","severity":"s"}}"# => ("except_users[1]", "invalid user id");
    sockets_bad: br#"{"event":"system:alert","sockets":["short"],"data":{"message":"m","severity":"s"}}"# => ("sockets[0]", r#"invalid socket id "short": expected the 20-character socket.id"#);
    except_sockets_bad: br#"{"event":"system:alert","except_sockets":["AAAAAAAAAAAAAAAAAAAA","AAAAAAAAAAAAAAAAAAA!"],"data":{"message":"m","severity":"s"}}"# => ("except_sockets[1]", "invalid socket id");
    users_in_array_item: br#"[{"event":"system:alert","users":[1],"data":{"message":"m","severity":"s"}}]"# => ("[0].users", "must be an array of user ids");
    rooms_bad_second: br#"{"event":"system:alert","rooms":["dashboard","agent:"],"data":{"message":"m","severity":"s"}}"# => ("rooms[1]", "room id is empty");
    timestamp_number: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":5}}"# => ("data.timestamp", "must be an ISO 8601 date-time string");
    timestamp_word: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"keep-me"}}"# => ("data.timestamp", "2026-11-26T00:00:00.000Z");
    timestamp_null: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":null}}"# => ("data.timestamp", "leave it out");
    timestamp_date_only: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"2026-11-26"}}"# => ("data.timestamp", "ISO 8601");
    timestamp_no_zone: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"2026-11-26T00:00:00"}}"# => ("data.timestamp", "ISO 8601");
    timestamp_month_13: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"2026-13-01T00:00:00Z"}}"# => ("data.timestamp", "ISO 8601");
    timestamp_empty_fraction: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"2026-11-26T00:00:00.Z"}}"# => ("data.timestamp", "ISO 8601");
    timestamp_trailing: br#"{"event":"agent:heartbeat","data":{"agent_id":"1","timestamp":"2026-11-26T00:00:00Zx"}}"# => ("data.timestamp", "ISO 8601");
    timestamp_in_array_item: br#"[{"event":"task:updated","data":{"task_id":"1","update":{},"timestamp":1795651200}}]"# => ("[0].data.timestamp", "ISO 8601");
    severity_number: br#"{"event":"system:alert","data":{"message":"m","severity":3}}"# => ("data.severity", "must be a string");
    severity_object: br#"{"event":"system:alert","data":{"message":"m","severity":{"level":3}}}"# => ("data.severity", "\"critical\"");
    rooms_bad_in_array_item: br#"[{"event":"system:alert","rooms":["nope"],"data":{"message":"m","severity":"s"}}]"# => ("[0].rooms[0]", "invalid room");
}

/// A valid data object for each event, with every required field.
fn full_data(event: &str) -> serde_json::Map<String, serde_json::Value> {
    let spec = EVENTS
        .iter()
        .find(|s| s.name == event)
        .expect("known event");
    spec.required
        .iter()
        .map(|f| ((*f).to_owned(), serde_json::Value::from("x1")))
        .collect()
}

#[test]
fn each_required_field_of_each_event_is_required() {
    assert_eq!(EVENTS.map(|s| s.name), SERVER_EVENTS);
    for event in SERVER_EVENTS {
        let body = serde_json::json!({ "event": event, "data": full_data(event) }).to_string();
        assert!(
            parse_publish(body.as_bytes(), now()).is_ok(),
            "{event} with all fields"
        );
        for field in EVENTS
            .iter()
            .find(|s| s.name == event)
            .map(|s| s.required)
            .unwrap_or(&[])
        {
            let mut data = full_data(event);
            data.remove(*field);
            let body = serde_json::json!({ "event": event, "data": data }).to_string();
            let err = parse_publish(body.as_bytes(), now()).expect_err("field is required");
            assert_eq!(err.field, format!("data.{field}"), "{event}");
            assert!(err.message.contains(event), "{err}");
        }
    }
}

#[test]
fn required_fields_follow_the_spec_table() {
    let required = |event: &str| {
        EVENTS
            .iter()
            .find(|s| s.name == event)
            .map(|s| s.required.to_vec())
    };
    assert_eq!(
        required("agent:status_changed"),
        Some(vec!["agent_id", "old_status", "new_status"])
    );
    assert_eq!(required("agent:heartbeat"), Some(vec!["agent_id"]));
    assert_eq!(required("task:created"), Some(vec!["task_id", "task"]));
    assert_eq!(
        required("task:assigned"),
        Some(vec!["task_id", "agent_id", "task"])
    );
    assert_eq!(required("task:updated"), Some(vec!["task_id", "update"]));
    assert_eq!(required("task:completed"), Some(vec!["task_id", "result"]));
    assert_eq!(
        required("conversation:message"),
        Some(vec!["conversation_id", "message"])
    );
    assert_eq!(required("system:alert"), Some(vec!["message", "severity"]));
    // The timestamp splice relies on every event having a required field.
    assert!(EVENTS.iter().all(|s| !s.required.is_empty()));
}

fn alert_array(n: usize) -> String {
    let item = r#"{"event":"system:alert","data":{"message":"m","severity":"s"}}"#;
    format!("[{}]", vec![item; n].join(","))
}

#[test]
fn array_of_exactly_the_limit_is_accepted() {
    let items = parse_publish(alert_array(MAX_PUBLISH_ITEMS).as_bytes(), now()).expect("ok");
    assert_eq!(items.len(), MAX_PUBLISH_ITEMS);
}

#[test]
fn array_over_the_limit_is_refused() {
    let err = parse_publish(alert_array(MAX_PUBLISH_ITEMS + 1).as_bytes(), now())
        .expect_err("over the limit");
    assert_eq!(err.field, "body");
    assert!(err.message.contains("more than 1000 events"), "{err}");
    assert!(
        !err.message.contains("invalid JSON"),
        "the body is JSON: {err}"
    );
}

#[test]
fn explicit_rooms_over_the_limit_are_refused() {
    let rooms: Vec<String> = (0..=MAX_PUBLISH_ROOMS)
        .map(|i| format!("agent:{i}"))
        .collect();
    let body = serde_json::json!({
        "event": "system:alert", "rooms": rooms, "data": {"message": "m", "severity": "s"}
    })
    .to_string();
    let err = parse_publish(body.as_bytes(), now()).expect_err("too many rooms");
    assert_eq!(err.field, "rooms");
}

#[test]
fn data_json_is_valid_json_with_the_timestamp() {
    let body = r#"{"event":"task:updated","data":{"task_id":"t","update":{"a":[1,{"b":null}]}}}"#;
    let items = parse_publish(body.as_bytes(), now()).expect("ok");
    let data: serde_json::Value = serde_json::from_str(&items[0].data_json).expect("valid JSON");
    assert_eq!(
        data,
        serde_json::json!({"timestamp": TS, "task_id": "t", "update": {"a": [1, {"b": null}]}})
    );
}

#[test]
fn one_timestamp_per_request() {
    let now = UNIX_EPOCH + Duration::from_millis(NOW_SECS * 1000 + 7);
    let items = parse_publish(alert_array(3).as_bytes(), now).expect("ok");
    for item in &items {
        assert!(
            item.data_json
                .starts_with(r#"{"timestamp":"2026-11-26T00:00:00.007Z","#)
        );
    }
}

macro_rules! to_json_cases {
    ($($name:ident: ($field:expr, $message:expr) => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(InvalidPublish::new($field, $message).to_json(), $expected);
        }
    )*};
}

to_json_cases! {
    to_json_plain: ("data.agent_id", "missing") => r#"{"error":"missing","field":"data.agent_id"}"#;
    to_json_escapes: ("rooms[0]", r#"invalid room "a\b""#) => r#"{"error":"invalid room \"a\\b\"","field":"rooms[0]"}"#;
}

macro_rules! iso_cases {
    ($($name:ident: $millis:expr => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let millis: u64 = $millis;
            assert_eq!(iso8601_utc(UNIX_EPOCH + Duration::from_millis(millis)), $expected);
        }
    )*};
}

iso_cases! {
    iso_epoch: 0 => "1970-01-01T00:00:00.000Z";
    iso_spec_example: NOW_SECS * 1000 => "2026-11-26T00:00:00.000Z";
    iso_millis: NOW_SECS * 1000 + 123 => "2026-11-26T00:00:00.123Z";
    iso_end_of_a_day: 946_684_799_999 => "1999-12-31T23:59:59.999Z";
    iso_leap_day_2000: 951_782_400_000 => "2000-02-29T00:00:00.000Z";
    iso_leap_day_2024_last_second: 1_709_251_199_000 => "2024-02-29T23:59:59.000Z";
    iso_2038: 2_147_483_648_000 => "2038-01-19T03:14:08.000Z";
    iso_2100_is_not_leap: 4_107_542_400_000 => "2100-03-01T00:00:00.000Z";
    iso_year_9999: 253_402_300_799_000 => "9999-12-31T23:59:59.000Z";
}

#[test]
fn iso_before_the_epoch_is_the_epoch() {
    let before = UNIX_EPOCH - Duration::from_secs(1);
    assert_eq!(iso8601_utc(before), "1970-01-01T00:00:00.000Z");
}

#[test]
fn echoed_input_is_bounded() {
    let long = "e".repeat(10_000);
    let body = format!(r#"{{"event":"{long}","data":{{}}}}"#);
    let err = parse_publish(body.as_bytes(), now()).expect_err("unknown event");
    assert!(err.message.len() < 400, "{} bytes", err.message.len());
    let body = format!(
        r#"{{"event":"system:alert","rooms":["agent:{long}"],"data":{{"message":"m","severity":"s"}}}}"#
    );
    let err = parse_publish(body.as_bytes(), now()).expect_err("id too long");
    assert!(err.message.len() < 200, "{} bytes", err.message.len());
}

/// `(rooms, except_rooms, except)` of a one-item body.
fn targets(body: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let items = parse_publish(body.as_bytes(), now()).expect("valid body");
    let strs = |rooms: &[Room]| rooms.iter().map(|r| r.as_str().to_owned()).collect();
    (
        strs(&items[0].rooms),
        strs(&items[0].except_rooms),
        items[0]
            .except
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
    )
}

#[test]
fn target_fields_table() {
    let alert = r#""event":"system:alert","data":{"message":"m","severity":"s"}"#;
    let sid = "AbCdEfGhIjKlMnOpQrSt";
    let other = "zzzzzzzzzzzzzzzzzzz-";
    // (target members, rooms, except_rooms, except)
    let cases = vec![
        // No target: routed by event.
        (
            String::new(),
            vec!["dashboard"],
            Vec::<&str>::new(),
            Vec::<&str>::new(),
        ),
        // `users` alone replaces the event's routing.
        (
            r#""users":["alice","bob","alice"],"#.into(),
            vec!["user:alice", "user:bob"],
            vec![],
            vec![],
        ),
        (r#""users":["7"],"#.into(), vec!["user:7"], vec![], vec![]),
        (
            format!(r#""sockets":["{sid}"],"#),
            vec![sid],
            vec![],
            vec![],
        ),
        // Rooms, users and sockets add up, without duplicates.
        (
            format!(r#""rooms":["task:1"],"users":["a@b.c"],"sockets":["{sid}","{sid}"],"#),
            vec!["task:1", "user:a@b.c", sid],
            vec![],
            vec![],
        ),
        // Exceptions alone keep the event's routing.
        (
            format!(
                r#""except_rooms":["agent:1"],"except_users":["bob","bob"],"except_sockets":["{sid}","{other}"],"#
            ),
            vec!["dashboard"],
            vec!["agent:1", "user:bob"],
            vec![sid, other],
        ),
    ];
    for (members, rooms, except_rooms, except) in cases {
        let body = format!("{{{members}{alert}}}");
        let strs = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            targets(&body),
            (strs(rooms), strs(except_rooms), strs(except)),
            "{body}"
        );
    }
}

#[test]
fn target_lists_are_capped_at_1000() {
    let alert = r#""event":"system:alert","data":{"message":"m","severity":"s"}"#;
    let ids = |n: usize| {
        (0..n)
            .map(|i| format!("\"u{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ok = format!(r#"{{"users":[{}],{alert}}}"#, ids(1000));
    assert_eq!(targets(&ok).0.len(), 1000);
    for field in ["users", "except_users"] {
        let body = format!(r#"{{"{field}":[{}],{alert}}}"#, ids(1001));
        let err = parse_publish(body.as_bytes(), now()).expect_err("1001 ids");
        assert_eq!(err.field, field);
        assert!(err.message.contains("more than 1000 user ids"), "{err}");
    }
}
