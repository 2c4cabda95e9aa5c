//! The change feed: a temporary logical replication slot with wal2json (format 2) on its own
//! connection, read every `poll_interval` (50 ms). Each change of a table in publication
//! `supabase_realtime` is matched against the subscriptions, filtered, checked with RLS as
//! each subscriber (rows re-selected by primary key; DELETE bypasses RLS), and delivered as
//! a `postgres_changes` event. Inserts into `realtime.messages` with extension `broadcast`
//! are delivered as broadcasts (database-originated messages, `meta.id`).
//!
//! The slot is temporary: PostgreSQL drops it when the connection ends, so a stopped or
//! crashed devserver leaves no slot holding WAL back.

use super::filter;
use super::Sub;
use crate::realtime::authz;
use crate::realtime::socket::{FanMsg, Outbound};
use crate::realtime::Realtime;
use authwire_wire::frame::{UserBroadcast, UserData};
use authwire_wire::realtime::ChangeType;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio_postgres::Client;

/// Largest record delivered whole (the real `poll_max_record_bytes`).
const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Starts the feed: the slot exists when this returns.
pub(in crate::realtime) async fn start(rt: &Arc<Realtime>, db: &tokio_postgres::Config) -> Result<(), String> {
    let slot = format!("authwire_rt_{}_{}", std::process::id(), rt.next_id());
    let client = open(db, &slot).await?;
    tokio::spawn(run(Arc::downgrade(rt), db.clone(), client, slot, rt.stopping()));
    Ok(())
}

async fn open(db: &tokio_postgres::Config, slot: &str) -> Result<Client, String> {
    let client = crate::realtime::connect_db(db).await.map_err(|e| e.to_string())?;
    client
        .batch_execute("set timezone to 'UTC'; set application_name to 'authwire-dev realtime'")
        .await
        .map_err(|e| e.to_string())?;
    client.query_one("select pg_create_logical_replication_slot($1, 'wal2json', true)", &[&slot]).await.map_err(
        |e| match e.as_db_error() {
            Some(d) => format!("creating the logical slot (is wal2json installed?): {}", d.message()),
            None => e.to_string(),
        },
    )?;
    Ok(client)
}

async fn run(
    rt: Weak<Realtime>,
    db: tokio_postgres::Config,
    mut client: Client,
    slot: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let interval = match rt.upgrade() {
        Some(rt) => rt.settings.poll_interval,
        None => return,
    };
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(interval) => {}
        }
        let Some(rt) = rt.upgrade() else { break };
        if rt.faults.changes_paused() {
            rt.stats.feed_polls_paused.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let rows = client
            .query(
                "select data from pg_logical_slot_get_changes($1, null, null, 'format-version', '2',
                   'include-timestamp', '1', 'include-pk', '1', 'include-transaction', '0',
                   'actions', 'insert,update,delete')",
                &[&slot],
            )
            .await;
        match rows {
            Ok(rows) => {
                for r in rows {
                    let data: &str = r.get(0);
                    rt.stats.changes_read.fetch_add(1, Ordering::Relaxed);
                    match serde_json::from_str::<Value>(data).ok().and_then(|v| Change::parse(&v)) {
                        Some(ch) => dispatch(&rt, &client, &ch).await,
                        None => tracing::warn!("change feed: unreadable wal2json row skipped"),
                    }
                }
                // Counted once everything read was dispatched.
                rt.stats.feed_polls.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if client.is_closed() => {
                tracing::warn!("change feed connection lost: {e}; reconnecting");
                drop(rt);
                loop {
                    tokio::select! {
                        _ = stop.changed() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    match open(&db, &slot).await {
                        Ok(c) => {
                            client = c;
                            tracing::info!("change feed reconnected (changes committed meanwhile are lost)");
                            break;
                        }
                        Err(e) => tracing::debug!("change feed reconnect failed: {e}"),
                    }
                }
            }
            Err(e) => tracing::warn!("change feed read failed: {}", authz::describe(&e)),
        }
    }
}

/// One wal2json (format 2) change.
#[derive(Debug)]
struct Change {
    action: ChangeType,
    schema: String,
    table: String,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    commit_timestamp: String,
    /// New values (INSERT, UPDATE): (name, value).
    columns: Vec<(String, Value)>,
    /// Old key values (UPDATE, DELETE).
    identity: Vec<(String, Value)>,
}

fn pairs(v: Option<&Value>) -> Vec<(String, Value)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    Some((c.get("name")?.as_str()?.to_owned(), c.get("value").cloned().unwrap_or(Value::Null)))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Change {
    fn parse(v: &Value) -> Option<Change> {
        let action = match v.get("action")?.as_str()? {
            "I" => ChangeType::Insert,
            "U" => ChangeType::Update,
            "D" => ChangeType::Delete,
            _ => return None,
        };
        Some(Change {
            action,
            schema: v.get("schema")?.as_str()?.to_owned(),
            table: v.get("table")?.as_str()?.to_owned(),
            commit_timestamp: commit_timestamp(v.get("timestamp").and_then(Value::as_str).unwrap_or("")),
            columns: pairs(v.get("columns")),
            identity: pairs(v.get("identity")),
        })
    }

    fn new_value(&self, col: &str) -> Option<&Value> {
        self.columns.iter().find(|(n, _)| n == col).map(|(_, v)| v)
    }
    fn old_value(&self, col: &str) -> Option<&Value> {
        self.identity.iter().find(|(n, _)| n == col).map(|(_, v)| v)
    }
}

/// `2026-11-22 08:57:39.37544+00` (UTC session) → `2026-11-22T08:57:39.375Z`.
fn commit_timestamp(ts: &str) -> String {
    let ts = ts.trim();
    let (date, rest) = ts.split_once(' ').unwrap_or((ts, "00:00:00"));
    let time = rest.split(['+', '-']).next().unwrap_or("00:00:00");
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let ms: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
    format!("{date}T{hms}.{ms}Z")
}

/// A double-quoted identifier.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A table's columns from the catalogue.
#[derive(Debug)]
struct TableInfo {
    oid: u32,
    rls: bool,
    /// (name, typname, format_type, is primary key), in column order.
    columns: Vec<(String, String, String, bool)>,
}

impl TableInfo {
    fn column(&self, name: &str) -> Option<&(String, String, String, bool)> {
        self.columns.iter().find(|c| c.0 == name)
    }
    fn pk(&self) -> Vec<&(String, String, String, bool)> {
        self.columns.iter().filter(|c| c.3).collect()
    }
}

async fn table_info(db: &Client, schema: &str, table: &str) -> Result<Option<TableInfo>, tokio_postgres::Error> {
    let rows = db
        .query(
            "select c.oid, c.relrowsecurity, a.attname::text, t.typname::text, format_type(a.atttypid, a.atttypmod),
                    coalesce(a.attnum = any(i.indkey), false),
                    exists (select 1 from pg_publication_tables p where p.pubname = 'supabase_realtime'
                            and p.schemaname = n.nspname and p.tablename = c.relname)
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
             join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
             join pg_type t on t.oid = a.atttypid
             left join pg_index i on i.indrelid = c.oid and i.indisprimary
             where n.nspname = $1 and c.relname = $2 order by a.attnum",
            &[&schema, &table],
        )
        .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    if !first.get::<_, bool>(6) {
        return Ok(None);
    }
    Ok(Some(TableInfo {
        oid: first.get(0),
        rls: first.get(1),
        columns: rows.iter().map(|r| (r.get(2), r.get(3), r.get(4), r.get(5))).collect(),
    }))
}

/// Values as `to_jsonb` shows them (timestamps, json, arrays, numerics), computed by
/// PostgreSQL from the wal2json text; the raw values if that fails.
async fn typed_record(
    db: &Client,
    schema: &str,
    table: &str,
    info: &TableInfo,
    values: &[(String, Value)],
) -> Map<String, Value> {
    let mut input = Map::new();
    for (name, v) in values {
        let typname = info.column(name).map_or("", |c| c.1.as_str());
        let v = match (typname, v) {
            ("json" | "jsonb", Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
            ("bytea", Value::String(s)) if !s.starts_with("\\x") => Value::String(format!("\\x{s}")),
            _ => v.clone(),
        };
        input.insert(name.clone(), v);
    }
    let raw = input.clone();
    let input = Value::Object(input);
    let sql = format!(
        "select coalesce((select jsonb_object_agg(key, value) from jsonb_each(to_jsonb(jsonb_populate_record(null::{}.{}, $1::jsonb)))
                          where $1::jsonb ? key), '{{}}'::jsonb)",
        quote_ident(schema),
        quote_ident(table)
    );
    match db.query_one(&sql, &[&input]).await {
        Ok(r) => match r.get::<_, Value>(0) {
            Value::Object(m) => m,
            _ => raw,
        },
        Err(e) => {
            tracing::debug!("change feed: typing a record failed: {}", authz::describe(&e));
            raw
        }
    }
}

/// Columns `role` may select.
async fn selectable(db: &Client, oid: u32, role: &str) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = db
        .query(
            "select a.attname::text from pg_attribute a
             where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped
               and has_column_privilege($2::text::name, a.attrelid, a.attnum, 'SELECT')
             order by a.attnum",
            &[&oid, &role],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Whether the subscriber (claims) sees the row with these primary-key values, through RLS.
async fn visible(
    rt: &Realtime,
    schema: &str,
    table: &str,
    info: &TableInfo,
    claims: &crate::jwt::Claims,
    ch: &Change,
) -> bool {
    let pk = info.pk();
    let mut conds = Vec::new();
    let mut params: Vec<Option<String>> = Vec::new();
    for (i, (name, _, fmt, _)) in pk.iter().enumerate() {
        conds.push(format!("{} = ${}::text::{fmt}", quote_ident(name), i + 1));
        params.push(ch.new_value(name).and_then(filter::value_text));
    }
    let sql = format!(
        "select exists (select 1 from {}.{} where {})",
        quote_ident(schema),
        quote_ident(table),
        conds.join(" and ")
    );
    let Ok(mut db) = rt.pool.get().await else { return false };
    let Ok(tx) = db.transaction().await else { return false };
    let claims_json = Value::Object(claims.0.clone()).to_string();
    let role = claims.role().unwrap_or("anon");
    let sub = claims.sub().unwrap_or("");
    let result = async {
        tx.execute(
            "select set_config('role', $1::text, true), set_config('request.jwt.claims', $2::text, true),
                    set_config('request.jwt.claim.sub', $3::text, true), set_config('request.jwt.claim.role', $1::text, true)",
            &[&role, &claims_json, &sub],
        )
        .await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
        tx.query_one(&sql, &refs).await
    }
    .await;
    tx.rollback().await.ok();
    match result {
        Ok(r) => r.get::<_, bool>(0),
        Err(e) => {
            tracing::debug!(role, "change feed: RLS check failed: {}", authz::describe(&e));
            false
        }
    }
}

/// Evaluates a subscription's filter on the change (new record; old record for DELETE).
async fn passes(db: &Client, info: &TableInfo, ch: &Change, sub: &Sub) -> bool {
    let Some(f) = &sub.filter else { return true };
    let Some((_, typname, fmt, _)) = info.column(&f.column) else { return false };
    let value = match ch.action {
        ChangeType::Delete => ch.old_value(&f.column),
        _ => ch.new_value(&f.column),
    };
    let left = value.and_then(filter::value_text);
    match filter::eval(f, filter::kind(typname), left.as_deref()) {
        Ok(b) => b,
        Err(()) => {
            // PostgreSQL decides; the type name is the catalogue's format_type.
            let Some(left) = left else { return false };
            let sql = format!("select ($1::text::{fmt}) {} ($2::text::{fmt})", f.op.sql());
            let mut any = false;
            for right in &f.values {
                match db.query_one(&sql, &[&left, right]).await {
                    Ok(r) if r.get::<_, Option<bool>>(0) == Some(true) => {
                        any = true;
                        if f.op != filter::Op::In {
                            break;
                        }
                    }
                    Ok(_) if f.op != filter::Op::In => return false,
                    Ok(_) => {}
                    Err(_) => return false,
                }
            }
            any
        }
    }
}

async fn dispatch(rt: &Realtime, db: &Client, ch: &Change) {
    if ch.schema == "realtime" && ch.table == "messages" {
        if ch.action == ChangeType::Insert {
            db_broadcast(rt, ch);
        }
        return;
    }
    let candidates = rt.changes.matching(&ch.schema, &ch.table, ch.action);
    if candidates.is_empty() {
        return;
    }
    let info = match table_info(db, &ch.schema, &ch.table).await {
        Ok(Some(i)) => i,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!("change feed: catalogue read failed: {}", authz::describe(&e));
            return;
        }
    };
    let mut subs = Vec::new();
    for s in candidates {
        if passes(db, &info, ch, &s).await {
            subs.push(s);
        }
    }
    if subs.is_empty() {
        return;
    }
    let new_record = match ch.action {
        ChangeType::Delete => Map::new(),
        _ => typed_record(db, &ch.schema, &ch.table, &info, &ch.columns).await,
    };
    let mut old_record = match ch.action {
        ChangeType::Insert => Map::new(),
        _ => typed_record(db, &ch.schema, &ch.table, &info, &ch.identity).await,
    };
    if ch.action == ChangeType::Delete && info.rls {
        // DELETE bypasses RLS, so its old record is reduced to the primary key.
        old_record.retain(|k, _| info.column(k).is_some_and(|c| c.3));
    }
    // Group the subscriptions by claims: RLS and privileges are evaluated once per group.
    let mut groups: Vec<(String, Vec<Sub>)> = Vec::new();
    for s in subs {
        let key = Value::Object(s.claims.0.clone()).to_string();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(s),
            None => groups.push((key, vec![s])),
        }
    }
    let mut privileges: HashMap<String, Option<Vec<String>>> = HashMap::new();
    for (_, group) in groups {
        let claims = group[0].claims.clone();
        let role = claims.role().unwrap_or("anon").to_owned();
        if !privileges.contains_key(&role) {
            let cols = selectable(db, info.oid, &role).await.ok();
            privileges.insert(role.clone(), cols);
        }
        let Some(Some(cols)) = privileges.get(&role) else { continue };
        let mut errors: Vec<&str> = Vec::new();
        let pk = info.pk();
        if pk.is_empty() {
            errors.push("Error 400: Bad Request, no primary key");
        } else if pk.iter().any(|c| !cols.contains(&c.0)) {
            errors.push("Error 401: Unauthorized");
        }
        if errors.is_empty()
            && info.rls
            && ch.action != ChangeType::Delete
            && !visible(rt, &ch.schema, &ch.table, &info, &claims, ch).await
        {
            continue;
        }
        let keep = |m: &Map<String, Value>| -> Map<String, Value> {
            if !errors.is_empty() {
                return Map::new();
            }
            m.iter().filter(|(k, _)| cols.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let mut record = keep(&new_record);
        let old = keep(&old_record);
        if Value::Object(record.clone()).to_string().len() > MAX_RECORD_BYTES {
            record.retain(|_, v| v.to_string().len() <= 64);
            errors.push("Error 413: Payload Too Large");
        }
        let columns: Vec<Value> =
            info.columns.iter().filter(|c| cols.contains(&c.0)).map(|c| json!({ "name": c.0, "type": c.1 })).collect();
        let mut data = json!({
            "schema": ch.schema,
            "table": ch.table,
            "type": ch.action.as_str(),
            "commit_timestamp": ch.commit_timestamp,
            "columns": columns,
            "errors": if errors.is_empty() { Value::Null } else { json!(errors) },
        });
        match ch.action {
            ChangeType::Insert => data["record"] = Value::Object(record),
            ChangeType::Update => {
                data["record"] = Value::Object(record);
                data["old_record"] = Value::Object(old);
            }
            ChangeType::Delete => data["old_record"] = Value::Object(old),
        }
        // One event per channel instance, with the ids of its matching bindings.
        let mut per_chan: Vec<(u64, Vec<i64>, Arc<crate::realtime::socket::SocketHandle>)> = Vec::new();
        for s in &group {
            match per_chan.iter_mut().find(|(c, _, _)| *c == s.chan) {
                Some((_, ids, _)) if !ids.contains(&s.id) => ids.push(s.id),
                Some(_) => {}
                None => per_chan.push((s.chan, vec![s.id], s.socket.clone())),
            }
        }
        for (chan, ids, socket) in per_chan {
            let payload = json!({ "ids": ids, "data": data }).to_string();
            socket.push(Outbound::Fan {
                chan,
                msg: Arc::new(FanMsg::Json { event: "postgres_changes", payload, id: None }),
            });
            rt.stats.changes_delivered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A row inserted into `realtime.messages` with extension `broadcast` is broadcast to its
/// topic (private per the row), with `meta.id` = the row id.
fn db_broadcast(rt: &Realtime, ch: &Change) {
    let get = |k: &str| ch.new_value(k);
    if get("extension").and_then(Value::as_str) != Some("broadcast") {
        return;
    }
    let (Some(topic), Some(id)) = (get("topic").and_then(Value::as_str), get("id").and_then(Value::as_str)) else {
        return;
    };
    let private = get("private").and_then(Value::as_bool).unwrap_or(false);
    let event = get("event").and_then(Value::as_str).unwrap_or("").to_owned();
    // jsonb arrives as JSON text.
    let payload = match get("payload") {
        Some(Value::String(s)) => s.clone(),
        _ => "{}".to_owned(),
    };
    let ub = UserBroadcast { event, metadata: json!({ "id": id }).to_string(), data: UserData::Json(payload) };
    let key = crate::realtime::hub::TopicKey { private, name: topic.to_owned() };
    let msg = Arc::new(FanMsg::User { ub, id: Some(id.to_owned()) });
    rt.hub.broadcast(&key, None, msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_identifiers() {
        assert_eq!(commit_timestamp("2026-11-22 08:57:39.37544+00"), "2026-11-22T08:57:39.375Z");
        assert_eq!(commit_timestamp("2026-11-22 08:57:39+00"), "2026-11-22T08:57:39.000Z");
        assert_eq!(commit_timestamp("2026-11-22 08:57:39.1+00"), "2026-11-22T08:57:39.100Z");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn wal2json_rows() {
        let v: Value = serde_json::from_str(
            r#"{"action":"U","timestamp":"2026-11-22 08:57:39.375853+00","schema":"public","table":"t","columns":[{"name":"id","type":"integer","value":3},{"name":"body","type":"text","value":"new"}],"identity":[{"name":"id","type":"integer","value":3}],"pk":[{"name":"id","type":"integer"}]}"#,
        )
        .unwrap();
        let c = Change::parse(&v).unwrap();
        assert_eq!(c.action, ChangeType::Update);
        assert_eq!(c.new_value("body"), Some(&json!("new")));
        assert_eq!(c.old_value("id"), Some(&json!(3)));
        assert_eq!(c.commit_timestamp, "2026-11-22T08:57:39.375Z");
        assert!(Change::parse(&json!({ "action": "T" })).is_none());
    }
}
