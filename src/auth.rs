//! `client.auth`: every method of supabase-js 2.119's `auth` — the commands (`{ data, error }`
//! promises in auth-js's result shapes), `onAuthStateChange`, the auto-refresh controls — and
//! its namespaces (`mfa`, `admin`, `oauth`, `passkey`), made once per client, so
//! `auth.mfa === auth.mfa`. What authwire does not do (SSO, Web3, passkeys, identity linking,
//! MFA enrolment, the admin API, OAuth-server grants) resolves with a typed `not_supported`
//! error: no method of supabase-js's `auth` is missing. Also the `isAuth…Error` guards, whose
//! tests live in `js/errors.js` next to the error classes.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_core::auth::AuthCommand;
use authwire_core::error::AuthError;
use authwire_core::io::{ListenerId, Ticket};
use authwire_core::{Client, Now};
use authwire_wire::json::{self, ObjectWriter};
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

use crate::driver::{self, Shared};
use crate::host;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = isAuthApiError)]
    fn glue_is_api(e: &JsValue) -> bool;
    #[wasm_bindgen(js_name = isAuthSessionMissingError)]
    fn glue_is_session_missing(e: &JsValue) -> bool;
    #[wasm_bindgen(js_name = isAuthImplicitGrantRedirectError)]
    fn glue_is_implicit_grant_redirect(e: &JsValue) -> bool;
    #[wasm_bindgen(js_name = isAuthPKCECodeVerifierMissingError)]
    fn glue_is_pkce_verifier_missing(e: &JsValue) -> bool;
    #[wasm_bindgen(js_name = isAuthRetryableFetchError)]
    fn glue_is_retryable_fetch(e: &JsValue) -> bool;
    #[wasm_bindgen(js_name = isAuthRefreshDiscardedError)]
    fn glue_is_refresh_discarded(e: &JsValue) -> bool;
    #[wasm_bindgen(js_name = isAuthWeakPasswordError)]
    fn glue_is_weak_password(e: &JsValue) -> bool;
}

#[wasm_bindgen]
extern "C" {
    /// A promise seen through `then(f)` that resolves with `f`'s value (js-sys's `then`
    /// drops it).
    #[wasm_bindgen(js_name = Promise)]
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_map(this: &Thenable, f: &JsValue) -> Promise;
}

/// `isAuthError(e)`: true for auth errors (authwire's or auth-js's), across bundle copies (a
/// marker, not `instanceof`).
#[wasm_bindgen(js_name = isAuthError, skip_typescript)]
pub fn is_auth_error(e: &JsValue) -> bool {
    host::is_auth_error(e)
}
/// `isAuthApiError(e)`.
#[wasm_bindgen(js_name = isAuthApiError, skip_typescript)]
pub fn is_auth_api_error(e: &JsValue) -> bool {
    glue_is_api(e)
}
/// `isAuthSessionMissingError(e)`.
#[wasm_bindgen(js_name = isAuthSessionMissingError, skip_typescript)]
pub fn is_auth_session_missing_error(e: &JsValue) -> bool {
    glue_is_session_missing(e)
}
/// `isAuthImplicitGrantRedirectError(e)`.
#[wasm_bindgen(js_name = isAuthImplicitGrantRedirectError, skip_typescript)]
pub fn is_auth_implicit_grant_redirect_error(e: &JsValue) -> bool {
    glue_is_implicit_grant_redirect(e)
}
/// `isAuthPKCECodeVerifierMissingError(e)`.
#[wasm_bindgen(js_name = isAuthPKCECodeVerifierMissingError, skip_typescript)]
pub fn is_auth_pkce_code_verifier_missing_error(e: &JsValue) -> bool {
    glue_is_pkce_verifier_missing(e)
}
/// `isAuthRetryableFetchError(e)`.
#[wasm_bindgen(js_name = isAuthRetryableFetchError, skip_typescript)]
pub fn is_auth_retryable_fetch_error(e: &JsValue) -> bool {
    glue_is_retryable_fetch(e)
}
/// `isAuthRefreshDiscardedError(e)`.
#[wasm_bindgen(js_name = isAuthRefreshDiscardedError, skip_typescript)]
pub fn is_auth_refresh_discarded_error(e: &JsValue) -> bool {
    glue_is_refresh_discarded(e)
}
/// `isAuthWeakPasswordError(e)`.
#[wasm_bindgen(js_name = isAuthWeakPasswordError, skip_typescript)]
pub fn is_auth_weak_password_error(e: &JsValue) -> bool {
    glue_is_weak_password(e)
}

/// What an error class takes besides name, code, message and status (JSON): the weak
/// password's `reasons`, the URL error's `details`.
pub(crate) fn error_extra(e: &AuthError) -> Option<String> {
    if let Some((error, code)) = e.details() {
        let mut w = ObjectWriter::new();
        w.str("error", error).str("code", code);
        return Some(w.finish());
    }
    if !matches!(e, AuthError::WeakPassword { .. }) {
        return None;
    }
    let mut s = String::from("[");
    for (i, r) in e.reasons().iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        json::write_str(&mut s, r);
    }
    s.push(']');
    Some(s)
}

const USER_SESSION: &str = r#"{"user":null,"session":null}"#;
const SESSION: &str = r#"{"session":null}"#;
const USER: &str = r#"{"user":null}"#;

const MFA: &str = "MFA enrolment and challenges are not supported by authwire";
const ADMIN: &str = "the admin API is not supported by authwire (use a server-side client)";
const OAUTH: &str = "the OAuth 2.1 server API is not supported by authwire";
const PASSKEY: &str = "passkeys are not supported by authwire";

/// Runs `f` on the core and resolves with its `{ data, error }` (`null_data` is `data` on
/// error).
fn run(shared: &Shared, null_data: &'static str, f: impl FnOnce(&mut Client, Now) -> Ticket) -> Promise {
    let t = driver::with_core(shared, f);
    driver::auth_promise(shared, t, null_data, false)
}

fn command(shared: &Shared, null_data: &'static str, cmd: AuthCommand) -> Promise {
    run(shared, null_data, |core, now| core.auth_command(cmd, now))
}

fn not_supported(what: &'static str) -> Promise {
    let err = host::auth_error(&AuthError::NotSupported { what });
    Promise::resolve(&host::auth_result("null", &err))
}

/// `p`, with its value passed through `f` (auth-js result shapes the core's JSON cannot
/// carry).
fn then(p: Promise, f: impl FnOnce(JsValue) -> JsValue + 'static) -> Promise {
    p.unchecked_ref::<Thenable>().then_map(&Closure::once_into_js(f))
}

/// `{ error }`: auth-js's `signOut` and `initialize` results have no `data`.
fn without_data(p: Promise) -> Promise {
    then(p, |r| {
        if let Some(o) = r.dyn_ref::<Object>() {
            let _ = Reflect::delete_property(o, &JsValue::from_str("data"));
        }
        r
    })
}

fn json_arg(v: &JsValue) -> String {
    host::to_json(v).unwrap_or_else(|| String::from("{}"))
}

/// `client.auth`.
#[wasm_bindgen]
pub struct AuthApi {
    pub(crate) shared: Shared,
    mfa: JsValue,
    admin: JsValue,
    oauth: JsValue,
    passkey: JsValue,
}

impl AuthApi {
    /// The `client.auth` of a client, with its namespaces.
    pub(crate) fn new(shared: Shared) -> AuthApi {
        let leaf = |what| JsValue::from(NotSupportedApi { what });
        let mfa = MfaApi { shared: shared.clone(), webauthn: leaf(MFA), recovery_codes: leaf(MFA) };
        let admin =
            AdminApi { mfa: leaf(ADMIN), oauth: leaf(ADMIN), custom_providers: leaf(ADMIN), passkey: leaf(ADMIN) };
        AuthApi { shared, mfa: mfa.into(), admin: admin.into(), oauth: leaf(OAUTH), passkey: leaf(PASSKEY) }
    }
}

#[wasm_bindgen]
impl AuthApi {
    /// `signUp({ email | phone, password, options? })`.
    #[wasm_bindgen(js_name = signUp, skip_typescript)]
    pub fn sign_up(&self, credentials: JsValue) -> Promise {
        command(&self.shared, USER_SESSION, AuthCommand::SignUp(json_arg(&credentials)))
    }
    /// `signInWithPassword({ email | phone, password })`.
    #[wasm_bindgen(js_name = signInWithPassword, skip_typescript)]
    pub fn sign_in_with_password(&self, credentials: JsValue) -> Promise {
        command(&self.shared, USER_SESSION, AuthCommand::SignInWithPassword(json_arg(&credentials)))
    }
    /// `signInAnonymously({ options? })`.
    #[wasm_bindgen(js_name = signInAnonymously, skip_typescript)]
    pub fn sign_in_anonymously(&self, credentials: Option<JsValue>) -> Promise {
        let c = credentials.map_or_else(|| String::from("{}"), |v| json_arg(&v));
        command(&self.shared, USER_SESSION, AuthCommand::SignInAnonymously(c))
    }
    /// `signInWithOtp({ email | phone, options? })`: `{ user: null, session: null }`, plus
    /// `messageId` for an SMS.
    #[wasm_bindgen(js_name = signInWithOtp, skip_typescript)]
    pub fn sign_in_with_otp(&self, credentials: JsValue) -> Promise {
        command(&self.shared, USER_SESSION, AuthCommand::SignInWithOtp(json_arg(&credentials)))
    }
    /// `verifyOtp({ email | phone, token, type } | { token_hash, type })`.
    #[wasm_bindgen(js_name = verifyOtp, skip_typescript)]
    pub fn verify_otp(&self, params: JsValue) -> Promise {
        command(&self.shared, USER_SESSION, AuthCommand::VerifyOtp(json_arg(&params)))
    }
    /// `signInWithOAuth({ provider, options? })`: navigates to the provider unless
    /// `options.skipBrowserRedirect`.
    #[wasm_bindgen(js_name = signInWithOAuth, skip_typescript)]
    pub fn sign_in_with_oauth(&self, credentials: JsValue) -> Promise {
        let c = json_arg(&credentials);
        let skip = host::opt_bool(&credentials, "options.skipBrowserRedirect").unwrap_or(false);
        let t = driver::with_core(&self.shared, |core, now| core.sign_in_with_oauth(&c, now));
        driver::auth_promise(&self.shared, t, r#"{"provider":null,"url":null}"#, !skip)
    }
    /// `exchangeCodeForSession(code)`: `{ user, session, redirectType }`.
    #[wasm_bindgen(js_name = exchangeCodeForSession, skip_typescript)]
    pub fn exchange_code_for_session(&self, code: &str) -> Promise {
        let null_data = r#"{"user":null,"session":null,"redirectType":null}"#;
        command(&self.shared, null_data, AuthCommand::ExchangeCode(String::from(code)))
    }
    /// `signInWithIdToken({ provider, token, nonce? })`.
    #[wasm_bindgen(js_name = signInWithIdToken, skip_typescript)]
    pub fn sign_in_with_id_token(&self, credentials: JsValue) -> Promise {
        command(&self.shared, USER_SESSION, AuthCommand::SignInWithIdToken(json_arg(&credentials)))
    }
    /// `signOut({ scope? })`: `{ error }`.
    #[wasm_bindgen(js_name = signOut, skip_typescript)]
    pub fn sign_out(&self, options: Option<JsValue>) -> Promise {
        let scope = options.and_then(|o| host::opt_str(&o, "scope")).unwrap_or_else(|| String::from("global"));
        without_data(command(&self.shared, "null", AuthCommand::SignOut(scope)))
    }
    /// `getSession()`.
    #[wasm_bindgen(js_name = getSession, skip_typescript)]
    pub fn get_session(&self) -> Promise {
        command(&self.shared, SESSION, AuthCommand::GetSession)
    }
    /// `getUser(jwt?)`.
    #[wasm_bindgen(js_name = getUser, skip_typescript)]
    pub fn get_user(&self, jwt: Option<String>) -> Promise {
        command(&self.shared, USER, AuthCommand::GetUser(jwt))
    }
    /// `getClaims(jwt?)`: `{ claims, header, signature }`, `signature` the decoded bytes (a
    /// `Uint8Array`), as auth-js.
    #[wasm_bindgen(js_name = getClaims, skip_typescript)]
    pub fn get_claims(&self, jwt: Option<String>) -> Promise {
        then(command(&self.shared, "null", AuthCommand::GetClaims(jwt)), |r| {
            let data = Reflect::get(&r, &JsValue::from_str("data")).unwrap_or(JsValue::NULL);
            let key = JsValue::from_str("signature");
            let sig = Reflect::get(&data, &key).ok().and_then(|s| s.as_string());
            if let Some(bytes) = sig.as_deref().and_then(authwire_wire::jwt::b64url_decode) {
                let _ = Reflect::set(&data, &key, &Uint8Array::from(&bytes[..]));
            }
            r
        })
    }
    /// `refreshSession({ refresh_token? })`.
    #[wasm_bindgen(js_name = refreshSession, skip_typescript)]
    pub fn refresh_session(&self, current: Option<JsValue>) -> Promise {
        let rt = current.and_then(|c| host::opt_str(&c, "refresh_token"));
        command(&self.shared, USER_SESSION, AuthCommand::RefreshSession(rt))
    }
    /// `setSession({ access_token, refresh_token })`.
    #[wasm_bindgen(js_name = setSession, skip_typescript)]
    pub fn set_session(&self, tokens: JsValue) -> Promise {
        let access_token = host::opt_str(&tokens, "access_token").unwrap_or_default();
        let refresh_token = host::opt_str(&tokens, "refresh_token").unwrap_or_default();
        command(&self.shared, USER_SESSION, AuthCommand::SetSession { access_token, refresh_token })
    }
    /// `updateUser(attributes)`.
    #[wasm_bindgen(js_name = updateUser, skip_typescript)]
    pub fn update_user(&self, attributes: JsValue) -> Promise {
        command(&self.shared, USER, AuthCommand::UpdateUser(json_arg(&attributes)))
    }
    /// `resetPasswordForEmail(email, { redirectTo?, captchaToken? })`: `{ data: {} }`.
    #[wasm_bindgen(js_name = resetPasswordForEmail, skip_typescript)]
    pub fn reset_password_for_email(&self, email: &str, options: Option<JsValue>) -> Promise {
        let mut w = ObjectWriter::new();
        w.str("email", email).raw("options", &options.map_or_else(|| String::from("{}"), |o| json_arg(&o)));
        command(&self.shared, "null", AuthCommand::ResetPasswordForEmail(w.finish()))
    }
    /// `resend({ type, email | phone, options? })`.
    #[wasm_bindgen(skip_typescript)]
    pub fn resend(&self, credentials: JsValue) -> Promise {
        command(&self.shared, USER_SESSION, AuthCommand::Resend(json_arg(&credentials)))
    }
    /// `reauthenticate()`: GoTrue mails a nonce for `updateUser({ password, nonce })`.
    #[wasm_bindgen(skip_typescript)]
    pub fn reauthenticate(&self) -> Promise {
        command(&self.shared, USER_SESSION, AuthCommand::Reauthenticate)
    }
    /// `getUserIdentities()`: `{ identities }`.
    #[wasm_bindgen(js_name = getUserIdentities, skip_typescript)]
    pub fn get_user_identities(&self) -> Promise {
        command(&self.shared, "null", AuthCommand::GetUserIdentities)
    }
    /// `initialize()`: `{ error }` once start-up settled (the error of a session the page URL
    /// could not give).
    #[wasm_bindgen(skip_typescript)]
    pub fn initialize(&self) -> Promise {
        without_data(command(&self.shared, "null", AuthCommand::Initialize))
    }
    /// `onAuthStateChange((event, session) => void)`: `INITIAL_SESSION` first, then transitions.
    #[wasm_bindgen(js_name = onAuthStateChange, skip_typescript)]
    pub fn on_auth_state_change(&self, callback: Function) -> JsValue {
        let id = driver::with_core(&self.shared, |c, now| c.add_auth_listener(now));
        // After destroy() the callback is never called: not kept either.
        if !driver::is_destroyed(&self.shared) {
            self.shared.borrow_mut().auth_listeners.insert(id, callback.clone());
        }
        driver::drive(&self.shared);
        host::auth_subscription(Listeners { shared: self.shared.clone() }.into(), id.0, &callback)
    }
    /// Removes an auth listener (what `subscription.unsubscribe()` does).
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, id: u32) {
        Listeners { shared: self.shared.clone() }.remove_listener(id);
    }
    /// `startAutoRefresh()`.
    #[wasm_bindgen(js_name = startAutoRefresh)]
    pub fn start_auto_refresh(&self) -> Promise {
        driver::with_core(&self.shared, |c, now| c.start_auto_refresh(now));
        driver::drive(&self.shared);
        Promise::resolve(&JsValue::UNDEFINED)
    }
    /// `stopAutoRefresh()`.
    #[wasm_bindgen(js_name = stopAutoRefresh)]
    pub fn stop_auto_refresh(&self) -> Promise {
        self.shared.borrow_mut().core.stop_auto_refresh();
        driver::drive(&self.shared);
        Promise::resolve(&JsValue::UNDEFINED)
    }
    /// `dispose()`: stops auto-refresh and drops every `onAuthStateChange` listener, as
    /// auth-js's (the session stays; `client.destroy()` ends everything).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn dispose(&self) -> Promise {
        let ids: Vec<ListenerId> = self.shared.borrow().auth_listeners.keys().copied().collect();
        for id in ids {
            self.remove_listener(id.0);
        }
        self.stop_auto_refresh()
    }
    /// `isThrowOnErrorEnabled()`: authwire always resolves with `{ data, error }`.
    #[wasm_bindgen(js_name = isThrowOnErrorEnabled)]
    pub fn is_throw_on_error_enabled(&self) -> bool {
        false
    }
    /// `jwks`: the signing keys cached by `getClaims()` (`{ keys: [] }` before).
    #[wasm_bindgen(getter, unchecked_return_type = "{ keys: JsonWebKey[] }")]
    pub fn jwks(&self) -> JsValue {
        let keys = self.shared.borrow().core.auth().jwks().map(|(k, _)| String::from(k));
        host::parse_json(keys.as_deref().unwrap_or(r#"{"keys":[]}"#))
    }
    /// `jwks_cached_at`: when they were fetched (ms since the epoch), else
    /// `Number.MIN_SAFE_INTEGER`, as auth-js.
    #[wasm_bindgen(getter)]
    pub fn jwks_cached_at(&self) -> f64 {
        let at = self.shared.borrow().core.auth().jwks().map(|(_, at)| at.as_millis() as f64);
        at.unwrap_or(-9_007_199_254_740_991.0)
    }
    /// Why the last sign-out happened: `{ reason, code? }`, or `null`.
    #[wasm_bindgen(js_name = signOutReason, skip_typescript)]
    pub fn sign_out_reason(&self) -> JsValue {
        let inner = self.shared.borrow();
        let Some(r) = inner.core.sign_out_reason() else { return JsValue::NULL };
        let mut w = ObjectWriter::new();
        w.str("reason", r.as_str());
        if let Some(c) = r.code() {
            w.str("code", c);
        }
        host::parse_json(&w.finish())
    }
    /// `auth.mfa`.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn mfa(&self) -> JsValue {
        self.mfa.clone()
    }
    /// `auth.admin`: every method resolves with a `not_supported` error.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn admin(&self) -> JsValue {
        self.admin.clone()
    }
    /// `auth.oauth` (the OAuth 2.1 server's consent API): `not_supported`.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn oauth(&self) -> JsValue {
        self.oauth.clone()
    }
    /// `auth.passkey`: `not_supported`.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn passkey(&self) -> JsValue {
        self.passkey.clone()
    }
    /// `fetchJwk(kid, jwks?)`: rejects with a `not_supported` error (`getClaims()` fetches
    /// and caches the keys itself).
    #[wasm_bindgen(js_name = fetchJwk, skip_typescript)]
    pub fn fetch_jwk(&self) -> Promise {
        Promise::reject(&host::auth_error(&AuthError::NotSupported {
            what: "fetchJwk is not supported by authwire (getClaims verifies with the JWKS itself)",
        }))
    }
}

/// Out-of-scope methods on a namespace: each resolves with a `not_supported` error.
macro_rules! not_supported_methods {
    ($ty:ident, $what:expr; $($rust:ident => $js:literal),* $(,)?) => {
        #[wasm_bindgen]
        impl $ty {
            $(
                /// Resolves with a `not_supported` error.
                #[wasm_bindgen(js_name = $js, skip_typescript)]
                pub fn $rust(&self) -> Promise {
                    not_supported(($what)(self))
                }
            )*
        }
    };
}

not_supported_methods!(AuthApi, |_: &AuthApi| "this sign-in method is not supported by authwire";
    sign_in_with_sso => "signInWithSSO",
    sign_in_with_web3 => "signInWithWeb3",
    sign_in_with_ethereum => "signInWithEthereum",
    sign_in_with_solana => "signInWithSolana",
    sign_in_with_passkey => "signInWithPasskey",
    register_passkey => "registerPasskey",
);
not_supported_methods!(AuthApi, |_: &AuthApi| "identity linking is not supported by authwire";
    link_identity => "linkIdentity",
    link_identity_oauth => "linkIdentityOAuth",
    link_identity_id_token => "linkIdentityIdToken",
    unlink_identity => "unlinkIdentity",
);

/// Removes `onAuthStateChange` listeners: what a subscription's `unsubscribe()` calls.
#[wasm_bindgen(skip_typescript)]
pub struct Listeners {
    shared: Shared,
}

#[wasm_bindgen]
impl Listeners {
    /// Removes listener `id`.
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, id: u32) {
        let mut inner = self.shared.borrow_mut();
        inner.core.remove_auth_listener(ListenerId(id));
        inner.auth_listeners.remove(&ListenerId(id));
    }
}

/// `auth.mfa`: the factor list, unenrolment and assurance levels (what a server without
/// enrolled factors can answer); enrolment, challenges and verification are `not_supported`.
#[wasm_bindgen(skip_typescript)]
pub struct MfaApi {
    shared: Shared,
    webauthn: JsValue,
    recovery_codes: JsValue,
}

#[wasm_bindgen]
impl MfaApi {
    /// `mfa.listFactors()`: `{ all, phone, totp, webauthn, recovery_code }`.
    #[wasm_bindgen(js_name = listFactors)]
    pub fn list_factors(&self) -> Promise {
        command(&self.shared, "null", AuthCommand::MfaListFactors)
    }
    /// `mfa.unenroll({ factorId })`: `{ id }`.
    pub fn unenroll(&self, params: JsValue) -> Promise {
        let id = host::opt_str(&params, "factorId").unwrap_or_default();
        command(&self.shared, "null", AuthCommand::MfaUnenroll(id))
    }
    /// `mfa.getAuthenticatorAssuranceLevel(jwt?)`: `{ currentLevel, nextLevel,
    /// currentAuthenticationMethods }`.
    #[wasm_bindgen(js_name = getAuthenticatorAssuranceLevel)]
    pub fn get_authenticator_assurance_level(&self, jwt: Option<String>) -> Promise {
        command(&self.shared, "null", AuthCommand::MfaAssuranceLevel(jwt))
    }
    /// `mfa.webauthn`: `not_supported`.
    #[wasm_bindgen(getter)]
    pub fn webauthn(&self) -> JsValue {
        self.webauthn.clone()
    }
    /// `mfa.recoveryCodes`: `not_supported`.
    #[wasm_bindgen(getter, js_name = recoveryCodes)]
    pub fn recovery_codes(&self) -> JsValue {
        self.recovery_codes.clone()
    }
}

not_supported_methods!(MfaApi, |_: &MfaApi| MFA;
    enroll => "enroll",
    challenge => "challenge",
    verify => "verify",
    challenge_and_verify => "challengeAndVerify",
);

/// `auth.admin`: every method and namespace is `not_supported` (the admin API needs the
/// service key, which has no place in a browser).
#[wasm_bindgen(skip_typescript)]
pub struct AdminApi {
    mfa: JsValue,
    oauth: JsValue,
    custom_providers: JsValue,
    passkey: JsValue,
}

#[wasm_bindgen]
impl AdminApi {
    /// `admin.mfa`.
    #[wasm_bindgen(getter)]
    pub fn mfa(&self) -> JsValue {
        self.mfa.clone()
    }
    /// `admin.oauth`.
    #[wasm_bindgen(getter)]
    pub fn oauth(&self) -> JsValue {
        self.oauth.clone()
    }
    /// `admin.customProviders`.
    #[wasm_bindgen(getter, js_name = customProviders)]
    pub fn custom_providers(&self) -> JsValue {
        self.custom_providers.clone()
    }
    /// `admin.passkey`.
    #[wasm_bindgen(getter)]
    pub fn passkey(&self) -> JsValue {
        self.passkey.clone()
    }
}

not_supported_methods!(AdminApi, |_: &AdminApi| ADMIN;
    sign_out => "signOut",
    invite_user_by_email => "inviteUserByEmail",
    generate_link => "generateLink",
    create_user => "createUser",
    list_users => "listUsers",
    get_user_by_id => "getUserById",
    update_user_by_id => "updateUserById",
    delete_user => "deleteUser",
);

/// The leaf namespaces authwire leaves out (`auth.oauth`, `auth.passkey`, `mfa.webauthn`,
/// `mfa.recoveryCodes`, `admin.mfa`, `admin.oauth`, `admin.customProviders`,
/// `admin.passkey`): one object type with every method of any of them, each resolving with a
/// `not_supported` error.
#[wasm_bindgen(skip_typescript)]
pub struct NotSupportedApi {
    what: &'static str,
}

not_supported_methods!(NotSupportedApi, |s: &NotSupportedApi| s.what;
    get_authorization_details => "getAuthorizationDetails",
    approve_authorization => "approveAuthorization",
    deny_authorization => "denyAuthorization",
    list_grants => "listGrants",
    revoke_grant => "revokeGrant",
    start_registration => "startRegistration",
    verify_registration => "verifyRegistration",
    start_authentication => "startAuthentication",
    verify_authentication => "verifyAuthentication",
    list => "list",
    update => "update",
    delete => "delete",
    enroll => "enroll",
    challenge => "challenge",
    verify => "verify",
    authenticate => "authenticate",
    register => "register",
    get_status => "getStatus",
    generate => "generate",
    regenerate => "regenerate",
    unenroll => "unenroll",
    list_factors => "listFactors",
    delete_factor => "deleteFactor",
    list_clients => "listClients",
    create_client => "createClient",
    get_client => "getClient",
    update_client => "updateClient",
    delete_client => "deleteClient",
    regenerate_client_secret => "regenerateClientSecret",
    list_providers => "listProviders",
    create_provider => "createProvider",
    get_provider => "getProvider",
    update_provider => "updateProvider",
    delete_provider => "deleteProvider",
    list_passkeys => "listPasskeys",
    delete_passkey => "deletePasskey",
);
