//! Today's known failures of supabase-js, replayed against authwire in the simulated world
//! (whole clients in browser tabs, the model GoTrue and the model Realtime server, one
//! virtual clock). Each test is deterministic, checks the outcome the issue got wrong, and
//! also asserts that the property checkers saw no violation of G1–G8.

use authwire_core::io::{AppEvent, SubscribeStatus};
use authwire_sim::rt_server::Received;
use authwire_sim::schedule::{RunOptions, Scope, Sim, SimConfig, Step};
use authwire_wire::frame::Payload;
use authwire_wire::jwt;
use authwire_wire::realtime::parse_join;

use authwire_core::config::ApikeyMode;
use authwire_wire::frame::Vsn;

fn config(tabs: usize) -> SimConfig {
    SimConfig {
        tabs,
        ttl_s: 30,
        latency_ms: 20,
        apikey_mode: ApikeyMode::Project,
        vsn: Vsn::V2,
        key_is_jwt: false,
        gateway: true,
        strict_sessions: true,
        reuse_interval_ms: 10_000,
        skew_ms: 0,
        stored: None,
    }
}

fn sim(seed: u64, cfg: SimConfig) -> Sim {
    Sim::with_config(seed, cfg, RunOptions { trace: false, keep: 10, record_frames: true })
}

/// The `access_token` (or legacy `user_token`) of a received `phx_join`, if it is one.
fn join_token(r: &Received) -> Option<Option<String>> {
    if r.frame.event != "phx_join" {
        return None;
    }
    let Payload::Json(p) = &r.frame.payload else { return None };
    let j = parse_join(p).ok()?;
    Some(j.user_token.or(j.access_token))
}

fn exp(token: &str) -> i64 {
    jwt::decode(token).ok().and_then(|c| c.exp).unwrap_or(0)
}

fn sub(token: &str) -> Option<String> {
    jwt::decode(token).ok().and_then(|c| c.sub)
}

/// Runs the quiet period and liveness check, then asserts that no guarantee was violated.
fn finish_clean(mut s: Sim) -> Sim {
    s.finish();
    {
        let c = s.checks.borrow();
        assert_eq!(c.total() + c.stalls, 0, "{:?}", c.messages);
    }
    s
}

fn statuses(s: &Sim, tab: usize) -> Vec<(u32, SubscribeStatus, Option<String>)> {
    s.world
        .events
        .iter()
        .filter(|(_, c, _)| *c == tab)
        .filter_map(|(_, _, e)| match e {
            AppEvent::ChannelStatus { channel, status, error } => {
                Some((channel.0, *status, error.as_ref().map(|e| String::from(e.code()))))
            }
            _ => None,
        })
        .collect()
}

/// supabase-js#2655 (and #2136, #1730): a page loads with a stored session that needs a
/// refresh and subscribes at once. supabase-js builds the join in the same tick, before
/// `accessToken()` settles, so it leaves with the project key (anon). authwire's join waits
/// for the refresh and carries the refreshed user token; the project key never joins.
#[test]
fn supabase_js_2655_join_before_access_token_settles() {
    for private in [false, true] {
        let mut cfg = config(1);
        // Issued 25 s ago with a 30 s lifetime: inside the refresh margin at load.
        cfg.stored = Some((0, 25));
        let mut s = sim(2655, cfg);
        let stored_token = s.world.services.browsers[0].storage.values().next().cloned().unwrap_or_default();
        // Subscribe in the same tick as start (the storage read has not even answered).
        s.step(Step::Subscribe { tab: 0, chan: 0, private });
        s.step(Step::Wait { ms: 2_000 });
        let joins: Vec<(u64, Option<String>)> =
            s.world.server.received.iter().filter_map(|r| join_token(r).map(|t| (r.at.as_millis(), t))).collect();
        assert!(!joins.is_empty(), "the channel joined");
        let first_refresh = s.world.services.gotrue.borrow().presentations.first().map(|p| p.at.as_millis());
        let first_refresh = first_refresh.expect("the stored session was refreshed");
        let user = s.world.services.gotrue.borrow().user_by_email("u0@sim.test").map(|u| u.id.clone());
        for (at, token) in &joins {
            let token = token.as_deref().expect("the join carries a token, never none (the connect key)");
            assert!(!token.starts_with("sb_"), "never the project key");
            assert!(!stored_token.contains(token), "never the stored (due) token");
            assert_eq!(sub(token), user, "the user's token");
            assert!(*at > first_refresh, "the join went out after the refresh");
        }
        let ch = s.world.server.conns.values().find_map(|c| c.channels.values().next().cloned());
        assert_eq!(ch.and_then(|c| c.info).and_then(|i| i.sub), user, "the server runs the channel as the user");
        assert!(statuses(&s, 0).iter().any(|(_, st, _)| *st == SubscribeStatus::Subscribed));
        finish_clean(s);
    }
}

/// supabase-js#2613 (root cause of #1732): after the device slept past the token's `exp`,
/// phoenix reconnects on wake without re-auth and the channels rejoin with the expired JWT
/// ("Token has expired", CHANNEL_ERROR). authwire refreshes first: no frame or connect
/// carries the expired token, and the channel is SUBSCRIBED again with a fresh one.
#[test]
fn supabase_js_2613_wake_rejoins_with_a_refreshed_token() {
    for mode in [ApikeyMode::Project, ApikeyMode::Session] {
        let mut cfg = config(1);
        cfg.ttl_s = 20;
        cfg.apikey_mode = mode;
        cfg.key_is_jwt = mode == ApikeyMode::Session;
        let mut s = sim(2613, cfg);
        s.step(Step::SignIn { tab: 0, user: 1 });
        s.step(Step::Wait { ms: 200 });
        s.step(Step::Subscribe { tab: 0, chan: 1, private: true });
        s.step(Step::Wait { ms: 1_000 });
        assert!(statuses(&s, 0).iter().any(|(_, st, _)| *st == SubscribeStatus::Subscribed));
        let before = s.world.server.received.len();
        // Asleep for a minute: timers frozen, the wall clock and the servers move on, the
        // socket dies; then `Wake`.
        s.step(Step::Sleep { secs: 60 });
        let woke = s.world.now.wall.as_millis();
        s.step(Step::Wait { ms: 6_000 });
        let refresh_after_wake = s
            .world
            .services
            .gotrue
            .borrow()
            .presentations
            .iter()
            .map(|p| p.at.as_millis())
            .find(|at| *at >= woke)
            .expect("a refresh after the wake");
        let rejoins: Vec<(u64, String)> = s.world.server.received[before..]
            .iter()
            .filter_map(|r| join_token(r).map(|t| (r.at.as_millis(), t.unwrap_or_default())))
            .collect();
        assert!(!rejoins.is_empty(), "{mode:?}: the channel rejoined");
        for (at, token) in &rejoins {
            assert!(exp(token) * 1000 > *at as i64, "{mode:?}: a rejoin with an expired token");
            assert!(*at > refresh_after_wake, "{mode:?}: the rejoin waited for the refresh");
        }
        let st = statuses(&s, 0);
        assert_eq!(st.last().map(|s| s.1), Some(SubscribeStatus::Subscribed), "{mode:?}: {st:?}");
        finish_clean(s);
    }
}

/// Sign-out with an opaque publishable key (supabase-js: `setAuth()` pushes `sb_publishable_…`
/// as the "token", which Realtime ignores, so the channels keep the user's claims until the
/// token's `exp`). authwire leaves the private channel (CLOSED, `signed_out`) and rejoins
/// the public one without a user token, so the server runs it as anon.
#[test]
fn sign_out_with_an_opaque_publishable_key() {
    let cfg = config(1);
    let mut s = sim(2592, cfg);
    s.step(Step::SignIn { tab: 0, user: 0 });
    s.step(Step::Wait { ms: 200 });
    s.step(Step::Subscribe { tab: 0, chan: 0, private: false });
    s.step(Step::Subscribe { tab: 0, chan: 1, private: true });
    s.step(Step::Wait { ms: 1_000 });
    let user = s.world.services.gotrue.borrow().user_by_email("u0@sim.test").map(|u| u.id.clone());
    let claims = |s: &Sim, topic: &str| {
        s.world
            .server
            .conns
            .values()
            .find_map(|c| c.channels.get(topic).map(|ch| ch.info.as_ref().and_then(|i| i.sub.clone())))
    };
    assert_eq!(claims(&s, "realtime:room0"), Some(user.clone()));
    assert_eq!(claims(&s, "realtime:priv1"), Some(user));
    let before = s.world.server.received.len();
    s.step(Step::SignOut { tab: 0, scope: Scope::Local });
    s.step(Step::Wait { ms: 1_000 });
    assert_eq!(claims(&s, "realtime:priv1"), None, "the private channel left");
    assert_eq!(claims(&s, "realtime:room0"), Some(None), "the public channel runs as anon");
    assert!(
        statuses(&s, 0).iter().any(|(_, st, e)| *st == SubscribeStatus::Closed && e.as_deref() == Some("signed_out")),
        "{:?}",
        statuses(&s, 0)
    );
    for r in &s.world.server.received[before..] {
        if let Payload::Json(p) = &r.frame.payload {
            assert!(!p.contains("sb_publishable"), "no push of the opaque key: {p}");
        }
    }
    finish_clean(s);
}

/// auth-js#213, supabase#8959: several tabs refresh the same session at once and present the
/// same single-use refresh token; outside the reuse interval GoTrue revokes the family and
/// every tab is signed out. With the reuse interval at 0 (any reuse revokes), three tabs
/// whose refresh timers fire at the same instant for a minute — and all three asked to
/// refresh at the same instant — never present a token twice, cause no revocation, and end
/// with the same newest session.
#[test]
fn tabs_refreshing_at_once_never_present_a_token_twice() {
    let mut cfg = config(3);
    cfg.ttl_s = 12;
    cfg.reuse_interval_ms = 0;
    let mut s = sim(213, cfg);
    s.step(Step::SignIn { tab: 0, user: 2 });
    s.step(Step::Subscribe { tab: 1, chan: 0, private: true });
    s.step(Step::Wait { ms: 500 });
    for tab in 0..3 {
        s.step(Step::RefreshNow { tab });
    }
    s.step(Step::Wait { ms: 60_000 });
    {
        let g = s.world.services.gotrue.borrow();
        assert!(g.presentations.len() >= 6, "{} refreshes", g.presentations.len());
        assert!(g.presented_twice().is_empty(), "{:?}", g.presented_twice());
        assert_eq!(g.family_revocations(), 0);
        let sid = s.world.clients[0].client.auth().session().and_then(|s| s.session_id.clone()).expect("signed in");
        let active = g.active_refresh_token(&sid).map(|t| t.token.clone());
        for e in &s.world.clients {
            assert_eq!(e.client.auth().session().map(|s| s.refresh_token.clone()), active, "every tab has the newest");
        }
    }
    finish_clean(s);
}
