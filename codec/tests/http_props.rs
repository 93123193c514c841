//! Property tests for request heads: prefixes are `Partial`, a complete head re-parses to the
//! same `Request` from exactly `head_len` bytes, arbitrary bytes never panic.

use proptest::prelude::*;
use ringcast_codec::Status;
use ringcast_codec::http::{HttpError, Limits, Request, parse_request};

fn parse<'a>(buf: &'a [u8], limits: &Limits) -> Result<Status<Request<'a>>, HttpError> {
    parse_request(buf, limits)
}

/// A header name in random ASCII case.
fn name() -> impl Strategy<Value = String> {
    let names = vec![
        "Host",
        "Upgrade",
        "Connection",
        "Sec-WebSocket-Version",
        "Origin",
        "Content-Type",
        "Authorization",
        "X-Forwarded-For",
        "Access-Control-Request-Method",
        "Cookie",
        "User-Agent",
    ];
    (prop::sample::select(names), any::<u64>()).prop_map(|(n, bits)| {
        n.chars()
            .enumerate()
            .map(|(i, c)| {
                if bits >> (i % 64) & 1 == 1 {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect()
    })
}

fn head() -> impl Strategy<Value = (String, Vec<(String, String)>, Option<u64>)> {
    let method = prop::sample::select(vec!["GET", "POST", "OPTIONS", "PUT", "FOO"]);
    let target = "/[a-z0-9/._-]{0,20}(\\?[a-zA-Z0-9=&._-]{0,30})?";
    let headers = prop::collection::vec((name(), "[ -~]{0,30}"), 0..10);
    let content_length = prop::option::of(0..1_000_000u64);
    (method, target, headers, content_length)
        .prop_map(|(m, t, h, cl)| (format!("{m} {t} HTTP/1.1"), h, cl))
}

fn render(line: &str, headers: &[(String, String)], content_length: Option<u64>) -> Vec<u8> {
    let mut out = format!("{line}\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(n) = content_length {
        out.push_str(&format!("Content-Length: {n}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn class(r: &Result<Status<Request<'_>>, HttpError>) -> &'static str {
    match r {
        Ok(Status::Complete(_)) => "complete",
        Ok(Status::Partial) => "partial",
        Err(_) => "error",
    }
}

proptest! {
    #[test]
    fn generated_heads_parse_and_every_prefix_is_partial((line, headers, cl) in head(), body in "[a-z]{0,10}") {
        let head = render(&line, &headers, cl);
        let mut input = head.clone();
        input.extend_from_slice(body.as_bytes());
        let limits = Limits::default();
        let Ok(Status::Complete(req)) = parse(&input, &limits) else {
            return Err(TestCaseError::fail(format!("did not parse: {:?}", String::from_utf8_lossy(&head))));
        };
        prop_assert_eq!(req.head_len, head.len());
        prop_assert_eq!(req.content_length, cl);
        prop_assert!(req.path.starts_with('/'));
        prop_assert_eq!(parse(&input[..req.head_len], &limits), Ok(Status::Complete(req)));
        for cut in 0..head.len() {
            prop_assert_eq!(parse(&head[..cut], &limits), Ok(Status::Partial), "cut {}", cut);
        }
        // A first-occurrence field is found whatever its name's case.
        if let Some((_, v)) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("origin")) {
            prop_assert_eq!(req.origin, Some(v.trim().as_bytes()));
        }
    }

    #[test]
    fn head_limit_is_exact((line, headers, cl) in head()) {
        let head = render(&line, &headers, cl);
        let n = head.len();
        let at = |max_head| parse(&head, &Limits { max_head, max_headers: 64 });
        prop_assert!(matches!(at(n), Ok(Status::Complete(_))));
        prop_assert_eq!(at(n - 1), Err(HttpError::HeadTooLarge));
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300), max_head in 1..400usize, max_headers in 0..100usize) {
        let limits = Limits { max_head, max_headers };
        let whole = parse(&bytes, &limits);
        if let Ok(Status::Complete(req)) = whole {
            prop_assert!(req.head_len <= bytes.len() && req.head_len <= max_head);
            prop_assert_eq!(parse(&bytes[..req.head_len], &limits), Ok(Status::Complete(req)));
        }
        // Prefixes: `Partial`, or the whole input's own outcome class.
        for cut in 0..bytes.len() {
            let prefix = parse(&bytes[..cut], &limits);
            let ok = prefix == Ok(Status::Partial) || class(&prefix) == class(&whole);
            prop_assert!(ok, "cut {}: {:?} vs whole {:?}", cut, prefix, whole);
        }
    }
}
