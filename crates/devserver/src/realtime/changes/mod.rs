//! Postgres changes (protocol reference §8): the subscriptions of every channel, their
//! parameters and validation, and the "Subscribed to PostgreSQL" handshake. The feed that
//! reads the WAL and delivers events is in [`feed`].

mod feed;
mod filter;

use super::socket::{Session, SocketHandle};
use super::ChanId;
use crate::jwt::Claims;
use authwire_wire::json::Value;
use authwire_wire::realtime::{ChangeType, System};
use filter::Filter;
use std::sync::{Arc, RwLock};

pub(super) use feed::start as start_feed;

/// One binding of one channel instance.
#[derive(Debug, Clone)]
pub(crate) struct Sub {
    pub(crate) chan: ChanId,
    pub(crate) socket: Arc<SocketHandle>,
    /// The binding id from the join reply.
    pub(crate) id: i64,
    /// `None`: any schema / table / event.
    pub(crate) schema: Option<String>,
    pub(crate) table: Option<String>,
    pub(crate) event: Option<ChangeType>,
    pub(crate) filter: Option<Filter>,
    /// The subscriber's claims (RLS runs as them).
    pub(crate) claims: Arc<Claims>,
}

impl Sub {
    fn wants(&self, schema: &str, table: &str, ct: ChangeType) -> bool {
        self.schema.as_deref().is_none_or(|s| s == schema)
            && self.table.as_deref().is_none_or(|t| t == table)
            && self.event.is_none_or(|e| e == ct)
    }
}

/// The subscriptions of all channels.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    subs: RwLock<Vec<Sub>>,
}

impl Registry {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Sub>> {
        self.subs.write().unwrap_or_else(|e| e.into_inner())
    }
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Sub>> {
        self.subs.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the subscriptions of `chan`.
    pub(crate) fn replace(&self, chan: ChanId, subs: Vec<Sub>) {
        let mut all = self.write();
        all.retain(|s| s.chan != chan);
        all.extend(subs);
    }

    pub(crate) fn unsubscribe(&self, chan: ChanId) {
        self.write().retain(|s| s.chan != chan);
    }

    pub(crate) fn count(&self) -> usize {
        self.read().len()
    }

    /// The subscriptions that want this change (before filters and RLS).
    pub(crate) fn matching(&self, schema: &str, table: &str, ct: ChangeType) -> Vec<Sub> {
        self.read().iter().filter(|s| s.wants(schema, table, ct)).cloned().collect()
    }
}

/// A binding's parameters as the server reads them (§8.1).
#[derive(Debug, Clone)]
struct Params {
    event: Option<ChangeType>,
    event_text: String,
    schema: Option<String>,
    table: Option<String>,
    filter: Option<Filter>,
}

fn wildcard(s: Option<&str>) -> Option<String> {
    s.filter(|s| *s != "*").map(str::to_owned)
}

/// Elixir's `inspect` of the parameter map (for the "no params" error).
fn inspect_params(v: &Value) -> String {
    let items: Vec<String> = v
        .as_object()
        .unwrap_or(&[])
        .iter()
        .map(|(k, val)| {
            let shown = match val {
                Value::Str(s) => filter::inspect_str(s),
                Value::Null => "nil".into(),
                other => other.to_json(),
            };
            format!("{} => {shown}", filter::inspect_str(k))
        })
        .collect();
    format!("%{{{}}}", items.join(", "))
}

fn parse_params(v: &Value) -> Result<Params, String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let event_text = s("event").unwrap_or("*").to_owned();
    let event = ChangeType::parse(&event_text.to_ascii_uppercase());
    let (schema, table) = match (s("schema"), s("table")) {
        (None, None) => {
            return Err(format!(
                "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: {}",
                inspect_params(v)
            ))
        }
        (None, Some(t)) => (Some("public".to_owned()), wildcard(Some(t))),
        (sc, t) => (wildcard(sc), wildcard(t)),
    };
    let filter = match s("filter") {
        Some(f) => filter::parse(f)?,
        None => None,
    };
    Ok(Params { event: event.filter(|_| event_text != "*"), event_text, schema, table, filter })
}

/// `event: *, schema: public, table: t, filters: [...], select: nil`.
fn params_to_log(p: &Params) -> String {
    let filters = match &p.filter {
        Some(f) => format!(
            "[{{{}, {}, {}}}]",
            filter::inspect_str(&f.column),
            filter::inspect_str(f.op.as_str()),
            filter::inspect_str(&f.value)
        ),
        None => "[]".into(),
    };
    format!(
        "event: {}, schema: {}, table: {}, filters: {filters}, select: nil",
        p.event_text,
        p.schema.as_deref().unwrap_or("*"),
        p.table.as_deref().unwrap_or("*")
    )
}

/// PostgreSQL's condition name for the codes a subscription check can raise.
fn condition_name(code: &str) -> &'static str {
    match code {
        "22P02" => "invalid_text_representation",
        "22023" => "invalid_parameter_value",
        "22003" => "numeric_value_out_of_range",
        "22007" => "invalid_datetime_format",
        "22008" => "datetime_field_overflow",
        "42703" => "undefined_column",
        "42P01" => "undefined_table",
        "42704" => "undefined_object",
        _ => "error",
    }
}

/// Checks a binding against the catalogue: the table is in publication `supabase_realtime`,
/// the filter column exists and its value(s) cast to the column type.
async fn validate(db: &tokio_postgres::Client, p: &Params) -> Result<(), String> {
    let not_enabled = || {
        format!(
            "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [{}]",
            params_to_log(p)
        )
    };
    let exception = |detail: String| {
        format!(
            "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [{}]. Exception: {detail}",
            params_to_log(p)
        )
    };
    let db_err = |e: tokio_postgres::Error| match e.as_db_error() {
        Some(d) => format!("ERROR {} ({}) {}", d.code().code(), condition_name(d.code().code()), d.message()),
        None => e.to_string(),
    };
    let published = db
        .query_one(
            "select exists (select 1 from pg_publication_tables where pubname = 'supabase_realtime'
                             and ($1::text is null or schemaname = $1) and ($2::text is null or tablename = $2))",
            &[&p.schema, &p.table],
        )
        .await
        .map_err(|e| exception(db_err(e)))?;
    if !published.get::<_, bool>(0) {
        return Err(not_enabled());
    }
    let Some(f) = &p.filter else { return Ok(()) };
    let (Some(schema), Some(table)) = (&p.schema, &p.table) else {
        return Err(exception(format!("ERROR 22023 (invalid_parameter_value) invalid column for filter {}", f.column)));
    };
    let col = db
        .query_opt(
            "select format_type(a.atttypid, a.atttypmod) from pg_attribute a
             join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = $1 and c.relname = $2 and a.attname = $3 and a.attnum > 0 and not a.attisdropped",
            &[schema, table, &f.column],
        )
        .await
        .map_err(|e| exception(db_err(e)))?;
    let Some(col) = col else {
        return Err(exception(format!("ERROR 22023 (invalid_parameter_value) invalid column for filter {}", f.column)));
    };
    // The type name comes from the catalogue (format_type quotes it), never from the client.
    let ty: String = col.get(0);
    for v in &f.values {
        db.query_one(&format!("select $1::text::{ty}"), &[v]).await.map_err(|e| exception(db_err(e)))?;
    }
    Ok(())
}

impl Session {
    /// Subscribes (or re-subscribes, after an `access_token`) a channel's bindings and
    /// reports with a `system` message, as the real server does after a join.
    pub(in crate::realtime) async fn subscribe_changes(&mut self, topic: &str) {
        let rt = self.state.realtime.clone();
        let Some(c) = self.channels.get(topic) else { return };
        let (chan, join_ref, name) = (c.id, c.join_ref.clone(), c.key.name.clone());
        let claims = Arc::new(c.claims.clone());
        let bindings = c.bindings.clone();
        let result = async {
            let params = bindings.iter().map(|(_, v)| parse_params(v)).collect::<Result<Vec<_>, _>>()?;
            let db = rt
                .pool
                .get()
                .await
                .map_err(|e| format!("Realtime was unable to connect to the project database: {e}"))?;
            for p in &params {
                validate(&db, p).await?;
            }
            Ok::<_, String>(params)
        }
        .await;
        let system = match result {
            Ok(params) => {
                let subs = bindings
                    .iter()
                    .zip(params)
                    .map(|((id, _), p)| Sub {
                        chan,
                        socket: self.handle.clone(),
                        id: *id,
                        schema: p.schema,
                        table: p.table,
                        event: p.event,
                        filter: p.filter,
                        claims: claims.clone(),
                    })
                    .collect();
                rt.changes.replace(chan, subs);
                System {
                    extension: "postgres_changes".into(),
                    status: "ok".into(),
                    message: "Subscribed to PostgreSQL".into(),
                    channel: Some(name),
                }
            }
            Err(message) => {
                rt.changes.unsubscribe(chan);
                tracing::info!(socket = self.handle.id, topic, "postgres_changes subscription refused: {message}");
                System { extension: "postgres_changes".into(), status: "error".into(), message, channel: Some(name) }
            }
        };
        self.push(join_ref, topic, "system", system.to_payload()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authwire_wire::json;

    fn p(s: &str) -> Result<Params, String> {
        parse_params(&json::parse(s).unwrap())
    }

    #[test]
    fn params() {
        let x = p(r#"{"event":"insert","table":"t"}"#).unwrap();
        assert_eq!(
            (x.event, x.schema.as_deref(), x.table.as_deref()),
            (Some(ChangeType::Insert), Some("public"), Some("t"))
        );
        let x = p(r#"{"event":"*","schema":"public"}"#).unwrap();
        assert_eq!((x.event, x.table), (None, None));
        let x = p(r#"{"event":"whatever","schema":"*","table":"*"}"#).unwrap();
        assert_eq!((x.event, x.schema, x.table), (None, None, None));
        assert_eq!(
            p(r#"{"event":"*"}"#).unwrap_err(),
            "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{\"event\" => \"*\"}"
        );
        assert!(p(r#"{"table":"t","filter":"x"}"#).unwrap_err().starts_with("Error parsing `filter` params"));
        let x = p(r#"{"event":"UPDATE","schema":"public","table":"t","filter":"id=eq.1"}"#).unwrap();
        assert_eq!(
            params_to_log(&x),
            r#"event: UPDATE, schema: public, table: t, filters: [{"id", "eq", "1"}], select: nil"#
        );
    }
}
