//! Date-time literals as written in schemas and as databases print them back: parsed, and
//! moved to UTC, so that defaults that mean the same instant compare equal.

/// A parsed ISO 8601 date-time: the local date and time as written, the fraction digits, the
/// offset from UTC in minutes (0 for `Z` or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeLiteral {
    /// Year, month, day, as written.
    pub date: (i64, u32, u32),
    /// Hour, minute, second, as written.
    pub time: (u32, u32, u32),
    /// The fraction-of-a-second digits, as written (may be empty).
    pub frac: String,
    /// The offset from UTC in minutes (0 for `Z` or none).
    pub offset_minutes: i64,
}

impl DateTimeLiteral {
    /// The date and time in UTC: ((year, month, day), (hour, minute, second)).
    pub fn utc(&self) -> ((i64, u32, u32), (u32, u32, u32)) {
        let (y, m, d) = self.date;
        let (h, mi, s) = self.time;
        let minutes = days_from_civil(y, m, d) * 1440 + i64::from(h) * 60 + i64::from(mi)
            - self.offset_minutes;
        let days = minutes.div_euclid(1440);
        let rest = minutes.rem_euclid(1440);
        (
            civil_from_days(days),
            ((rest / 60) as u32, (rest % 60) as u32, s),
        )
    }
}

/// Parses `2020-01-02`, `2020-01-02T03:04:05.120Z`, `2020-01-02 03:04:05+02:00` or
/// `… 03:04:05.1-0530`: a date, an optional time (`T` or a space before it) with optional
/// fraction, and an optional `Z` or `±HH[:MM]` offset. `None` for anything else.
pub fn parse(s: &str) -> Option<DateTimeLiteral> {
    let num = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let (date, rest) = match (s.get(..10), s.get(10..)) {
        (Some(d), Some(r)) => (d, r),
        _ => (s, ""),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut out = DateTimeLiteral {
        date: (i64::from(y), m, d),
        time: (0, 0, 0),
        frac: String::new(),
        offset_minutes: 0,
    };
    let Some(rest) = rest.strip_prefix(['T', ' ']) else {
        return rest.is_empty().then_some(out);
    };
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = hms.split(':');
    let (h, mi) = (num(hms.next()?)?, num(hms.next()?)?);
    let se = hms.next().map_or(Some(0), num)?;
    if hms.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    out.time = (h, mi, se);
    out.frac = frac.to_string();
    out.offset_minutes = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let z = z.get(1..)?;
            let (zh, zm) = match (z.split_once(':'), z.get(..2), z.get(2..)) {
                (Some(pair), _, _) => pair,
                (None, Some(h), Some(m)) if z.len() == 4 => (h, m),
                _ => (z, "0"),
            };
            sign * (i64::from(num(zh)?) * 60 + i64::from(num(zm)?))
        }
    };
    Some(out)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `s` (a PostgreSQL `timestamp with time zone` constant as the server prints it, e.g.
/// `2020-01-02 02:04:05.12+01`) as the same instant in UTC (`2020-01-02 01:04:05.12+00`);
/// `None` when it is not such a constant (`infinity`, a BC date, …).
pub fn timestamptz_utc(s: &str) -> Option<String> {
    let t = parse(s)?;
    let ((y, mo, d), (h, mi, se)) = t.utc();
    let frac = t.frac.trim_end_matches('0');
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!(
        "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{se:02}{frac}+00"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_move_to_utc() {
        for (printed, utc) in [
            ("2020-01-02 02:04:05.12+01", "2020-01-02 01:04:05.12+00"),
            ("2020-12-31 23:30:00-01", "2021-01-01 00:30:00+00"),
            ("2024-03-01 05:00:00+05:30", "2024-02-29 23:30:00+00"),
            ("2020-01-02 01:04:05+00", "2020-01-02 01:04:05+00"),
        ] {
            assert_eq!(timestamptz_utc(printed).as_deref(), Some(utc), "{printed}");
        }
        for other in [
            "infinity",
            "0044-03-15 00:00:00+00 BC",
            "2020-01-0\u{e9}T1",
            "2020-01-02T03:04+\u{e9}1",
            "",
        ] {
            assert_eq!(timestamptz_utc(other), None, "{other}");
        }
        for days in [-800_000, -1, 0, 1, 59, 365 * 400 + 97, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
