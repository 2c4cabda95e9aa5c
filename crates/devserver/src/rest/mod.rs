//! A PostgREST subset at `/rest/v1/<table>` over the `public` schema: GET (and HEAD) with
//! `select`, filters (`eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `like`, `ilike`, `is`, `in`,
//! `not.`), `order`, `limit`, `offset`; POST (object or array; upsert with `Prefer:
//! resolution=merge-duplicates|ignore-duplicates` and `on_conflict`); PATCH and DELETE with
//! filters. `Prefer: return=representation` returns the rows, `count=exact` fills
//! `Content-Range`; `Accept: application/vnd.pgrst.object+json` asks for one object.
//!
//! Each request runs in one transaction as the caller's role, as PostgREST does: the Bearer
//! token (else the `apikey`; opaque keys stand for their JWT) is verified, then
//! `set_config('role', <role>, true)`, `request.jwt.claims` (JSON) and the legacy
//! `request.jwt.claim.<name>` settings, so row level security and `auth.uid()` apply. The
//! role must be one that `authenticator` may switch to. Errors are PostgREST's
//! `{ code, details, hint, message }` with its status mapping.

mod query;
mod sql;

use crate::http::{presented_keys, unix_now, AppState, Shared};
use crate::jwt::JwtError;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use sql::{Column, Params, Table};

/// The only exposed schema.
const SCHEMA: &str = "public";

/// The `/rest/v1` routes.
pub(crate) fn router() -> Router<Shared> {
    Router::new().route("/rest/v1/{table}", get(handle).post(handle).patch(handle).delete(handle))
}

/// PostgREST's error body.
#[derive(Debug, Clone)]
pub(crate) struct RestError {
    status: StatusCode,
    code: String,
    message: String,
    details: Option<String>,
    hint: Option<String>,
}

impl RestError {
    pub(crate) fn new(
        status: u16,
        code: &str,
        message: impl Into<String>,
        details: Option<String>,
        hint: Option<String>,
    ) -> Self {
        RestError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.into(),
            message: message.into(),
            details,
            hint,
        }
    }

    /// PostgREST's mapping of a PostgreSQL error (`anon` gets 401 for privilege errors).
    fn from_pg(e: &tokio_postgres::Error, role: &str) -> Self {
        let Some(db) = e.as_db_error() else {
            tracing::warn!("REST database error: {e}");
            return RestError::new(503, "PGRST000", "Database connection error", Some(e.to_string()), None);
        };
        let code = db.code().code();
        let status = match code {
            "42501" if role == "anon" => 401,
            "42501" => 403,
            "23503" | "23505" | "40001" => 409,
            "25006" => 405,
            "42883" | "42P01" => 404,
            "P0001" => 400,
            c if c.starts_with("08") || c.starts_with("53") => 503,
            c if c.starts_with("28") || c.starts_with("0L") || c.starts_with("0P") => 403,
            c if ["09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX"]
                .iter()
                .any(|p| c.starts_with(p)) =>
            {
                500
            }
            "42P17" => 500,
            _ => 400,
        };
        RestError::new(status, code, db.message(), db.detail().map(str::to_owned), db.hint().map(str::to_owned))
    }

    fn parse(e: query::ParseError) -> Self {
        RestError::new(400, "PGRST100", e.message, Some(e.details), None)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "details": self.details, "hint": self.hint, "message": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}

/// What the request's `Prefer` header asks for.
#[derive(Debug, Default)]
struct Prefer {
    representation: bool,
    count_exact: bool,
    /// `Some(true)` merge-duplicates, `Some(false)` ignore-duplicates.
    upsert: Option<bool>,
}

fn prefer(headers: &HeaderMap) -> Prefer {
    let mut p = Prefer::default();
    for v in headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()) {
        for item in v.split(',').map(str::trim) {
            match item {
                "return=representation" => p.representation = true,
                "count=exact" | "count=planned" | "count=estimated" => p.count_exact = true,
                "resolution=merge-duplicates" => p.upsert = Some(true),
                "resolution=ignore-duplicates" => p.upsert = Some(false),
                _ => {}
            }
        }
    }
    p
}

/// The role and claims of the caller, PostgREST-style (401 `PGRST301`/`PGRST303`).
fn caller(state: &AppState, headers: &HeaderMap) -> Result<(String, Map<String, Value>), RestError> {
    let presented = presented_keys(headers);
    if presented.is_empty() {
        return Err(RestError::new(401, "PGRST301", "No API key found in request", None, None));
    }
    let bearer = crate::auth::bearer(headers);
    let apikey = headers.get("apikey").and_then(|v| v.to_str().ok()).map(|s| s.trim().to_owned());
    let raw = bearer.or(apikey).unwrap_or_default();
    let token = if raw.starts_with("sb_") {
        state.keys.jwt_for_opaque_key(&raw).map(str::to_owned).ok_or_else(|| {
            RestError::new(401, "PGRST301", "Invalid API key", None, Some("Double check your API key.".into()))
        })?
    } else {
        raw
    };
    let claims = state.keys.jwt.verify(&token, unix_now()).map_err(|e| match e {
        JwtError::Expired { .. } => RestError::new(401, "PGRST303", "JWT expired", None, None),
        other => RestError::new(401, "PGRST301", other.handshake_message(), None, None),
    })?;
    if let Some(sub) = claims.sub() {
        let iat = claims.0.get("iat").and_then(Value::as_i64);
        if state.auth.faults.expired_early(sub, iat) {
            return Err(RestError::new(401, "PGRST303", "JWT expired", None, None));
        }
    }
    let role = claims.role().unwrap_or("anon").to_owned();
    Ok((role, claims.0))
}

/// Loads the table's columns and primary key from `information_schema`.
async fn load_table(db: &tokio_postgres::Client, name: &str) -> Result<Table, RestError> {
    let pg = |e: tokio_postgres::Error| RestError::from_pg(&e, "");
    let exists = db
        .query_opt(
            "select 1 from information_schema.tables where table_schema = $1 and table_name = $2",
            &[&SCHEMA, &name],
        )
        .await
        .map_err(pg)?;
    if exists.is_none() {
        return Err(RestError::new(
            404,
            "PGRST205",
            format!("Could not find the table '{SCHEMA}.{name}' in the schema cache"),
            None,
            None,
        ));
    }
    let columns = db
        .query(
            "select column_name::text, udt_schema::text, udt_name::text from information_schema.columns
             where table_schema = $1 and table_name = $2 order by ordinal_position",
            &[&SCHEMA, &name],
        )
        .await
        .map_err(pg)?
        .iter()
        .map(|r| Column {
            name: r.get(0),
            ty: format!("{}.{}", sql::quote_ident(&r.get::<_, String>(1)), sql::quote_ident(&r.get::<_, String>(2))),
        })
        .collect();
    let primary_key = db
        .query(
            "select k.column_name::text from information_schema.table_constraints c
             join information_schema.key_column_usage k
               on k.constraint_schema = c.constraint_schema and k.constraint_name = c.constraint_name
             where c.table_schema = $1 and c.table_name = $2 and c.constraint_type = 'PRIMARY KEY'
             order by k.ordinal_position",
            &[&SCHEMA, &name],
        )
        .await
        .map_err(pg)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(Table { schema: SCHEMA.into(), name: name.into(), columns, primary_key })
}

/// The keys of a JSON body (object or array of objects), in first-seen order, and the body
/// as an array.
fn body_rows(body: &[u8], method: &Method) -> Result<(Vec<String>, Value), RestError> {
    let invalid = |d: String| RestError::new(400, "PGRST102", "Empty or invalid json", Some(d), None);
    let v: Value = serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
    let rows = match v {
        Value::Object(_) => vec![v],
        Value::Array(a) if *method == Method::POST => a,
        _ => return Err(invalid("expected a JSON object (or, for POST, an array of objects)".into())),
    };
    let mut keys: Vec<String> = Vec::new();
    for r in &rows {
        let Value::Object(m) = r else { return Err(invalid("every element must be a JSON object".into())) };
        for k in m.keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    Ok((keys, Value::Array(rows)))
}

fn wants_object(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/vnd.pgrst.object"))
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

/// Unwraps a one-row array for `vnd.pgrst.object+json`, else PGRST116 (406).
fn single(rows_json: &str, n: i64) -> Result<String, RestError> {
    if n != 1 {
        return Err(RestError::new(
            406,
            "PGRST116",
            "JSON object requested, multiple (or no) rows returned",
            Some(format!("The result contains {n} rows")),
            None,
        ));
    }
    let v: Value = serde_json::from_str(rows_json).unwrap_or(Value::Null);
    Ok(v.get(0).cloned().unwrap_or(Value::Null).to_string())
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match run(&state, &method, &table, raw.as_deref().unwrap_or(""), &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(
    state: &AppState,
    method: &Method,
    table: &str,
    raw: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, RestError> {
    for h in ["accept-profile", "content-profile"] {
        if let Some(p) = headers.get(h).and_then(|v| v.to_str().ok()) {
            if p != SCHEMA {
                return Err(RestError::new(
                    406,
                    "PGRST106",
                    format!("The schema must be one of the following: {SCHEMA}"),
                    None,
                    None,
                ));
            }
        }
    }
    let (role, claims) = caller(state, headers)?;
    let q = query::parse(raw).map_err(RestError::parse)?;
    let pref = prefer(headers);
    let object = wants_object(headers);

    let mut conn = state.pool.get().await.map_err(|e| RestError::from_pg(&e, &role))?;
    let t = load_table(&conn, table).await?;
    let pg = |e: tokio_postgres::Error| RestError::from_pg(&e, &role);
    let tx = conn.transaction().await.map_err(pg)?;
    let allowed: bool = tx
        .query_one(
            "select exists (select 1 from pg_roles r where r.rolname = $1 and pg_has_role('authenticator', r.oid, 'MEMBER'))",
            &[&role],
        )
        .await
        .map_err(pg)?
        .get(0);
    if !allowed {
        return Err(RestError::new(401, "42501", format!("permission denied to set role \"{role}\""), None, None));
    }
    // Legacy per-claim settings; names PostgreSQL would refuse are skipped.
    let (mut names, mut values) = (Vec::new(), Vec::new());
    for (k, v) in &claims {
        if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            names.push(format!("request.jwt.claim.{k}"));
            values.push(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
    }
    let timeout = if role == "anon" { "3s" } else { "8s" };
    let path = format!("/{table}");
    tx.execute(
        "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                set_config('request.method', $3, true), set_config('request.path', $4, true),
                set_config('statement_timeout', $5, true),
                (select count(set_config(n, v, true)) from unnest($6::text[], $7::text[]) as c(n, v))",
        &[&role, &Value::Object(claims.clone()).to_string(), &method.as_str(), &path, &timeout, &names, &values],
    )
    .await
    .map_err(pg)?;

    let mut params = Params::default();
    let resp = match *method {
        Method::GET | Method::HEAD => {
            let sql = t.select_sql(&q, &mut params)?;
            let row = tx.query_one(&sql, &params.refs()).await.map_err(pg)?;
            let (rows, n): (String, i64) = (row.get(0), row.get(1));
            let total = if pref.count_exact {
                let mut p = Params::default();
                let sql = t.count_sql(&q, &mut p)?;
                Some(tx.query_one(&sql, &p.refs()).await.map_err(pg)?.get::<_, i64>(0))
            } else {
                None
            };
            let body = if object { single(&rows, n)? } else { rows };
            let mut resp = json_response(StatusCode::OK, body);
            let start = q.offset.unwrap_or(0);
            let range = match (n, total) {
                (0, Some(t)) => format!("*/{t}"),
                (0, None) => "*/*".into(),
                (n, Some(t)) => format!("{start}-{}/{t}", start + n - 1),
                (n, None) => format!("{start}-{}/*", start + n - 1),
            };
            if let Ok(v) = HeaderValue::from_str(&range) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            resp
        }
        Method::POST | Method::PATCH | Method::DELETE => {
            let stmt = match *method {
                Method::POST => {
                    let (keys, rows) = body_rows(body, method)?;
                    let keys = match &q.columns {
                        Some(c) => c.clone(),
                        None => keys,
                    };
                    if rows.as_array().is_some_and(Vec::is_empty) {
                        tx.commit().await.map_err(pg)?;
                        return write_response(StatusCode::CREATED, &pref, object, "[]", 0);
                    }
                    if keys.is_empty() {
                        return Err(RestError::new(
                            400,
                            "PGRST102",
                            "Empty or invalid json",
                            Some("authwire-dev needs at least one column to insert".into()),
                            None,
                        ));
                    }
                    t.insert_sql(&q, &keys, rows.to_string(), pref.upsert, &mut params)?
                }
                Method::PATCH => {
                    let (keys, rows) = body_rows(body, method)?;
                    require_filters(&q, "UPDATE")?;
                    if keys.is_empty() {
                        tx.commit().await.map_err(pg)?;
                        return write_response(StatusCode::OK, &pref, object, "[]", 0);
                    }
                    let obj = rows.get(0).cloned().unwrap_or(Value::Null).to_string();
                    t.update_sql(&q, &keys, obj, &mut params)?
                }
                _ => {
                    require_filters(&q, "DELETE")?;
                    t.delete_sql(&q, &mut params)?
                }
            };
            let list = if pref.representation { t.select_list(&q.select)? } else { "1".into() };
            let row = tx.query_one(&sql::returning(&stmt, &list), &params.refs()).await.map_err(pg)?;
            let (rows, n): (String, i64) = (row.get(0), row.get(1));
            let status = if *method == Method::POST { StatusCode::CREATED } else { StatusCode::OK };
            // A failed single-object check must not leave the write behind.
            let resp = write_response(status, &pref, object, &rows, n)?;
            tx.commit().await.map_err(pg)?;
            return Ok(resp);
        }
        _ => return Err(RestError::new(405, "PGRST117", format!("Unsupported HTTP method: {method}"), None, None)),
    };
    tx.commit().await.map_err(pg)?;
    Ok(resp)
}

fn require_filters(q: &query::Query, what: &str) -> Result<(), RestError> {
    if q.filters.is_empty() {
        // Supabase runs pg-safeupdate: unfiltered UPDATE/DELETE is refused.
        return Err(RestError::new(400, "21000", format!("{what} requires a WHERE clause"), None, None));
    }
    Ok(())
}

fn write_response(status: StatusCode, pref: &Prefer, object: bool, rows: &str, n: i64) -> Result<Response, RestError> {
    if !pref.representation {
        let s = if status == StatusCode::CREATED { status } else { StatusCode::NO_CONTENT };
        let mut resp = s.into_response();
        resp.headers_mut().insert(header::CONTENT_RANGE, HeaderValue::from_static("*/*"));
        return Ok(resp);
    }
    let body = if object { single(rows, n)? } else { rows.to_owned() };
    let mut resp = json_response(status, body);
    resp.headers_mut().insert(header::CONTENT_RANGE, HeaderValue::from_static("*/*"));
    Ok(resp)
}
