//! The API's scalars: `Date` (a calendar day, `YYYY-MM-DD`) and `DateTime` (an instant, RFC 3339, returned in UTC).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, SecondsFormat, Utc};

/// The first and last days the API accepts, in any `Date` or `DateTime`: every order, person and event it records
/// falls between them, and a value outside is a mistake (a year typed as 10000, a negative year).
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => panic!("a valid date"),
};

fn in_range(day: NaiveDate) -> bool {
    (FIRST_DAY..=LAST_DAY).contains(&day)
}

pub const OUT_OF_RANGE: &str = "dates are accepted from 1900-01-01 to 2199-12-31";

/// Why `text` is not an acceptable `Date` or `DateTime` (`None` when it is one, or is neither form): used to name
/// the variable at fault, which async-graphql's parse error does not.
pub fn date_problem(text: &str) -> Option<&'static str> {
    let day = if text.len() == 10 {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    } else {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc).date_naive())
    };
    day.filter(|d| !in_range(*d)).map(|_| OUT_OF_RANGE)
}

/// Where in `variables` a date falls outside the accepted range, as `name.field.0.field`, for the first found.
pub fn misplaced_date(variables: &async_graphql::Variables) -> Option<String> {
    fn walk(value: &Value, path: &mut Vec<String>) -> Option<String> {
        match value {
            Value::String(s) => date_problem(s).map(|_| path.join(".")),
            Value::List(items) => items.iter().enumerate().find_map(|(i, v)| {
                path.push(i.to_string());
                let found = walk(v, path);
                path.pop();
                found
            }),
            Value::Object(fields) => fields.iter().find_map(|(k, v)| {
                path.push(k.to_string());
                let found = walk(v, path);
                path.pop();
                found
            }),
            _ => None,
        }
    }
    variables
        .iter()
        .find_map(|(name, v)| walk(v, &mut vec![format!("${name}")]))
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) if s.len() == 10 => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(day) if in_range(day) => Ok(Date(day)),
                Ok(_) => Err(InputValueError::custom(OUT_OF_RANGE)),
                Err(_) => Err(InputValueError::custom(
                    "a Date is YYYY-MM-DD, e.g. 2026-03-01",
                )),
            },
            Value::String(_) => Err(InputValueError::custom(
                "a Date is YYYY-MM-DD, e.g. 2026-03-01",
            )),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An instant, RFC 3339. Any offset is accepted on input; output is always UTC (`Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(t) if in_range(t.with_timezone(&Utc).date_naive()) => {
                    Ok(DateTime(t.with_timezone(&Utc)))
                }
                Ok(_) => Err(InputValueError::custom(OUT_OF_RANGE)),
                Err(_) => Err(InputValueError::custom(
                    "a DateTime is RFC 3339, e.g. 2026-03-01T14:30:00Z",
                )),
            },
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(t: chrono::DateTime<Utc>) -> Self {
        DateTime(t)
    }
}
