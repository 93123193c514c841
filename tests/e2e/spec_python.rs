//! The spec's Python client, verbatim (tests/clients/py/spec_client.py): default path
//! `/socket.io/`, prints `Connected!`, subscribes to `agent:123` and prints every
//! `agent:status_changed`. It would sleep 60 s; the test kills it once it has seen the event.

use serde_json::json;

use ringcast_test_support::{Proc, token};

use crate::gateway;

#[test]
fn spec_python_client_verbatim() {
    let server = gateway().start();
    let token = token::good();
    let url = server.url();
    let mut program = Proc::python("spec_client.py", &[&url, &token]).watching(&server);
    program.expect_line("\"Connected!\"", |l| l == "Connected!");

    server.publish_until_delivered(
        &json!({"event": "agent:status_changed", "rooms": ["agent:123"],
                "data": {"agent_id": "123", "old_status": "idle", "new_status": "busy"}}),
        1,
    );
    // print(f"Status changed: {data}") prints the dict's repr.
    let line = program.expect_line("\"Status changed: ...\"", |l| {
        l.starts_with("Status changed: ")
    });
    for part in [
        "'agent_id': '123'",
        "'old_status': 'idle'",
        "'new_status': 'busy'",
        "'timestamp': ",
    ] {
        assert!(
            line.contains(part),
            "{line:?} lacks {part}\n{}",
            program.context()
        );
    }
}
