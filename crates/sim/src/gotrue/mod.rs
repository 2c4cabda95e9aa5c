//! A model GoTrue (Supabase Auth) server: users, sessions, refresh tokens with GoTrue's legacy
//! rotation rules, and the endpoints the SDK calls, with GoTrue's bodies (reference
//! `auth-session.md` §1, §7). It is sans-IO like everything in this crate:
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
use authwire_core::io::HttpRequest;
use authwire_core::rng::Rng;
use authwire_core::time::UnixTime;

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

mod endpoints;
mod faults;
mod request;
#[cfg(test)]
mod tests;
mod tokens;
mod users;

pub use request::rfc3339;
use request::*;

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
