//! A bash session fed shell text block by block, as a reader pastes a README's blocks into a
//! terminal: variables and background jobs carry from one block to the next.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Proc;

/// The line that ends a block's output; no command of a README prints it.
const DONE: &str = "@@ringcast-shell-block-done";

/// `bash` under `set -euo pipefail`, at the lowest CPU priority (the machine is shared), in a
/// process group of its own: on drop the whole group is killed, so a server a block started
/// in the background never outlives the test.
#[derive(Debug)]
pub struct Shell {
    proc: Proc,
    group: libc::pid_t,
}

impl Shell {
    /// A session in `dir` with `env` added to this process's environment and `unset` removed.
    pub fn start(dir: &Path, env: &[(&str, &str)], unset: &[&str]) -> Shell {
        use std::os::unix::process::CommandExt as _;
        let mut cmd = Command::new("nice");
        cmd.args(["-n", "19", "bash", "-s"])
            .current_dir(dir)
            .envs(env.iter().copied())
            .process_group(0);
        for name in unset {
            cmd.env_remove(name);
        }
        let proc = Proc::spawn(cmd, format!("bash in {}", dir.display()));
        let group = libc::pid_t::try_from(proc.id()).expect("a pid fits pid_t");
        let mut shell = Shell { proc, group };
        shell.proc.write_line("set -euo pipefail");
        shell
    }

    /// Runs `block` and returns what it printed on stdout, line by line. Fails (with its
    /// stderr) if the block fails, since `set -e` ends the session, or outlasts `within`.
    pub fn run(&mut self, block: &str, within: Duration) -> Vec<String> {
        self.proc.write_line(block);
        self.proc.write_line(&format!("echo {DONE}"));
        let deadline = Instant::now() + within;
        let what = format!("the end of the block\n{block}");
        let mut out = Vec::new();
        loop {
            match self.proc.line_until(deadline, &what) {
                // curl prints its answer without a newline: the marker may end its line.
                Some(line) if line.ends_with(DONE) => {
                    let last = &line[..line.len() - DONE.len()];
                    if !last.is_empty() {
                        out.push(last.to_owned());
                    }
                    return out;
                }
                Some(line) => out.push(line),
                None => self
                    .proc
                    .fail(&format!("no end within {within:?} of\n{block}")),
            }
        }
    }

    /// The value of the session's variable `name`.
    pub fn var(&mut self, name: &str) -> String {
        let lines = self.run(&format!("printf '%s\\n' \"${name}\""), crate::DEADLINE);
        lines.concat()
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        // SAFETY: kill(2) with a negative pid signals the process group `group`, which bash
        // leads (process_group(0) above); it touches no memory of this process.
        unsafe {
            libc::kill(-self.group, libc::SIGKILL);
        }
    }
}
