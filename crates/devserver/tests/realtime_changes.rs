//! Postgres changes through the Realtime server: subscription replies and errors, RLS per
//! subscriber (two users), DELETE with primary keys only, filters, re-subscription on
//! `access_token`, database broadcasts, the feed pause fault, and insert→event latency.

mod common;
mod rtclient;

use authwire_wire::frame::{Payload, Vsn};
use common::{wait_for, Ctx, Fixture};
use rtclient::{connect, join_payload, payload, Minter, Ws};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ALICE: &str = "a1111111-1111-4111-8111-111111111111";
const BOB: &str = "b2222222-2222-4222-8222-222222222222";

/// The server these tests share, with [`setup_sql`] applied.
static CHANGES: Fixture = Fixture::new("authwire-dev-rt-changes", |_| {}, Some(setup_sql));

/// Two users and the tables of the tests. A test that inserts rows has tables of its own
/// (`notes`/`notes_switch`, `open`/`open_pause`/`open_latency`), so no test sees another's
/// changes.
fn setup_sql() -> String {
    format!(
        "insert into auth.users (id, aud, role, email) values
           ('{ALICE}', 'authenticated', 'authenticated', 'pg-alice@example.com'),
           ('{BOB}', 'authenticated', 'authenticated', 'pg-bob@example.com');
         create table public.notes (id bigserial primary key, owner uuid not null, body text, n int,
                                    meta jsonb, created_at timestamptz not null default now());
         alter table public.notes enable row level security;
         create policy own on public.notes for select to authenticated using (owner = auth.uid());
         create table public.notes_switch (id bigserial primary key, owner uuid not null, body text);
         alter table public.notes_switch enable row level security;
         create policy own on public.notes_switch for select to authenticated using (owner = auth.uid());
         create table public.open (id int primary key, v text, at date);
         create table public.open_pause (id int primary key, v text);
         create table public.open_latency (id int primary key, v text);
         create table public.hidden (id int primary key);
         create table public.nopk (v text);
         grant select on public.open, public.open_pause, public.open_latency, public.nopk to anon;
         alter publication supabase_realtime add table public.notes, public.notes_switch, public.open,
           public.open_pause, public.open_latency, public.nopk;"
    )
}

async fn user_socket(c: &Ctx, sub: &str) -> (Ws, String) {
    let token = Minter::new(&c.jwt_secret).user(sub, None, 600);
    (connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap(), token)
}

async fn subscribed(ws: &mut Ws, topic: &str) -> Value {
    let sys = payload(&ws.event(topic, "system").await);
    assert_eq!(sys["extension"], "postgres_changes", "{sys}");
    sys
}

async fn join_changes(ws: &mut Ws, topic: &str, bindings: Value, token: Option<&str>) -> Vec<i64> {
    let (_, status, resp) = ws.join(topic, join_payload(json!({ "postgres_changes": bindings }), token)).await;
    assert_eq!(status, "ok", "{resp}");
    let sys = subscribed(ws, topic).await;
    assert_eq!(
        (sys["status"].as_str(), sys["message"].as_str()),
        (Some("ok"), Some("Subscribed to PostgreSQL")),
        "{sys}"
    );
    resp["postgres_changes"].as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect()
}

async fn change(ws: &mut Ws, topic: &str) -> Value {
    payload(&ws.event(topic, "postgres_changes").await)
}

/// The next frame is a change on `topic` (nothing else arrived first).
async fn next_change(ws: &mut Ws, topic: &str) -> Value {
    payload(&ws.next_event(topic, "postgres_changes").await)
}

#[tokio::test]
async fn join_reply_and_subscribed() {
    let c = CHANGES.shared().await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let bindings = json!([
        { "event": "INSERT", "schema": "public", "table": "open", "filter": "id=eq.1" },
        { "event": "*", "schema": "public", "table": "open" },
        null,
    ]);
    let (jr, status, resp) =
        ws.join("realtime:pg-reply", join_payload(json!({ "postgres_changes": bindings }), None)).await;
    assert_eq!(status, "ok");
    let pc = resp["postgres_changes"].as_array().unwrap();
    assert_eq!(pc.len(), 2);
    assert_eq!(pc[0]["filter"], "id=eq.1");
    assert_eq!(pc[1]["event"], "*");
    assert!(pc[0]["id"].is_i64() && pc[0]["id"] != pc[1]["id"]);
    let sys = ws.event("realtime:pg-reply", "system").await;
    assert_eq!(sys.join_ref.as_deref(), Some(jr.as_str()));
    assert_eq!(
        payload(&sys),
        json!({ "extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL", "channel": "pg-reply" })
    );
}

#[tokio::test]
async fn subscription_errors() {
    let c = CHANGES.shared().await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let cases = [
        (json!({ "event": "*", "schema": "public", "table": "hidden" }),
         "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: *, schema: public, table: hidden, filters: [], select: nil]"),
        (json!({ "event": "*", "schema": "public", "table": "missing" }),
         "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: *, schema: public, table: missing, filters: [], select: nil]"),
        (json!({ "event": "*", "table": "open", "filter": "id=like.1" }),
         "Error parsing `filter` params: [\"id\", \"like\", \"1\"]"),
        (json!({ "event": "*", "schema": "public", "table": "open", "filter": "nope=eq.1" }),
         "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [event: *, schema: public, table: open, filters: [{\"nope\", \"eq\", \"1\"}], select: nil]. Exception: ERROR 22023 (invalid_parameter_value) invalid column for filter nope"),
        (json!({ "event": "*", "schema": "public", "table": "open", "filter": "id=eq.abc" }),
         "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [event: *, schema: public, table: open, filters: [{\"id\", \"eq\", \"abc\"}], select: nil]. Exception: ERROR 22P02 (invalid_text_representation) invalid input syntax for type integer: \"abc\""),
        (json!({ "event": "*" }),
         "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{\"event\" => \"*\"}"),
    ];
    for (i, (binding, msg)) in cases.into_iter().enumerate() {
        let topic = format!("realtime:pg-err-{i}");
        let (jr, status, _) = ws.join(&topic, join_payload(json!({ "postgres_changes": [binding] }), None)).await;
        assert_eq!(status, "ok");
        let sys = subscribed(&mut ws, &topic).await;
        assert_eq!(
            sys,
            json!({ "extension": "postgres_changes", "status": "error", "message": msg, "channel": &topic[9..] })
        );
        // The channel stays joined.
        let r = ws.push(Some(&jr), &topic, "presence", json!({ "type": "presence", "event": "untrack" })).await;
        assert_eq!(ws.reply(&r).await.0, "ok");
    }
}

#[tokio::test]
async fn rls_per_subscriber() {
    let c = CHANGES.shared().await;
    let (mut a, at) = user_socket(&c, ALICE).await;
    let (mut b, bt) = user_socket(&c, BOB).await;
    let topic = "realtime:pg-notes";
    let binding = json!([{ "event": "*", "schema": "public", "table": "notes" }]);
    let ids_a = join_changes(&mut a, topic, binding.clone(), Some(&at)).await;
    let ids_b = join_changes(&mut b, topic, binding, Some(&bt)).await;
    assert_eq!(ids_a, ids_b);
    c.db.execute(
        "insert into public.notes (owner, body, n, meta) values ($1::text::uuid, 'hello', 7, '{\"k\":[1]}')",
        &[&ALICE],
    )
    .await
    .unwrap();
    let ev = change(&mut a, topic).await;
    assert_eq!(ev["ids"], json!(ids_a));
    let d = &ev["data"];
    assert_eq!(
        (d["schema"].as_str(), d["table"].as_str(), d["type"].as_str()),
        (Some("public"), Some("notes"), Some("INSERT"))
    );
    assert_eq!(d["record"]["body"], "hello");
    assert_eq!(d["record"]["n"], 7);
    assert_eq!(d["record"]["owner"], ALICE);
    assert_eq!(d["record"]["meta"], json!({ "k": [1] }));
    assert!(d["record"]["created_at"].as_str().unwrap().contains('T'), "{d}");
    assert_eq!(d["errors"], Value::Null);
    assert!(d.get("old_record").is_none());
    let ts = d["commit_timestamp"].as_str().unwrap();
    assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.', "{ts}");
    let cols: Vec<(String, String)> = d["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c["type"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(cols[0], ("id".to_owned(), "int8".to_owned()));
    assert!(
        cols.contains(&("owner".to_owned(), "uuid".to_owned()))
            && cols.contains(&("meta".to_owned(), "jsonb".to_owned()))
    );
    let id = d["record"]["id"].as_i64().unwrap();
    // Bob's row reaches bob only.
    c.db.execute("insert into public.notes (owner, body) values ($1::text::uuid, 'bob''s')", &[&BOB]).await.unwrap();
    let ev = change(&mut b, topic).await;
    assert_eq!(ev["data"]["record"]["body"], "bob's");
    // Update: old_record has the primary key.
    c.db.execute("update public.notes set body = 'edited' where id = $1", &[&id]).await.unwrap();
    let ev = change(&mut a, topic).await;
    assert_eq!(ev["data"]["type"], "UPDATE");
    assert_eq!(ev["data"]["record"]["body"], "edited");
    assert_eq!(ev["data"]["old_record"], json!({ "id": id }));
    // Delete bypasses RLS: both see it, with the primary key only.
    c.db.execute("delete from public.notes where id = $1", &[&id]).await.unwrap();
    for ws in [&mut a, &mut b] {
        let ev = change(ws, topic).await;
        assert_eq!(ev["data"]["type"], "DELETE");
        assert_eq!(ev["data"]["old_record"], json!({ "id": id }));
        assert!(ev["data"].get("record").is_none());
    }
    // Nothing else leaked to either side: the change feed delivers in commit order, so a
    // later change each may see is the next frame each gets ('x' for a, 'y' for b).
    // anon sees no notes at all (no SELECT privilege or policy): only the DELETE.
    let mut anon = connect(c.server.addr(), &c.anon, Vsn::V1).await.unwrap();
    join_changes(&mut anon, topic, json!([{ "event": "*", "schema": "public", "table": "notes" }]), None).await;
    let x: i64 =
        c.db.query_one("insert into public.notes (owner, body) values ($1::text::uuid, 'x') returning id", &[&ALICE])
            .await
            .unwrap()
            .get(0);
    assert_eq!(next_change(&mut a, topic).await["data"]["record"]["body"], "x");
    c.db.execute("insert into public.notes (owner, body) values ($1::text::uuid, 'y')", &[&BOB]).await.unwrap();
    assert_eq!(next_change(&mut b, topic).await["data"]["record"]["body"], "y");
    // anon got neither insert: the DELETE of 'x', committed after them, is its next frame.
    c.db.execute("delete from public.notes where id = $1", &[&x]).await.unwrap();
    let ev = next_change(&mut anon, topic).await;
    assert_eq!((ev["data"]["type"].as_str(), &ev["data"]["old_record"]), (Some("DELETE"), &json!({ "id": x })));
}

#[tokio::test]
async fn filters_and_events() {
    let c = CHANGES.shared().await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V1).await.unwrap();
    let topic = "realtime:pg-open";
    let ids = join_changes(
        &mut ws,
        topic,
        json!([
            { "event": "INSERT", "schema": "public", "table": "open", "filter": "id=eq.1" },
            { "event": "insert", "table": "open", "filter": "id=in.(2,3)" },
            { "event": "UPDATE", "schema": "public", "table": "open", "filter": "v=neq.skip" },
            { "event": "DELETE", "schema": "public", "table": "open", "filter": "id=gte.3" },
            { "event": "INSERT", "schema": "public", "table": "open", "filter": "at=lt.2000-01-01" },
        ]),
        None,
    )
    .await;
    c.db.batch_execute("insert into public.open (id, v) values (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')").await.unwrap();
    for want in [1, 2, 3] {
        let ev = change(&mut ws, topic).await;
        assert_eq!(ev["data"]["record"]["id"], want);
        let expect_ids = if want == 1 { vec![ids[0]] } else { vec![ids[1]] };
        assert_eq!(ev["ids"], json!(expect_ids));
    }
    c.db.batch_execute("update public.open set v = 'skip' where id = 1; update public.open set v = 'x' where id = 2")
        .await
        .unwrap();
    let ev = change(&mut ws, topic).await;
    assert_eq!((ev["data"]["type"].as_str(), ev["data"]["record"]["id"].as_i64()), (Some("UPDATE"), Some(2)));
    assert_eq!(ev["ids"], json!([ids[2]]));
    c.db.batch_execute("delete from public.open where id in (2, 3)").await.unwrap();
    let ev = change(&mut ws, topic).await;
    // The table has no RLS: the old record is the replica identity (the key).
    assert_eq!((ev["data"]["type"].as_str(), ev["data"]["old_record"].clone()), (Some("DELETE"), json!({ "id": 3 })));
    // Dates are compared by PostgreSQL.
    c.db.batch_execute("insert into public.open (id, at) values (10, '1999-12-31'), (11, '2001-01-01')").await.unwrap();
    let ev = change(&mut ws, topic).await;
    assert_eq!(ev["data"]["record"], json!({ "id": 10, "v": null, "at": "1999-12-31" }));
    assert_eq!(ev["ids"], json!([ids[4]]));
    c.db.batch_execute("delete from public.open").await.unwrap();
    // Nothing for the insert of 11: the changes committed after it come next, in order.
    let ev = next_change(&mut ws, topic).await; // id 4 (gte.3)
    assert_eq!(ev["data"]["type"], "DELETE");
    let _ = next_change(&mut ws, topic).await; // id 10
    let _ = next_change(&mut ws, topic).await; // id 11
                                               // Nothing for the delete of 1 (not gte.3): a later matching insert is the next frame.
    c.db.batch_execute("insert into public.open (id, v) values (1, 'again')").await.unwrap();
    let ev = next_change(&mut ws, topic).await;
    assert_eq!((ev["data"]["type"].as_str(), ev["data"]["record"]["id"].as_i64()), (Some("INSERT"), Some(1)));
}

#[tokio::test]
async fn access_token_resubscribes() {
    let c = CHANGES.shared().await;
    let m = Minter::new(&c.jwt_secret);
    let (mut ws, at) = user_socket(&c, ALICE).await;
    let topic = "realtime:pg-switch";
    join_changes(
        &mut ws,
        topic,
        json!([{ "event": "INSERT", "schema": "public", "table": "notes_switch" }]),
        Some(&at),
    )
    .await;
    let jr = ws.push(None, topic, "access_token", json!({ "access_token": m.user(BOB, None, 600) })).await;
    let _ = jr;
    let sys = subscribed(&mut ws, topic).await;
    assert_eq!(sys["message"], "Subscribed to PostgreSQL");
    c.db.execute("insert into public.notes_switch (owner, body) values ($1::text::uuid, 'for alice')", &[&ALICE])
        .await
        .unwrap();
    c.db.execute("insert into public.notes_switch (owner, body) values ($1::text::uuid, 'for bob')", &[&BOB])
        .await
        .unwrap();
    let ev = change(&mut ws, topic).await;
    assert_eq!(ev["data"]["record"]["body"], "for bob");
    // And not 'for alice' afterwards: a later row for bob is the next frame.
    c.db.execute("insert into public.notes_switch (owner, body) values ($1::text::uuid, 'bob again')", &[&BOB])
        .await
        .unwrap();
    assert_eq!(next_change(&mut ws, topic).await["data"]["record"]["body"], "bob again");
}

#[tokio::test]
async fn no_primary_key() {
    let c = CHANGES.shared().await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let topic = "realtime:pg-nopk";
    join_changes(&mut ws, topic, json!([{ "event": "*", "schema": "public", "table": "nopk" }]), None).await;
    c.db.batch_execute("insert into public.nopk values ('v')").await.unwrap();
    let ev = change(&mut ws, topic).await;
    assert_eq!(ev["data"]["errors"], json!(["Error 400: Bad Request, no primary key"]));
    assert_eq!(ev["data"]["record"], json!({}));
}

#[tokio::test]
async fn database_broadcasts() {
    let c = CHANGES.shared().await;
    let mut v2 = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let mut v1 = connect(c.server.addr(), &c.anon, Vsn::V1).await.unwrap();
    v2.join_ok("realtime:dbb", join_payload(json!({}), None)).await;
    v1.join_ok("realtime:dbb", join_payload(json!({}), None)).await;
    let row =
        c.db.query_one(
            "insert into realtime.messages (topic, extension, event, payload, private)
             values ('dbb', 'broadcast', 'from-db', '{\"x\":1}', false) returning id::text",
            &[],
        )
        .await
        .unwrap();
    let id: String = row.get(0);
    let f = v2.event("realtime:dbb", "broadcast").await;
    let Payload::UserBroadcast(ub) = &f.payload else { panic!("kind 4 expected") };
    assert_eq!(ub.event, "from-db");
    assert_eq!(serde_json::from_str::<Value>(&ub.metadata).unwrap(), json!({ "id": id }));
    let p = payload(&v1.event("realtime:dbb", "broadcast").await);
    assert_eq!(
        (p["event"].as_str(), p["payload"].clone(), p["meta"]["id"].as_str()),
        (Some("from-db"), json!({ "x": 1 }), Some(id.as_str()))
    );
}

#[tokio::test]
async fn realtime_send_and_broadcast_changes() {
    let c = CHANGES.shared().await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V1).await.unwrap();
    ws.join_ok("realtime:dbsend", join_payload(json!({}), None)).await;
    // realtime.send(payload, event, topic, private): stored, and delivered with its id.
    c.db.batch_execute("select realtime.send('{\"n\": 1}'::jsonb, 'sent', 'dbsend', false)").await.unwrap();
    let p = payload(&ws.event("realtime:dbsend", "broadcast").await);
    assert_eq!((p["event"].as_str(), p["payload"].clone()), (Some("sent"), json!({ "n": 1 })));
    let id = p["meta"]["id"].as_str().expect("meta.id").to_owned();
    let stored: bool = c
        .db
        .query_one("select exists (select 1 from realtime.messages where id::text = $1 and event = 'sent')", &[&id])
        .await
        .unwrap()
        .get(0);
    assert!(stored);
    // A trigger with realtime.broadcast_changes (Supabase's recipe; a private topic, so the
    // public channel above gets nothing and a private subscriber would).
    c.db.batch_execute(
        "create table if not exists public.bc_notes (id int primary key, body text);
         create or replace function public.bc_notes_changes() returns trigger security definer language plpgsql as $$
         begin
           perform realtime.broadcast_changes('dbsend', tg_op, tg_op, tg_table_name, tg_table_schema, new, old);
           return null;
         end $$;
         drop trigger if exists bc_notes_changes on public.bc_notes;
         create trigger bc_notes_changes after insert or update or delete on public.bc_notes
           for each row execute function public.bc_notes_changes();
         insert into public.bc_notes values (1, 'hello');",
    )
    .await
    .unwrap();
    let row =
        c.db.query_one(
            "select event, private, payload::text from realtime.messages where topic = 'dbsend' and event = 'INSERT'",
            &[],
        )
        .await
        .unwrap();
    let (event, private, body): (String, bool, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((event.as_str(), private), ("INSERT", true));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "old_record": null, "record": { "id": 1, "body": "hello" }, "operation": "INSERT", "table": "bc_notes", "schema": "public" })
    );
}

#[tokio::test]
async fn pause_and_resume() {
    // Exclusive: the pause holds the feed of the whole server.
    let c = CHANGES.exclusive().await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let topic = "realtime:pg-pause";
    join_changes(&mut ws, topic, json!([{ "event": "INSERT", "schema": "public", "table": "open_pause" }]), None).await;
    let r = c.service("POST", "/_dev/faults").json(json!({ "realtime": { "pauseChanges": true } })).send().await;
    assert_eq!(r.status, 200);
    // From the first paused tick on, the feed reads nothing (its ticks run one after another).
    paused_tick(&c).await;
    let before = c.realtime_stats().await;
    c.db.batch_execute("insert into public.open_pause (id) values (500)").await.unwrap();
    // Decoding sees flushed WAL only: once the insert is flushed, a tick that read the slot
    // would get it. The feed passed over it: a paused tick came after the flush, and the
    // server's counters say no tick read the slot and no change was delivered meanwhile.
    let lsn: String = c.db.query_one("select pg_current_wal_insert_lsn()::text", &[]).await.unwrap().get(0);
    wait_for("the insert to be flushed", Duration::from_secs(10), || async {
        let r = c.db.query_one("select pg_current_wal_flush_lsn() >= $1::text::pg_lsn", &[&lsn]).await.unwrap();
        r.get::<_, bool>(0).then_some(())
    })
    .await;
    paused_tick(&c).await;
    let after = c.realtime_stats().await;
    assert_eq!((&after["feedPolls"], &after["changesDelivered"]), (&before["feedPolls"], &before["changesDelivered"]));
    c.service("POST", "/_dev/faults").json(json!({ "realtime": { "pauseChanges": false } })).send().await;
    assert_eq!(next_change(&mut ws, topic).await["data"]["record"]["id"], 500);
}

/// Waits for a tick of the change feed that the `pauseChanges` fault made skip the slot.
async fn paused_tick(c: &Ctx) {
    let paused = c.realtime_stats().await["feedPollsPaused"].as_u64().unwrap();
    wait_for("a paused tick of the change feed", Duration::from_secs(10), || async {
        (c.realtime_stats().await["feedPollsPaused"].as_u64().unwrap() > paused).then_some(())
    })
    .await;
}

#[tokio::test]
async fn insert_to_event_latency() {
    // Exclusive: the latency is that of an idle server.
    let c = CHANGES.exclusive().await;
    let mut ws = connect(c.server.addr(), &c.anon, Vsn::V2).await.unwrap();
    let topic = "realtime:pg-latency";
    join_changes(&mut ws, topic, json!([{ "event": "INSERT", "schema": "public", "table": "open_latency" }]), None)
        .await;
    let mut ms = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        c.db.execute("insert into public.open_latency (id, v) values ($1, 'lat')", &[&(1000 + i)]).await.unwrap();
        let ev = change(&mut ws, topic).await;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(ev["data"]["record"]["id"], 1000 + i);
        // Spread the inserts over the poll interval (the jitter is the point: a measurement,
        // not a wait for anything).
        tokio::time::sleep(Duration::from_millis((i % 7) as u64 * 9)).await;
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p50 = ms[ms.len() / 2];
    let p99 = ms[(ms.len() * 99).div_ceil(100) - 1];
    eprintln!(
        "insert→event latency over {} inserts: p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
        ms.len(),
        ms[ms.len() - 1]
    );
    assert!(p99 < 250.0, "p99 {p99:.1} ms");
}
