//! `ringcast` as a child process: started on 127.0.0.1:0, waited for (its listening line),
//! signalled, waited out, killed on drop. Its stderr is kept for failure messages.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{API_KEY, DEADLINE, JWT_SECRET, ringcast};

/// What the server prints on stdout once every worker accepts.
const LISTENING: &str = "ringcast listening on http://";

/// How much of the server's stderr to keep: the tail is what explains a failure.
const KEEP_LOG: usize = 64 * 1024;

/// A running `ringcast`; killed (and reaped) on drop unless it already exited.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    args: Vec<String>,
    log: Arc<Mutex<String>>,
    exited: Option<ExitStatus>,
}

impl Server {
    /// The gateway with the test secret and API key, two workers (so sessions and broadcasts
    /// cross cores), and `extra` arguments.
    pub fn gateway(extra: &[&str]) -> Server {
        let mut args: Vec<String> = vec![
            "--jwt-secret".into(),
            JWT_SECRET.into(),
            "--api-key".into(),
            API_KEY.into(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        Server::with_args(&args)
    }

    /// `ringcast --listen 127.0.0.1:0 --workers 2 <args>`, nothing else.
    pub fn with_args(args: &[String]) -> Server {
        let mut all: Vec<String> = vec![
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--workers".into(),
            "2".into(),
        ];
        all.extend(args.iter().cloned());
        let mut child = Command::new(ringcast())
            .args(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start ringcast {all:?}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        keep_tail(child.stderr.take().expect("stderr is piped"), log.clone());
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        let stdout_log = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix(LISTENING)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.to_owned());
                    continue;
                }
                append(&stdout_log, &format!("[stdout] {line}\n"));
            }
        });
        let mut server = Server {
            child,
            port: 0,
            args: all,
            log,
            exited: None,
        };
        // The child exiting closes the channel at once: a crash is reported at once too.
        match rx.recv_timeout(DEADLINE) {
            Ok(addr) => {
                server.port = addr
                    .trim_end_matches('/')
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| server.fail(&format!("bad listening line {addr:?}")));
                // Shown with a failing test's output: which server this test talked to.
                eprintln!(
                    "production: ringcast {:?} on port {}",
                    server.args, server.port
                );
                server
            }
            Err(e) => {
                std::thread::sleep(Duration::from_millis(200));
                server.fail(&format!("did not print `{LISTENING}PORT` ({e})"))
            }
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`, as the spec's JavaScript example writes it.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Sends `signal` (`libc::SIGTERM`, `libc::SIGINT`) to the server process.
    pub fn signal(&self, signal: i32) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) has no memory effects; `pid` is our own child, not yet reaped (reaping
        // happens only in `wait_exit` and `drop`, which take `&mut self`), so it cannot name an
        // unrelated process.
        let rc = unsafe { libc::kill(pid, signal) };
        if rc != 0 {
            self.fail(&format!(
                "kill({pid}, {signal}) failed: {}",
                std::io::Error::last_os_error()
            ));
        }
    }

    /// Waits for the process to exit, at most `within`.
    pub fn wait_exit(&mut self, within: Duration, what: &str) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.exited = Some(status);
                    // Lets the stderr reader take the last lines.
                    std::thread::sleep(Duration::from_millis(50));
                    return status;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => self.fail(&format!("did not exit within {within:?}: {what}")),
                Err(e) => self.fail(&format!("waiting for exit: {e}")),
            }
        }
    }

    /// Waits until the server's stderr contains `needle`.
    pub fn wait_log(&mut self, needle: &str) {
        let deadline = Instant::now() + DEADLINE;
        while !self.log_text().contains(needle) {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exited = Some(status);
                std::thread::sleep(Duration::from_millis(100));
                if self.log_text().contains(needle) {
                    return;
                }
                self.fail(&format!("exited ({status}) before logging {needle:?}"));
            }
            if Instant::now() >= deadline {
                self.fail(&format!("did not log {needle:?} within {DEADLINE:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its stderr, live (the last [`KEEP_LOG`] bytes), for other processes' failure messages.
    pub fn log(&self) -> Arc<Mutex<String>> {
        self.log.clone()
    }

    /// Its stderr so far (the last [`KEEP_LOG`] bytes).
    pub fn log_text(&self) -> String {
        lock(&self.log).clone()
    }

    /// Which server, and its stderr: for failure messages.
    pub fn context(&self) -> String {
        format!(
            "--- ringcast {:?} (port {}, exit {:?}) stderr tail:\n{}",
            self.args,
            self.port,
            self.exited,
            self.log_text().trim_end()
        )
    }

    /// Fails the test with the server's context.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("ringcast: {msg}\n{}", self.context())
    }

    /// A token for `sub` minted by `ringcast token` with the test secret (1 hour).
    pub fn token(sub: &str) -> String {
        let out = run(&["token", "--jwt-secret", JWT_SECRET, "--sub", sub]);
        assert!(
            out.status.success(),
            "ringcast token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `ringcast <args>` to completion (the command line tests), bounded by [`DEADLINE`].
pub fn run(args: &[&str]) -> Output {
    run_with_env(args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(ringcast())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run ringcast {args:?}: {e}"));
    let deadline = Instant::now() + DEADLINE;
    // Output is small (help text, one error line), so the pipes cannot fill while we poll.
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("ringcast {args:?} did not exit within {DEADLINE:?}");
            }
            Err(e) => panic!("ringcast {args:?}: {e}"),
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("ringcast {args:?}: {e}"))
}

/// Reads `from` to its end on a thread, keeping the last [`KEEP_LOG`] bytes in `into`.
pub fn keep_tail(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => append(&into, &String::from_utf8_lossy(&buf[..n])),
            }
        }
    });
}

fn append(log: &Mutex<String>, text: &str) {
    let mut log = lock(log);
    log.push_str(text);
    if log.len() > KEEP_LOG {
        let mut cut = log.len() - KEEP_LOG;
        while !log.is_char_boundary(cut) {
            cut += 1;
        }
        log.drain(..cut);
    }
}

/// A poisoned log is still a log: a panicking reader thread must not hide the context.
pub fn lock(log: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}
