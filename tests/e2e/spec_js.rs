//! The spec's JavaScript snippets, verbatim (tests/clients/js/spec_snippets.js), against the
//! gateway: connect on `/ws` with `auth: {token}`, subscribe to an agent and a task room, and
//! print what the spec's handlers print when `agent:status_changed` and `task:updated` arrive.

use serde_json::json;

use ringcast_test_support::{Proc, clients_js, token};

use crate::gateway;

/// The room ids the spec's snippets use.
const ID: &str = "123e4567-e89b-12d3-a456-426614174000";

fn run(transports: &[&str]) {
    let server = gateway().start();
    let token = token::good();
    let url = server.ws_url();
    let mut args = vec![url.as_str(), token.as_str()];
    args.extend_from_slice(transports);
    let mut program = Proc::node(&clients_js(), "spec_snippets.js", &args).watching(&server);

    // Published to the agent room only (not dashboard), so the line proves the subscription.
    server.publish_until_delivered(
        &json!({"event": "agent:status_changed", "rooms": [format!("agent:{ID}")],
                "data": {"agent_id": ID, "old_status": "idle", "new_status": "busy"}}),
        1,
    );
    let want = format!("Agent {ID} changed from idle to busy");
    program.expect_line(&format!("{want:?}"), |l| l == want);

    server.publish_until_delivered(
        &json!({"event": "task:updated", "rooms": [format!("task:{ID}")],
                "data": {"task_id": ID, "update": {"progress": 50}}}),
        1,
    );
    // console.log(`...`, data.update) prints the object with util.inspect.
    let want = format!("Task {ID} updated: {{ progress: 50 }}");
    program.expect_line(&format!("{want:?}"), |l| l == want);
}

#[test]
fn spec_js_snippets_default_transports() {
    run(&[]);
}

#[test]
fn spec_js_snippets_websocket_only() {
    run(&["websocket"]);
}
