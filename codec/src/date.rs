//! Dates as JavaScript writes them: `Date.prototype.toISOString` (ECMA-262 §21.4.4.36), used by
//! the MessagePack timestamp extension's JSON form and by the gateway's and the admin UI's
//! wall-clock fields. One calendar for the whole project.

/// The largest distance from the epoch a JS Date can hold: ±8.64e15 ms (ECMA-262 §21.4.1.22,
/// "TimeClip"), i.e. ±100 000 000 days.
pub const MAX_JS_MS: i64 = 8_640_000_000_000_000;

/// `2026-11-26T00:00:00.000Z` for `ms` milliseconds since 1970-01-01 UTC, as `toISOString`
/// writes it: a four-digit year in 0000–9999, a signed six-digit one outside (`-000001`,
/// `+010000`). `None` past [`MAX_JS_MS`], where JavaScript throws a `RangeError`.
pub fn iso8601(ms: i64) -> Option<String> {
    if !(-MAX_JS_MS..=MAX_JS_MS).contains(&ms) {
        return None;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -year)
    } else {
        format!("+{year:06}")
    };
    Some(format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    ))
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Counts in 400-year eras (146 097 days, which repeat exactly) starting on 0000-03-01, so the
/// leap day is the last day of its year and month lengths follow the 153-days-per-5-months
/// pattern from March: H. Hinnant's "chrono-Compatible Low-Level Date Algorithms".
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // 719 468 days from 0000-03-01 to 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    // Years of the era: subtract the leap days (one per 4 years, minus one per 100, plus the
    // one at 400) before dividing by 365.
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Month from March = 0: five-month cycles of 153 days (31 30 31 30 31).
    let mp = (5 * day_of_year + 2) / 153;
    // Both fit: day in 1..=31, month in 1..=12.
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
