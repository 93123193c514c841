//! Session and socket ids that name their owning core.

use std::fmt;

/// Index of a worker core (0-based). At most 64 workers, so a shard fits one base64url digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(pub u16);

impl ShardId {
    /// Largest number of workers a node runs: one base64url digit names the shard.
    pub const MAX_SHARDS: usize = 64;

    /// The index as usize.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Sid length: the shard digit plus 19 random base64url digits (114 bits from the OS CSPRNG),
/// the same 20 characters socket.io uses, so nothing downstream is surprised by the length.
pub const SID_LEN: usize = 20;

/// An Engine.IO session id or a Socket.IO socket id.
///
/// Unguessable (114 random bits) and self-routing: the first character names the owning shard,
/// so any core can tell where a session lives without a shared lookup table.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sid([u8; SID_LEN]);

impl Sid {
    /// A fresh random id owned by `shard`. Fails only if the OS CSPRNG does.
    pub fn generate(shard: ShardId) -> std::io::Result<Sid> {
        let mut random = [0u8; SID_LEN];
        RANDOM.with_borrow_mut(|pool| pool.fill(&mut random))?;
        let mut out = [0u8; SID_LEN];
        out[0] = ALPHABET[shard.index() % ShardId::MAX_SHARDS];
        for (dst, src) in out[1..].iter_mut().zip(&random[1..]) {
            *dst = ALPHABET[(*src & 63) as usize];
        }
        Ok(Sid(out))
    }

    /// Parses a sid received from a client; `None` unless it has the exact shape.
    pub fn parse(s: &str) -> Option<Sid> {
        let bytes = s.as_bytes();
        if bytes.len() != SID_LEN || !bytes.iter().all(|b| ALPHABET.contains(b)) {
            return None;
        }
        let mut out = [0u8; SID_LEN];
        out.copy_from_slice(bytes);
        Some(Sid(out))
    }

    /// The shard that owns this id.
    pub fn shard(&self) -> ShardId {
        let digit = ALPHABET.iter().position(|&c| c == self.0[0]).unwrap_or(0);
        ShardId(digit as u16)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // The bytes are always from ALPHABET (ASCII), checked in `generate` and `parse`.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl AsRef<str> for Sid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

thread_local! {
    static RANDOM: std::cell::RefCell<RandomPool> = const {
        std::cell::RefCell::new(RandomPool { buf: [0; POOL_LEN], pos: POOL_LEN })
    };
}

/// Bytes from the OS CSPRNG fetched 4 KiB at a time (~200 ids per `getrandom` call): one call
/// per id was 2.6 % of the server's CPU in the connect storm (perf; two ids per connection, the
/// Engine.IO session's and the socket's). Every byte still comes from the OS, is handed out once
/// and is zeroed as it is taken.
struct RandomPool {
    buf: [u8; POOL_LEN],
    pos: usize,
}

const POOL_LEN: usize = 4096;

impl RandomPool {
    fn fill(&mut self, out: &mut [u8]) -> std::io::Result<()> {
        debug_assert!(out.len() <= POOL_LEN);
        if POOL_LEN - self.pos < out.len() {
            getrandom::fill(&mut self.buf).map_err(|e| std::io::Error::other(e.to_string()))?;
            self.pos = 0;
        }
        let taken = &mut self.buf[self.pos..self.pos + out.len()];
        out.copy_from_slice(taken);
        taken.fill(0);
        self.pos += out.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_one_pool_and_across_refills_are_distinct() {
        // 3 pool refills' worth: a reused or zeroed byte range would repeat an id.
        let ids: std::collections::HashSet<Sid> = (0..3 * POOL_LEN / SID_LEN)
            .map(|_| Sid::generate(ShardId(0)).expect("csprng"))
            .collect();
        assert_eq!(ids.len(), 3 * POOL_LEN / SID_LEN);
        assert!(!ids.contains(&Sid::parse("AAAAAAAAAAAAAAAAAAAA").expect("shape")));
    }

    #[test]
    fn sid_names_its_shard_and_round_trips() {
        for shard in [0u16, 1, 7, 63] {
            let sid = Sid::generate(ShardId(shard)).expect("csprng");
            assert_eq!(sid.shard(), ShardId(shard));
            assert_eq!(Sid::parse(sid.as_str()), Some(sid));
        }
    }

    #[test]
    fn sids_are_distinct() {
        let a = Sid::generate(ShardId(0)).expect("csprng");
        let b = Sid::generate(ShardId(0)).expect("csprng");
        assert_ne!(a, b);
    }

    #[test]
    fn parse_rejects_wrong_shapes() {
        for bad in [
            "",
            "short",
            "AAAAAAAAAAAAAAAAAAA!",
            "AAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAA\u{e9}",
        ] {
            assert_eq!(Sid::parse(bad), None, "{bad:?}");
        }
    }
}
