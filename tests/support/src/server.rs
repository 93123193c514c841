//! A server child process on 127.0.0.1:0: started, waited for (its listening line), signalled,
//! waited out, killed on drop. Its stderr (and any other stdout) is kept for failure messages.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::DEADLINE;
use crate::log::Log;

/// What every server here (ringcast, its examples, the Node peers) prints on stdout once all its
/// workers accept.
pub const LISTENING: &str = "ringcast listening on http://";

/// How to start a server: the command, and what to do with its output and its life.
#[derive(Debug)]
pub struct Launch {
    cmd: Command,
    name: Option<String>,
    log_file: Option<PathBuf>,
    die_with_parent: bool,
}

impl Launch {
    /// `program`, with no arguments yet.
    pub fn new(program: impl AsRef<OsStr>) -> Launch {
        Launch {
            cmd: Command::new(program),
            name: None,
            log_file: None,
            die_with_parent: false,
        }
    }

    /// One more argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Launch {
        self.cmd.arg(arg);
        self
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// One more environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Launch {
        self.cmd.env(key, value);
        self
    }

    /// The name failure messages use (default: the command line).
    pub fn name(mut self, name: impl Into<String>) -> Launch {
        self.name = Some(name.into());
        self
    }

    /// Also writes the whole stderr to `path`, for reading after the run.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Launch {
        self.log_file = Some(path.into());
        self
    }

    /// The kernel kills the server when the thread that started it ends (PR_SET_PDEATHSIG): for
    /// servers shared by a whole test binary, which statics never drop. Keep that thread alive.
    pub fn die_with_parent(mut self) -> Launch {
        self.die_with_parent = true;
        self
    }

    /// Starts it and waits (at most [`DEADLINE`]) for its listening line.
    pub fn start(mut self) -> Server {
        let name = self
            .name
            .take()
            .unwrap_or_else(|| format!("{:?}", self.cmd));
        if self.die_with_parent {
            use std::os::unix::process::CommandExt;
            let hook = || {
                // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag on the calling (child)
                // process and is async-signal-safe, so it may run between fork and exec.
                let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
                if rc == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            };
            // SAFETY: the hook allocates nothing and calls only prctl (see above).
            unsafe { self.cmd.pre_exec(hook) };
        }
        let file = self.log_file.as_ref().map(|path| {
            std::fs::File::create(path)
                .unwrap_or_else(|e| panic!("{name}: cannot create {}: {e}", path.display()))
        });
        let mut child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let log = Log::new();
        log.keep(child.stderr.take().expect("stderr is piped"), file);
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        let stdout_log = log.clone();
        // Keeps draining stdout for the server's whole life, so a later print never meets a
        // closed pipe.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix(LISTENING)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.to_owned());
                    continue;
                }
                stdout_log.append(&format!("[stdout] {line}\n"));
            }
        });
        let pid = child.id();
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            port: 0,
            pid,
            name,
            log,
            exited: None,
        };
        // The child exiting closes the channel at once, so a crash is reported at once too, not
        // after the deadline.
        match rx.recv_timeout(DEADLINE) {
            Ok(rest) => {
                let rest = rest.trim().trim_end_matches('/');
                let addr = rest.parse::<SocketAddr>().ok().or_else(|| {
                    let port = rest.rsplit(':').next()?.parse::<u16>().ok()?;
                    Some(SocketAddr::from(([127, 0, 0, 1], port)))
                });
                match addr {
                    Some(addr) => {
                        server.addr = addr;
                        server.port = addr.port();
                    }
                    None => server.fail(&format!("bad listening line {rest:?}")),
                }
                // Captured by the test harness: shown with a failing test's output.
                eprintln!("test server {} on port {}", server.name, server.port);
                server
            }
            Err(e) => {
                server.exited = server.child.try_wait().ok().flatten();
                // Lets the stderr reader catch up with a dying child.
                std::thread::sleep(Duration::from_millis(200));
                server.fail(&format!("did not print `{LISTENING}ADDR` ({e})"))
            }
        }
    }
}

/// A running server; killed (and reaped) on drop unless it already exited.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The port it listens on.
    pub port: u16,
    /// Its process id.
    pub pid: u32,
    name: String,
    log: Log,
    exited: Option<ExitStatus>,
}

impl Server {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`, as the spec's JavaScript example writes it.
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Its stderr, live, for other processes' failure messages.
    pub fn log(&self) -> Log {
        self.log.clone()
    }

    /// Its stderr so far (the tail).
    pub fn log_text(&self) -> String {
        self.log.text()
    }

    /// Its stderr so far as log lines, text or JSON format alike ([`crate::parse_lines`]).
    pub fn log_lines(&self) -> Vec<crate::LogLine> {
        crate::parse_lines(&self.log.text())
    }

    /// Which server, and its stderr: for failure messages.
    pub fn context(&self) -> String {
        let label = format!("{} (port {}, exit {:?})", self.name, self.port, self.exited);
        self.log.context(&label)
    }

    /// Fails the test with the server's context.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{}: {msg}\n{}", self.name, self.context())
    }

    /// Whether the process is still running (a crash fails every hostile case).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident set size in KiB.
    pub fn rss_kib(&self) -> u64 {
        crate::procfs::rss_kib(self.pid)
    }

    /// Open file descriptors.
    pub fn fds(&self) -> usize {
        crate::procfs::open_fds(self.pid)
    }

    /// Sends `signal` (`libc::SIGTERM`, `libc::SIGINT`) to the server process.
    pub fn signal(&self, signal: i32) {
        let pid = self.pid as libc::pid_t;
        // SAFETY: kill(2) has no memory effects; `pid` is our own child, not yet reaped (reaping
        // happens only in `wait_exit`, `wait_log` and `drop`, which take `&mut self`), so it
        // cannot name an unrelated process.
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
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
