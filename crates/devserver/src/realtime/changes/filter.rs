//! `postgres_changes` filters: `column=op.value` with the classic operators `eq`, `neq`,
//! `lt`, `lte`, `gt`, `gte`, `in` (protocol reference §8.1; one condition, as older hosted
//! servers accept). Parsing follows the real server's split and error text; evaluation is
//! done here for numbers, booleans and text-like types, and by PostgreSQL for other types.

use serde_json::Value;
use std::cmp::Ordering;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "neq" => Op::Neq,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "in" => Op::In,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Neq => "neq",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::In => "in",
        }
    }

    /// The SQL operator (`in` is evaluated as `=` per value).
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Op::Eq | Op::In => "=",
            Op::Neq => "<>",
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::Gt => ">",
            Op::Gte => ">=",
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Eq | Op::In => o == Ordering::Equal,
            Op::Neq => o != Ordering::Equal,
            Op::Lt => o == Ordering::Less,
            Op::Lte => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Gte => o != Ordering::Less,
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) column: String,
    pub(crate) op: Op,
    /// The raw value text (for logs: `{"col", "eq", "value"}`).
    pub(crate) value: String,
    /// The values compared with (one, or the `in` list).
    pub(crate) values: Vec<String>,
}

/// Elixir's `inspect` of a list of strings: `["a", "b"]`.
pub(crate) fn inspect_list(parts: &[&str]) -> String {
    let items: Vec<String> = parts.iter().map(|p| inspect_str(p)).collect();
    format!("[{}]", items.join(", "))
}

/// Elixir's `inspect` of a string.
pub(crate) fn inspect_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits at the first `=` or `.`, at most twice (Elixir's
/// `String.split(filter, ["=", "."], parts: 3)`).
fn split3(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    while parts.len() < 2 {
        match rest.find(['=', '.']) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + 1..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

/// Parses a filter; `None` for an empty or blank one.
pub(crate) fn parse(filter: &str) -> Result<Option<Filter>, String> {
    if filter.trim().is_empty() {
        return Ok(None);
    }
    let parts = split3(filter);
    let err = || format!("Error parsing `filter` params: {}", inspect_list(&parts));
    let [column, op, value] = parts[..] else { return Err(err()) };
    let Some(op) = Op::parse(op) else { return Err(err()) };
    if column.is_empty() {
        return Err(err());
    }
    let values = if op == Op::In {
        let inner = value.trim().trim_start_matches('(').trim_end_matches(')');
        inner.split(',').map(|v| v.trim().trim_matches('"').to_owned()).collect()
    } else {
        vec![value.to_owned()]
    };
    Ok(Some(Filter { column: column.to_owned(), op, value: value.to_owned(), values }))
}

/// How a column type compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Float,
    Bool,
    Text,
    /// Compared case-insensitively (uuid).
    Uuid,
    /// Compared by PostgreSQL.
    Other,
}

pub(crate) fn kind(typname: &str) -> Kind {
    match typname {
        "int2" | "int4" | "int8" | "oid" => Kind::Int,
        "float4" | "float8" | "numeric" => Kind::Float,
        "bool" => Kind::Bool,
        "text" | "varchar" | "bpchar" | "name" | "char" => Kind::Text,
        "uuid" => Kind::Uuid,
        _ => Kind::Other,
    }
}

/// The text form of a wal2json value (`None` for SQL null).
pub(crate) fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn pg_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn compare_one(kind: Kind, left: &str, right: &str) -> Option<Ordering> {
    match kind {
        Kind::Int => Some(left.trim().parse::<i128>().ok()?.cmp(&right.trim().parse::<i128>().ok()?)),
        Kind::Float => left.trim().parse::<f64>().ok()?.partial_cmp(&right.trim().parse::<f64>().ok()?),
        Kind::Bool => Some(pg_bool(left)?.cmp(&pg_bool(right)?)),
        Kind::Text => Some(left.as_bytes().cmp(right.as_bytes())),
        Kind::Uuid => Some(left.to_ascii_lowercase().cmp(&right.to_ascii_lowercase())),
        Kind::Other => None,
    }
}

/// Evaluates `filter` on a column value of type `kind`. `Err(())` when PostgreSQL must
/// decide (other types, or a value this side cannot parse).
pub(crate) fn eval(filter: &Filter, kind: Kind, left: Option<&str>) -> Result<bool, ()> {
    let Some(left) = left else { return Ok(false) };
    let mut any = false;
    for right in &filter.values {
        let o = compare_one(kind, left, right).ok_or(())?;
        if filter.op == Op::In {
            any |= o == Ordering::Equal;
        } else {
            return Ok(filter.op.holds(o));
        }
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_follows_the_server() {
        let f = parse("room_id=eq.1").unwrap().unwrap();
        assert_eq!((f.column.as_str(), f.op, f.values.as_slice()), ("room_id", Op::Eq, &["1".to_owned()][..]));
        let f = parse("id=in.(1, 2,3)").unwrap().unwrap();
        assert_eq!(f.values, ["1", "2", "3"]);
        let f = parse("email=eq.a.b@example.com").unwrap().unwrap();
        assert_eq!(f.value, "a.b@example.com");
        assert_eq!(parse("  ").unwrap(), None);
        assert_eq!(parse("foo=hey").unwrap_err(), "Error parsing `filter` params: [\"foo\", \"hey\"]");
        assert_eq!(parse("id=like.x%").unwrap_err(), "Error parsing `filter` params: [\"id\", \"like\", \"x%\"]");
        assert!(parse("=eq.1").is_err());
        assert!(parse("nothing").is_err());
    }

    #[test]
    fn evaluation() {
        let f = |s: &str| parse(s).unwrap().unwrap();
        assert_eq!(eval(&f("n=eq.10"), Kind::Int, Some("10")), Ok(true));
        assert_eq!(eval(&f("n=gt.9"), Kind::Int, Some("10")), Ok(true));
        assert_eq!(eval(&f("n=lt.9"), Kind::Int, Some("10")), Ok(false));
        assert_eq!(eval(&f("n=lte.10"), Kind::Float, Some("10.0")), Ok(true));
        assert_eq!(eval(&f("n=neq.1"), Kind::Int, None), Ok(false));
        assert_eq!(eval(&f("n=in.(1,2,3)"), Kind::Int, Some("2")), Ok(true));
        assert_eq!(eval(&f("n=in.(1,2,3)"), Kind::Int, Some("4")), Ok(false));
        assert_eq!(eval(&f("b=eq.true"), Kind::Bool, Some("true")), Ok(true));
        assert_eq!(eval(&f("s=gte.b"), Kind::Text, Some("abc")), Ok(false));
        assert_eq!(
            eval(
                &f("u=eq.A0000000-0000-4000-8000-000000000000"),
                Kind::Uuid,
                Some("a0000000-0000-4000-8000-000000000000")
            ),
            Ok(true)
        );
        assert_eq!(eval(&f("t=eq.2020-01-01"), Kind::Other, Some("2020-01-01")), Err(()));
        assert_eq!(eval(&f("n=eq.x"), Kind::Int, Some("1")), Err(()));
        assert_eq!(kind("int8"), Kind::Int);
        assert_eq!(kind("timestamptz"), Kind::Other);
    }
}
