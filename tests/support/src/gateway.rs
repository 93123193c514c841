//! ringcast as the suites start it: the test secret and API key, a worker count, and whatever
//! else a test adds; or, to test the tests, its Node twin.

use std::path::{Path, PathBuf};

use crate::server::{Launch, Server};
use crate::{API_KEY, SECRET, clients_js};

/// What a gateway test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The ringcast binary and its examples.
    Ringcast,
    /// The Node socket.io 4.8 peers in `tests/clients/js/peers/` (testing the tests).
    Node,
}

impl Target {
    /// Reads `RINGCAST_E2E_TARGET` (`ringcast`, the default, or `node`).
    pub fn from_env() -> Target {
        match std::env::var("RINGCAST_E2E_TARGET").as_deref() {
            Err(_) | Ok("") | Ok("ringcast") => Target::Ringcast,
            Ok("node") => Target::Node,
            Ok(other) => panic!("RINGCAST_E2E_TARGET={other:?}: expected `ringcast` or `node`"),
        }
    }
}

/// A protocol-suite example (ringcast's `examples/`, or its Node twin under the node target).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Example {
    /// `examples/reference.rs`: the Socket.IO protocol suite's reference server.
    Reference,
    /// `examples/ws_echo.rs`: a plain WebSocket echo on `/` (Autobahn).
    WsEcho,
}

/// How a gateway is started. Defaults: `--listen 127.0.0.1:0`, [`SECRET`], [`API_KEY`], the
/// server's default paths, `--workers` from `RINGCAST_E2E_WORKERS` or 1.
#[derive(Clone, Debug)]
pub struct Gateway {
    bin: PathBuf,
    target: Target,
    workers: Option<usize>,
    paths: Vec<String>,
    public_key: Option<(PathBuf, Option<String>)>,
    api_key: bool,
    extra: Vec<String>,
}

impl Gateway {
    /// The ringcast binary at `bin` (a suite passes `env!("CARGO_BIN_EXE_ringcast")`).
    pub fn new(bin: impl AsRef<Path>) -> Gateway {
        Gateway {
            bin: bin.as_ref().to_owned(),
            target: Target::Ringcast,
            workers: None,
            paths: Vec::new(),
            public_key: None,
            api_key: true,
            extra: Vec::new(),
        }
    }

    /// Runs against `target` instead (see [`Target::from_env`]).
    pub fn target(mut self, target: Target) -> Gateway {
        self.target = target;
        self
    }

    /// `--workers n`.
    pub fn workers(mut self, n: usize) -> Gateway {
        self.workers = Some(n);
        self
    }

    /// One more `--path p` (none keeps the server's default, `/ws/` and `/socket.io/`).
    pub fn path(mut self, path: &str) -> Gateway {
        self.paths.push(path.to_owned());
        self
    }

    /// `--jwt-public-key-file file [--jwt-algorithms a]` instead of the HS256 secret.
    pub fn public_key(mut self, file: impl Into<PathBuf>, algorithms: Option<&str>) -> Gateway {
        self.public_key = Some((file.into(), algorithms.map(str::to_owned)));
        self
    }

    /// No `--api-key`: the publish API is then disabled.
    pub fn without_api_key(mut self) -> Gateway {
        self.api_key = false;
        self
    }

    /// Any further arguments.
    pub fn args<I, S>(mut self, args: I) -> Gateway
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.extra
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Starts it and waits until it listens.
    pub fn start(self) -> Server {
        self.launch().start()
    }

    /// The launch, for callers that also want a log file or a server that dies with them.
    pub fn launch(self) -> Launch {
        let mut args: Vec<String> = Vec::new();
        let launch = match self.target {
            Target::Ringcast => {
                let workers = self.workers.unwrap_or_else(default_workers);
                args.extend([
                    "--listen".into(),
                    "127.0.0.1:0".into(),
                    "--workers".into(),
                    workers.to_string(),
                ]);
                Launch::new(&self.bin)
            }
            Target::Node => {
                let script = clients_js().join("peers/gateway.js");
                args.extend([script.display().to_string(), "--port".into(), "0".into()]);
                Launch::new("node")
            }
        };
        match &self.public_key {
            Some((file, algorithms)) => {
                args.extend(["--jwt-public-key-file".into(), file.display().to_string()]);
                if let Some(a) = algorithms {
                    args.extend(["--jwt-algorithms".into(), a.clone()]);
                }
            }
            None => args.extend(["--jwt-secret".into(), SECRET.into()]),
        }
        if self.api_key {
            args.extend(["--api-key".into(), API_KEY.into()]);
        }
        for p in &self.paths {
            args.extend(["--path".into(), p.clone()]);
        }
        args.extend(self.extra.iter().cloned());
        let name = format!("{:?} gateway {args:?}", self.target);
        launch.args(&args).name(name)
    }

    /// A protocol-suite example server (built next to the binary), or its Node twin.
    pub fn example(self, example: Example) -> Server {
        let (bin, js) = match example {
            Example::Reference => ("reference", "peers/reference.js"),
            Example::WsEcho => ("ws_echo", "peers/ws_echo.js"),
        };
        let launch = match self.target {
            Target::Ringcast => Launch::new(example_binary(&self.bin, bin)),
            Target::Node => Launch::new("node").arg(clients_js().join(js)),
        };
        launch
            .args(["--listen", "127.0.0.1:0"])
            .name(format!("{:?} example {bin}", self.target))
            .start()
    }
}

/// `--workers` when a test does not choose: `RINGCAST_E2E_WORKERS`, else 1 (set the variable to
/// run a whole suite across cores).
fn default_workers() -> usize {
    std::env::var("RINGCAST_E2E_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The example binary next to the ringcast binary: `cargo test` builds every example in the
/// same profile (`cargo test --test e2e` alone does not). Not built from here: cargo holds the
/// build-directory lock while tests run, so a nested `cargo build` would wait forever.
fn example_binary(bin: &Path, name: &str) -> PathBuf {
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
