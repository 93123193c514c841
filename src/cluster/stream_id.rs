//! Redis stream entry ids (`<ms>-<seq>`), the offsets of `@socket.io/redis-streams-adapter`.
//!
//! The adapter hands an entry id to clients as the last argument of every stored broadcast and
//! accepts it back on reconnection only when it matches `/^[0-9]+-[0-9]+$/`
//! (`restoreSession`). Redis itself keeps both halves as unsigned 64-bit integers (XADD refuses
//! `18446744073709551616-0` with "Invalid stream ID"), so an id whose halves do not fit is
//! refused here too, although the regex would let it through to Redis.

use std::fmt;

/// A stream entry id. Ordered as Redis orders entries: by milliseconds, then by sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// Why a text is not a stream entry id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamIdError {
    /// Not `^[0-9]+-[0-9]+$`.
    Syntax,
    /// Digits that do not fit Redis's 64-bit halves.
    Overflow,
}

impl StreamId {
    /// The smallest id Redis can hold (`0-0`; XADD never creates it, XRANGE accepts it).
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };

    /// Parses `<ms>-<seq>`: ASCII digits on both sides of one `-`, nothing else (no sign, no
    /// spaces, no `*`, no `$`). Leading zeros are accepted, as the regex and Redis accept them.
    pub fn parse(text: &str) -> Result<StreamId, StreamIdError> {
        let (ms, seq) = text.split_once('-').ok_or(StreamIdError::Syntax)?;
        Ok(StreamId {
            ms: half(ms)?,
            seq: half(seq)?,
        })
    }

    /// The first id after this one: the adapter's `nextOffset` (`<ms>-<seq + 1>`, an exclusive
    /// XRANGE start for Redis < 6.2). At `seq = u64::MAX` the next id Redis could hold is
    /// `<ms + 1>-0` (the adapter's `parseInt(seq) + 1` would print a float there); `None` past
    /// the very last id.
    pub fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl std::str::FromStr for StreamId {
    type Err = StreamIdError;

    fn from_str(text: &str) -> Result<StreamId, StreamIdError> {
        StreamId::parse(text)
    }
}

fn half(digits: &str) -> Result<u64, StreamIdError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StreamIdError::Syntax);
    }
    digits.parse().map_err(|_| StreamIdError::Overflow)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// (text, its halves or the error).
    type Case = (&'static str, Result<(u64, u64), StreamIdError>);

    #[test]
    fn parse_accepts_exactly_the_adapters_regex() {
        let cases: &[Case] = &[
            ("0-0", Ok((0, 0))),
            ("1526919030474-55", Ok((1_526_919_030_474, 55))),
            ("007-01", Ok((7, 1))),
            (
                "18446744073709551615-18446744073709551615",
                Ok((u64::MAX, u64::MAX)),
            ),
            ("18446744073709551616-0", Err(StreamIdError::Overflow)),
            ("1-18446744073709551616", Err(StreamIdError::Overflow)),
            ("", Err(StreamIdError::Syntax)),
            ("1", Err(StreamIdError::Syntax)),
            ("1-", Err(StreamIdError::Syntax)),
            ("-1", Err(StreamIdError::Syntax)),
            ("1-2-3", Err(StreamIdError::Syntax)),
            ("+1-2", Err(StreamIdError::Syntax)),
            ("1-+2", Err(StreamIdError::Syntax)),
            (" 1-2", Err(StreamIdError::Syntax)),
            ("1-2\n", Err(StreamIdError::Syntax)),
            ("*", Err(StreamIdError::Syntax)),
            ("$", Err(StreamIdError::Syntax)),
            ("1-*", Err(StreamIdError::Syntax)),
            ("١-٢", Err(StreamIdError::Syntax)),
        ];
        for (text, want) in cases {
            let got = StreamId::parse(text).map(|id| (id.ms, id.seq));
            assert_eq!(got, *want, "{text:?}");
        }
    }

    #[test]
    fn display_round_trips_canonical_ids() {
        for text in ["0-0", "1-0", "1526919030474-55", "18446744073709551615-3"] {
            let id: StreamId = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
        }
        assert_eq!(StreamId::parse("007-01").unwrap().to_string(), "7-1");
    }

    #[test]
    fn ids_order_by_ms_then_seq_not_as_text() {
        let ordered = ["0-0", "0-1", "0-10", "9-5", "10-0", "10-2", "100-0"];
        let ids: Vec<StreamId> = ordered.iter().map(|t| t.parse().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        // As text, "10-0" sorts before "9-5": the comparison must be numeric.
        assert!("10-0" < "9-5");
    }

    #[test]
    fn next_is_the_adapters_next_offset() {
        let cases = [
            ("1-0", Some("1-1")),
            ("1526919030474-55", Some("1526919030474-56")),
            ("5-18446744073709551615", Some("6-0")),
            ("18446744073709551615-18446744073709551615", None),
        ];
        for (text, want) in cases {
            let next = StreamId::parse(text).unwrap().next().map(|n| n.to_string());
            assert_eq!(next.as_deref(), want, "{text}");
        }
    }
}
