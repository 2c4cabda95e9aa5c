//! Parsing PostgREST's query-string grammar (the subset served): `select`, column filters,
//! `order`, `limit`, `offset`, `columns`, `on_conflict`. Nothing here touches SQL: names are
//! checked against the catalogue and quoted, values become parameters (see `sql.rs`).

use std::fmt;

/// A parse error: PostgREST's PGRST100 with its message and details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) message: String,
    pub(crate) details: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.message, self.details)
    }
}

fn err(message: impl Into<String>, details: impl Into<String>) -> ParseError {
    ParseError { message: message.into(), details: details.into() }
}

/// One selected item: `*` or a column with an optional alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SelectItem {
    /// `*`
    Star,
    /// `alias:column` or `column`.
    Column {
        /// The column.
        name: String,
        /// The output key.
        alias: Option<String>,
    },
}

/// A filter operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    Ilike,
    /// `is.null`, `is.true`, `is.false`, `is.unknown` (the keyword, validated).
    Is(&'static str),
    /// `in.(a,b,"c,d")`.
    In(Vec<String>),
}

/// `column=[not.]op.value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) column: String,
    pub(crate) negated: bool,
    pub(crate) op: Op,
    /// The operand for the binary operators (unused for `is` and `in`).
    pub(crate) value: String,
}

/// `order=col.asc.nullsfirst,…`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub(crate) column: String,
    pub(crate) desc: bool,
    pub(crate) nulls: Option<bool>,
}

/// Everything a request's query string says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) select: Vec<SelectItem>,
    pub(crate) filters: Vec<Filter>,
    pub(crate) order: Vec<Order>,
    pub(crate) limit: Option<i64>,
    pub(crate) offset: Option<i64>,
    /// `columns=a,b` (inserts).
    pub(crate) columns: Option<Vec<String>>,
    /// `on_conflict=a,b` (upserts).
    pub(crate) on_conflict: Option<Vec<String>>,
}

/// Parses `select=`. Empty means `*`.
pub(crate) fn parse_select(s: &str) -> Result<Vec<SelectItem>, ParseError> {
    let mut out = Vec::new();
    for raw in s.split(',') {
        let item = raw.trim();
        if item.is_empty() {
            if s.trim().is_empty() {
                continue;
            }
            return Err(err(format!("\"failed to parse select parameter ({s})\""), "empty select item"));
        }
        if item == "*" {
            out.push(SelectItem::Star);
            continue;
        }
        if item.contains('(') || item.contains("->") || item.contains("::") || item.contains('!') {
            return Err(err(
                format!("\"failed to parse select parameter ({s})\""),
                "authwire-dev serves plain columns only: no embedding, JSON paths or casts",
            ));
        }
        let (alias, name) = match item.split_once(':') {
            Some((a, n)) => (Some(a.trim().to_owned()), n.trim().to_owned()),
            None => (None, item.to_owned()),
        };
        if name.is_empty() || alias.as_deref() == Some("") {
            return Err(err(format!("\"failed to parse select parameter ({s})\""), "empty column or alias"));
        }
        out.push(SelectItem::Column { name, alias });
    }
    if out.is_empty() {
        out.push(SelectItem::Star);
    }
    Ok(out)
}

/// Splits `in.(…)` contents on commas outside double quotes; `\"` escapes a quote.
fn parse_list(inner: &str) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            ',' if !quoted => {
                out.push(if was_quoted { cur.clone() } else { cur.trim().to_owned() });
                cur.clear();
                was_quoted = false;
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(err("\"failed to parse filter\"", "unterminated quote in in.(…) list"));
    }
    if !inner.trim().is_empty() {
        out.push(if was_quoted { cur } else { cur.trim().to_owned() });
    }
    Ok(out)
}

/// Parses one filter value such as `eq.5`, `not.in.(1,2)`, `is.null`.
pub(crate) fn parse_filter(column: &str, value: &str) -> Result<Filter, ParseError> {
    let fail = |details: &str| err(format!("\"failed to parse filter ({value})\" (line 1, column 1)"), details);
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(r) => (true, r),
        None => (false, value),
    };
    let Some((op, operand)) = rest.split_once('.') else {
        return Err(fail("expecting operator (eq, neq, gt, gte, lt, lte, like, ilike, is, in) followed by '.'"));
    };
    let op = match op {
        "eq" => Op::Eq,
        "neq" => Op::Neq,
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        "like" => Op::Like,
        "ilike" => Op::Ilike,
        "is" => Op::Is(match operand.to_ascii_lowercase().as_str() {
            "null" => "null",
            "true" => "true",
            "false" => "false",
            "unknown" => "unknown",
            _ => return Err(fail("is. takes null, true, false or unknown")),
        }),
        "in" => {
            let inner = operand
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(|| fail("in. takes a parenthesised list: in.(a,b)"))?;
            Op::In(parse_list(inner)?)
        }
        other => {
            return Err(fail(&format!(
                "unknown operator \"{other}\": authwire-dev serves eq, neq, gt, gte, lt, lte, like, ilike, is, in (and not.)"
            )))
        }
    };
    Ok(Filter { column: column.to_owned(), negated, op, value: operand.to_owned() })
}

/// Parses `order=`.
pub(crate) fn parse_order(s: &str) -> Result<Vec<Order>, ParseError> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let mut parts = item.split('.');
        let column = parts.next().unwrap_or_default().to_owned();
        let mut o = Order { column, desc: false, nulls: None };
        for p in parts {
            match p {
                "asc" => o.desc = false,
                "desc" => o.desc = true,
                "nullsfirst" => o.nulls = Some(true),
                "nullslast" => o.nulls = Some(false),
                _ => {
                    return Err(err(
                        format!("\"failed to parse order ({s})\" (line 1, column 1)"),
                        "expecting asc, desc, nullsfirst or nullslast",
                    ))
                }
            }
        }
        out.push(o);
    }
    Ok(out)
}

fn parse_count(name: &str, v: &str) -> Result<i64, ParseError> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| err(format!("\"failed to parse {name} parameter ({v})\""), "expecting a non-negative integer"))
}

fn names(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().trim_matches('"').to_owned()).filter(|s| !s.is_empty()).collect()
}

/// Parses a whole (raw) query string.
pub(crate) fn parse(raw: &str) -> Result<Query, ParseError> {
    let mut q = Query::default();
    let mut select = None;
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        match k.as_ref() {
            "select" => select = Some(parse_select(&v)?),
            "order" => q.order = parse_order(&v)?,
            "limit" => q.limit = Some(parse_count("limit", &v)?),
            "offset" => q.offset = Some(parse_count("offset", &v)?),
            "columns" => q.columns = Some(names(&v)),
            "on_conflict" => q.on_conflict = Some(names(&v)),
            "or" | "and" | "not.or" | "not.and" => {
                return Err(err(
                    format!("\"failed to parse logic tree ({v})\""),
                    "authwire-dev does not serve or=/and= filters",
                ))
            }
            column => {
                if column.contains('.') {
                    return Err(err(
                        format!("\"failed to parse filter ({column})\""),
                        "authwire-dev does not serve filters on embedded resources",
                    ));
                }
                q.filters.push(parse_filter(column, &v)?);
            }
        }
    }
    q.select = select.unwrap_or_else(|| vec![SelectItem::Star]);
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects() {
        assert_eq!(parse_select("").unwrap(), vec![SelectItem::Star]);
        assert_eq!(
            parse_select("id, t:title").unwrap(),
            vec![
                SelectItem::Column { name: "id".into(), alias: None },
                SelectItem::Column { name: "title".into(), alias: Some("t".into()) }
            ]
        );
        assert!(parse_select("id,author(name)").is_err());
        assert!(parse_select("id::text").is_err());
        assert!(parse_select("id,,x").is_err());
    }

    #[test]
    fn filters() {
        let f = parse_filter("id", "eq.5").unwrap();
        assert_eq!((f.op, f.value.as_str(), f.negated), (Op::Eq, "5", false));
        let f = parse_filter("t", "eq.a.b.c").unwrap();
        assert_eq!(f.value, "a.b.c");
        let f = parse_filter("id", "not.in.(1, 2,\"a,b\",\"q\\\"x\")").unwrap();
        assert!(f.negated);
        assert_eq!(f.op, Op::In(vec!["1".into(), "2".into(), "a,b".into(), "q\"x".into()]));
        assert_eq!(parse_filter("id", "in.()").unwrap().op, Op::In(vec![]));
        assert_eq!(parse_filter("d", "is.NULL").unwrap().op, Op::Is("null"));
        for bad in ["5", "foo.5", "is.maybe", "in.1,2", "in.(\"a)", "eq"] {
            assert!(parse_filter("id", bad).is_err(), "{bad}");
        }
        // An injection attempt is just a value.
        let f = parse_filter("id", "eq.1; drop table x; --").unwrap();
        assert_eq!(f.value, "1; drop table x; --");
    }

    #[test]
    fn whole_queries() {
        let q = parse("select=id,title&done=is.false&order=id.desc.nullslast,title&limit=10&offset=5").unwrap();
        assert_eq!(q.filters.len(), 1);
        assert_eq!(
            q.order,
            vec![
                Order { column: "id".into(), desc: true, nulls: Some(false) },
                Order { column: "title".into(), desc: false, nulls: None }
            ]
        );
        assert_eq!((q.limit, q.offset), (Some(10), Some(5)));
        assert!(parse("limit=-1").is_err());
        assert!(parse("or=(a.eq.1,b.eq.2)").is_err());
        assert!(parse("author.name=eq.x").is_err());
        assert!(parse("order=id.sideways").is_err());
        let q = parse("columns=%22a%22,b&on_conflict=id").unwrap();
        assert_eq!(q.columns, Some(vec!["a".into(), "b".into()]));
        assert_eq!(q.on_conflict, Some(vec!["id".into()]));
    }
}
