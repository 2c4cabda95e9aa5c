//! Unit tests of the model GoTrue.
use super::*;
use authwire_wire::gotrue::{parse_error, parse_token_response};
use std::format;
use std::string::ToString;
use std::vec;

const T0: u64 = 1_800_000_000_000;

fn at(s: u64) -> UnixTime {
    UnixTime::from_millis(T0 + s * 1000)
}

fn request(key: &str, method: &'static str, path: &str, bearer: Option<&str>, body: Option<&str>) -> HttpRequest {
    HttpRequest {
        method,
        url: format!("http://127.0.0.1:54321/auth/v1{path}"),
        headers: vec![
            ("apikey".into(), key.into()),
            ("Authorization".into(), format!("Bearer {}", bearer.unwrap_or(key))),
            ("X-Supabase-Api-Version".into(), "2024-01-01".into()),
        ],
        body: body.map(String::from),
    }
}

struct Fx {
    m: ModelGoTrue,
}

#[derive(Debug)]
struct Tok {
    at: String,
    rt: String,
}

impl Fx {
    fn new() -> Self {
        Fx { m: ModelGoTrue::new(GoTrueConfig { token_ttl_s: 60, ..GoTrueConfig::default() }, 7) }
    }
    fn call(
        &mut self,
        method: &'static str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
        t: UnixTime,
    ) -> (u16, String) {
        let key = self.m.anon_key().to_string();
        self.m.handle(&request(&key, method, path, bearer, body), t)
    }
    fn ok_tokens(&mut self, path: &str, body: &str, t: UnixTime) -> Tok {
        let (s, b) = self.call("POST", path, None, Some(body), t);
        assert_eq!(s, 200, "{b}");
        let r = parse_token_response(&b).unwrap();
        Tok { at: r.access_token, rt: r.refresh_token }
    }
    fn sign_up(&mut self, email: &str, t: UnixTime) -> Tok {
        self.ok_tokens("/signup", &format!(r#"{{"email":"{email}","password":"secret1"}}"#), t)
    }
    fn sign_in(&mut self, email: &str, t: UnixTime) -> Tok {
        self.ok_tokens("/token?grant_type=password", &format!(r#"{{"email":"{email}","password":"secret1"}}"#), t)
    }
    fn refresh(&mut self, rt: &str, t: UnixTime) -> (u16, String) {
        self.call("POST", "/token?grant_type=refresh_token", None, Some(&format!(r#"{{"refresh_token":"{rt}"}}"#)), t)
    }
    fn refreshed(&mut self, rt: &str, t: UnixTime) -> Tok {
        let (s, b) = self.refresh(rt, t);
        assert_eq!(s, 200, "{b}");
        let r = parse_token_response(&b).unwrap();
        Tok { at: r.access_token, rt: r.refresh_token }
    }
    fn user(&mut self, at_: &str, t: UnixTime) -> (u16, String) {
        self.call("GET", "/user", Some(at_), None, t)
    }
}

fn code(body: &str) -> String {
    parse_error(body).code.unwrap_or_default()
}

#[test]
fn sign_up_sign_in_and_user() {
    let mut f = Fx::new();
    let t = f.sign_up("Ann@Example.com", at(0));
    let claims = jwt::decode(&t.at).unwrap();
    assert_eq!(claims.role.as_deref(), Some("authenticated"));
    assert_eq!(claims.exp, Some((at(0).as_secs() + 60) as i64));
    assert!(!claims.is_anonymous);
    assert!(claims.raw.contains(r#""email":"ann@example.com""#), "{}", claims.raw);
    assert_eq!(t.rt.len(), 12);
    let (s, b) = f.user(&t.at, at(1));
    assert_eq!(s, 200, "{b}");
    assert_eq!(json::field(&b, "email").unwrap(), Some(r#""ann@example.com""#));
    assert_eq!(json::field(&b, "id").unwrap().map(String::from), Some(format!("\"{}\"", claims.sub.unwrap())));
    // The token response carries expires_at from the server clock and the user object.
    let (_, body) = f.call(
        "POST",
        "/token?grant_type=password",
        None,
        Some(r#"{"email":"ann@example.com","password":"secret1"}"#),
        at(5),
    );
    let r = parse_token_response(&body).unwrap();
    assert_eq!((r.expires_in, r.expires_at), (60, Some(at(5).as_secs() as i64 + 60)));
    assert!(body.contains(r#""token_type":"bearer""#));
    assert!(r.user.unwrap().contains(r#""is_anonymous":false"#));
    // Errors.
    let (s, b) = f.call("POST", "/signup", None, Some(r#"{"email":"ann@example.com","password":"secret1"}"#), at(6));
    assert_eq!((s, code(&b).as_str()), (422, "user_already_exists"));
    let (s, b) = f.call("POST", "/signup", None, Some(r#"{"email":"bob@example.com","password":"abc"}"#), at(6));
    assert_eq!((s, code(&b).as_str()), (422, "weak_password"));
    assert_eq!(parse_error(&b).weak_password_reasons, ["length"]);
    let (s, b) = f.call(
        "POST",
        "/token?grant_type=password",
        None,
        Some(r#"{"email":"ann@example.com","password":"nope"}"#),
        at(6),
    );
    assert_eq!(b, r#"{"code":"invalid_credentials","message":"Invalid login credentials"}"#);
    assert_eq!(s, 400);
    // Without the API version header: the legacy shape.
    let key = f.m.anon_key().to_string();
    let mut r = request(&key, "POST", "/token?grant_type=password", None, Some(r#"{"email":"x@y.z","password":"p"}"#));
    r.headers.retain(|(k, _)| k != "X-Supabase-Api-Version");
    assert_eq!(
        f.m.handle(&r, at(7)),
        (400, String::from(r#"{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}"#))
    );
    let (s, b) = f.call("POST", "/token?grant_type=magic", None, Some("{}"), at(7));
    assert_eq!((s, code(&b).as_str()), (400, "invalid_credentials"));
}

#[test]
fn anonymous_sign_in() {
    let mut f = Fx::new();
    let t = f.ok_tokens("/signup", r#"{"data":{"n":1},"gotrue_meta_security":{}}"#, at(0));
    let c = jwt::decode(&t.at).unwrap();
    assert!(c.is_anonymous);
    assert_eq!(c.role.as_deref(), Some("authenticated"));
    let (_, u) = f.user(&t.at, at(1));
    assert!(u.contains(r#""is_anonymous":true"#) && u.contains(r#""user_metadata":{"n":1}"#), "{u}");
    // Converting: email + password make it a permanent user.
    let (s, u) = f.call(
        "PUT",
        "/user",
        Some(&t.at),
        Some(r#"{"email":"anon@x.io","password":"secret1","data":{"m":2}}"#),
        at(2),
    );
    assert_eq!(s, 200, "{u}");
    assert!(u.contains(r#""is_anonymous":false"#) && u.contains(r#""user_metadata":{"n":1,"m":2}"#), "{u}");
    f.m.config.anonymous_enabled = false;
    let (s, b) = f.call("POST", "/signup", None, Some("{}"), at(3));
    assert_eq!((s, code(&b).as_str()), (422, "anonymous_provider_disabled"));
}

#[test]
fn rotation_rules() {
    let mut f = Fx::new();
    let t0 = f.sign_up("a@b.co", at(0));
    let sid = jwt::decode(&t0.at).unwrap().session_id.unwrap();
    // A valid token rotates.
    let t1 = f.refreshed(&t0.rt, at(1));
    assert_ne!(t1.rt, t0.rt);
    assert!(f.m.refresh_tokens[&t0.rt].revoked);
    assert_eq!(f.m.active_refresh_token(&sid).unwrap().token, t1.rt);
    // The parent of the active token gets the active token back, at any time, without a
    // new rotation (and a fresh access token).
    let again = f.refreshed(&t0.rt, at(100));
    assert_eq!(again.rt, t1.rt);
    assert_ne!(again.at, t1.at);
    // Rotate on: t1 → t2. t1 is still the parent of the active token.
    let t2 = f.refreshed(&t1.rt, at(101));
    let t3 = f.refreshed(&t1.rt, at(101));
    assert_eq!(t3.rt, t2.rt, "t1 is still the parent of the active token");
    // t2 → t4; now t1 is revoked and not the parent of the active token: within the reuse
    // interval it gets another child.
    f.refreshed(&t2.rt, at(102));
    let t5 = f.refreshed(&t1.rt, at(105));
    assert_ne!(t5.rt, t2.rt);
    assert_eq!(f.m.refresh_tokens[&t5.rt].parent.as_deref(), Some(t1.rt.as_str()));
    let kinds: Vec<_> = f.m.presentations.iter().map(|p| &p.outcome).collect();
    assert!(
        matches!(
            kinds[..],
            [
                RefreshOutcome::Rotated { .. },
                RefreshOutcome::ParentOfActive { .. },
                RefreshOutcome::Rotated { .. },
                RefreshOutcome::ParentOfActive { .. },
                RefreshOutcome::Rotated { .. },
                RefreshOutcome::ReusedInInterval { .. },
            ]
        ),
        "{kinds:?}"
    );
    // Outside the interval, a revoked non-parent revokes the family and ends the session.
    let (s, b) = f.refresh(&t2.rt, at(150));
    assert_eq!((s, code(&b).as_str()), (400, "refresh_token_already_used"));
    assert_eq!(f.m.presentations.last().unwrap().outcome, RefreshOutcome::FamilyRevoked);
    assert!(f.m.refresh_tokens.values().filter(|t| t.session == sid).all(|t| t.revoked));
    assert_eq!(f.m.active_refresh_token(&sid), None);
    assert_eq!(f.m.sessions[&sid].ended, Some(SessionEnd::FamilyRevoked));
    // The session's access tokens are dead for /user (still unexpired).
    let (s, b) = f.user(&t5.at, at(151));
    assert_eq!((s, code(&b).as_str()), (403, "session_not_found"));
    // Any of its refresh tokens now fails.
    let (s, b) = f.refresh(&t5.rt, at(152));
    assert_eq!((s, code(&b).as_str()), (400, "session_not_found"));
    assert_eq!(f.m.family_revocations(), 1);
    let twice = f.m.presented_twice();
    assert!(twice.contains(&t0.rt.as_str()) && twice.contains(&t1.rt.as_str()) && twice.contains(&t2.rt.as_str()));
    assert!(f.m.presentations.iter().all(|p| p.session.as_deref() == Some(sid.as_str())));
}

#[test]
fn reuse_interval_boundary_and_legacy_family_revocation() {
    let mut f = Fx::new();
    f.m.config.reuse_kills_session = false;
    let t0 = f.sign_up("a@b.co", at(0));
    let t1 = f.refreshed(&t0.rt, at(0));
    let t2 = f.refreshed(&t1.rt, at(1));
    // t0 was revoked at 0 s; the interval is 10 s inclusive.
    let c = f.refreshed(&t0.rt, at(10));
    assert!(matches!(f.m.presentations.last().unwrap().outcome, RefreshOutcome::ReusedInInterval { .. }));
    // t1 (revoked at 1 s) at 11.001 s: outside. Legacy: the family is revoked, the session lives.
    let (s, _) = f.refresh(&t1.rt, UnixTime::from_millis(at(11).as_millis() + 1));
    assert_eq!(s, 400);
    assert!(f.m.refresh_tokens[&t2.rt].revoked && f.m.refresh_tokens[&c.rt].revoked);
    let (s, _) = f.user(&c.at, at(12));
    assert_eq!(s, 200);
}

#[test]
fn refresh_errors() {
    let mut f = Fx::new();
    let (s, b) = f.refresh("nosuchtoken0", at(0));
    assert_eq!((s, code(&b).as_str()), (400, "refresh_token_not_found"));
    let (s, b) = f.refresh("short", at(0));
    assert_eq!((s, code(&b).as_str()), (400, "validation_failed"));
    let (s, b) = f.call("POST", "/token?grant_type=refresh_token", None, Some("{}"), at(0));
    assert_eq!((s, b.as_str()), (400, r#"{"error":"invalid_request","error_description":"refresh_token required"}"#));
    let (s, b) = f.call("POST", "/token?grant_type=refresh_token", None, Some("{nope"), at(0));
    assert_eq!((s, code(&b).as_str()), (400, "bad_json"));
    let t = f.sign_up("a@b.co", at(0));
    let uid = jwt::decode(&t.at).unwrap().sub.unwrap();
    f.m.ban_user(&uid, true);
    let (s, b) = f.refresh(&t.rt, at(1));
    assert_eq!((s, code(&b).as_str()), (400, "user_banned"));
    let (s, b) = f.user(&t.at, at(1));
    assert_eq!((s, code(&b).as_str()), (403, "user_banned"));
    let (s, b) =
        f.call("POST", "/token?grant_type=password", None, Some(r#"{"email":"a@b.co","password":"secret1"}"#), at(1));
    assert_eq!((s, code(&b).as_str()), (400, "user_banned"));
    f.m.ban_user(&uid, false);
    f.m.config.session_timebox_s = Some(30);
    let (s, b) = f.refresh(&t.rt, at(30));
    assert_eq!((s, code(&b).as_str()), (400, "session_expired"));
    f.m.config.session_timebox_s = None;
    f.m.delete_user(&uid);
    let (s, b) = f.refresh(&t.rt, at(31));
    assert_eq!((s, code(&b).as_str()), (400, "refresh_token_not_found"));
    let (s, b) = f.user(&t.at, at(31));
    assert_eq!((s, code(&b).as_str()), (403, "user_not_found"));
    // The email is free again.
    f.sign_up("a@b.co", at(32));
    let outcomes: Vec<_> = f.m.presentations.iter().map(|p| p.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        [
            RefreshOutcome::NotFound,
            RefreshOutcome::Invalid,
            RefreshOutcome::UserBanned,
            RefreshOutcome::SessionExpired,
            RefreshOutcome::NotFound
        ]
    );
}

#[test]
fn access_token_checks() {
    let mut f = Fx::new();
    let t = f.sign_up("a@b.co", at(0));
    let (s, b) = f.user(&t.at, at(60));
    assert_eq!((s, code(&b).as_str()), (403, "bad_jwt"));
    assert!(parse_error(&b).message.ends_with("token has invalid claims: token is expired"), "{b}");
    assert_eq!(f.user(&t.at, UnixTime::from_millis(at(60).as_millis() - 1)).0, 200);
    // A token the server did not sign (same claims, other signature).
    let mut forged = String::from(t.at.rsplit_once('.').unwrap().0);
    forged.push_str(".c2ln");
    let (s, b) = f.user(&forged, at(1));
    assert_eq!((s, code(&b).as_str()), (403, "bad_jwt"));
    assert!(b.contains("signature is invalid"));
    let (s, b) = f.user("potato", at(1));
    assert!(s == 403 && b.contains("token is malformed"), "{b}");
    let key = f.m.anon_key().to_string();
    let (s, b) = f.user(&key, at(1));
    assert_eq!((s, code(&b).as_str()), (403, "bad_jwt"));
    let mut r = request(&key, "GET", "/user", None, None);
    r.headers.retain(|(k, _)| k != "Authorization");
    let (s, b) = f.m.handle(&r, at(1));
    assert_eq!((s, code(&b).as_str()), (401, "no_authorization"));
    // The gateway wants a project key; unknown paths are the gateway's 404.
    r.headers.retain(|(k, _)| k != "apikey");
    assert_eq!(f.m.handle(&r, at(1)).0, 401);
    let mut r = request("sb_publishable_other", "GET", "/user", Some(&t.at), None);
    assert!(f.m.handle(&r, at(1)).1.contains("Invalid API key"));
    r = request("sb_publishable_sim", "GET", "/user", Some(&t.at), None);
    assert_eq!(f.m.handle(&r, at(1)).0, 200);
    r.url = "http://127.0.0.1:54321/rest/v1/x".into();
    assert_eq!(f.m.handle(&r, at(1)).0, 404);
    assert!(f.m.verify_signature(t.at.rsplit_once('.').unwrap().0, t.at.rsplit_once('.').unwrap().1));
    assert!(!f.m.verify_signature(forged.rsplit_once('.').unwrap().0, "c2ln"));
}

#[test]
fn logout_scopes() {
    let mut f = Fx::new();
    let a = f.sign_up("a@b.co", at(0));
    let b = f.sign_in("a@b.co", at(1));
    let c = f.sign_in("a@b.co", at(2));
    let other = f.sign_up("z@b.co", at(2));
    let (s, body) = f.call("POST", "/logout?scope=others", Some(&a.at), None, at(3));
    assert_eq!((s, body.as_str()), (204, ""));
    assert_eq!(f.user(&a.at, at(4)).0, 200);
    for t in [&b, &c] {
        let (s, body) = f.user(&t.at, at(4));
        assert_eq!((s, code(&body).as_str()), (403, "session_not_found"));
        // Signed-out sessions lose their refresh tokens.
        let (s, body) = f.refresh(&t.rt, at(4));
        assert_eq!((s, code(&body).as_str()), (400, "refresh_token_not_found"));
    }
    assert_eq!(f.call("POST", "/logout?scope=local", Some(&a.at), None, at(5)).0, 204);
    assert_eq!(f.user(&a.at, at(6)).0, 403);
    // Logging out with a dead session is refused like any user call.
    let (s, body) = f.call("POST", "/logout", Some(&a.at), None, at(6));
    assert_eq!((s, code(&body).as_str()), (403, "session_not_found"));
    let d = f.sign_in("a@b.co", at(7));
    let e = f.sign_in("a@b.co", at(7));
    let (s, body) = f.call("POST", "/logout?scope=everywhere", Some(&d.at), None, at(8));
    assert_eq!((s, code(&body).as_str()), (400, "validation_failed"));
    assert_eq!(f.call("POST", "/logout", Some(&d.at), None, at(8)).0, 204, "no scope is global");
    assert_eq!(f.user(&e.at, at(9)).0, 403);
    assert_eq!(f.user(&other.at, at(9)).0, 200, "other users are untouched");
}

#[test]
fn pkce_with_the_shared_digest() {
    let mut f = Fx::new();
    let verifier = "0123456789abcdef".repeat(7);
    let code_ = f.m.authorize_code("oauth@x.io", &digest_b64url(&verifier), "s256", at(0));
    let pkce = |c: &str, v: &str| format!(r#"{{"auth_code":"{c}","code_verifier":"{v}"}}"#);
    let (s, b) = f.call("POST", "/token?grant_type=pkce", None, Some(&pkce(&code_, "wrong")), at(1));
    assert_eq!((s, code(&b).as_str()), (400, "bad_code_verifier"));
    let t = f.ok_tokens("/token?grant_type=pkce", &pkce(&code_, &verifier), at(2));
    let (_, u) = f.user(&t.at, at(3));
    assert!(u.contains(r#""email":"oauth@x.io""#) && u.contains(r#""provider":"dev""#), "{u}");
    // A code is single use.
    let (s, b) = f.call("POST", "/token?grant_type=pkce", None, Some(&pkce(&code_, &verifier)), at(3));
    assert_eq!((s, code(&b).as_str()), (404, "flow_state_not_found"));
    // plain, for the same (now existing) user.
    let c2 = f.m.authorize_code("OAuth@x.io", "plain-verifier", "plain", at(4));
    let t2 = f.ok_tokens("/token?grant_type=pkce", &pkce(&c2, "plain-verifier"), at(4));
    assert_eq!(jwt::decode(&t2.at).unwrap().sub, jwt::decode(&t.at).unwrap().sub);
    // Expired flow state.
    let c3 = f.m.authorize_code("oauth@x.io", &digest_b64url("v"), "S256", at(10));
    let (s, b) = f.call("POST", "/token?grant_type=pkce", None, Some(&pkce(&c3, "v")), at(311));
    assert_eq!((s, code(&b).as_str()), (422, "flow_state_expired"));
    let (s, b) = f.call("POST", "/token?grant_type=pkce", None, Some(r#"{"auth_code":""}"#), at(311));
    assert_eq!((s, code(&b).as_str()), (400, "validation_failed"));
}

#[test]
fn otp_verify_and_id_token() {
    let mut f = Fx::new();
    let (s, b) = f.call("POST", "/otp", None, Some(r#"{"email":"m@x.io","create_user":false}"#), at(0));
    assert_eq!((s, code(&b).as_str()), (422, "otp_disabled"));
    assert_eq!(f.call("POST", "/otp", None, Some(r#"{"email":"M@x.io","data":{}}"#), at(0)), (200, "{}".into()));
    let otp = f.m.otp_code("m@x.io").unwrap().to_string();
    assert_eq!(otp.len(), 6);
    let (s, b) = f.call("POST", "/otp", None, Some(r#"{"email":"m@x.io"}"#), at(30));
    assert_eq!((s, code(&b).as_str()), (429, "over_email_send_rate_limit"));
    assert!(b.contains("after 30 seconds"), "{b}");
    let (s, b) = f.call("POST", "/verify", None, Some(r#"{"type":"email","email":"m@x.io","token":"000000"}"#), at(31));
    assert_eq!((s, code(&b).as_str()), (403, "otp_expired"));
    let t = f.ok_tokens("/verify", &format!(r#"{{"type":"email","email":"m@x.io","token":"{otp}"}}"#), at(32));
    assert_eq!(f.user(&t.at, at(33)).0, 200);
    assert!(f.m.otp_code("m@x.io").is_none(), "consumed");
    // A magic link's token_hash.
    f.call("POST", "/otp", None, Some(r#"{"email":"m@x.io"}"#), at(100));
    let hash = f.m.otp_token_hash("m@x.io").unwrap().to_string();
    f.ok_tokens("/verify", &format!(r#"{{"type":"magiclink","token_hash":"{hash}"}}"#), at(101));
    // ID tokens.
    let idt = f.m.mint_id_token("g@x.io");
    let t = f.ok_tokens("/token?grant_type=id_token", &format!(r#"{{"provider":"google","id_token":"{idt}"}}"#), at(0));
    assert!(f.user(&t.at, at(1)).1.contains(r#""provider":"google""#));
    let (s, b) =
        f.call("POST", "/token?grant_type=id_token", None, Some(r#"{"provider":"google","id_token":"x"}"#), at(0));
    assert_eq!((s, parse_error(&b).message.as_str()), (400, "Bad ID token"));
}

#[test]
fn update_user_rules() {
    let mut f = Fx::new();
    let a = f.sign_up("a@b.co", at(0));
    f.sign_up("taken@b.co", at(0));
    let (s, b) = f.call("PUT", "/user", Some(&a.at), Some(r#"{"password":"secret1"}"#), at(1));
    assert_eq!((s, code(&b).as_str()), (422, "same_password"));
    let (s, b) = f.call("PUT", "/user", Some(&a.at), Some(r#"{"email":"taken@b.co"}"#), at(1));
    assert_eq!((s, code(&b).as_str()), (422, "email_exists"));
    let (s, b) = f.call("PUT", "/user", Some(&a.at), Some(r#"{"email":"new@b.co","password":"secret2"}"#), at(2));
    assert_eq!(s, 200, "{b}");
    assert!(b.contains(r#""email":"new@b.co""#) && b.contains(r#""updated_at":"2027-01-15T08:00:02.000000Z""#), "{b}");
    assert_eq!(
        f.call("POST", "/token?grant_type=password", None, Some(r#"{"email":"new@b.co","password":"secret2"}"#), at(3))
            .0,
        200
    );
}

#[test]
fn faults_fail_delay_and_drop() {
    let mut f = Fx::new();
    let t = f.sign_up("a@b.co", at(0));
    let key = f.m.anon_key().to_string();
    let rq = |rt: &str| {
        request(&key, "POST", "/token?grant_type=refresh_token", None, Some(&format!(r#"{{"refresh_token":"{rt}"}}"#)))
    };
    f.m.fail_refreshes(2, 503, &error_body("unexpected_failure", "boom"));
    for i in 0..2 {
        let s = f.m.serve(Some(3), &rq(&t.rt), at(i));
        assert_eq!((s.status, s.dropped), (503, false));
        assert!(!f.m.refresh_tokens[&t.rt].revoked, "nothing rotated");
    }
    assert!(f.m.faults.is_empty());
    assert_eq!(f.m.presentations[0].outcome, RefreshOutcome::Injected { status: 503 });
    assert_eq!(f.m.presentations[0].caller, Some(3));
    assert!(f.m.presented_twice().is_empty(), "injected failures do not count");
    // Other routes are not affected by refresh faults; delays apply after processing.
    f.m.delay_next(RouteMatch::Endpoint("GET", "/user"), 1, 700);
    let s = f.m.serve(None, &request(&key, "GET", "/user", Some(&t.at), None), at(2));
    assert_eq!((s.status, s.delay_ms), (200, 700));
    // A dropped refresh still rotates: the client never learns the new token.
    f.m.drop_next(RouteMatch::Grant("refresh_token"), 1);
    let s = f.m.serve(Some(1), &rq(&t.rt), at(3));
    assert!(s.dropped && s.status == 200);
    assert!(f.m.refresh_tokens[&t.rt].revoked);
    let last = f.m.presentations.last().unwrap();
    assert!(last.dropped && matches!(last.outcome, RefreshOutcome::Rotated { .. }));
    // Retrying with the same token gets the lost child back (parent of active).
    let s = f.m.serve(Some(1), &rq(&t.rt), at(30));
    assert_eq!(s.status, 200);
    assert!(matches!(f.m.presentations.last().unwrap().outcome, RefreshOutcome::ParentOfActive { .. }));
    assert_eq!(f.m.presented_twice(), [t.rt.as_str()]);
}

#[test]
fn the_realtime_judge() {
    let h = ModelGoTrue::new(GoTrueConfig::default(), 1).shared();
    let key = h.borrow().anon_key().to_string();
    let (s, b) = h
        .borrow_mut()
        .handle(&request(&key, "POST", "/signup", None, Some(r#"{"email":"a@b.co","password":"secret1"}"#)), at(0));
    assert_eq!(s, 200);
    let tok = parse_token_response(&b).unwrap().access_token;
    let info = h.judge(&tok).unwrap();
    assert_eq!(info.role, "authenticated");
    assert_eq!(info.exp, at(0).as_secs() + 3600);
    let uid = info.sub.clone().unwrap();
    assert_eq!(h.judge(&key).unwrap().role, "anon");
    assert_eq!(h.judge("sb_publishable_sim").unwrap().role, "anon");
    assert_eq!(h.judge("potato").unwrap_err(), "The token provided is not a valid JWT");
    let forged = format!("{}.c2ln", tok.rsplit_once('.').unwrap().0);
    assert_eq!(h.judge(&forged).unwrap_err(), "Failed to validate JWT signature");
    h.borrow_mut().judge_policy.gateway = false;
    assert!(h.judge("sb_publishable_sim").is_err());
    // Private topics.
    assert!(h.can_read_private(&info, "room"));
    assert!(!h.can_read_private(&h.judge(&key).unwrap(), "room"));
    h.borrow_mut().judge_policy.private =
        PrivatePolicy::Members([("room".to_string(), vec![uid.clone()])].into_iter().collect());
    assert!(h.can_read_private(&info, "room") && !h.can_read_private(&info, "other"));
    // Strict sessions follow GoTrue's state.
    h.borrow_mut().ban_user(&uid, true);
    assert_eq!(h.judge(&tok).unwrap_err(), "User is banned");
    h.borrow_mut().ban_user(&uid, false);
    let sid = jwt::decode(&tok).unwrap().session_id.unwrap();
    h.borrow_mut().end_session(&sid, SessionEnd::Admin);
    assert_eq!(h.judge(&tok).unwrap_err(), "Session from session_id claim in JWT does not exist");
    h.borrow_mut().judge_policy.strict_sessions = false;
    assert!(h.judge(&tok).is_ok(), "hosted Supabase: signature and exp only");
    h.borrow_mut().judge_policy.strict_sessions = true;
    h.borrow_mut().delete_user(&uid);
    assert_eq!(h.judge(&tok).unwrap_err(), "User from sub claim in JWT does not exist");
}

#[test]
fn timestamps_and_ids() {
    assert_eq!(rfc3339(UnixTime::from_millis(0)), "1970-01-01T00:00:00.000000Z");
    assert_eq!(rfc3339(UnixTime::from_millis(1_800_000_000_123)), "2027-01-15T08:00:00.123000Z");
    assert_eq!(rfc3339(UnixTime::from_millis(951_782_400_500)), "2000-02-29T00:00:00.500000Z");
    assert_eq!(rfc3339(UnixTime::from_secs(4_102_444_799)), "2099-12-31T23:59:59.000000Z");
    let mut m = ModelGoTrue::new(GoTrueConfig::default(), 3);
    let id = m.create_user("u@x.io", "secret1", at(0));
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    assert_eq!(decode_component("a%2Fb+c%zz"), "a/b c%zz");
    assert_eq!(split_url("http://h:1/auth/v1/token?grant_type=pkce"), ("/auth/v1/token", "grant_type=pkce"));
    let s = m.issue_session(&id, at(0)).unwrap();
    assert!(parse_token_response(&s).is_ok());
    assert!(m.issue_session("nobody", at(0)).is_none());
}
