//! Instant expressions: an RFC 3339 instant, a declared name, or either followed by offsets,
//! e.g. `dst-expiry + 1d - 2h`. Operators are separated by spaces because names contain `-`.

use std::collections::BTreeMap;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Units accepted after an offset amount; a year is 365 days (calendar-free, so predictable).
const UNITS: &[(char, i64)] = &[
    ('s', 1),
    ('m', 60),
    ('h', 3_600),
    ('d', 86_400),
    ('w', 7 * 86_400),
    ('y', 365 * 86_400),
];

/// Parse an RFC 3339 instant and normalise it to UTC without sub-second precision (certificate
/// times have whole seconds; keeping nanoseconds would make the manifest disagree with the DER).
pub(crate) fn parse_rfc3339_utc(text: &str) -> Option<OffsetDateTime> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    parsed.to_offset(UtcOffset::UTC).replace_nanosecond(0).ok()
}

/// Why an instant expression does not resolve; the message says what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InstantError {
    /// The expression names an instant that is not declared.
    #[error("{0}")]
    UnknownName(String),
    /// Anything else: a bad operator, unit or amount, or a result out of range.
    #[error("{0}")]
    Malformed(String),
}

/// The instants X.509 can encode: UTCTime and GeneralizedTime have four-digit years. Outside
/// this range rcgen would panic while encoding, so it is an input error here instead.
const FIRST_ENCODABLE_YEAR: i32 = 1;
const LAST_ENCODABLE_YEAR: i32 = 9999;

/// Resolve an instant expression (`"dst-expiry + 1d"`, a name, or an RFC 3339 literal), and
/// require the result to be encodable in a certificate.
pub(crate) fn resolve(
    expr: &str,
    instants: &BTreeMap<String, OffsetDateTime>,
) -> Result<OffsetDateTime, InstantError> {
    let value = resolve_unbounded(expr, instants)?;
    if !(FIRST_ENCODABLE_YEAR..=LAST_ENCODABLE_YEAR).contains(&value.year()) {
        return Err(InstantError::Malformed(format!(
            "{expr:?} is year {}: certificates encode years {FIRST_ENCODABLE_YEAR} to {LAST_ENCODABLE_YEAR} only",
            value.year()
        )));
    }
    Ok(value)
}

fn resolve_unbounded(
    expr: &str,
    instants: &BTreeMap<String, OffsetDateTime>,
) -> Result<OffsetDateTime, InstantError> {
    let mut tokens = expr.split_whitespace();
    let base = tokens
        .next()
        .ok_or_else(|| InstantError::Malformed("empty instant expression".to_string()))?;
    let value = resolve_base(base, instants)?;
    offsets(expr, tokens, value).map_err(InstantError::Malformed)
}

/// Applies the ` + 1d - 2h` terms that follow the base of `expr` to `value`.
fn offsets<'a>(
    expr: &str,
    mut tokens: impl Iterator<Item = &'a str>,
    mut value: OffsetDateTime,
) -> Result<OffsetDateTime, String> {
    while let Some(operator) = tokens.next() {
        let sign = match operator {
            "+" => 1,
            "-" => -1,
            other => {
                return Err(format!(
                    "expected `+` or `-` between terms of {expr:?}, found {other:?} \
                     (write operators with spaces: \"name + 1d\")"
                ))
            }
        };
        let amount = tokens.next().ok_or_else(|| {
            format!("{expr:?} ends with `{operator}`: an amount like 1d must follow")
        })?;
        let offset = parse_offset(amount)?;
        value = value
            .checked_add(offset * sign)
            .ok_or_else(|| format!("{expr:?} is out of range"))?;
    }
    Ok(value)
}

fn resolve_base(
    base: &str,
    instants: &BTreeMap<String, OffsetDateTime>,
) -> Result<OffsetDateTime, InstantError> {
    if let Some(literal) = parse_rfc3339_utc(base) {
        return Ok(literal);
    }
    if let Some(named) = instants.get(base) {
        return Ok(*named);
    }
    let known: Vec<&str> = instants.keys().map(String::as_str).collect();
    let hint = if base.contains('+') {
        " (write offsets with spaces: \"name + 1d\")"
    } else {
        ""
    };
    Err(InstantError::UnknownName(format!(
        "unknown instant name {base:?}{hint}: not an RFC 3339 instant and not declared in [instants] (known: {})",
        if known.is_empty() { "none".to_string() } else { known.join(", ") }
    )))
}

/// `30d`, `1s`, `20y`.
fn parse_offset(amount: &str) -> Result<Duration, String> {
    let unit_char = amount.chars().last().unwrap_or(' ');
    let Some(&(_, seconds_per_unit)) = UNITS.iter().find(|(unit, _)| *unit == unit_char) else {
        return Err(format!(
            "offset {amount:?} needs a unit: one of s, m, h, d, w, y"
        ));
    };
    let digits = &amount[..amount.len() - 1];
    let count: i64 = digits
        .parse()
        .ok()
        .filter(|_| digits.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| format!("offset {amount:?} is not a whole number followed by a unit"))?;
    count
        .checked_mul(seconds_per_unit)
        .map(Duration::seconds)
        .ok_or_else(|| format!("offset {amount:?} is too large"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_outside_four_digit_years_are_errors() {
        let none = std::collections::BTreeMap::new();
        let error = super::resolve("0001-01-01T00:00:00Z - 1000y", &none).unwrap_err();
        assert!(matches!(error, InstantError::Malformed(_)));
        assert!(error.to_string().contains("years 1 to 9999"), "{error}");
        assert!(super::resolve("9999-12-31T00:00:00Z", &none).is_ok());
    }

    use super::*;
    use time::macros::datetime;

    fn instants() -> BTreeMap<String, OffsetDateTime> {
        BTreeMap::from([("dst-expiry".to_string(), datetime!(2021-09-30 14:01:15 UTC))])
    }

    #[test]
    fn resolves_literals_names_and_offsets() {
        let known = instants();
        assert_eq!(
            resolve("2000-01-01T00:00:00Z", &known).unwrap(),
            datetime!(2000-01-01 0:00 UTC)
        );
        assert_eq!(
            resolve("dst-expiry", &known).unwrap(),
            datetime!(2021-09-30 14:01:15 UTC)
        );
        assert_eq!(
            resolve("dst-expiry + 1d - 2h", &known).unwrap(),
            datetime!(2021-10-01 12:01:15 UTC)
        );
        assert_eq!(
            resolve("dst-expiry - 1s", &known).unwrap(),
            datetime!(2021-09-30 14:01:14 UTC)
        );
        assert_eq!(
            resolve("2000-01-01T00:00:00Z + 1y", &known).unwrap(),
            datetime!(2000-12-31 0:00 UTC)
        );
    }

    #[test]
    fn literal_offsets_are_normalised_to_utc() {
        let known = instants();
        assert_eq!(
            resolve("2021-01-01T02:00:00+02:00", &known).unwrap(),
            datetime!(2021-01-01 0:00 UTC)
        );
    }

    fn error(expr: &str) -> String {
        let error = resolve(expr, &instants()).unwrap_err();
        assert!(matches!(error, InstantError::Malformed(_)), "{error:?}");
        error.to_string()
    }

    #[test]
    fn rejects_unknown_names_and_bad_offsets() {
        let known = instants();
        let unknown = resolve("r9-expiry", &known).unwrap_err();
        assert!(matches!(unknown, InstantError::UnknownName(_)));
        assert!(unknown
            .to_string()
            .contains("unknown instant name \"r9-expiry\""));
        // Without spaces the whole expression reads as one (unknown) name; the hint says why.
        let unspaced = resolve("dst-expiry+1d", &known).unwrap_err();
        assert!(matches!(unspaced, InstantError::UnknownName(_)));
        assert!(unspaced.to_string().contains("spaces"));
        assert!(error("dst-expiry + 1x").contains("unit"));
        assert!(error("dst-expiry + d").contains("whole number"));
        assert!(error("dst-expiry +").contains("amount"));
        assert!(error("dst-expiry * 2d").contains("expected `+` or `-`"));
        assert!(error("").contains("empty"));
    }
}
