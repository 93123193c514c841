//! ringcast's one-shot commands (`--help`, a bad configuration, `ringcast token`), run to
//! completion as an operator would.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::DEADLINE;

/// Runs `bin <args>` to completion, bounded by [`DEADLINE`].
pub fn run(bin: &Path, args: &[&str]) -> Output {
    run_with_env(bin, args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_with_env(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} {args:?}: {e}", bin.display()));
    let deadline = Instant::now() + DEADLINE;
    // Output is small (help text, one error line), so the pipes cannot fill while we poll.
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} {args:?} did not exit within {DEADLINE:?}",
                    bin.display()
                );
            }
            Err(e) => panic!("{} {args:?}: {e}", bin.display()),
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{} {args:?}: {e}", bin.display()))
}
