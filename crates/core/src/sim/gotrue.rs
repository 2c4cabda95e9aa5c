//! A model GoTrue (Supabase Auth) server: users, sessions, refresh tokens with GoTrue's legacy
//! rotation rules, and the endpoints the SDK calls, with GoTrue's bodies (reference
//! `auth-session.md` §1, §7). It is sans-IO like everything in [`crate::sim`]:
//! [`ModelGoTrue::handle`] takes a request and the server's wall clock and returns status and
//! body; [`ModelGoTrue::serve`] adds the injected faults (fail, delay, drop).
//!
//! Access tokens are JWT-shaped (`b64url(header).b64url(claims).b64url("sim:<n>")`) with
//! GoTrue's claims. The signature is fake and unique per token; the model keeps every token it
//! minted, so a token it did not mint is "badly signed" and an expired one is refused from its
//! `exp`, exactly where GoTrue would refuse it.
//!
//! The Realtime model judges tokens through a [`GoTrueHandle`] (a shared
//! `Rc<RefCell<ModelGoTrue>>`; the simulation is single-threaded), so a session that GoTrue
//! ended is refused by Realtime too when [`JudgePolicy::strict_sessions`] is on, as the
//! devserver does.
//!
//! Rotation (legacy table tokens, `GT/internal/tokens/service.go`), for a presented refresh
//! token:
//! - unknown, or its session was signed out (the rows are deleted by cascade):
//!   400 `refresh_token_not_found`;
//! - user banned: 400 `user_banned`; session ended by reuse: 400 `session_not_found`;
//! - not revoked: revoke it and issue a child;
//! - revoked, and the parent of the session's active token: answer the active token again
//!   (the client lost the previous response), at any time;
//! - revoked less than [`GoTrueConfig::reuse_interval_ms`] ago: issue another child;
//! - otherwise revoke the whole family (every unrevoked token of the session), end the
//!   session when [`GoTrueConfig::reuse_kills_session`] (GoTrue's v2 tokens do; legacy ones
//!   only revoke the family) and answer 400 `refresh_token_already_used`.
//!
//! Every presentation is recorded in [`ModelGoTrue::presentations`] for property checks (G8:
//! a refresh token is never presented twice).

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Ref, RefCell, RefMut};

use authwire_wire::gotrue::API_VERSION;
use authwire_wire::json::{self, ObjectWriter, Value};
use authwire_wire::jwt::{self, b64url_encode};
use authwire_wire::url::decode_component;

use super::digest::digest_b64url;
use super::rt_server::{ClientIdx, TokenInfo, TokenJudge};
use crate::io::HttpRequest;
use crate::rng::Rng;
use crate::time::UnixTime;

/// The `exp` of the project's anon key (2100-01-01): long-lived like Supabase's legacy keys.
const API_KEY_EXP: u64 = 4_102_444_800;
/// `kid` of the (fake) signing key.
const KID: &str = "sim-key";

/// What the model server is configured with.
#[derive(Debug, Clone)]
pub struct GoTrueConfig {
    /// Access-token lifetime in seconds (GoTrue's `JWT.Exp`, 3600 by default; tests use 4–60).
    pub token_ttl_s: u64,
    /// How long after its revocation a refresh token may still be exchanged for another child
    /// (GoTrue's `REFRESH_TOKEN_REUSE_INTERVAL`; hosted Supabase uses 10 s).
    pub reuse_interval_ms: u64,
    /// Reuse outside the interval also ends the session, so its access tokens fail on `/user`
    /// with `session_not_found` (GoTrue's v2 tokens); `false` only revokes the token family
    /// (legacy tokens).
    pub reuse_kills_session: bool,
    /// Anonymous sign-in (`POST /signup` without credentials) is enabled.
    pub anonymous_enabled: bool,
    /// Sessions older than this are refused at refresh with `session_expired`.
    pub session_timebox_s: Option<u64>,
    /// Lifetime of a PKCE flow state (auth code), GoTrue's 5 minutes.
    pub flow_state_ttl_s: u64,
    /// Lifetime of an email OTP.
    pub otp_ttl_s: u64,
    /// Minimum time between two OTP emails to one address (GoTrue's 60 s).
    pub otp_resend_interval_s: u64,
    /// Minimum password length.
    pub min_password_len: usize,
    /// Requests need a project key in `apikey`, as the API gateway demands.
    pub require_apikey: bool,
    /// The `iss` claim.
    pub issuer: String,
}

impl Default for GoTrueConfig {
    fn default() -> Self {
        GoTrueConfig {
            token_ttl_s: 3600,
            reuse_interval_ms: 10_000,
            reuse_kills_session: true,
            anonymous_enabled: true,
            session_timebox_s: None,
            flow_state_ttl_s: 300,
            otp_ttl_s: 3600,
            otp_resend_interval_s: 60,
            min_password_len: 6,
            require_apikey: true,
            issuer: String::from("http://127.0.0.1:54321/auth/v1"),
        }
    }
}

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UUID.
    pub id: String,
    /// Lower-cased email; `None` for anonymous users.
    pub email: Option<String>,
    /// Plain password (it is a model); `None` for passwordless users.
    pub password: Option<String>,
    /// Banned users cannot sign in or refresh, and their tokens are refused.
    pub banned: bool,
    /// Deleted users keep their row here (for inspection) but do not exist for the API.
    pub deleted: bool,
    /// An anonymous user.
    pub is_anonymous: bool,
    /// `app_metadata.provider`.
    pub provider: String,
    /// `user_metadata` (JSON object text).
    pub user_metadata: String,
    /// Creation time.
    pub created_at: UnixTime,
    /// Last update.
    pub updated_at: UnixTime,
    /// Email confirmation time.
    pub confirmed_at: Option<UnixTime>,
    /// Last sign-in.
    pub last_sign_in_at: Option<UnixTime>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// `POST /logout` (any scope). Its refresh tokens are gone (`refresh_token_not_found`).
    Logout,
    /// A refresh token was reused outside the interval ([`GoTrueConfig::reuse_kills_session`]).
    FamilyRevoked,
    /// The user was deleted.
    UserDeleted,
    /// Ended by the test ([`ModelGoTrue::end_session`]).
    Admin,
}

/// A session row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// UUID (the `session_id` claim).
    pub id: String,
    /// The user's id.
    pub user: String,
    /// `Some` once the session is revoked, with why.
    pub ended: Option<SessionEnd>,
    /// Creation time.
    pub created_at: UnixTime,
    /// Last successful refresh.
    pub refreshed_at: Option<UnixTime>,
    /// The `amr` method it was created with.
    pub amr: &'static str,
}

impl Session {
    /// `true` once the session is revoked.
    pub fn revoked(&self) -> bool {
        self.ended.is_some()
    }
}

/// A refresh-token row (legacy 12-character `[a-z0-9]` tokens chained by `parent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The token.
    pub token: String,
    /// Its session.
    pub session: String,
    /// The token it replaced.
    pub parent: Option<String>,
    /// Revoked (rotated away, or by family revocation).
    pub revoked: bool,
    /// When it was revoked.
    pub revoked_at: Option<UnixTime>,
    /// Issue order (the session's active token is its newest unrevoked one).
    pub seq: u64,
}

/// What the model knows about an access token it minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// `sub`.
    pub user: String,
    /// `session_id`.
    pub session: String,
    /// `iat`, Unix seconds.
    pub iat: u64,
    /// `exp`, Unix seconds.
    pub exp: u64,
}

/// What happened to one refresh-token presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// An unrevoked token was rotated into `issued`.
    Rotated {
        /// The child token.
        issued: String,
    },
    /// A revoked token that is the parent of the active one: the active token was returned.
    ParentOfActive {
        /// The active token returned again.
        issued: String,
    },
    /// A revoked token within the reuse interval: another child was issued.
    ReusedInInterval {
        /// The new child.
        issued: String,
    },
    /// Reuse outside the interval: the family was revoked (400 `refresh_token_already_used`).
    FamilyRevoked,
    /// 400 `refresh_token_not_found`.
    NotFound,
    /// 400 `session_not_found`.
    SessionNotFound,
    /// 400 `session_expired`.
    SessionExpired,
    /// 400 `user_banned`.
    UserBanned,
    /// 400 `validation_failed` (malformed token).
    Invalid,
    /// An injected failure answered before the model looked at the token.
    Injected {
        /// The injected status.
        status: u16,
    },
}

impl RefreshOutcome {
    /// The refresh token the response carried, if it succeeded.
    pub fn issued(&self) -> Option<&str> {
        match self {
            RefreshOutcome::Rotated { issued }
            | RefreshOutcome::ParentOfActive { issued }
            | RefreshOutcome::ReusedInInterval { issued } => Some(issued),
            _ => None,
        }
    }
}

/// One `grant_type=refresh_token` request that carried a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// Server time.
    pub at: UnixTime,
    /// The presented token.
    pub token: String,
    /// The tab that sent it, when the caller said ([`ModelGoTrue::handle_as`]).
    pub caller: Option<ClientIdx>,
    /// The token's session, if the token is known.
    pub session: Option<String>,
    /// What the server did.
    pub outcome: RefreshOutcome,
    /// The response was dropped by a fault (the state change happened anyway).
    pub dropped: bool,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMatch {
    /// Every request.
    Any,
    /// `POST /token` with this `grant_type` (`refresh_token`, `password`, …).
    Grant(&'static str),
    /// This method and path (after `/auth/v1`, without the query), e.g. `("GET", "/user")`.
    Endpoint(&'static str, &'static str),
}

impl RouteMatch {
    fn matches(&self, method: &str, path: &str, grant: Option<&str>) -> bool {
        match self {
            RouteMatch::Any => true,
            RouteMatch::Grant(g) => method == "POST" && path == "/token" && grant == Some(*g),
            RouteMatch::Endpoint(m, p) => method == *m && path == *p,
        }
    }
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer this instead, before the model sees the request (no state change).
    Fail {
        /// Status.
        status: u16,
        /// Body.
        body: String,
    },
    /// Hold the response back this many ms (the state change happens on arrival).
    Delay(u64),
    /// Process the request (state changes) but never answer: the client must time out.
    Drop,
}

/// A fault for the next `remaining` matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// Which requests.
    pub route: RouteMatch,
    /// What happens to them.
    pub action: FaultAction,
    /// How many more requests it applies to.
    pub remaining: u32,
}

/// A response with the faults applied ([`ModelGoTrue::serve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// HTTP status.
    pub status: u16,
    /// Body (empty for 204).
    pub body: String,
    /// Extra delay before the response leaves the server.
    pub delay_ms: u64,
    /// No response at all.
    pub dropped: bool,
}

/// Who may read a private Realtime topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PrivatePolicy {
    /// Any `authenticated` token (the usual `to authenticated using (true)` policy).
    #[default]
    Authenticated,
    /// Every token, `anon` included.
    Everyone,
    /// No token.
    Nobody,
    /// Per topic (without `realtime:`), the user ids allowed; other topics are refused.
    Members(BTreeMap<String, Vec<String>>),
}

impl PrivatePolicy {
    /// Whether `info` may read `sub_topic`.
    pub fn allows(&self, info: &TokenInfo, sub_topic: &str) -> bool {
        match self {
            PrivatePolicy::Authenticated => info.role == "authenticated",
            PrivatePolicy::Everyone => true,
            PrivatePolicy::Nobody => false,
            PrivatePolicy::Members(m) => {
                m.get(sub_topic).is_some_and(|ids| info.sub.as_ref().is_some_and(|s| ids.contains(s)))
            }
        }
    }
}

/// How the Realtime server judges tokens through a [`GoTrueHandle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgePolicy {
    /// Refuse tokens whose user is gone or banned or whose session ended (the devserver's
    /// `--strict-sessions`); `false` checks only that the model minted the token (hosted
    /// Supabase: signature and `exp`).
    pub strict_sessions: bool,
    /// The API gateway maps the opaque publishable key to the anon JWT; `false` is a bare
    /// Realtime server, which refuses it as "not a valid JWT".
    pub gateway: bool,
    /// Private-topic reads.
    pub private: PrivatePolicy,
}

impl Default for JudgePolicy {
    fn default() -> Self {
        JudgePolicy { strict_sessions: true, gateway: true, private: PrivatePolicy::Authenticated }
    }
}

#[derive(Debug, Clone)]
struct FlowState {
    user: String,
    challenge: String,
    method: String,
    created_at: UnixTime,
}

#[derive(Debug, Clone)]
struct Otp {
    code: String,
    hash: String,
    issued_at: UnixTime,
}

/// An error as GoTrue (or the gateway in front of it) answers it.
#[derive(Debug, Clone)]
enum ApiErr {
    /// GoTrue's `HTTPError`.
    Http { status: u16, code: &'static str, message: String },
    /// 422 `weak_password`.
    Weak { message: &'static str, reasons: &'static str },
    /// `{error, error_description}`, 400.
    OAuth { error: &'static str, description: &'static str },
    /// A body sent as is (gateway answers).
    Raw { status: u16, body: String },
}

fn err(status: u16, code: &'static str, message: &str) -> ApiErr {
    ApiErr::Http { status, code, message: String::from(message) }
}

impl ApiErr {
    fn render(&self, new_shape: bool) -> (u16, String) {
        match self {
            ApiErr::Http { status, code, message } => {
                let mut w = ObjectWriter::new();
                if new_shape {
                    w.str("code", code).str("message", message);
                } else {
                    w.u64("code", u64::from(*status)).str("error_code", code).str("msg", message);
                }
                (*status, w.finish())
            }
            ApiErr::Weak { message, reasons } => {
                let mut w = ObjectWriter::new();
                if new_shape {
                    w.str("code", "weak_password").str("message", message);
                } else {
                    w.u64("code", 422).str("error_code", "weak_password").str("msg", message);
                }
                let mut r = ObjectWriter::new();
                r.raw("reasons", reasons);
                w.raw("weak_password", &r.finish());
                (422, w.finish())
            }
            ApiErr::OAuth { error, description } => {
                let mut w = ObjectWriter::new();
                w.str("error", error).str("error_description", description);
                (400, w.finish())
            }
            ApiErr::Raw { status, body } => (*status, body.clone()),
        }
    }
}

/// GoTrue's error body for API version 2024-01-01: `{"code":…,"message":…}` (for faults).
pub fn error_body(code: &str, message: &str) -> String {
    let mut w = ObjectWriter::new();
    w.str("code", code).str("message", message);
    w.finish()
}

/// The model server.
#[derive(Debug)]
pub struct ModelGoTrue {
    /// Configuration (may be changed between requests).
    pub config: GoTrueConfig,
    /// How Realtime judges tokens through a [`GoTrueHandle`].
    pub judge_policy: JudgePolicy,
    /// Users by id.
    pub users: BTreeMap<String, User>,
    /// Sessions by id.
    pub sessions: BTreeMap<String, Session>,
    /// Refresh tokens by token.
    pub refresh_tokens: BTreeMap<String, RefreshToken>,
    /// Every access token minted, by token.
    pub access_tokens: BTreeMap<String, AccessToken>,
    /// Every refresh-token presentation, in order.
    pub presentations: Vec<Presentation>,
    /// Pending faults, applied in order.
    pub faults: Vec<FaultRule>,
    flows: BTreeMap<String, FlowState>,
    otps: BTreeMap<String, Otp>,
    id_tokens: BTreeMap<String, String>,
    anon_key: String,
    publishable_key: String,
    rng: Rng,
    seq: u64,
    minted: u64,
    caller: Option<ClientIdx>,
}

/// A parsed request.
struct Req<'a> {
    method: &'a str,
    path: &'a str,
    query: Vec<(String, String)>,
    headers: &'a [(String, String)],
    body: Option<&'a str>,
}

impl Req<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }
    fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// The body as a JSON object (an absent body is `{}`).
    fn json(&self) -> Result<Value, ApiErr> {
        let text = self.body.unwrap_or("").trim();
        if text.is_empty() {
            return Ok(Value::Obj(Vec::new()));
        }
        match json::parse(text) {
            Ok(v @ Value::Obj(_)) => Ok(v),
            Ok(_) => Err(err(400, "bad_json", "Could not parse request body as JSON: not an object")),
            Err(e) => {
                let mut m = String::from("Could not parse request body as JSON: ");
                m.push_str(e.code());
                Err(ApiErr::Http { status: 400, code: "bad_json", message: m })
            }
        }
    }
    /// The Bearer token.
    fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?;
        let prefix = v.get(..7)?;
        prefix.eq_ignore_ascii_case("bearer ").then(|| v[7..].trim()).filter(|t| !t.is_empty())
    }
    /// GoTrue picks the `{code, message}` shape for API version ≥ 2024-01-01.
    fn new_shape(&self) -> bool {
        self.header("x-supabase-api-version").is_some_and(|v| {
            let b = v.as_bytes();
            b.len() == 10
                && b[4] == b'-'
                && b[7] == b'-'
                && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
                && v >= API_VERSION
        })
    }
}

/// `(path, query)` of an absolute URL.
fn split_url(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path_q = rest.find('/').map_or("/", |i| &rest[i..]);
    path_q.split_once('?').unwrap_or((path_q, ""))
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn push_2(out: &mut String, n: u64) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// RFC 3339 with microseconds, as GoTrue renders timestamps: `2027-01-15T08:00:00.123000Z`.
pub fn rfc3339(t: UnixTime) -> String {
    let ms = t.as_millis();
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian, era-based).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = String::with_capacity(27);
    json::write_u64(&mut out, year.max(0) as u64);
    out.push('-');
    push_2(&mut out, month as u64);
    out.push('-');
    push_2(&mut out, day as u64);
    out.push('T');
    push_2(&mut out, rem / 3600);
    out.push(':');
    push_2(&mut out, rem / 60 % 60);
    out.push(':');
    push_2(&mut out, rem % 60);
    out.push('.');
    let frac = ms % 1000;
    out.push(char::from(b'0' + (frac / 100) as u8));
    push_2(&mut out, frac % 100);
    out.push_str("000Z");
    out
}

fn opt_time(w: &mut ObjectWriter, k: &str, t: Option<UnixTime>) {
    match t {
        Some(t) => w.str(k, &rfc3339(t)),
        None => w.raw(k, "null"),
    };
}

impl ModelGoTrue {
    /// A server with `config`; ids and tokens are drawn from `seed`.
    pub fn new(config: GoTrueConfig, seed: u64) -> Self {
        let mut m = ModelGoTrue {
            config,
            judge_policy: JudgePolicy::default(),
            users: BTreeMap::new(),
            sessions: BTreeMap::new(),
            refresh_tokens: BTreeMap::new(),
            access_tokens: BTreeMap::new(),
            presentations: Vec::new(),
            faults: Vec::new(),
            flows: BTreeMap::new(),
            otps: BTreeMap::new(),
            id_tokens: BTreeMap::new(),
            anon_key: String::new(),
            publishable_key: String::from("sb_publishable_sim"),
            rng: Rng::new(seed),
            seq: 0,
            minted: 0,
            caller: None,
        };
        let mut claims = ObjectWriter::new();
        claims.str("iss", "supabase").str("ref", "sim").str("role", "anon").u64("iat", 0).u64("exp", API_KEY_EXP);
        m.anon_key = m.sign(r#"{"alg":"HS256","typ":"JWT"}"#, &claims.finish());
        m
    }

    /// Wraps the server for sharing with the Realtime model and the services.
    pub fn shared(self) -> GoTrueHandle {
        GoTrueHandle(Rc::new(RefCell::new(self)))
    }

    /// The legacy anon key (a JWT with `role: anon`).
    pub fn anon_key(&self) -> &str {
        &self.anon_key
    }

    /// The opaque publishable key (`sb_publishable_…`), which the gateway maps to the anon key.
    pub fn publishable_key(&self) -> &str {
        &self.publishable_key
    }

    // ---- ids and tokens ------------------------------------------------------------------

    fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(36);
        for (i, x) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            s.push(char::from(HEX[usize::from(x >> 4)]));
            s.push(char::from(HEX[usize::from(x & 15)]));
        }
        s
    }

    fn sign(&mut self, header: &str, claims: &str) -> String {
        self.minted += 1;
        let mut sig = String::from("sim:");
        json::write_u64(&mut sig, self.minted);
        let mut t = b64url_encode(header.as_bytes());
        t.push('.');
        t.push_str(&b64url_encode(claims.as_bytes()));
        t.push('.');
        t.push_str(&b64url_encode(sig.as_bytes()));
        t
    }

    fn new_refresh_token(&mut self, session: &str, parent: Option<&str>) -> String {
        const ALNUM: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let token = loop {
            let mut t = String::with_capacity(12);
            for _ in 0..12 {
                t.push(char::from(ALNUM[self.rng.up_to(35) as usize]));
            }
            if !self.refresh_tokens.contains_key(&t) {
                break t;
            }
        };
        self.seq += 1;
        self.refresh_tokens.insert(
            token.clone(),
            RefreshToken {
                token: token.clone(),
                session: String::from(session),
                parent: parent.map(String::from),
                revoked: false,
                revoked_at: None,
                seq: self.seq,
            },
        );
        token
    }

    /// The session's active refresh token: its newest unrevoked one.
    pub fn active_refresh_token(&self, session: &str) -> Option<&RefreshToken> {
        self.refresh_tokens.values().filter(|t| t.session == session && !t.revoked).max_by_key(|t| t.seq)
    }

    fn mint_access_token(&mut self, user_id: &str, session_id: &str, now: UnixTime) -> String {
        let iat = now.as_secs();
        let exp = iat + self.config.token_ttl_s;
        let Some(user) = self.users.get(user_id) else { return String::new() };
        let amr = self.sessions.get(session_id).map_or("password", |s| s.amr);
        let mut amr_json = String::from(r#"[{"method":""#);
        amr_json.push_str(amr);
        amr_json.push_str(r#"","timestamp":"#);
        json::write_u64(&mut amr_json, self.sessions.get(session_id).map_or(iat, |s| s.created_at.as_secs()));
        amr_json.push_str("}]");
        let mut c = ObjectWriter::new();
        c.str("iss", &self.config.issuer)
            .str("sub", user_id)
            .str("aud", "authenticated")
            .u64("exp", exp)
            .u64("iat", iat)
            .str("email", user.email.as_deref().unwrap_or(""))
            .str("phone", "")
            .raw("app_metadata", &app_metadata(user))
            .raw("user_metadata", &user.user_metadata)
            .str("role", "authenticated")
            .str("aal", "aal1")
            .raw("amr", &amr_json)
            .str("session_id", session_id)
            .bool("is_anonymous", user.is_anonymous);
        let claims = c.finish();
        let mut header = String::from(r#"{"alg":"ES256","kid":""#);
        header.push_str(KID);
        header.push_str(r#"","typ":"JWT"}"#);
        let token = self.sign(&header, &claims);
        self.access_tokens.insert(
            token.clone(),
            AccessToken { user: String::from(user_id), session: String::from(session_id), iat, exp },
        );
        token
    }

    /// `true` if `signed.signature` is a token this server minted (an [`crate::io::Output::Verify`]
    /// against its JWKS).
    pub fn verify_signature(&self, signed: &str, signature: &str) -> bool {
        let mut t = String::from(signed);
        t.push('.');
        t.push_str(signature);
        self.access_tokens.contains_key(&t)
    }

    // ---- users and sessions (also the test's admin API) -----------------------------------

    /// The live (not deleted) user with this email.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let email = email.to_ascii_lowercase();
        self.users.values().find(|u| !u.deleted && u.email.as_deref() == Some(email.as_str()))
    }

    fn insert_user(
        &mut self,
        email: Option<&str>,
        password: Option<&str>,
        provider: &str,
        metadata: Option<&Value>,
        now: UnixTime,
    ) -> String {
        let id = self.uuid();
        let user_metadata = match metadata {
            Some(v @ Value::Obj(_)) => v.to_json(),
            _ => String::from("{}"),
        };
        self.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                email: email.map(str::to_ascii_lowercase),
                password: password.map(String::from),
                banned: false,
                deleted: false,
                is_anonymous: email.is_none(),
                provider: String::from(provider),
                user_metadata,
                created_at: now,
                updated_at: now,
                confirmed_at: email.map(|_| now),
                last_sign_in_at: None,
            },
        );
        id
    }

    /// Creates a confirmed email user (the admin API); returns the id.
    pub fn create_user(&mut self, email: &str, password: &str, now: UnixTime) -> String {
        self.insert_user(Some(email), Some(password), "email", None, now)
    }

    /// Bans or unbans a user.
    pub fn ban_user(&mut self, id: &str, banned: bool) {
        if let Some(u) = self.users.get_mut(id) {
            u.banned = banned;
        }
    }

    /// Deletes a user: every session ends and their refresh tokens are gone.
    pub fn delete_user(&mut self, id: &str) {
        if let Some(u) = self.users.get_mut(id) {
            u.deleted = true;
        }
        for s in self.sessions.values_mut().filter(|s| s.user == id && s.ended.is_none()) {
            s.ended = Some(SessionEnd::UserDeleted);
        }
    }

    /// Ends a session (signed out elsewhere).
    pub fn end_session(&mut self, id: &str, why: SessionEnd) {
        if let Some(s) = self.sessions.get_mut(id) {
            if s.ended.is_none() {
                s.ended = Some(why);
            }
        }
    }

    fn new_session(&mut self, user_id: &str, amr: &'static str, now: UnixTime) -> (String, String) {
        let id = self.uuid();
        self.sessions.insert(
            id.clone(),
            Session {
                id: id.clone(),
                user: String::from(user_id),
                ended: None,
                created_at: now,
                refreshed_at: None,
                amr,
            },
        );
        if let Some(u) = self.users.get_mut(user_id) {
            u.last_sign_in_at = Some(now);
        }
        let rt = self.new_refresh_token(&id, None);
        (id, rt)
    }

    /// Signs `user_id` in out of band (a sign-in on another device, or a session to seed
    /// storage with) and returns the token response JSON; `None` for an unknown user.
    pub fn issue_session(&mut self, user_id: &str, now: UnixTime) -> Option<String> {
        self.users.get(user_id).filter(|u| !u.deleted)?;
        let (sid, rt) = self.new_session(user_id, "password", now);
        Some(self.token_response(user_id, &sid, &rt, now))
    }

    /// Mints a PKCE auth code for `user_email` (what the `/authorize` redirect chain ends
    /// with: `?code=…`), creating the user as an OAuth sign-up would. `method` is `s256` or
    /// `plain` (any case).
    pub fn authorize_code(&mut self, user_email: &str, code_challenge: &str, method: &str, now: UnixTime) -> String {
        let user = match self.user_by_email(user_email) {
            Some(u) => u.id.clone(),
            None => self.insert_user(Some(user_email), None, "dev", None, now),
        };
        let code = self.uuid();
        self.flows.insert(
            code.clone(),
            FlowState {
                user,
                challenge: String::from(code_challenge),
                method: method.to_ascii_lowercase(),
                created_at: now,
            },
        );
        code
    }

    /// Registers an ID token (for `grant_type=id_token`) that proves `email`.
    pub fn mint_id_token(&mut self, email: &str) -> String {
        let mut t = String::from("idt-");
        t.push_str(&self.uuid());
        self.id_tokens.insert(t.clone(), email.to_ascii_lowercase());
        t
    }

    /// The pending email OTP code for `email` (what the email would contain).
    pub fn otp_code(&self, email: &str) -> Option<&str> {
        self.otps.get(&email.to_ascii_lowercase()).map(|o| o.code.as_str())
    }

    /// The pending `token_hash` for `email` (what a magic link would contain).
    pub fn otp_token_hash(&self, email: &str) -> Option<&str> {
        self.otps.get(&email.to_ascii_lowercase()).map(|o| o.hash.as_str())
    }

    /// The user object JSON, GoTrue's shape.
    pub fn user_json(&self, id: &str) -> Option<String> {
        self.users.get(id).map(user_json)
    }

    fn token_response(&mut self, user_id: &str, session_id: &str, refresh: &str, now: UnixTime) -> String {
        let at = self.mint_access_token(user_id, session_id, now);
        let user = self.user_json(user_id).unwrap_or_else(|| String::from("{}"));
        let ttl = self.config.token_ttl_s;
        let mut w = ObjectWriter::new();
        w.str("access_token", &at)
            .str("token_type", "bearer")
            .u64("expires_in", ttl)
            .u64("expires_at", now.as_secs() + ttl)
            .str("refresh_token", refresh)
            .raw("user", &user);
        w.finish()
    }

    // ---- faults ---------------------------------------------------------------------------

    /// Answers the next `n` refresh grants with `status` and `body` (before the model looks at
    /// the token, so nothing rotates).
    pub fn fail_refreshes(&mut self, n: u32, status: u16, body: &str) {
        self.faults.push(FaultRule {
            route: RouteMatch::Grant("refresh_token"),
            action: FaultAction::Fail { status, body: String::from(body) },
            remaining: n,
        });
    }

    /// Delays the responses to the next `n` requests matching `route` by `ms`.
    pub fn delay_next(&mut self, route: RouteMatch, n: u32, ms: u64) {
        self.faults.push(FaultRule { route, action: FaultAction::Delay(ms), remaining: n });
    }

    /// Drops the responses to the next `n` requests matching `route` (they are processed).
    pub fn drop_next(&mut self, route: RouteMatch, n: u32) {
        self.faults.push(FaultRule { route, action: FaultAction::Drop, remaining: n });
    }

    fn take_fault(
        &mut self,
        method: &str,
        path: &str,
        grant: Option<&str>,
        want: fn(&FaultAction) -> bool,
    ) -> Option<FaultAction> {
        let i = self
            .faults
            .iter()
            .position(|f| f.remaining > 0 && want(&f.action) && f.route.matches(method, path, grant))?;
        let f = &mut self.faults[i];
        f.remaining -= 1;
        let action = f.action.clone();
        if f.remaining == 0 {
            self.faults.remove(i);
        }
        Some(action)
    }

    // ---- HTTP -----------------------------------------------------------------------------

    /// Handles a request at server time `now` without faults; returns status and body.
    pub fn handle(&mut self, req: &HttpRequest, now: UnixTime) -> (u16, String) {
        self.handle_as(None, req, now)
    }

    /// [`Self::handle`], recording `caller` with any refresh-token presentation.
    pub fn handle_as(&mut self, caller: Option<ClientIdx>, req: &HttpRequest, now: UnixTime) -> (u16, String) {
        let (path, query) = split_url(&req.url);
        let r = Req {
            method: req.method,
            path,
            query: parse_query(query),
            headers: &req.headers,
            body: req.body.as_deref(),
        };
        self.caller = caller;
        let result = self.route(&r, now);
        self.caller = None;
        match result {
            Ok(ok) => ok,
            Err(e) => e.render(r.new_shape()),
        }
    }

    /// Handles a request with the pending faults applied: a `Fail` answers before the model
    /// sees the request; `Delay` and `Drop` apply after it was processed.
    pub fn serve(&mut self, caller: Option<ClientIdx>, req: &HttpRequest, now: UnixTime) -> Served {
        let (path, query) = split_url(&req.url);
        let path = path.strip_prefix("/auth/v1").unwrap_or(path);
        let grant = parse_query(query).into_iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v);
        let grant = grant.as_deref();
        if let Some(FaultAction::Fail { status, body }) =
            self.take_fault(req.method, path, grant, |a| matches!(a, FaultAction::Fail { .. }))
        {
            if grant == Some("refresh_token") && req.method == "POST" && path == "/token" {
                let token = req
                    .body
                    .as_deref()
                    .and_then(|b| json::parse(b).ok())
                    .and_then(|v| v.get("refresh_token").and_then(Value::as_str).map(String::from));
                if let Some(token) = token {
                    let session = self.refresh_tokens.get(&token).map(|t| t.session.clone());
                    self.presentations.push(Presentation {
                        at: now,
                        token,
                        caller,
                        session,
                        outcome: RefreshOutcome::Injected { status },
                        dropped: false,
                    });
                }
            }
            return Served { status, body, delay_ms: 0, dropped: false };
        }
        let before = self.presentations.len();
        let (status, body) = self.handle_as(caller, req, now);
        let delay_ms = match self.take_fault(req.method, path, grant, |a| matches!(a, FaultAction::Delay(_))) {
            Some(FaultAction::Delay(ms)) => ms,
            _ => 0,
        };
        let dropped = self.take_fault(req.method, path, grant, |a| matches!(a, FaultAction::Drop)).is_some();
        if dropped {
            for p in &mut self.presentations[before..] {
                p.dropped = true;
            }
        }
        Served { status, body, delay_ms, dropped }
    }

    fn route(&mut self, r: &Req<'_>, now: UnixTime) -> Result<(u16, String), ApiErr> {
        let Some(path) = r.path.strip_prefix("/auth/v1") else {
            return Err(ApiErr::Raw {
                status: 404,
                body: String::from(r#"{"message":"no Route matched with those values"}"#),
            });
        };
        if self.config.require_apikey {
            self.check_apikey(r)?;
        }
        let ok = |body: String| Ok((200, body));
        match (r.method, path) {
            ("POST", "/signup") => ok(self.signup(r, now)?),
            ("POST", "/token") => ok(self.token(r, now)?),
            ("GET", "/user") => {
                let (user, _) = self.authenticate(r, now)?;
                ok(self.user_json(&user).unwrap_or_default())
            }
            ("PUT", "/user") => ok(self.update_user(r, now)?),
            ("POST", "/logout") => {
                self.logout(r, now)?;
                Ok((204, String::new()))
            }
            ("POST", "/otp") => ok(self.otp(r, now)?),
            ("POST", "/verify") => ok(self.verify(r, now)?),
            ("GET", "/.well-known/jwks.json") => ok(self.jwks()),
            ("GET", "/health") => ok(String::from(
                r#"{"version":"sim","name":"GoTrue","description":"GoTrue is a user registration and authentication API"}"#,
            )),
            ("GET", "/settings") => {
                let mut ext = ObjectWriter::new();
                ext.bool("anonymous_users", self.config.anonymous_enabled).bool("email", true).bool("phone", false);
                let mut w = ObjectWriter::new();
                w.raw("external", &ext.finish())
                    .bool("disable_signup", false)
                    .bool("mailer_autoconfirm", true)
                    .bool("phone_autoconfirm", false)
                    .str("sms_provider", "")
                    .bool("saml_enabled", false);
                ok(w.finish())
            }
            _ => Err(err(404, "not_found", "Not Found")),
        }
    }

    /// The gateway's key check.
    fn check_apikey(&self, r: &Req<'_>) -> Result<(), ApiErr> {
        let Some(key) = r.header("apikey") else {
            return Err(ApiErr::Raw {
                status: 401,
                body: String::from(
                    r#"{"message":"No API key found in request","hint":"No `apikey` request header or url param was found."}"#,
                ),
            });
        };
        if key == self.anon_key || key == self.publishable_key {
            Ok(())
        } else {
            Err(ApiErr::Raw {
                status: 401,
                body: String::from(
                    r#"{"message":"Invalid API key","hint":"Double check your Supabase `anon` or `service_role` API key."}"#,
                ),
            })
        }
    }

    fn jwks(&self) -> String {
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        for (i, (a, b)) in x.iter_mut().zip(y.iter_mut()).enumerate() {
            *a = i as u8;
            *b = 255 - i as u8;
        }
        let mut k = ObjectWriter::new();
        k.str("alg", "ES256")
            .str("crv", "P-256")
            .raw("key_ops", r#"["verify"]"#)
            .str("kid", KID)
            .str("kty", "EC")
            .str("use", "sig")
            .str("x", &b64url_encode(&x))
            .str("y", &b64url_encode(&y));
        let mut keys = String::from("[");
        keys.push_str(&k.finish());
        keys.push(']');
        let mut w = ObjectWriter::new();
        w.raw("keys", &keys);
        w.finish()
    }

    /// GoTrue's checks of a user call's Bearer access token; `(user id, session id)`.
    fn authenticate(&self, r: &Req<'_>, now: UnixTime) -> Result<(String, String), ApiErr> {
        const PREFIX: &str = "invalid JWT: unable to parse or verify signature, ";
        let Some(token) = r.bearer() else {
            return Err(err(401, "no_authorization", "This endpoint requires a valid Bearer token"));
        };
        let bad = |detail: &str| {
            let mut m = String::from(PREFIX);
            m.push_str(detail);
            ApiErr::Http { status: 403, code: "bad_jwt", message: m }
        };
        if jwt::decode(token).is_err() {
            return Err(bad("token is malformed: could not parse the token"));
        }
        if token == self.anon_key {
            return Err(err(403, "bad_jwt", "invalid claim: missing sub claim"));
        }
        let Some(at) = self.access_tokens.get(token) else {
            return Err(bad("token signature is invalid: signature is invalid"));
        };
        if at.exp.saturating_mul(1000) <= now.as_millis() {
            return Err(bad("token has invalid claims: token is expired"));
        }
        let Some(user) = self.users.get(&at.user).filter(|u| !u.deleted) else {
            return Err(err(403, "user_not_found", "User from sub claim in JWT does not exist"));
        };
        if self.sessions.get(&at.session).is_none_or(Session::revoked) {
            return Err(err(403, "session_not_found", "Session from session_id claim in JWT does not exist"));
        }
        if user.banned {
            return Err(err(403, "user_banned", "User is banned"));
        }
        Ok((at.user.clone(), at.session.clone()))
    }

    fn check_password(&self, password: &str) -> Result<(), ApiErr> {
        if password.chars().count() < self.config.min_password_len {
            return Err(ApiErr::Weak {
                message: "Password should be at least 6 characters.",
                reasons: r#"["length"]"#,
            });
        }
        Ok(())
    }

    fn signup(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
        let body = r.json()?;
        let email = body.get("email").and_then(Value::as_str).filter(|s| !s.is_empty());
        let phone = body.get("phone").and_then(Value::as_str).filter(|s| !s.is_empty());
        let data = body.get("data");
        if phone.is_some() {
            return Err(err(422, "phone_provider_disabled", "Phone signups are disabled"));
        }
        let Some(email) = email else {
            if !self.config.anonymous_enabled {
                return Err(err(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled"));
            }
            let id = self.insert_user(None, None, "anonymous", data, now);
            let (sid, rt) = self.new_session(&id, "anonymous", now);
            return Ok(self.token_response(&id, &sid, &rt, now));
        };
        if !valid_email(email) {
            return Err(err(400, "validation_failed", "Unable to validate email address: invalid format"));
        }
        let Some(password) = body.get("password").and_then(Value::as_str).filter(|p| !p.is_empty()) else {
            return Err(err(422, "validation_failed", "Signup requires a valid password"));
        };
        self.check_password(password)?;
        if self.user_by_email(email).is_some() {
            return Err(err(422, "user_already_exists", "User already registered"));
        }
        let id = self.insert_user(Some(email), Some(password), "email", data, now);
        let (sid, rt) = self.new_session(&id, "password", now);
        Ok(self.token_response(&id, &sid, &rt, now))
    }

    fn token(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
        let body = r.json()?;
        match r.query("grant_type") {
            Some("refresh_token") => self.refresh_grant(&body, now),
            Some("password") => {
                let email = body.get("email").and_then(Value::as_str).unwrap_or("");
                let password = body.get("password").and_then(Value::as_str).unwrap_or("");
                if email.is_empty() {
                    return Err(err(400, "validation_failed", "missing email or phone"));
                }
                let invalid = || err(400, "invalid_credentials", "Invalid login credentials");
                let user = self.user_by_email(email).ok_or_else(invalid)?;
                if user.password.as_deref() != Some(password) {
                    return Err(invalid());
                }
                if user.banned {
                    return Err(err(400, "user_banned", "User is banned"));
                }
                let id = user.id.clone();
                let (sid, rt) = self.new_session(&id, "password", now);
                Ok(self.token_response(&id, &sid, &rt, now))
            }
            Some("pkce") => {
                let code = body.get("auth_code").and_then(Value::as_str).unwrap_or("");
                let verifier = body.get("code_verifier").and_then(Value::as_str).unwrap_or("");
                if code.is_empty() || verifier.is_empty() {
                    return Err(err(
                        400,
                        "validation_failed",
                        "invalid request: both auth code and code verifier should be non-empty",
                    ));
                }
                let Some(flow) = self.flows.get(code) else {
                    return Err(err(404, "flow_state_not_found", "invalid flow state, no valid flow state found"));
                };
                if now.as_millis() > flow.created_at.as_millis() + self.config.flow_state_ttl_s * 1000 {
                    return Err(err(422, "flow_state_expired", "invalid flow state, flow state has expired"));
                }
                let matches = match flow.method.as_str() {
                    "s256" => digest_b64url(verifier) == flow.challenge,
                    "plain" => verifier == flow.challenge,
                    _ => false,
                };
                if !matches {
                    return Err(err(
                        400,
                        "bad_code_verifier",
                        "code challenge does not match previously saved code verifier",
                    ));
                }
                let user = flow.user.clone();
                self.flows.remove(code);
                self.sign_in_existing(&user, "oauth", now)
            }
            Some("id_token") => {
                let token = body.get("id_token").and_then(Value::as_str).unwrap_or("");
                let Some(email) = self.id_tokens.get(token).cloned() else {
                    return Err(ApiErr::OAuth { error: "invalid request", description: "Bad ID token" });
                };
                let provider = body.get("provider").and_then(Value::as_str).unwrap_or("oidc");
                let user = match self.user_by_email(&email) {
                    Some(u) => u.id.clone(),
                    None => self.insert_user(Some(&email), None, provider, None, now),
                };
                self.sign_in_existing(&user, "oauth", now)
            }
            _ => Err(err(400, "invalid_credentials", "unsupported_grant_type")),
        }
    }

    fn sign_in_existing(&mut self, user: &str, amr: &'static str, now: UnixTime) -> Result<String, ApiErr> {
        if self.users.get(user).is_some_and(|u| u.banned) {
            return Err(err(400, "user_banned", "User is banned"));
        }
        let (sid, rt) = self.new_session(user, amr, now);
        Ok(self.token_response(user, &sid, &rt, now))
    }

    fn refresh_grant(&mut self, body: &Value, now: UnixTime) -> Result<String, ApiErr> {
        let Some(token) = body.get("refresh_token").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
            return Err(ApiErr::OAuth { error: "invalid_request", description: "refresh_token required" });
        };
        let token = String::from(token);
        let session = self.refresh_tokens.get(&token).map(|t| t.session.clone());
        let result = self.exchange(&token, now);
        let outcome = match &result {
            Ok(o) | Err((o, _)) => o.clone(),
        };
        self.presentations.push(Presentation {
            at: now,
            token,
            caller: self.caller,
            session: session.clone(),
            outcome: outcome.clone(),
            dropped: false,
        });
        result.map_err(|(_, e)| e)?;
        let (Some(sid), Some(issued)) = (session, outcome.issued()) else {
            return Err(err(500, "unexpected_failure", "Unexpected failure"));
        };
        let user = self.sessions.get(&sid).map(|s| s.user.clone()).unwrap_or_default();
        Ok(self.token_response(&user, &sid, issued, now))
    }

    /// The rotation rules (module docs).
    fn exchange(&mut self, token: &str, now: UnixTime) -> Result<RefreshOutcome, (RefreshOutcome, ApiErr)> {
        use RefreshOutcome as O;
        let not_found =
            || (O::NotFound, err(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"));
        if token.len() < 12
            || (token.len() == 12 && !token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            return Err((O::Invalid, err(400, "validation_failed", "Refresh token is not valid")));
        }
        let Some(rt) = self.refresh_tokens.get(token) else { return Err(not_found()) };
        let (sid, revoked, revoked_at) = (rt.session.clone(), rt.revoked, rt.revoked_at);
        let Some(session) = self.sessions.get(&sid) else { return Err(not_found()) };
        let family_revoked = match session.ended {
            None => false,
            Some(SessionEnd::FamilyRevoked) => true,
            // Sign-out and user deletion delete the session row, and its tokens with it.
            Some(_) => return Err(not_found()),
        };
        let Some(user) = self.users.get(&session.user).filter(|u| !u.deleted) else { return Err(not_found()) };
        if user.banned {
            return Err((O::UserBanned, err(400, "user_banned", "Invalid Refresh Token: User Banned")));
        }
        if family_revoked {
            return Err((
                O::SessionNotFound,
                err(400, "session_not_found", "Invalid Refresh Token: No Valid Session Found"),
            ));
        }
        if let Some(tb) = self.config.session_timebox_s {
            if now.as_millis() >= session.created_at.as_millis() + tb * 1000 {
                return Err((O::SessionExpired, err(400, "session_expired", "Invalid Refresh Token: Session Expired")));
            }
        }
        let outcome = if !revoked {
            self.revoke(token, now);
            O::Rotated { issued: self.new_refresh_token(&sid, Some(token)) }
        } else if let Some(active) = self.active_refresh_token(&sid).filter(|a| a.parent.as_deref() == Some(token)) {
            O::ParentOfActive { issued: active.token.clone() }
        } else if revoked_at.is_some_and(|r| now.as_millis() <= r.as_millis() + self.config.reuse_interval_ms) {
            O::ReusedInInterval { issued: self.new_refresh_token(&sid, Some(token)) }
        } else {
            let family: Vec<String> = self
                .refresh_tokens
                .values()
                .filter(|t| t.session == sid && !t.revoked)
                .map(|t| t.token.clone())
                .collect();
            for t in family {
                self.revoke(&t, now);
            }
            if self.config.reuse_kills_session {
                self.end_session(&sid, SessionEnd::FamilyRevoked);
            }
            return Err((
                O::FamilyRevoked,
                err(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"),
            ));
        };
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.refreshed_at = Some(now);
        }
        Ok(outcome)
    }

    fn revoke(&mut self, token: &str, now: UnixTime) {
        if let Some(t) = self.refresh_tokens.get_mut(token) {
            if !t.revoked {
                t.revoked = true;
                t.revoked_at = Some(now);
            }
        }
    }

    fn update_user(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
        let (uid, _) = self.authenticate(r, now)?;
        let body = r.json()?;
        let email = body.get("email").and_then(Value::as_str).filter(|s| !s.is_empty());
        let password = body.get("password").and_then(Value::as_str).filter(|s| !s.is_empty());
        if let Some(e) = email {
            if !valid_email(e) {
                return Err(err(400, "validation_failed", "Unable to validate email address: invalid format"));
            }
            if self.user_by_email(e).is_some_and(|u| u.id != uid) {
                return Err(err(422, "email_exists", "A user with this email address has already been registered"));
            }
        }
        if let Some(p) = password {
            self.check_password(p)?;
            if self.users.get(&uid).and_then(|u| u.password.as_deref()) == Some(p) {
                return Err(err(422, "same_password", "New password should be different from the old password."));
            }
        }
        let Some(user) = self.users.get_mut(&uid) else {
            return Err(err(403, "user_not_found", "User from sub claim in JWT does not exist"));
        };
        if let Some(e) = email {
            user.email = Some(e.to_ascii_lowercase());
            user.confirmed_at.get_or_insert(now);
        }
        if let Some(p) = password {
            user.password = Some(String::from(p));
        }
        if user.is_anonymous && user.email.is_some() && user.password.is_some() {
            user.is_anonymous = false;
            user.provider = String::from("email");
        }
        if let Some(Value::Obj(new)) = body.get("data") {
            let mut merged = match json::parse(&user.user_metadata) {
                Ok(Value::Obj(m)) => m,
                _ => Vec::new(),
            };
            for (k, v) in new {
                match merged.iter_mut().find(|(mk, _)| mk == k) {
                    Some(slot) => slot.1 = v.clone(),
                    None => merged.push((k.clone(), v.clone())),
                }
            }
            user.user_metadata = Value::Obj(merged).to_json();
        }
        user.updated_at = now;
        Ok(user_json(user))
    }

    fn logout(&mut self, r: &Req<'_>, now: UnixTime) -> Result<(), ApiErr> {
        let (uid, sid) = self.authenticate(r, now)?;
        let scope = r.query("scope").unwrap_or("global");
        let ended: Vec<String> = match scope {
            "global" => self.sessions.values().filter(|s| s.user == uid).map(|s| s.id.clone()).collect(),
            "local" => alloc::vec![sid],
            "others" => self.sessions.values().filter(|s| s.user == uid && s.id != sid).map(|s| s.id.clone()).collect(),
            _ => {
                let mut m = String::from("Unsupported logout scope \"");
                m.push_str(scope);
                m.push('"');
                return Err(ApiErr::Http { status: 400, code: "validation_failed", message: m });
            }
        };
        for s in ended {
            self.end_session(&s, SessionEnd::Logout);
        }
        Ok(())
    }

    fn otp(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
        let body = r.json()?;
        if body.get("phone").and_then(Value::as_str).is_some_and(|p| !p.is_empty()) {
            return Err(err(422, "phone_provider_disabled", "Unsupported phone provider"));
        }
        let Some(email) = body.get("email").and_then(Value::as_str).filter(|e| valid_email(e)) else {
            return Err(err(400, "validation_failed", "Unable to validate email address: invalid format"));
        };
        let email = email.to_ascii_lowercase();
        if let Some(o) = self.otps.get(&email) {
            let next = o.issued_at.as_millis() + self.config.otp_resend_interval_s * 1000;
            if now.as_millis() < next {
                let mut m = String::from("For security purposes, you can only request this after ");
                json::write_u64(&mut m, (next - now.as_millis()).div_ceil(1000));
                m.push_str(" seconds.");
                return Err(ApiErr::Http { status: 429, code: "over_email_send_rate_limit", message: m });
            }
        }
        if self.user_by_email(&email).is_none() {
            if body.get("create_user").and_then(Value::as_bool) == Some(false) {
                return Err(err(422, "otp_disabled", "Signups not allowed for otp"));
            }
            let id = self.insert_user(Some(&email), None, "email", body.get("data"), now);
            if let Some(u) = self.users.get_mut(&id) {
                u.confirmed_at = None;
            }
        }
        let code = self.rng.up_to(899_999) + 100_000;
        let mut code_s = String::new();
        json::write_u64(&mut code_s, code);
        let mut pre = email.clone();
        pre.push_str(&code_s);
        let hash = digest_b64url(&pre);
        self.otps.insert(email, Otp { code: code_s, hash, issued_at: now });
        Ok(String::from("{}"))
    }

    fn verify(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
        let body = r.json()?;
        let kind = body.get("type").and_then(Value::as_str).unwrap_or("");
        if !matches!(kind, "email" | "magiclink" | "signup" | "recovery" | "invite") {
            return Err(err(400, "validation_failed", "Verify requires a verification type"));
        }
        let invalid = || err(403, "otp_expired", "Token has expired or is invalid");
        let email = if let Some(hash) = body.get("token_hash").and_then(Value::as_str) {
            self.otps.iter().find(|(_, o)| o.hash == hash).map(|(e, _)| e.clone()).ok_or_else(invalid)?
        } else {
            let email = body.get("email").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
            let token = body.get("token").and_then(Value::as_str).unwrap_or("");
            if self.otps.get(&email).is_none_or(|o| o.code != token) {
                return Err(invalid());
            }
            email
        };
        let Some(otp) = self.otps.remove(&email) else { return Err(invalid()) };
        if now.as_millis() > otp.issued_at.as_millis() + self.config.otp_ttl_s * 1000 {
            return Err(invalid());
        }
        let Some(user) = self.user_by_email(&email).map(|u| u.id.clone()) else { return Err(invalid()) };
        if let Some(u) = self.users.get_mut(&user) {
            u.confirmed_at.get_or_insert(now);
        }
        self.sign_in_existing(&user, "otp", now)
    }

    // ---- the Realtime view ----------------------------------------------------------------

    /// How the Realtime model sees `token` under [`Self::judge_policy`]: the claims, or the
    /// refusal text of the real server (`realtime-protocol.md` §1.4) or of the devserver's
    /// strict sessions.
    pub fn judge_token(&self, token: &str) -> Result<TokenInfo, String> {
        const NOT_JWT: &str = "The token provided is not a valid JWT";
        let anon = || TokenInfo { role: String::from("anon"), sub: None, exp: API_KEY_EXP };
        if token == self.publishable_key {
            return if self.judge_policy.gateway { Ok(anon()) } else { Err(String::from(NOT_JWT)) };
        }
        if jwt::decode(token).is_err() {
            return Err(String::from(NOT_JWT));
        }
        if token == self.anon_key {
            return Ok(anon());
        }
        let Some(at) = self.access_tokens.get(token) else {
            return Err(String::from("Failed to validate JWT signature"));
        };
        if self.judge_policy.strict_sessions {
            let Some(user) = self.users.get(&at.user).filter(|u| !u.deleted) else {
                return Err(String::from("User from sub claim in JWT does not exist"));
            };
            if self.sessions.get(&at.session).is_none_or(Session::revoked) {
                return Err(String::from("Session from session_id claim in JWT does not exist"));
            }
            if user.banned {
                return Err(String::from("User is banned"));
            }
        }
        Ok(TokenInfo { role: String::from("authenticated"), sub: Some(at.user.clone()), exp: at.exp })
    }

    // ---- property-check helpers -----------------------------------------------------------

    /// Tokens presented more than once, with every presentation of each (G8 says this is
    /// empty in a correct browser, faults that answered before the model excepted).
    pub fn presented_twice(&self) -> Vec<&str> {
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        for p in &self.presentations {
            if !matches!(p.outcome, RefreshOutcome::Injected { .. }) {
                *seen.entry(&p.token).or_default() += 1;
            }
        }
        seen.into_iter().filter(|(_, n)| *n > 1).map(|(t, _)| t).collect()
    }

    /// How many presentations revoked a token family.
    pub fn family_revocations(&self) -> usize {
        self.presentations.iter().filter(|p| p.outcome == RefreshOutcome::FamilyRevoked).count()
    }
}

fn valid_email(e: &str) -> bool {
    e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
}

fn app_metadata(u: &User) -> String {
    if u.is_anonymous {
        return String::from("{}");
    }
    let mut providers = String::from("[");
    json::write_str(&mut providers, &u.provider);
    providers.push(']');
    let mut w = ObjectWriter::new();
    w.str("provider", &u.provider).raw("providers", &providers);
    w.finish()
}

/// GoTrue's user object.
fn user_json(u: &User) -> String {
    let mut w = ObjectWriter::new();
    w.str("id", &u.id)
        .str("aud", "authenticated")
        .str("role", "authenticated")
        .str("email", u.email.as_deref().unwrap_or(""));
    opt_time(&mut w, "email_confirmed_at", u.confirmed_at);
    w.str("phone", "");
    opt_time(&mut w, "confirmed_at", u.confirmed_at);
    opt_time(&mut w, "last_sign_in_at", u.last_sign_in_at);
    w.raw("app_metadata", &app_metadata(u)).raw("user_metadata", &u.user_metadata).raw("identities", "[]");
    w.str("created_at", &rfc3339(u.created_at)).str("updated_at", &rfc3339(u.updated_at));
    if u.banned {
        w.str("banned_until", "2100-01-01T00:00:00Z");
    }
    w.bool("is_anonymous", u.is_anonymous);
    w.finish()
}

/// A [`ModelGoTrue`] shared between the services (HTTP) and the Realtime model (as its
/// [`TokenJudge`]). The simulation is single-threaded, and neither side holds a borrow across a
/// call into the other.
#[derive(Debug, Clone)]
pub struct GoTrueHandle(pub Rc<RefCell<ModelGoTrue>>);

impl GoTrueHandle {
    /// Reads the model.
    pub fn borrow(&self) -> Ref<'_, ModelGoTrue> {
        self.0.borrow()
    }
    /// Changes the model (admin actions, faults, policy).
    pub fn borrow_mut(&self) -> RefMut<'_, ModelGoTrue> {
        self.0.borrow_mut()
    }
}

impl TokenJudge for GoTrueHandle {
    fn judge(&self, token: &str) -> Result<TokenInfo, String> {
        self.0.borrow().judge_token(token)
    }
    fn can_read_private(&self, token: &TokenInfo, sub_topic: &str) -> bool {
        self.0.borrow().judge_policy.private.allows(token, sub_topic)
    }
}

#[cfg(test)]
mod tests {
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
            self.call(
                "POST",
                "/token?grant_type=refresh_token",
                None,
                Some(&format!(r#"{{"refresh_token":"{rt}"}}"#)),
                t,
            )
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
        let (s, b) =
            f.call("POST", "/signup", None, Some(r#"{"email":"ann@example.com","password":"secret1"}"#), at(6));
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
        let mut r =
            request(&key, "POST", "/token?grant_type=password", None, Some(r#"{"email":"x@y.z","password":"p"}"#));
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
        assert_eq!(
            (s, b.as_str()),
            (400, r#"{"error":"invalid_request","error_description":"refresh_token required"}"#)
        );
        let (s, b) = f.call("POST", "/token?grant_type=refresh_token", None, Some("{nope"), at(0));
        assert_eq!((s, code(&b).as_str()), (400, "bad_json"));
        let t = f.sign_up("a@b.co", at(0));
        let uid = jwt::decode(&t.at).unwrap().sub.unwrap();
        f.m.ban_user(&uid, true);
        let (s, b) = f.refresh(&t.rt, at(1));
        assert_eq!((s, code(&b).as_str()), (400, "user_banned"));
        let (s, b) = f.user(&t.at, at(1));
        assert_eq!((s, code(&b).as_str()), (403, "user_banned"));
        let (s, b) = f.call(
            "POST",
            "/token?grant_type=password",
            None,
            Some(r#"{"email":"a@b.co","password":"secret1"}"#),
            at(1),
        );
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
        let (s, b) =
            f.call("POST", "/verify", None, Some(r#"{"type":"email","email":"m@x.io","token":"000000"}"#), at(31));
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
        let t =
            f.ok_tokens("/token?grant_type=id_token", &format!(r#"{{"provider":"google","id_token":"{idt}"}}"#), at(0));
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
        assert!(
            b.contains(r#""email":"new@b.co""#) && b.contains(r#""updated_at":"2027-01-15T08:00:02.000000Z""#),
            "{b}"
        );
        assert_eq!(
            f.call(
                "POST",
                "/token?grant_type=password",
                None,
                Some(r#"{"email":"new@b.co","password":"secret2"}"#),
                at(3)
            )
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
            request(
                &key,
                "POST",
                "/token?grant_type=refresh_token",
                None,
                Some(&format!(r#"{{"refresh_token":"{rt}"}}"#)),
            )
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
}
