//! Stream entries out of XREAD and XRANGE replies, in RESP2 (arrays) or RESP3 (maps) form.

use redis::Value;

use crate::cluster::stream_id::StreamId;

/// One stream entry: its id and its field/value pairs, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Entry {
    /// The pairs as [`crate::cluster::cluster_message::ClusterMessage::decode_entry`] takes them.
    pub fn pairs(&self) -> Vec<(&[u8], &[u8])> {
        self.fields
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect()
    }
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// One `[id, [field, value, …]]`; `None` when it is not that shape (or the id is not one).
fn entry(v: &Value) -> Option<Entry> {
    let Value::Array(parts) = v else {
        return None;
    };
    let [id, fields] = parts.as_slice() else {
        return None;
    };
    let id = StreamId::parse(std::str::from_utf8(bytes(id)?).ok()?).ok()?;
    let fields = match fields {
        Value::Array(flat) => flat
            .chunks_exact(2)
            .filter_map(|kv| Some((bytes(&kv[0])?.to_vec(), bytes(&kv[1])?.to_vec())))
            .collect(),
        Value::Map(pairs) => pairs
            .iter()
            .filter_map(|(k, v)| Some((bytes(k)?.to_vec(), bytes(v)?.to_vec())))
            .collect(),
        // A deleted entry's fields read as nil (XCLAIM of a trimmed entry): no fields.
        _ => Vec::new(),
    };
    Some(Entry { id, fields })
}

/// The entries of an XRANGE (or XREVRANGE) reply, in reply order; malformed ones are skipped.
pub fn range_entries(v: &Value) -> Vec<Entry> {
    match v {
        Value::Array(list) => list.iter().filter_map(entry).collect(),
        _ => Vec::new(),
    }
}

/// The entries of an XREAD reply on one stream: nil (the block time passed) is none;
/// `[[name, entries]]` in RESP2, `{name: entries}` in RESP3.
pub fn read_entries(v: &Value) -> Vec<Entry> {
    match v {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(pair) if pair.len() == 2 => Some(range_entries(&pair[1])),
                _ => None,
            })
            .flatten()
            .collect(),
        Value::Map(streams) => streams
            .iter()
            .flat_map(|(_, entries)| range_entries(entries))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn raw_entry(id: &str, kv: &[&str]) -> Value {
        Value::Array(vec![
            bulk(id),
            Value::Array(kv.iter().map(|s| bulk(s)).collect()),
        ])
    }

    #[test]
    fn replies_of_both_protocols_give_the_same_entries() {
        let e1 = raw_entry("1-0", &["uid", "a", "type", "3"]);
        let e2 = raw_entry("2-5", &["uid", "b"]);
        let want = vec![
            Entry {
                id: StreamId { ms: 1, seq: 0 },
                fields: vec![
                    (b"uid".to_vec(), b"a".to_vec()),
                    (b"type".to_vec(), b"3".to_vec()),
                ],
            },
            Entry {
                id: StreamId { ms: 2, seq: 5 },
                fields: vec![(b"uid".to_vec(), b"b".to_vec())],
            },
        ];
        let entries = Value::Array(vec![e1, e2, bulk("junk"), raw_entry("x-1", &[])]);
        let cases = [
            ("xrange", range_entries(&entries)),
            (
                "xread resp2",
                read_entries(&Value::Array(vec![Value::Array(vec![
                    bulk("socket.io"),
                    entries.clone(),
                ])])),
            ),
            (
                "xread resp3",
                read_entries(&Value::Map(vec![(bulk("socket.io"), entries.clone())])),
            ),
        ];
        for (name, got) in cases {
            assert_eq!(got, want, "{name}");
        }
        assert!(read_entries(&Value::Nil).is_empty());
        assert!(range_entries(&Value::Nil).is_empty());
    }
}
