//! Autobahn's RFC 6455 cases 1–10 (kosoku, a runner over Autobahn's own case files) against
//! examples/ws_echo: every case must pass (OK, NON-STRICT or INFORMATIONAL, and a clean close).
//! Cases 12/13 (permessage-deflate) are not run: the gateway does not negotiate compression.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use ringcast_test_support::{DEADLINE, Example, unique, venv_bin};

use crate::gateway;

/// Cases 1–10 took ~8 s here; the 9.x (up to 16 MiB messages) slow down most under load.
const SUITE_DEADLINE: Duration = Duration::from_secs(10 * DEADLINE.as_secs());

/// kosoku 0.1.0 runs 301 cases for 1–10; fewer means the run broke off.
const MIN_CASES: usize = 300;

#[test]
fn autobahn_cases_1_to_10_pass_against_ws_echo() {
    let server = gateway().example(Example::WsEcho);
    let out = std::env::temp_dir().join(unique("ringcast-autobahn"));
    let log = out.with_extension("log");
    let mut child = Command::new(venv_bin("kosoku"))
        .args(["-p", "2", "-x", "12.*", "-x", "13.*", "-o"])
        .arg(&out)
        .arg(format!("{}/", server.ws_url()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).expect("create the kosoku log"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kosoku");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll kosoku") {
            break status;
        }
        if started.elapsed() > SUITE_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "kosoku still running after {SUITE_DEADLINE:?} (log {})\n{}",
                log.display(),
                server.context()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let index = out.join("index.json");
    let text = std::fs::read_to_string(&index).unwrap_or_else(|e| {
        panic!(
            "kosoku ({status}) wrote no {}: {e}; log:\n{}\n{}",
            index.display(),
            std::fs::read_to_string(&log).unwrap_or_default(),
            server.context()
        )
    });
    let report: Value = serde_json::from_str(&text).expect("kosoku's index.json is JSON");
    // {agent: {case id: {behavior, behaviorClose, ...}}}
    let agents = report.as_object().expect("index.json maps agents");
    assert_eq!(agents.len(), 1, "one agent expected: {:?}", agents.keys());
    let cases = agents
        .values()
        .next()
        .and_then(Value::as_object)
        .expect("the agent maps cases");
    let pass = ["OK", "NON-STRICT", "INFORMATIONAL"];
    let pass_close = ["OK", "INFORMATIONAL"];
    let mut failed: Vec<String> = cases
        .iter()
        .filter(|(_, c)| {
            !pass.contains(&c["behavior"].as_str().unwrap_or_default())
                || !pass_close.contains(&c["behaviorClose"].as_str().unwrap_or_default())
        })
        .map(|(id, c)| format!("{id} ({}, close {})", c["behavior"], c["behaviorClose"]))
        .collect();
    failed.sort_by_key(|f| {
        f.split(' ')
            .next()
            .unwrap_or_default()
            .split('.')
            .map(|n| n.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    assert!(
        failed.is_empty(),
        "{} of {} Autobahn cases failed (reports in {}): {}\n{}",
        failed.len(),
        cases.len(),
        out.display(),
        failed.join(", "),
        server.context()
    );
    assert!(
        cases.len() >= MIN_CASES,
        "only {} cases ran (expected >= {MIN_CASES}); log {}",
        cases.len(),
        log.display()
    );
    assert!(
        status.success(),
        "kosoku exited {status} with every case passing?"
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_file(&log);
}
