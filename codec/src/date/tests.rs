use super::*;

/// (what, ms since the epoch, what `new Date(ms).toISOString()` prints in Node 20).
const CASES: &[(&str, i64, Option<&str>)] = &[
    ("the epoch", 0, Some("1970-01-01T00:00:00.000Z")),
    (
        "the spec's example",
        1_795_651_200_000,
        Some("2026-11-26T00:00:00.000Z"),
    ),
    (
        "milliseconds",
        1_795_651_200_123,
        Some("2026-11-26T00:00:00.123Z"),
    ),
    (
        "the end of a day",
        946_684_799_999,
        Some("1999-12-31T23:59:59.999Z"),
    ),
    (
        "a leap day",
        951_782_400_000,
        Some("2000-02-29T00:00:00.000Z"),
    ),
    (
        "2024's leap day, last second",
        1_709_251_199_000,
        Some("2024-02-29T23:59:59.000Z"),
    ),
    ("2038", 2_147_483_648_000, Some("2038-01-19T03:14:08.000Z")),
    (
        "2100 is not leap",
        4_107_542_400_000,
        Some("2100-03-01T00:00:00.000Z"),
    ),
    (
        "the last second of 9999",
        253_402_300_799_000,
        Some("9999-12-31T23:59:59.000Z"),
    ),
    (
        "year 10000 is signed",
        253_402_300_800_000,
        Some("+010000-01-01T00:00:00.000Z"),
    ),
    (
        "one ms before the epoch",
        -1,
        Some("1969-12-31T23:59:59.999Z"),
    ),
    (
        "year -1 is signed",
        -62_198_755_200_000,
        Some("-000001-01-01T00:00:00.000Z"),
    ),
    (
        "the largest JS date",
        MAX_JS_MS,
        Some("+275760-09-13T00:00:00.000Z"),
    ),
    (
        "the smallest JS date",
        -MAX_JS_MS,
        Some("-271821-04-20T00:00:00.000Z"),
    ),
    ("past the largest", MAX_JS_MS + 1, None),
    ("past the smallest", -MAX_JS_MS - 1, None),
];

#[test]
fn iso8601_as_javascript_writes_it() {
    for &(what, ms, want) in CASES {
        assert_eq!(iso8601(ms).as_deref(), want, "{what}");
    }
}

#[test]
fn civil_from_days_agrees_with_counting_day_by_day() {
    // An independent calendar: walk one day at a time with the Gregorian leap rule, from
    // 1600-01-01 (day -135 140) through 2517 (335 000 days: two 400-year cycles' worth of
    // century rules on each side of the epoch).
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_len = |y: i64, m: u32| match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let (mut y, mut m, mut d) = (1600, 1, 1);
    for days in -135_140..200_000 {
        assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
        d += 1;
        if d > month_len(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
}
