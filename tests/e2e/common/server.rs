//! A server child process on 127.0.0.1:0: started, waited for (its listening line), killed on
//! drop, its stderr kept for failure messages.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{API_KEY, DEADLINE, JWT_SECRET, Target, js_dir, repo};

/// The line every server prints on stdout once all its workers accept.
const LISTENING: &str = "ringcast listening on http://";

/// How much of a child's stderr to keep for failure messages: the tail is what explains a failure.
const KEEP_LOG: usize = 64 * 1024;

/// How the gateway is started (defaults: the test secret and API key, the server's default paths).
#[derive(Clone, Debug, Default)]
pub struct ServerOpts {
    /// `--workers N`; `None` takes `RINGCAST_E2E_WORKERS`, else 1.
    pub workers: Option<usize>,
    /// `--path P` each; empty keeps the server's default (`/ws/` and `/socket.io/`).
    pub paths: Vec<String>,
    /// `--jwt-public-key-file F --jwt-algorithms A` (and then no `--jwt-secret`).
    pub public_key: Option<(PathBuf, String)>,
    /// Any further arguments.
    pub extra: Vec<String>,
}

/// A protocol-suite example (ringcast's `examples/`, or its Node twin under the node target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Example {
    /// `examples/reference.rs`: the Socket.IO protocol suite's reference server.
    Reference,
    /// `examples/ws_echo.rs`: a plain WebSocket echo on `/` (Autobahn).
    WsEcho,
}

/// A running server; killed (and reaped) on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    name: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// The gateway with default options.
    pub fn gateway() -> Server {
        Server::start(ServerOpts::default())
    }

    /// The gateway (ringcast or the Node peer, by [`Target::get`]).
    pub fn start(opts: ServerOpts) -> Server {
        let mut args: Vec<String> = Vec::new();
        let target = Target::get();
        let mut cmd = match target {
            Target::Ringcast => {
                args.extend(["--listen".into(), "127.0.0.1:0".into()]);
                let workers = opts.workers.unwrap_or_else(default_workers);
                args.extend(["--workers".into(), workers.to_string()]);
                Command::new(env!("CARGO_BIN_EXE_ringcast"))
            }
            Target::Node => {
                args.push(
                    repo()
                        .join("tests/clients/js/peers/gateway.js")
                        .display()
                        .to_string(),
                );
                args.extend(["--port".into(), "0".into()]);
                js_dir();
                Command::new("node")
            }
        };
        match &opts.public_key {
            Some((file, algorithms)) => args.extend([
                "--jwt-public-key-file".into(),
                file.display().to_string(),
                "--jwt-algorithms".into(),
                algorithms.clone(),
            ]),
            None => args.extend(["--jwt-secret".into(), JWT_SECRET.into()]),
        }
        args.extend(["--api-key".into(), API_KEY.into()]);
        for p in &opts.paths {
            args.extend(["--path".into(), p.clone()]);
        }
        args.extend(opts.extra.iter().cloned());
        cmd.args(&args);
        let name = format!("{target:?} gateway {args:?}");
        Server::spawn(cmd, name)
    }

    /// A protocol-suite example server.
    pub fn example(example: Example) -> Server {
        let (bin, js) = match example {
            Example::Reference => ("reference", "peers/reference.js"),
            Example::WsEcho => ("ws_echo", "peers/ws_echo.js"),
        };
        let cmd = match Target::get() {
            Target::Ringcast => {
                let mut cmd = Command::new(example_binary(bin));
                cmd.args(["--listen", "127.0.0.1:0"]);
                cmd
            }
            Target::Node => {
                let mut cmd = Command::new("node");
                cmd.arg(js_dir().join(js)).args(["--listen", "127.0.0.1:0"]);
                cmd
            }
        };
        Server::spawn(cmd, format!("{:?} example {bin}", Target::get()))
    }

    fn spawn(mut cmd: Command, name: String) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().expect("stderr is piped");
        keep_tail(err, Arc::clone(&stderr));
        let out = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        let stdout_log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix(LISTENING)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.to_owned());
                    continue;
                }
                // Anything else on stdout goes with stderr into the failure context.
                append(&stdout_log, &format!("[stdout] {line}\n"));
            }
        });
        let mut server = Server {
            child,
            port: 0,
            name,
            stderr,
        };
        // Some builds take a while to bind all workers on a loaded machine; the child exiting
        // closes the channel at once, so a crash is reported immediately, not after the deadline.
        match rx.recv_timeout(DEADLINE) {
            Ok(addr) => {
                let port = addr
                    .trim_end_matches('/')
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| panic!("{}: bad listening line {addr:?}", server.name));
                server.port = port;
                // captured by the test harness: shown with a failing test's output
                eprintln!("e2e: {} listening on port {port}", server.name);
                server
            }
            Err(e) => {
                let status = server.child.try_wait().ok().flatten();
                // let the stderr reader catch up with a dying child
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "{} did not print `{LISTENING}PORT` ({e}; exit status {status:?})\n{}",
                    server.name,
                    server.context()
                );
            }
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Its stderr so far (the last [`KEEP_LOG`] bytes).
    pub fn log(&self) -> Arc<Mutex<String>> {
        Arc::clone(&self.stderr)
    }

    /// A block for failure messages: which server, and its stderr.
    pub fn context(&self) -> String {
        context(&self.name, &self.stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--workers` when a test does not choose: `RINGCAST_E2E_WORKERS`, else 1 (the two-worker test
/// chooses 2 itself; set the variable to run the whole suite across cores).
fn default_workers() -> usize {
    std::env::var("RINGCAST_E2E_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The example binary next to the ringcast binary: `cargo test` builds every example in the
/// same profile (`cargo test --test e2e` alone does not). Not built from here: cargo holds the
/// build-directory lock while tests run, so a nested `cargo build` would wait forever.
fn example_binary(name: &str) -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_ringcast"));
    let profile_dir = bin.parent().expect("the binary lives in target/<profile>");
    let path = profile_dir.join("examples").join(name);
    let release = if profile_dir.file_name().is_some_and(|p| p == "release") {
        " --release"
    } else {
        ""
    };
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build{release} --examples` first (plain `cargo test{release}` builds it)",
        path.display()
    );
    path
}

/// Reads `from` to its end on a thread, keeping the last [`KEEP_LOG`] bytes in `into`.
pub(crate) fn keep_tail(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
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
    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
    log.push_str(text);
    if log.len() > KEEP_LOG {
        let mut cut = log.len() - KEEP_LOG;
        while !log.is_char_boundary(cut) {
            cut += 1;
        }
        log.drain(..cut);
    }
}

/// A labelled copy of a kept log, for failure messages.
pub(crate) fn context(name: &str, log: &Mutex<String>) -> String {
    let log = log.lock().unwrap_or_else(|p| p.into_inner());
    if log.trim().is_empty() {
        format!("--- {name}: (nothing on stderr)")
    } else {
        format!("--- {name} stderr (tail):\n{}", log.trim_end())
    }
}
