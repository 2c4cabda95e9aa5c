//! `client.auth`: every session command (`{ data, error }` promises), `onAuthStateChange`,
//! auto-refresh controls, `isAuthError`, and the out-of-scope APIs (`mfa`, `admin`, SSO, …)
//! that resolve with a typed `not_supported` error.

use alloc::string::String;

use authwire_core::error::AuthError;
use authwire_core::io::{ListenerId, Ticket};
use authwire_core::{Client, Now};
use authwire_wire::json;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::driver::{self, Shared};
use crate::host;

/// `isAuthError(e)`: true for errors from `client.auth`, across bundle copies (a marker, not
/// `instanceof`; the test lives in `js/glue.js` next to the class that sets the marker).
#[wasm_bindgen(js_name = isAuthError, skip_typescript)]
pub fn is_auth_error(e: &JsValue) -> bool {
    host::is_auth_error(e)
}

/// `client.auth`.
#[wasm_bindgen]
pub struct AuthApi {
    pub(crate) shared: Shared,
}

const USER_SESSION: &str = r#"{"user":null,"session":null}"#;
const SESSION: &str = r#"{"session":null}"#;
const USER: &str = r#"{"user":null}"#;

impl AuthApi {
    fn json_arg(v: &JsValue) -> String {
        host::to_json(v).unwrap_or_else(|| String::from("{}"))
    }
    fn run(&self, null_data: &'static str, navigate: bool, f: impl FnOnce(&mut Client, Now) -> Ticket) -> Promise {
        let t = driver::with_core(&self.shared, f);
        driver::auth_promise(&self.shared, t, null_data, navigate)
    }
    fn not_supported(what: &'static str) -> Promise {
        let err = host::auth_error(&AuthError::NotSupported { what });
        Promise::resolve(&host::auth_result("null", &err))
    }
}

#[wasm_bindgen]
impl AuthApi {
    /// `signUp({ email | phone, password, options? })`.
    #[wasm_bindgen(js_name = signUp, skip_typescript)]
    pub fn sign_up(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_up(&c, now))
    }
    /// `signInWithPassword({ email | phone, password })`.
    #[wasm_bindgen(js_name = signInWithPassword, skip_typescript)]
    pub fn sign_in_with_password(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_in_with_password(&c, now))
    }
    /// `signInAnonymously({ options? })`.
    #[wasm_bindgen(js_name = signInAnonymously, skip_typescript)]
    pub fn sign_in_anonymously(&self, credentials: Option<JsValue>) -> Promise {
        let c = credentials.map_or_else(|| String::from("{}"), |v| Self::json_arg(&v));
        self.run(USER_SESSION, false, |core, now| core.sign_in_anonymously(&c, now))
    }
    /// `signInWithOtp({ email | phone, options? })`.
    #[wasm_bindgen(js_name = signInWithOtp, skip_typescript)]
    pub fn sign_in_with_otp(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_in_with_otp(&c, now))
    }
    /// `verifyOtp({ email | phone, token, type } | { token_hash, type })`.
    #[wasm_bindgen(js_name = verifyOtp, skip_typescript)]
    pub fn verify_otp(&self, params: JsValue) -> Promise {
        let c = Self::json_arg(&params);
        self.run(USER_SESSION, false, |core, now| core.verify_otp(&c, now))
    }
    /// `signInWithOAuth({ provider, options? })`: navigates to the provider unless
    /// `options.skipBrowserRedirect`.
    #[wasm_bindgen(js_name = signInWithOAuth, skip_typescript)]
    pub fn sign_in_with_oauth(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        let skip = host::opt_bool(&credentials, "options.skipBrowserRedirect").unwrap_or(false);
        self.run(r#"{"provider":null,"url":null}"#, !skip, |core, now| core.sign_in_with_oauth(&c, now))
    }
    /// `exchangeCodeForSession(code)`.
    #[wasm_bindgen(js_name = exchangeCodeForSession, skip_typescript)]
    pub fn exchange_code_for_session(&self, code: &str) -> Promise {
        self.run(USER_SESSION, false, |core, now| core.exchange_code(code, now))
    }
    /// `signInWithIdToken({ provider, token, nonce? })`.
    #[wasm_bindgen(js_name = signInWithIdToken, skip_typescript)]
    pub fn sign_in_with_id_token(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_in_with_id_token(&c, now))
    }
    /// `signOut({ scope? })`.
    #[wasm_bindgen(js_name = signOut, skip_typescript)]
    pub fn sign_out(&self, options: Option<JsValue>) -> Promise {
        let scope = options.and_then(|o| host::opt_str(&o, "scope")).unwrap_or_else(|| String::from("global"));
        self.run("null", false, |core, now| core.sign_out(&scope, now))
    }
    /// `getSession()`.
    #[wasm_bindgen(js_name = getSession, skip_typescript)]
    pub fn get_session(&self) -> Promise {
        self.run(SESSION, false, |core, now| core.get_session(now))
    }
    /// `getUser(jwt?)`.
    #[wasm_bindgen(js_name = getUser, skip_typescript)]
    pub fn get_user(&self, jwt: Option<String>) -> Promise {
        self.run(USER, false, |core, now| core.get_user(jwt.as_deref(), now))
    }
    /// `getClaims(jwt?)`.
    #[wasm_bindgen(js_name = getClaims, skip_typescript)]
    pub fn get_claims(&self, jwt: Option<String>) -> Promise {
        self.run("null", false, |core, now| core.get_claims(jwt.as_deref(), now))
    }
    /// `refreshSession({ refresh_token? })`.
    #[wasm_bindgen(js_name = refreshSession, skip_typescript)]
    pub fn refresh_session(&self, current: Option<JsValue>) -> Promise {
        let rt = current.and_then(|c| host::opt_str(&c, "refresh_token"));
        self.run(USER_SESSION, false, |core, now| core.refresh_session(rt.as_deref(), now))
    }
    /// `setSession({ access_token, refresh_token })`.
    #[wasm_bindgen(js_name = setSession, skip_typescript)]
    pub fn set_session(&self, tokens: JsValue) -> Promise {
        let at = host::opt_str(&tokens, "access_token").unwrap_or_default();
        let rt = host::opt_str(&tokens, "refresh_token").unwrap_or_default();
        self.run(USER_SESSION, false, |core, now| core.set_session(&at, &rt, now))
    }
    /// `updateUser(attributes)`.
    #[wasm_bindgen(js_name = updateUser, skip_typescript)]
    pub fn update_user(&self, attributes: JsValue) -> Promise {
        let c = Self::json_arg(&attributes);
        self.run(USER, false, |core, now| core.update_user(&c, now))
    }
    /// `onAuthStateChange((event, session) => void)`: `INITIAL_SESSION` first, then transitions.
    #[wasm_bindgen(js_name = onAuthStateChange, skip_typescript)]
    pub fn on_auth_state_change(&self, callback: Function) -> JsValue {
        let id = driver::with_core(&self.shared, |c, now| c.add_auth_listener(now));
        self.shared.borrow_mut().auth_listeners.insert(id, callback.clone());
        driver::drive(&self.shared);
        host::auth_subscription(AuthApi { shared: self.shared.clone() }.into(), id.0, &callback)
    }
    /// Removes an auth listener (used by `subscription.unsubscribe()`).
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, id: u32) {
        let mut inner = self.shared.borrow_mut();
        inner.core.remove_auth_listener(ListenerId(id));
        inner.auth_listeners.remove(&ListenerId(id));
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
    /// Why the last sign-out happened: `{ reason, code? }`, or `null`.
    #[wasm_bindgen(js_name = signOutReason, skip_typescript)]
    pub fn sign_out_reason(&self) -> JsValue {
        let inner = self.shared.borrow();
        let Some(r) = inner.core.sign_out_reason() else { return JsValue::NULL };
        let mut w = json::ObjectWriter::new();
        w.str("reason", r.as_str());
        if let Some(c) = r.code() {
            w.str("code", c);
        }
        host::parse_json(&w.finish())
    }
    /// Not supported by authwire: resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = signInWithSSO, skip_typescript)]
    pub fn sign_in_with_sso(&self) -> Promise {
        Self::not_supported("SSO is not supported by authwire")
    }
    /// Not supported by authwire.
    #[wasm_bindgen(js_name = signInWithWeb3, skip_typescript)]
    pub fn sign_in_with_web3(&self) -> Promise {
        Self::not_supported("Web3 sign-in is not supported by authwire")
    }
    /// Not supported by authwire.
    #[wasm_bindgen(js_name = linkIdentity, skip_typescript)]
    pub fn link_identity(&self) -> Promise {
        Self::not_supported("identity linking is not supported by authwire")
    }
    /// Not supported by authwire.
    #[wasm_bindgen(js_name = unlinkIdentity, skip_typescript)]
    pub fn unlink_identity(&self) -> Promise {
        Self::not_supported("identity linking is not supported by authwire")
    }
    /// `auth.mfa`: every method resolves with a `not_supported` error.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn mfa(&self) -> NotSupportedApi {
        NotSupportedApi { what: "MFA is not supported by authwire" }
    }
    /// `auth.admin`: every method resolves with a `not_supported` error.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn admin(&self) -> NotSupportedApi {
        NotSupportedApi { what: "the admin API is not supported by authwire (use a server-side client)" }
    }
}

/// `auth.mfa` / `auth.admin`: out of scope, typed errors instead of missing methods.
#[wasm_bindgen(skip_typescript)]
pub struct NotSupportedApi {
    what: &'static str,
}

#[wasm_bindgen]
impl NotSupportedApi {
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = enroll)]
    pub fn enroll(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    pub fn challenge(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    pub fn verify(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = listFactors)]
    pub fn list_factors(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = listUsers)]
    pub fn list_users(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = createUser)]
    pub fn create_user(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
}
