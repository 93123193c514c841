//! Node programs from `tests/production/js` speaking JSON lines: commands on stdin, one JSON
//! object per stdout line. Every wait has a deadline and fails with the program's last lines,
//! its stderr and the server's stderr.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::server::{keep_tail, lock};
use super::{DEADLINE, Server, js_dir};

/// How many of the program's last stdout lines a failure shows.
const SHOW_LINES: usize = 80;

/// A running Node program; killed on drop.
#[derive(Debug)]
pub struct Node {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<String>,
    seen: VecDeque<String>,
    /// Lines read but not yet taken by a wait.
    pending: VecDeque<Value>,
    name: String,
    stderr: Arc<Mutex<String>>,
    /// The watched server's name and stderr, shown on failure.
    server: Option<(String, Arc<Mutex<String>>)>,
}

impl Node {
    /// `node tests/production/js/<script> <args>`.
    pub fn start(script: &str, args: &[&str]) -> Node {
        let mut child = Command::new("node")
            .arg(js_dir().join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node {script}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        keep_tail(
            child.stderr.take().expect("stderr is piped"),
            stderr.clone(),
        );
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Node {
            stdin: child.stdin.take(),
            child,
            rx,
            seen: VecDeque::new(),
            pending: VecDeque::new(),
            name: format!("node {script}"),
            stderr,
            server: None,
        }
    }

    /// Includes `server`'s stderr in this program's failure messages from now on.
    pub fn watch(&mut self, server: &Server) -> &mut Node {
        self.server = Some((format!("ringcast on port {}", server.port), server.log()));
        self
    }

    /// Waits for a line (a JSON object) satisfying `pred`. Lines are a mailbox: each satisfies
    /// at most one wait, and a line that arrived during an earlier wait for something else is
    /// still there, so independent events (two sockets, an upgrade and a subscription) can be
    /// awaited in any order. A `{"type":"fatal"}` line fails at once.
    pub fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.expect_within(DEADLINE, what, pred)
    }

    /// [`Node::expect`] with another deadline.
    pub fn expect_within(
        &mut self,
        within: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).unwrap_or_default();
        }
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.rx.recv_timeout(left) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("no {what} within {within:?}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    std::thread::sleep(Duration::from_millis(100));
                    self.fail(&format!("exited ({status:?}) while waiting for {what}"))
                }
            };
            if self.seen.len() == SHOW_LINES {
                self.seen.pop_front();
            }
            self.seen.push_back(line.clone());
            let Ok(value) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if value["type"] == "fatal" {
                self.fail(&format!("reported fatal while waiting for {what}"));
            }
            if pred(&value) {
                return value;
            }
            self.pending.push_back(value);
        }
    }

    /// The first line satisfying `pred` among the last lines read, taken by a wait or not
    /// (for "this never happened" checks after a positive wait).
    pub fn seen_any(&self, pred: &impl Fn(&Value) -> bool) -> Option<String> {
        self.seen
            .iter()
            .find(|line| serde_json::from_str::<Value>(line).is_ok_and(|v| pred(&v)))
            .cloned()
    }

    /// Writes one command.
    pub fn send(&mut self, command: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin is piped");
        let line = format!("{command}\n");
        if let Err(e) = stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
        {
            self.fail(&format!("cannot write {command} to its stdin: {e}"));
        }
    }

    /// Fails the test with everything that explains it.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{}: {msg}\n{}", self.name, self.context())
    }

    /// Its last lines and stderr, and the server's stderr when watched.
    pub fn context(&self) -> String {
        let lines: Vec<&str> = self.seen.iter().map(String::as_str).collect();
        let mut text = format!(
            "--- {} stdout (last {} lines):\n{}\n--- {} stderr:\n{}",
            self.name,
            lines.len(),
            lines.join("\n"),
            self.name,
            lock(&self.stderr).trim_end()
        );
        if let Some((name, log)) = &self.server {
            text.push_str(&format!("\n--- {name} stderr:\n{}", lock(log).trim_end()));
        }
        text
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Closing stdin lets the programs clean up (the browser removes its profile).
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
