//! The README's "A 30-second tour", run as written, from a fresh clone of the repository at
//! HEAD: its shell blocks in one bash session (build, secret and key, server, token, publish,
//! stop), its JavaScript client with the real socket.io-client and its Python client with the
//! real python-socketio, and the lines the README says they print. A clone, not this checkout,
//! so the test also proves the committed files are enough (commit before running it).
//!
//! Its own test binary: the clone's build would compete for the 2 cores with the other suites'
//! servers if it ran among their tests.

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ringcast_test_support::{
    DEADLINE, Proc, ScratchDir, Shell, clients_js, free_port, repo, venv_bin,
};

/// The section of README.md the test runs.
const SECTION: &str = "## A 30-second tour";

/// The port the README's tour uses; the test substitutes a free one (several suites and people
/// share this machine).
const README_PORT: &str = "8000";

/// The agent the tour's clients subscribe to and its publish targets.
const AGENT: &str = "123e4567-e89b-12d3-a456-426614174000";

/// How long the tour's build may take. The clone recompiles the workspace's own crates, and the
/// dependencies this build compiled with other features (the first time only): the whole test
/// took 8 minutes here, on 2 cores at a load of 9. The deadline bounds a hang.
const BUILD: Duration = Duration::from_secs(30 * 60);

/// A fenced block of the tour.
#[derive(Debug, PartialEq)]
enum Block {
    /// ```sh: typed into the terminal.
    Shell(String),
    /// ```javascript: saved as client.js, run with node.
    Js(String),
    /// ```python: saved as client.py, run with python.
    Python(String),
}

/// The fenced blocks of `readme`'s tour section, in order.
fn tour_blocks(readme: &str) -> Vec<Block> {
    let start = readme
        .find(SECTION)
        .unwrap_or_else(|| panic!("README.md has no {SECTION:?} section"));
    let section = &readme[start + SECTION.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(lang) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let body = body.join("\n") + "\n";
        blocks.push(match lang {
            "sh" => Block::Shell(body),
            "javascript" => Block::Js(body),
            "python" => Block::Python(body),
            other => {
                panic!("the tour has a ```{other} block; the test runs sh, javascript, python")
            }
        });
    }
    blocks
}

/// The output a shell block says it prints: its `# {…}` comment lines (JSON answers).
fn expected_output(block: &str) -> Vec<String> {
    block
        .lines()
        .filter_map(|l| l.strip_prefix("# {"))
        .map(|rest| format!("{{{rest}"))
        .collect()
}

/// `git clone` of this repository, checked out at HEAD, into `dir/ringcast`.
fn clone_head(dir: &Path) -> PathBuf {
    let git = |args: &[&str], cwd: &Path| {
        let out = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .output()
            .unwrap_or_else(|e| panic!("git {args:?}: {e}"));
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let head = git(&["rev-parse", "HEAD"], repo());
    let clone = dir.join("ringcast");
    let source = repo().to_string_lossy().into_owned();
    let target = clone.to_string_lossy().into_owned();
    git(&["clone", "--quiet", &source, &target], dir);
    git(&["checkout", "--quiet", "--detach", &head], &clone);
    clone
}

/// Where this test binary's cargo keeps its intermediate artifacts: `<target>/release/ringcast`
/// is the binary under test, so `<target>`.
fn outer_build_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_ringcast"));
    bin.ancestors()
        .nth(2)
        .unwrap_or_else(|| panic!("{} has no target directory", bin.display()))
        .to_path_buf()
}

/// The clients the tour starts, once started.
#[derive(Default)]
struct Clients {
    js: Option<Proc>,
    python: Option<Proc>,
    /// Whether both printed their subscription.
    subscribed: bool,
}

impl Clients {
    /// Waits, once, until both clients printed `subscribed to agent:…` (what the README tells
    /// the reader to wait for before publishing).
    fn wait_subscribed(&mut self) {
        if self.subscribed || (self.js.is_none() && self.python.is_none()) {
            return;
        }
        let want = format!("subscribed to agent:{AGENT}");
        for client in [&mut self.js, &mut self.python].into_iter().flatten() {
            client.expect_line(&format!("{want:?}"), |l| l == want);
        }
        self.subscribed = true;
    }
}

#[test]
fn readme_tour_runs_from_a_fresh_clone() {
    // The same clone path on every run of this checkout: the clone's crates then replace their
    // previous artifacts in the shared build directory instead of adding ~25 MB a run.
    let build_dir = outer_build_dir();
    let mut hasher = std::hash::DefaultHasher::new();
    build_dir.hash(&mut hasher);
    let scratch = ScratchDir::fixed(&format!("tour-{:016x}", hasher.finish()));
    let clone = clone_head(scratch.path());
    let readme = std::fs::read_to_string(clone.join("README.md")).expect("the clone's README.md");
    let port = free_port().to_string();
    let blocks = tour_blocks(&readme.replace(README_PORT, &port));
    let count = |f: fn(&Block) -> bool| blocks.iter().filter(|b| f(b)).count();
    assert_eq!(
        count(|b| matches!(b, Block::Js(_))),
        1,
        "one JavaScript client: {blocks:?}"
    );
    assert_eq!(
        count(|b| matches!(b, Block::Python(_))),
        1,
        "one Python client: {blocks:?}"
    );

    // The clone builds into its own ./target (the README runs ./target/release/ringcast), with
    // its intermediate artifacts in this build's directory (cargo's build-dir): the
    // dependencies are already compiled there, and only the workspace's own crates recompile,
    // plus, once, any dependency this build compiled with other features. The clone's crates
    // have other paths, hence other artifact names: this build's own are not overwritten (its
    // target/release/ringcast stays; checked here after a run). It still proves the committed
    // files are enough.
    let build_dir = build_dir.to_string_lossy();
    let mut shell = Shell::start(
        &clone,
        &[("CARGO_BUILD_BUILD_DIR", &build_dir)],
        &["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"],
    );
    let mut clients = Clients::default();
    let mut published = false;
    for block in &blocks {
        match block {
            Block::Shell(text) => {
                clients.wait_subscribed();
                let within = if text.contains("cargo build") {
                    BUILD
                } else {
                    DEADLINE
                };
                let out = shell.run(text, within);
                assert_eq!(out, expected_output(text), "what the block prints\n{text}");
                if text.contains("/api/v1/emit") {
                    published = true;
                    expect_events(&mut clients);
                }
            }
            Block::Js(text) => {
                let token = shell.var("TOKEN");
                let path = clone.join("client.js");
                std::fs::write(&path, text).expect("write client.js");
                // `npm install socket.io-client@4` in the README; here the suite's pinned copy.
                let node_path = clients_js().join("node_modules");
                let mut cmd = Command::new("node");
                cmd.arg(&path)
                    .current_dir(&clone)
                    .env("TOKEN", &token)
                    .env("NODE_PATH", node_path);
                clients.js = Some(Proc::spawn(cmd, "node client.js".into()));
            }
            Block::Python(text) => {
                let token = shell.var("TOKEN");
                let path = clone.join("client.py");
                std::fs::write(&path, text).expect("write client.py");
                // `pip install python-socketio[asyncio_client]` in the README; here the .venv.
                let mut cmd = Command::new(venv_bin("python"));
                cmd.arg(&path)
                    .current_dir(&clone)
                    .env("TOKEN", &token)
                    .env("PYTHONUNBUFFERED", "1");
                clients.python = Some(Proc::spawn(cmd, "python client.py".into()));
            }
        }
    }
    assert!(published, "the tour publishes nothing: {blocks:?}");
}

/// What the README says each client prints once the event is published.
fn expect_events(clients: &mut Clients) {
    let Clients {
        js: Some(js),
        python: Some(python),
        ..
    } = clients
    else {
        panic!("the tour publishes before starting both clients");
    };
    let want = format!("Agent {AGENT} changed from idle to busy");
    js.expect_line(&format!("{want:?}"), |l| l == want);
    let line = python.expect_line("\"Status changed: …\"", |l| {
        l.starts_with("Status changed: ")
    });
    // print(f"Status changed: {data}") prints the dict's repr.
    for part in [
        format!("'agent_id': '{AGENT}'"),
        "'old_status': 'idle'".to_owned(),
        "'new_status': 'busy'".to_owned(),
        "'timestamp': ".to_owned(),
    ] {
        assert!(
            line.contains(&part),
            "{line:?} lacks {part}\n{}",
            python.context()
        );
    }
}
