//! Postgres-changes bindings of a channel: filter validation, matching the join reply by
//! position, and routing change events by server id (protocol reference §8).
//!
//! A filter that fails validation is still joined with, as realtime-js does (the server then
//! answers with a `postgres_changes` `system` error); the binding remembers why authwire
//! refused it, so that error reaches the app with authwire's `invalid_filter` code as well.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::realtime::{ChangeType, PgChange};

use crate::error::ChannelOpError;

/// The operators every Realtime version accepts in a single-condition filter (§8.1).
pub const CLASSIC_OPS: &[&str] = &["eq", "neq", "lt", "lte", "gt", "gte", "in"];
/// Operators only newer servers accept (tenant migrations of 2026, §8.1).
pub const EXTENDED_OPS: &[&str] = &["like", "ilike", "is", "match", "imatch", "isdistinct"];

/// Which servers a valid filter works with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterGrammar {
    /// One condition with a classic operator: every server version.
    Classic,
    /// `not.`, extended operators or several conditions: newer servers only; passed through.
    Extended,
}

/// Splits `text` on commas that are outside parentheses and double quotes.
fn split_conditions(text: &str) -> Result<Vec<&str>, &'static str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced parentheses in filter");
                }
            }
            b',' if !quoted && depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if quoted {
        return Err("unterminated quote in filter");
    }
    if depth != 0 {
        return Err("unbalanced parentheses in filter");
    }
    out.push(&text[start..]);
    Ok(out)
}

/// Validates a filter (`column=op.value`, §8.1). An empty or blank filter means "no filter"
/// and is `Ok(None)`. Only syntax is checked: whether the column exists is the server's call.
pub fn validate_filter(filter: &str) -> Result<Option<FilterGrammar>, ChannelOpError> {
    let bad = |reason: &'static str| ChannelOpError::InvalidFilter { reason };
    if filter.trim().is_empty() {
        return Ok(None);
    }
    let conds = split_conditions(filter).map_err(bad)?;
    let mut grammar = if conds.len() > 1 { FilterGrammar::Extended } else { FilterGrammar::Classic };
    for cond in conds {
        let (column, rest) = cond.split_once('=').ok_or(bad("a filter condition must look like column=op.value"))?;
        if column.trim().is_empty() {
            return Err(bad("a filter condition needs a column name"));
        }
        let mut rest = rest;
        if let Some(r) = rest.strip_prefix("not.") {
            grammar = FilterGrammar::Extended;
            rest = r;
        }
        let (op, value) = rest.split_once('.').ok_or(bad("a filter condition must look like column=op.value"))?;
        if EXTENDED_OPS.contains(&op) {
            grammar = FilterGrammar::Extended;
        } else if !CLASSIC_OPS.contains(&op) {
            return Err(bad("unknown filter operator"));
        }
        if op == "in" && !(value.starts_with('(') && value.ends_with(')')) {
            return Err(bad("the in operator needs a parenthesised list: column=in.(a,b)"));
        }
        if value.starts_with('"') {
            // PostgREST-style quoting arrived with the extended grammar.
            grammar = FilterGrammar::Extended;
        }
        if op == "is" && value.is_empty() {
            return Err(bad("the is operator needs a value (null, true, false, unknown)"));
        }
    }
    Ok(Some(grammar))
}

/// One `postgres_changes` listener registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// What the join asks for.
    pub spec: PgChange,
    /// The id the server assigned in the join reply.
    pub server_id: Option<i64>,
    /// Why authwire's validation refused its filter, if it did.
    pub invalid: Option<ChannelOpError>,
}

/// What [`Bindings::register`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The local index (the binding id of its events).
    pub index: u32,
    /// `false` when an identical binding existed: realtime-js then ignores the listener.
    pub new: bool,
    /// Why the filter is invalid; the binding was registered anyway.
    pub invalid: Option<ChannelOpError>,
}

/// The channel's bindings, in registration order (their index is the local binding id).
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    list: Vec<Binding>,
}

fn same(a: &PgChange, b: &PgChange) -> bool {
    // realtime-js compares event, schema, table, filter; null and absent are equal (§8.2).
    a.event == b.event && a.schema == b.schema && a.table == b.table && a.filter == b.filter
}

impl Bindings {
    /// Registers a binding after validating its filter; returns its local index. Identical
    /// bindings share one entry, because the server collapses them (§8.2).
    pub fn add(&mut self, spec: PgChange) -> Result<u32, ChannelOpError> {
        if let Some(f) = &spec.filter {
            validate_filter(f)?;
        }
        Ok(self.register(spec).index)
    }

    /// Registers a binding whatever its filter (the server judges it, as with realtime-js),
    /// noting why authwire's validation refused it. Identical bindings share one entry.
    pub fn register(&mut self, mut spec: PgChange) -> Registered {
        let invalid = match spec.filter.as_deref().map(validate_filter) {
            Some(Err(e)) => Some(e),
            // Blank means no filter.
            Some(Ok(None)) => {
                spec.filter = None;
                None
            }
            _ => None,
        };
        if let Some(i) = self.list.iter().position(|b| same(&b.spec, &spec)) {
            return Registered { index: i as u32, new: false, invalid };
        }
        self.list.push(Binding { spec, server_id: None, invalid: invalid.clone() });
        Registered { index: (self.list.len() - 1) as u32, new: true, invalid }
    }

    /// Some binding's filter failed authwire's validation.
    pub fn has_invalid(&self) -> bool {
        self.list.iter().any(|b| b.invalid.is_some())
    }
    /// The specs to put in the join config.
    pub fn specs(&self) -> Vec<PgChange> {
        self.list.iter().map(|b| b.spec.clone()).collect()
    }
    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// Takes the server ids from a join reply, matched by position. `false` on a mismatch
    /// (count or content), which ends the subscription with `binding_mismatch`.
    pub fn apply_reply(&mut self, reply: &[(PgChange, i64)]) -> bool {
        if reply.len() != self.list.len() {
            return false;
        }
        if !self.list.iter().zip(reply).all(|(b, (echo, _))| same(&b.spec, echo)) {
            return false;
        }
        for (b, (_, id)) in self.list.iter_mut().zip(reply) {
            b.server_id = Some(*id);
        }
        true
    }
    /// The local indices of the bindings a change with these server `ids` and type is for.
    pub fn route(&self, ids: &[i64], change: ChangeType) -> Vec<u32> {
        self.list
            .iter()
            .enumerate()
            .filter(|(_, b)| b.server_id.is_some_and(|id| ids.contains(&id)) && change.matches(&b.spec.event))
            .map(|(i, _)| i as u32)
            .collect()
    }
}

/// A binding spec from its parts, defaulting the schema like realtime-js (`public` when only a
/// table is given).
pub fn spec(event: &str, schema: Option<&str>, table: Option<&str>, filter: Option<&str>) -> PgChange {
    PgChange {
        event: String::from(event),
        schema: String::from(schema.unwrap_or("public")),
        table: table.map(String::from),
        filter: filter.map(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn classic_filters() {
        for f in ["id=eq.1", "room_id=neq.abc", "n=lt.3", "n=lte.3", "n=gt.3", "n=gte.3", "id=in.(1,2,3)", "name=eq."] {
            assert_eq!(validate_filter(f), Ok(Some(FilterGrammar::Classic)), "{f}");
        }
        assert_eq!(validate_filter("  "), Ok(None));
    }

    #[test]
    fn extended_filters_pass_through() {
        for f in [
            "name=like.*a*",
            "name=ilike.A%",
            "deleted_at=is.null",
            "status=not.in.(a,b)",
            "id=gt.0,id=lt.100",
            r#"title=eq."a,b(c)""#,
            "x=isdistinct.1",
        ] {
            assert_eq!(validate_filter(f), Ok(Some(FilterGrammar::Extended)), "{f}");
        }
    }

    #[test]
    fn syntax_errors_are_typed() {
        for f in ["id", "=eq.1", "id=foo.1", "id=eq", "id=in.1,2", "id=in.(1,2", "a=eq.\"x", "id=is."] {
            assert!(matches!(validate_filter(f), Err(ChannelOpError::InvalidFilter { .. })), "{f}");
        }
    }

    #[test]
    fn an_invalid_filter_is_registered_and_remembered() {
        let mut b = Bindings::default();
        assert!(matches!(
            b.add(spec("*", None, Some("t"), Some("id=foo.1"))),
            Err(ChannelOpError::InvalidFilter { .. })
        ));
        assert!(b.is_empty());
        let r = b.register(spec("*", None, Some("t"), Some("id=foo.1")));
        assert_eq!((r.index, r.new), (0, true));
        assert!(matches!(r.invalid, Some(ChannelOpError::InvalidFilter { .. })));
        assert!(b.has_invalid());
        // It is joined with as given, so the server's own error comes back.
        assert_eq!(b.specs()[0].filter.as_deref(), Some("id=foo.1"));
        let again = b.register(spec("*", None, Some("t"), Some("id=foo.1")));
        assert_eq!((again.index, again.new), (0, false));
        assert_eq!(b.register(spec("INSERT", None, Some("t"), Some(" "))).invalid, None);
        assert_eq!(b.specs()[1].filter, None);
    }

    #[test]
    fn routing_by_position_id_and_event() {
        let mut b = Bindings::default();
        assert_eq!(b.add(spec("INSERT", None, Some("songs"), None)), Ok(0));
        assert_eq!(b.add(spec("*", None, Some("shows"), Some("id=eq.1"))), Ok(1));
        assert_eq!(b.add(spec("INSERT", None, Some("songs"), None)), Ok(0));
        let echo = vec![(b.list[0].spec.clone(), 11), (b.list[1].spec.clone(), 22)];
        assert!(b.apply_reply(&echo));
        assert_eq!(b.route(&[11], ChangeType::Insert), [0]);
        assert_eq!(b.route(&[11], ChangeType::Delete), Vec::<u32>::new());
        assert_eq!(b.route(&[22, 11], ChangeType::Insert), [0, 1]);
        assert!(!b.apply_reply(&echo[..1]));
        let mut wrong = echo.clone();
        wrong[1].0.table = Some("other".into());
        assert!(!b.apply_reply(&wrong));
    }
}
