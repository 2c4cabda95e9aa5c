//! Starting the server inside the test process, through the library API.

use authwire_devserver::{Config, DevServer};
use std::io::{Read as _, Write as _};
use std::time::Duration;

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_query_and_shut_down_in_process() {
    let tmp = tempfile::Builder::new().prefix("authwire-dev-inproc").tempdir().unwrap();
    let server = DevServer::start(Config::for_tests(tmp.path().join("data"))).await.unwrap();
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", server.addr().port()));
    assert!(server.keys().publishable_key.starts_with("sb_publishable_"));
    let pgdata = server.cluster().expect("a managed cluster").pgdata.clone();

    let addr = server.addr();
    let reply = tokio::task::spawn_blocking(move || get(addr, "/auth/v1/health")).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"GoTrue\""), "{reply}");

    // A second in-process server on the same data dir is refused by the lock.
    let err = DevServer::start(Config::for_tests(tmp.path().join("data"))).await.unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");

    server.shutdown().await.unwrap();
    assert!(!pgdata.join("postmaster.pid").exists());
    let out = std::process::Command::new("pgrep").arg("-f").arg(&pgdata).output().unwrap();
    assert!(out.stdout.is_empty(), "postgres still running: {}", String::from_utf8_lossy(&out.stdout));
    remove_cluster(&pgdata);
}

/// The schemas behave as Supabase's do for the things migrations and policies rely on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_behave_like_supabase() {
    let tmp = tempfile::Builder::new().prefix("authwire-dev-schema").tempdir().unwrap();
    let server = DevServer::start(Config::for_tests(tmp.path().join("data"))).await.unwrap();
    let (mut db, conn) = server.database().connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);

    // Roles.
    let r = one(&db, "select rolbypassrls from pg_roles where rolname = 'service_role'").await;
    assert!(r.get::<_, bool>(0));
    let r = one(
        &db,
        "select count(*) from pg_auth_members m join pg_roles g on g.oid = m.roleid
                 join pg_roles u on u.oid = m.member
                 where u.rolname = 'authenticator' and g.rolname in ('anon', 'authenticated', 'service_role')",
    )
    .await;
    assert_eq!(r.get::<_, i64>(0), 3);
    // Extensions on the search path, publication present.
    let r = one(&db, "select count(*) from pg_publication where pubname = 'supabase_realtime'").await;
    assert_eq!(r.get::<_, i64>(0), 1);

    // A user migration's table with an FK to auth.users cascades; auth.uid() reads the claims.
    db.batch_execute(
        "set search_path to \"$user\", public, extensions;
         create table public.todos (id uuid primary key default uuid_generate_v4(),
           owner uuid not null default auth.uid() references auth.users (id) on delete cascade, title text);
         alter table public.todos enable row level security;
         create policy mine on public.todos for all to authenticated using (owner = auth.uid()) with check (owner = auth.uid());
         insert into auth.users (id, aud, role, email) values
           ('11111111-1111-4111-8111-111111111111', 'authenticated', 'authenticated', 'a@example.com'),
           ('22222222-2222-4222-8222-222222222222', 'authenticated', 'authenticated', 'b@example.com');
         insert into auth.sessions (id, user_id, aal) values ('33333333-3333-4333-8333-333333333333', '11111111-1111-4111-8111-111111111111', 'aal1');
         insert into auth.refresh_tokens (token, user_id, session_id) values ('tok-1', '11111111-1111-4111-8111-111111111111', '33333333-3333-4333-8333-333333333333');",
    )
    .await
    .unwrap();
    let tx = db.transaction().await.unwrap();
    tx.batch_execute(
        "set local role authenticated;
         select set_config('request.jwt.claims', '{\"sub\":\"11111111-1111-4111-8111-111111111111\",\"role\":\"authenticated\",\"email\":\"a@example.com\"}', true);
         insert into public.todos (title) values ('mine');",
    )
    .await
    .unwrap();
    let r = tx
        .query_one("select auth.uid()::text, auth.role(), auth.email(), auth.jwt() ->> 'sub', current_user::text", &[])
        .await
        .unwrap();
    assert_eq!(r.get::<_, String>(0), "11111111-1111-4111-8111-111111111111");
    assert_eq!(r.get::<_, String>(1), "authenticated");
    assert_eq!(r.get::<_, String>(2), "a@example.com");
    assert_eq!(r.get::<_, String>(3), "11111111-1111-4111-8111-111111111111");
    assert_eq!(r.get::<_, String>(4), "authenticated");
    // The legacy per-claim setting wins, as in Supabase.
    tx.batch_execute("select set_config('request.jwt.claim.sub', '22222222-2222-4222-8222-222222222222', true)")
        .await
        .unwrap();
    let r = tx.query_one("select auth.uid()::text, count(*) from public.todos", &[]).await.unwrap();
    assert_eq!(r.get::<_, String>(0), "22222222-2222-4222-8222-222222222222");
    assert_eq!(r.get::<_, i64>(1), 0, "RLS hides the other user's row");
    // realtime.messages is RLS-protected with no policy: invisible and not insertable.
    tx.batch_execute("select set_config('realtime.topic', 'room:1', true)").await.unwrap();
    let r = tx.query_one("select realtime.topic(), count(*) from realtime.messages", &[]).await.unwrap();
    assert_eq!(r.get::<_, String>(0), "room:1");
    let denied =
        tx.batch_execute("insert into realtime.messages (topic, extension) values ('room:1', 'broadcast')").await;
    assert!(denied.is_err());
    drop(tx);

    // Deleting the user cascades to sessions, refresh tokens and the user's rows.
    db.execute("delete from auth.users where id = '11111111-1111-4111-8111-111111111111'", &[]).await.unwrap();
    let r = one(
        &db,
        "select (select count(*) from auth.sessions) + (select count(*) from auth.refresh_tokens)
                 + (select count(*) from public.todos)",
    )
    .await;
    assert_eq!(r.get::<_, i64>(0), 0);
    let r = one(&db, "select extensions.crypt('pw', extensions.gen_salt('bf', 4)) like '$2a$04$%'").await;
    assert!(r.get::<_, bool>(0));

    drop(db);
    let pgdata = server.cluster().unwrap().pgdata.clone();
    server.shutdown().await.unwrap();
    remove_cluster(&pgdata);
}

/// Removes a root-layout cluster once its test is done (the next root start would do it too).
fn remove_cluster(pgdata: &std::path::Path) {
    if let Some(base) = pgdata.parent().filter(|b| b.starts_with("/var/lib/authwire-dev")) {
        std::fs::remove_dir_all(base).ok();
    }
}

async fn one(db: &tokio_postgres::Client, sql: &str) -> tokio_postgres::Row {
    db.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"))
}
