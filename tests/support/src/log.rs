//! A child's output kept for failure messages: the tail, since the tail is what explains a
//! failure, and optionally all of it in a file.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// How much output to keep in memory.
const KEEP: usize = 64 * 1024;

/// The last [`KEEP`] bytes a child wrote; cheap to clone, shared with its reader threads.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<String>>);

impl Log {
    /// An empty log.
    pub fn new() -> Log {
        Log::default()
    }

    /// Reads `from` to its end on a thread into this log (and into `file`, whole, when given).
    pub fn keep(&self, mut from: impl Read + Send + 'static, mut file: Option<File>) {
        let log = self.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Some(f) = file.as_mut() {
                            // The file is for reading after the run; losing it loses no check.
                            let _ = f.write_all(&buf[..n]);
                        }
                        log.append(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            }
        });
    }

    /// Appends `text`, dropping the oldest bytes past [`KEEP`].
    pub fn append(&self, text: &str) {
        let mut log = self.lock();
        log.push_str(text);
        if log.len() > KEEP {
            let mut cut = log.len() - KEEP;
            while !log.is_char_boundary(cut) {
                cut += 1;
            }
            log.drain(..cut);
        }
    }

    /// Everything kept so far.
    pub fn text(&self) -> String {
        self.lock().clone()
    }

    /// A labelled copy for failure messages.
    pub fn context(&self, name: &str) -> String {
        let log = self.lock();
        if log.trim().is_empty() {
            format!("--- {name}: (nothing on stderr)")
        } else {
            format!("--- {name} stderr (tail):\n{}", log.trim_end())
        }
    }

    /// A poisoned log is still a log: a panicking reader thread must not hide the context.
    fn lock(&self) -> MutexGuard<'_, String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
