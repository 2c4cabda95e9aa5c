//! Migrations: the built-in Supabase-shaped schemas (`crates/devserver/sql/*.sql`), the
//! optional demo seed, then each `--sql` file. Each is applied once per database, in its own
//! transaction, and recorded in `authwire_dev.migrations(name, checksum)`; a recorded
//! migration whose content changed is an error, as with Supabase migrations.
//!
//! Built-in migrations are append-only: change the schema by adding a file, never by editing
//! one that has shipped (existing data dirs would refuse to start).

use crate::config::Seed;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

/// The built-in migrations, in order.
const BUILTIN: &[(&str, &str)] = &[
    ("builtin/0001_roles", include_str!("../sql/0001_roles.sql")),
    ("builtin/0002_public_extensions", include_str!("../sql/0002_public_extensions.sql")),
    ("builtin/0003_auth", include_str!("../sql/0003_auth.sql")),
    ("builtin/0004_realtime", include_str!("../sql/0004_realtime.sql")),
    ("builtin/0005_dev", include_str!("../sql/0005_dev.sql")),
    ("builtin/0006_auth_amr", include_str!("../sql/0006_auth_amr.sql")),
    ("builtin/0007_realtime_send", include_str!("../sql/0007_realtime_send.sql")),
];

const SEED_DEMO: (&str, &str) = ("seed/demo", include_str!("../sql/seed_demo.sql"));

/// The users `--seed demo` creates: (email, password, display name).
pub const DEMO_USERS: &[(&str, &str, &str)] =
    &[("alice@example.com", "password123", "Alice"), ("bob@example.com", "password123", "Bob")];

/// Serialises concurrent devservers migrating the same database.
const LOCK_KEY: i64 = 0x6175_7468_7769_7265; // "authwire"

/// A migration could not be applied.
#[derive(Debug)]
pub struct SchemaError {
    /// The migration's recorded name (`builtin/…`, `seed/demo` or the file name).
    pub migration: String,
    /// The file, for `--sql` migrations.
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub kind: SchemaErrorKind,
}

/// What went wrong with a migration.
#[derive(Debug)]
pub enum SchemaErrorKind {
    /// The file could not be read.
    Read(std::io::Error),
    /// Two `--sql` files share a file name (the recorded name).
    DuplicateName,
    /// It was applied before with a different checksum.
    Changed {
        /// The recorded checksum.
        recorded: String,
        /// The checksum now.
        now: String,
    },
    /// PostgreSQL refused it.
    Sql(String),
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.path {
            Some(p) => format!("migration {} ({})", self.migration, p.display()),
            None => format!("migration {}", self.migration),
        };
        match &self.kind {
            SchemaErrorKind::Read(e) => write!(f, "{what}: cannot read: {e}"),
            SchemaErrorKind::DuplicateName => {
                write!(f, "{what}: another --sql file has the same name; migrations are recorded by file name")
            }
            SchemaErrorKind::Changed { recorded, now } => write!(
                f,
                "{what} was already applied to this data dir with different content (checksum {} then, {} now); \
                 add a new migration file instead of editing an applied one, or delete the data dir",
                &recorded[..12.min(recorded.len())],
                &now[..12.min(now.len())]
            ),
            SchemaErrorKind::Sql(msg) => write!(f, "{what} failed: {msg}"),
        }
    }
}

impl std::error::Error for SchemaError {}

struct Migration {
    name: String,
    path: Option<PathBuf>,
    sql: String,
}

fn checksum(sql: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, sql.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the `--sql` files (all of them, before touching the database).
fn load_files(files: &[PathBuf]) -> Result<Vec<Migration>, SchemaError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let name = recorded_name(path);
        let err = |kind| SchemaError { migration: name.clone(), path: Some(path.clone()), kind };
        if !seen.insert(name.clone()) {
            return Err(err(SchemaErrorKind::DuplicateName));
        }
        let sql = std::fs::read_to_string(path).map_err(|e| err(SchemaErrorKind::Read(e)))?;
        out.push(Migration { name, path: Some(path.clone()), sql });
    }
    Ok(out)
}

/// Applies everything that is not applied yet. Returns the names applied now.
pub(crate) async fn migrate(client: &mut Client, seed: Seed, files: &[PathBuf]) -> Result<Vec<String>, SchemaError> {
    let user_files = load_files(files)?;
    let mut all: Vec<Migration> =
        BUILTIN.iter().map(|(n, s)| Migration { name: (*n).into(), path: None, sql: (*s).into() }).collect();
    if seed == Seed::Demo {
        all.push(Migration { name: SEED_DEMO.0.into(), path: None, sql: SEED_DEMO.1.into() });
    }
    all.extend(user_files);

    let bootstrap_err = |e: tokio_postgres::Error| SchemaError {
        migration: "bootstrap".into(),
        path: None,
        kind: SchemaErrorKind::Sql(describe_pg_error(&e, "")),
    };
    client.execute("select pg_advisory_lock($1)", &[&LOCK_KEY]).await.map_err(bootstrap_err)?;
    let result = apply(client, &all).await;
    client.execute("select pg_advisory_unlock($1)", &[&LOCK_KEY]).await.ok();
    result
}

async fn apply(client: &mut Client, all: &[Migration]) -> Result<Vec<String>, SchemaError> {
    let bootstrap_err = |e: tokio_postgres::Error| SchemaError {
        migration: "bootstrap".into(),
        path: None,
        kind: SchemaErrorKind::Sql(describe_pg_error(&e, "")),
    };
    client
        .batch_execute(
            "create schema if not exists authwire_dev;
             create table if not exists authwire_dev.migrations (
               name text primary key,
               checksum text not null,
               applied_at timestamptz not null default now())",
        )
        .await
        .map_err(bootstrap_err)?;
    let applied: HashMap<String, String> = client
        .query("select name, checksum from authwire_dev.migrations", &[])
        .await
        .map_err(bootstrap_err)?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();

    let mut done = Vec::new();
    for m in all {
        let sum = checksum(&m.sql);
        let err = |kind| SchemaError { migration: m.name.clone(), path: m.path.clone(), kind };
        if let Some(recorded) = applied.get(&m.name) {
            if *recorded != sum {
                return Err(err(SchemaErrorKind::Changed { recorded: recorded.clone(), now: sum }));
            }
            continue;
        }
        let sql_err = |e: tokio_postgres::Error| err(SchemaErrorKind::Sql(describe_pg_error(&e, &m.sql)));
        let tx = client.transaction().await.map_err(sql_err)?;
        if m.path.is_some() {
            // User migrations see the search path Supabase gives its `postgres` role.
            tx.batch_execute("set local search_path to \"$user\", public, extensions").await.map_err(sql_err)?;
        }
        tx.batch_execute(&m.sql).await.map_err(sql_err)?;
        tx.execute("insert into authwire_dev.migrations (name, checksum) values ($1, $2)", &[&m.name, &sum])
            .await
            .map_err(sql_err)?;
        tx.commit().await.map_err(sql_err)?;
        tracing::info!(migration = %m.name, "applied");
        done.push(m.name.clone());
    }
    Ok(done)
}

/// PostgreSQL's message with detail, hint and the line the error points at.
pub(crate) fn describe_pg_error(e: &tokio_postgres::Error, sql: &str) -> String {
    let Some(db) = e.as_db_error() else {
        return e.to_string();
    };
    let mut s = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    if let Some(ErrorPosition::Original(pos)) = db.position() {
        let upto: String = sql.chars().take(*pos as usize).collect();
        s.push_str(&format!(" (line {})", upto.matches('\n').count() + 1));
    }
    if let Some(d) = db.detail() {
        s.push_str(&format!("; detail: {d}"));
    }
    if let Some(h) = db.hint() {
        s.push_str(&format!("; hint: {h}"));
    }
    if let Some(w) = db.where_() {
        s.push_str(&format!("; where: {w}"));
    }
    s
}

/// The file name a `--sql` path is recorded under.
pub(crate) fn recorded_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_file_names_are_refused_before_touching_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("x/policies.sql"), dir.path().join("y/policies.sql"));
        for p in [&a, &b] {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "select 1").unwrap();
        }
        let err = load_files(&[a, b]).err().unwrap();
        assert!(matches!(err.kind, SchemaErrorKind::DuplicateName));
        let err = load_files(&[dir.path().join("missing.sql")]).err().unwrap();
        assert!(matches!(err.kind, SchemaErrorKind::Read(_)));
        assert!(err.to_string().contains("missing.sql"), "{err}");
        assert_eq!(recorded_name(Path::new("/a/b/c.sql")), "c.sql");
    }

    #[test]
    fn builtin_names_are_unique_and_ordered() {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
