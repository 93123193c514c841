//! Programs speaking lines: commands on stdin, output read from stdout with deadlines. Node and
//! Python clients, drivers and peers all run as a [`Proc`]; JSON output lines form a mailbox.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::log::Log;
use crate::{DEADLINE, Server, repo, venv_bin};

/// How many of a program's last stdout lines a failure message shows.
const SHOW_LINES: usize = 80;

/// A running program; killed on drop (after [`Proc::grace`] once its stdin is closed).
#[derive(Debug)]
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<String>,
    /// The last lines read, for failure messages and "this never happened" checks.
    seen: VecDeque<String>,
    /// JSON lines read but not yet taken by an [`Proc::expect`].
    backlog: VecDeque<Value>,
    /// Whether a non-JSON line fails [`Proc::expect`] (drivers print only JSON) or is skipped.
    strict_json: bool,
    grace: Duration,
    exited: bool,
    name: String,
    stderr: Log,
    /// The watched server's name and stderr, shown on failure.
    server: Option<(String, Log)>,
}

impl Proc {
    /// `node <dir>/<script> <args>`, run in `dir` (where its node_modules are).
    pub fn node(dir: &Path, script: &str, args: &[&str]) -> Proc {
        let mut cmd = Command::new("node");
        cmd.arg(dir.join(script)).args(args).current_dir(dir);
        Proc::spawn(cmd, format!("node {script} {args:?}"))
    }

    /// `.venv/bin/python tests/clients/py/<script> <args>`, unbuffered.
    pub fn python(script: &str, args: &[&str]) -> Proc {
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(repo().join("tests/clients/py").join(script))
            .args(args)
            .env("PYTHONUNBUFFERED", "1");
        Proc::spawn(cmd, format!("python {script} {args:?}"))
    }

    /// Any command, its stdout read line by line.
    pub fn spawn(mut cmd: Command, name: String) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({e}); run scripts/install-test-deps"));
        let stderr = Log::new();
        stderr.keep(child.stderr.take().expect("stderr is piped"), None);
        let out = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            stdin: child.stdin.take(),
            child,
            rx,
            seen: VecDeque::new(),
            backlog: VecDeque::new(),
            strict_json: false,
            grace: Duration::ZERO,
            exited: false,
            name,
            stderr,
            server: None,
        }
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Includes `server`'s stderr in this program's failure messages from now on.
    pub fn watch(&mut self, server: &Server) -> &mut Proc {
        self.server = Some((format!("server on port {}", server.port), server.log()));
        self
    }

    /// [`Proc::watch`], for a program started with its server already up.
    pub fn watching(mut self, server: &Server) -> Proc {
        self.watch(server);
        self
    }

    /// Makes a non-JSON stdout line fail [`Proc::expect`] (for programs that print only JSON).
    pub fn strict_json(mut self) -> Proc {
        self.strict_json = true;
        self
    }

    /// How long the drop waits, after closing stdin, for the program to exit on its own (a
    /// browser removes its profile) before killing it.
    pub fn grace(mut self, grace: Duration) -> Proc {
        self.grace = grace;
        self
    }

    /// The next stdout line, waiting until `deadline`; `None` at the deadline. Fails at once if
    /// the program exited.
    pub fn line_until(&mut self, deadline: Instant, what: &str) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(line) => {
                if self.seen.len() == SHOW_LINES {
                    self.seen.pop_front();
                }
                self.seen.push_back(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().ok();
                self.exited = true;
                // Lets the stderr reader drain the dead program's last words.
                std::thread::sleep(Duration::from_millis(100));
                self.fail(&format!("exited ({status:?}) while waiting for {what}"))
            }
        }
    }

    /// Waits for the first stdout line satisfying `pred` (earlier lines are skipped, and shown
    /// on failure).
    pub fn expect_line(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self.line_until(deadline, what) {
                Some(line) if pred(&line) => return line,
                Some(_) => {}
                None => self.fail(&format!("no {what} within {DEADLINE:?}")),
            }
        }
    }

    /// Waits for a JSON line satisfying `pred` and takes it. The lines are a mailbox: each
    /// satisfies at most one wait, and a line that arrived during an earlier wait for something
    /// else is still there, so independent events can be awaited in any order. A
    /// `{"type":"fatal"}` line (the program could not run a command) fails at once.
    pub fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.expect_within(DEADLINE, what, pred)
    }

    /// [`Proc::expect`] with another deadline.
    pub fn expect_within(
        &mut self,
        within: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).expect("an index from position");
        }
        let deadline = Instant::now() + within;
        loop {
            let Some(line) = self.line_until(deadline, what) else {
                self.fail(&format!("no {what} within {within:?}"))
            };
            let value: Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(e) if self.strict_json => {
                    self.fail(&format!("printed a non-JSON line ({e}): {line:?}"))
                }
                Err(_) => continue,
            };
            if value["type"] == "fatal" {
                self.fail(&format!("reported fatal while waiting for {what}: {value}"));
            }
            if pred(&value) {
                return value;
            }
            self.backlog.push_back(value);
        }
    }

    /// Takes every JSON line read so far and not yet taken that satisfies `pred`, in arrival
    /// order.
    pub fn take_read(&mut self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut taken = Vec::new();
        self.backlog.retain(|v| {
            if pred(v) {
                taken.push(v.clone());
                false
            } else {
                true
            }
        });
        taken
    }

    /// The JSON lines read so far and not yet taken that satisfy `pred` (left in place).
    pub fn pending(&self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.backlog.iter().filter(|v| pred(v)).cloned().collect()
    }

    /// The first of the last lines read satisfying `pred`, taken by a wait or not (for "this
    /// never happened" checks after a positive wait).
    pub fn seen_any(&self, pred: &impl Fn(&Value) -> bool) -> Option<String> {
        self.seen
            .iter()
            .find(|line| serde_json::from_str::<Value>(line).is_ok_and(|v| pred(&v)))
            .cloned()
    }

    /// Writes one line to its stdin.
    pub fn write_line(&mut self, line: &str) {
        let Some(stdin) = self.stdin.as_mut() else {
            self.fail(&format!("cannot write {line:?}: stdin is closed"))
        };
        if let Err(e) = stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
        {
            self.fail(&format!("cannot write {line:?} to its stdin: {e}"));
        }
    }

    /// Writes one line if it can (a goodbye from a drop, where failing helps nobody).
    pub fn write_line_quietly(&mut self, line: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = writeln!(stdin, "{line}").and_then(|()| stdin.flush());
        }
    }

    /// Writes one JSON command line.
    pub fn send(&mut self, command: &Value) {
        self.write_line(&command.to_string());
    }

    /// Waits (at most [`DEADLINE`]) for the program to exit, and fails unless it succeeded.
    pub fn wait_success(mut self) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.exited = true;
                    // Collects what it printed, for the failure message.
                    while let Ok(line) = self.rx.recv_timeout(Duration::from_millis(100)) {
                        if self.seen.len() == SHOW_LINES {
                            self.seen.pop_front();
                        }
                        self.seen.push_back(line);
                    }
                    if !status.success() {
                        self.fail(&format!("failed: {status}"));
                    }
                    return;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => self.fail(&format!("did not finish within {DEADLINE:?}")),
                Err(e) => self.fail(&format!("waiting for exit: {e}")),
            }
        }
    }

    /// Fails the test with everything that explains it.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{}: {msg}\n{}", self.name, self.context())
    }

    /// Its last lines, its stderr, and the server's stderr when watched.
    pub fn context(&self) -> String {
        let lines: Vec<&str> = self.seen.iter().map(String::as_str).collect();
        let mut text = format!(
            "--- {} stdout (last {} lines):\n{}\n{}",
            self.name,
            lines.len(),
            lines.join("\n"),
            self.stderr.context(&self.name)
        );
        if let Some((name, log)) = &self.server {
            text.push('\n');
            text.push_str(&log.context(name));
        }
        text
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited {
            return;
        }
        // Closing stdin lets the programs clean up and exit on their own.
        drop(self.stdin.take());
        let deadline = Instant::now() + self.grace;
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
