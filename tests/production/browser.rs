//! A real browser on another origin: headless Chromium loads a page from a tiny static server
//! (not ringcast) that runs the spec's JavaScript example with socket.io-client's browser
//! bundle. ringcast runs with `--cors-origin` naming that static server's origin.
//!
//! "Refused", for a page on an origin ringcast does not allow, with default transports: the
//! client starts with HTTP long-polling, a cross-origin XMLHttpRequest, and ringcast answers it
//! without `Access-Control-Allow-Origin`, so the browser withholds the response: the socket
//! reports `connect_error` ("xhr poll error") on every attempt and never connects, subscribes
//! or receives anything. (A websocket-only page is not subject to CORS at all; see the report.)

use serde_json::{Value, json};

use ringcast_test_support::{Proc, Server, token, unique};

use crate::{gateway, node};

/// The browser driver, its static servers' origins (allowed, denied).
fn browser() -> (Proc, String, String) {
    let mut browser = node("browser.js", &[]);
    let origins = browser.expect("the static servers' origins", |v| v["type"] == "static");
    let text = |key: &str| {
        origins[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} origin in {origins}"))
            .to_owned()
    };
    (browser, text("allowed"), text("denied"))
}

fn open(
    browser: &mut Proc,
    page: &str,
    origin: &str,
    server: &Server,
    room: &str,
    transports: Value,
) {
    browser.send(&json!({
        "cmd": "open", "page": page, "origin": origin, "server": server.ws_url(),
        "token": token::valid("browser-user"), "room": room, "transports": transports,
    }));
}

fn page_event<'a>(page: &'a str, event: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |v| v["type"] == "page" && v["page"] == page && v["event"] == event
}

/// The page's visible state: its status line and its list of events.
fn dom(browser: &mut Proc, page: &str) -> (String, Vec<String>) {
    browser.send(&json!({"cmd": "dom", "page": page}));
    let dom = browser.expect("the page's DOM", |v| {
        v["type"] == "dom" && v["page"] == page
    });
    let status = dom["status"].as_str().unwrap_or_default().to_owned();
    let events = dom["events"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (status, events)
}

#[test]
fn page_on_allowed_origin_shows_published_task_update() {
    let (mut browser, allowed, _) = browser();
    let server = gateway().args(["--cors-origin", allowed.as_str()]).start();
    browser.watch(&server);
    let task_id = unique("browser-task-");
    let room = format!("task:{task_id}");
    // Default transports (long-polling, then the upgrade to WebSocket), and polling alone
    // (every emit a cross-origin POST).
    open(
        &mut browser,
        "default",
        "allowed",
        &server,
        &room,
        Value::Null,
    );
    open(
        &mut browser,
        "polling",
        "allowed",
        &server,
        &room,
        json!("polling"),
    );
    for page in ["default", "polling"] {
        let subscribed = browser.expect(
            &format!("page {page}: subscribed"),
            page_event(page, "subscribed"),
        );
        assert_eq!(subscribed["detail"], json!({"room": room}), "page {page}");
    }

    let update = json!({"progress": 50, "note": "from the HTTP API"});
    let delivered = server.publish_ok(
        &json!({"event": "task:updated", "data": {"task_id": task_id, "update": update}}),
    );
    assert_eq!(delivered, 2, "both pages are in {room}");

    for page in ["default", "polling"] {
        let got = browser.expect(
            &format!("page {page}: task:updated"),
            page_event(page, "task:updated"),
        );
        assert_eq!(got["detail"]["task_id"], json!(task_id));
        assert_eq!(got["detail"]["update"], update);
        let (status, events) = dom(&mut browser, page);
        assert_eq!(status, "connected", "page {page}");
        assert_eq!(
            events,
            vec![format!("Task {task_id} updated: {update}")],
            "page {page} shows exactly the published update"
        );
    }
    // The default page started on polling and moved to ringcast's WebSocket.
    let upgrade = browser.expect(
        "page default: upgrade to websocket",
        page_event("default", "upgrade"),
    );
    assert_eq!(upgrade["detail"]["transport"], "websocket");
    let connected = browser.expect("page polling: connect", page_event("polling", "connect"));
    assert_eq!(connected["detail"]["transport"], "polling");
    assert!(
        browser
            .seen_any(&page_event("polling", "upgrade"))
            .is_none(),
        "a polling-only page must not upgrade"
    );
}

#[test]
fn page_on_other_origin_is_refused_with_default_transports() {
    let (mut browser, allowed, _) = browser();
    let server = gateway().args(["--cors-origin", allowed.as_str()]).start();
    browser.watch(&server);
    let task_id = unique("browser-denied-");
    let room = format!("task:{task_id}");
    open(
        &mut browser,
        "denied",
        "denied",
        &server,
        &room,
        Value::Null,
    );
    // Two refusals in a row (socket.io-client retries on its own): not a one-off failure.
    for attempt in 1..=2 {
        let error = browser.expect(
            &format!("connect_error #{attempt}"),
            page_event("denied", "connect_error"),
        );
        assert_eq!(error["detail"]["message"], "xhr poll error");
    }
    let connected = browser.seen_any(&|v: &Value| {
        v["type"] == "page" && v["page"] == "denied" && v["event"] != "connect_error"
    });
    assert_eq!(
        connected, None,
        "the page must neither connect nor subscribe"
    );
    let (status, events) = dom(&mut browser, "denied");
    assert_eq!(status, "connect_error: xhr poll error");
    assert!(events.is_empty(), "nothing shown: {events:?}");
    // Nobody subscribed: a publish to the page's room reaches no one.
    let delivered = server.publish_ok(
        &json!({"event": "task:updated", "data": {"task_id": task_id, "update": {"progress": 1}}}),
    );
    assert_eq!(delivered, 0);
}
