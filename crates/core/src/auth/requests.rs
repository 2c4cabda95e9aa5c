//! GoTrue requests: URLs, headers and bodies exactly as auth-js sends them
//! (auth-session.md §1.1–1.2).

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::gotrue::API_VERSION;
use authwire_wire::json::{self, ObjectWriter, Value};

use crate::io::HttpRequest;
use authwire_wire::url::encode_component;

/// Where and how to talk to GoTrue.
#[derive(Debug, Clone, Copy)]
pub struct Gotrue<'a> {
    /// `https://ref.supabase.co/auth/v1`.
    pub base: &'a str,
    /// The project API key (`apikey` header, and the Bearer of key-level calls).
    pub key: &'a str,
    /// Extra headers for every request (`global.headers`).
    pub headers: &'a [(String, String)],
}

impl Gotrue<'_> {
    /// A request to `path` (with its query) authorised by `bearer` (a user's access token) or
    /// by the API key.
    pub fn request(&self, method: &'static str, path: &str, bearer: Option<&str>, body: Option<String>) -> HttpRequest {
        let mut url = String::from(self.base);
        url.push_str(path);
        let mut auth = String::from("Bearer ");
        auth.push_str(bearer.unwrap_or(self.key));
        let mut headers = alloc::vec![
            (String::from("apikey"), String::from(self.key)),
            (String::from("Authorization"), auth),
            (String::from("X-Supabase-Api-Version"), String::from(API_VERSION)),
            (String::from("X-Client-Info"), String::from(concat!("authwire/", env!("CARGO_PKG_VERSION")))),
        ];
        if body.is_some() {
            headers.push((String::from("Content-Type"), String::from("application/json;charset=UTF-8")));
        }
        for (k, v) in self.headers {
            if let Some(i) = headers.iter().position(|(h, _)| h.eq_ignore_ascii_case(k)) {
                headers.remove(i);
            }
            headers.push((k.clone(), v.clone()));
        }
        HttpRequest { method, url, headers, body }
    }
}

/// Reads a string member of the app's credentials object.
pub fn cred<'a>(creds: &'a Value, key: &str) -> Option<&'a str> {
    creds.get(key).and_then(Value::as_str)
}

/// `options.<key>` of the app's credentials object.
pub fn opt<'a>(creds: &'a Value, key: &str) -> Option<&'a Value> {
    creds.get("options").and_then(|o| o.get(key))
}

fn security(w: &mut ObjectWriter, creds: &Value) {
    let mut s = ObjectWriter::new();
    if let Some(c) = opt(creds, "captchaToken").and_then(Value::as_str) {
        s.str("captcha_token", c);
    }
    w.raw("gotrue_meta_security", &s.finish());
}

/// Copies the string members `keys` of the credentials that are present.
fn copy(w: &mut ObjectWriter, creds: &Value, keys: &[&str]) {
    for k in keys {
        if let Some(v) = cred(creds, k) {
            w.str(k, v);
        }
    }
}

/// `data`, `channel`, the captcha and the PKCE challenge: what `/signup` and `/otp` share.
fn finish_with_options(mut w: ObjectWriter, creds: &Value, pkce: Option<(&str, &str)>) -> String {
    w.value("data", opt(creds, "data").unwrap_or(&Value::Obj(Vec::new())));
    if let Some(ch) = opt(creds, "channel").and_then(Value::as_str) {
        w.str("channel", ch);
    }
    security(&mut w, creds);
    if let Some((challenge, method)) = pkce {
        w.str("code_challenge", challenge).str("code_challenge_method", method);
    }
    w.finish()
}

/// `POST /signup` body (email or phone + password, or anonymous without either).
pub fn signup_body(creds: &Value, pkce: Option<(&str, &str)>) -> String {
    let mut w = ObjectWriter::new();
    copy(&mut w, creds, &["email", "phone", "password"]);
    finish_with_options(w, creds, pkce)
}

/// `POST /token?grant_type=password` body.
pub fn password_body(creds: &Value) -> String {
    let mut w = ObjectWriter::new();
    copy(&mut w, creds, &["email", "phone"]);
    w.str("password", cred(creds, "password").unwrap_or(""));
    security(&mut w, creds);
    w.finish()
}

/// `POST /token?grant_type=refresh_token` body.
pub fn refresh_body(refresh_token: &str) -> String {
    let mut w = ObjectWriter::new();
    w.str("refresh_token", refresh_token);
    w.finish()
}

/// `POST /token?grant_type=pkce` body.
pub fn pkce_body(code: &str, verifier: &str) -> String {
    let mut w = ObjectWriter::new();
    w.str("auth_code", code).str("code_verifier", verifier);
    w.finish()
}

/// `POST /token?grant_type=id_token` body.
pub fn id_token_body(creds: &Value) -> String {
    let mut w = ObjectWriter::new();
    w.str("provider", cred(creds, "provider").unwrap_or("")).str("id_token", cred(creds, "token").unwrap_or(""));
    copy(&mut w, creds, &["access_token", "nonce"]);
    security(&mut w, creds);
    w.finish()
}

/// `POST /otp` body.
pub fn otp_body(creds: &Value, pkce: Option<(&str, &str)>) -> String {
    let mut w = ObjectWriter::new();
    copy(&mut w, creds, &["email", "phone"]);
    w.bool("create_user", opt(creds, "shouldCreateUser").and_then(Value::as_bool).unwrap_or(true));
    finish_with_options(w, creds, pkce)
}

/// `POST /recover` body (`resetPasswordForEmail`): `email`, the PKCE challenge (`null`
/// without PKCE, as auth-js sends it), the captcha.
pub fn recover_body(creds: &Value, pkce: Option<(&str, &str)>) -> String {
    let mut w = ObjectWriter::new();
    w.str("email", cred(creds, "email").unwrap_or(""));
    pkce_members(&mut w, pkce);
    security(&mut w, creds);
    w.finish()
}

/// `POST /resend` body: `email` (with the PKCE challenge) or `phone`, `type`, the captcha.
pub fn resend_body(creds: &Value, pkce: Option<(&str, &str)>) -> String {
    let mut w = ObjectWriter::new();
    let email = cred(creds, "email");
    copy(&mut w, creds, &["email", "phone", "type"]);
    security(&mut w, creds);
    if email.is_some() {
        pkce_members(&mut w, pkce);
    }
    w.finish()
}

/// `code_challenge` and `code_challenge_method`, `null` without PKCE.
fn pkce_members(w: &mut ObjectWriter, pkce: Option<(&str, &str)>) {
    match pkce {
        Some((challenge, method)) => w.str("code_challenge", challenge).str("code_challenge_method", method),
        None => w.raw("code_challenge", "null").raw("code_challenge_method", "null"),
    };
}

/// `POST /verify` body.
pub fn verify_body(creds: &Value) -> String {
    let mut w = ObjectWriter::new();
    w.str("type", cred(creds, "type").unwrap_or("email"));
    if let Some(h) = cred(creds, "token_hash") {
        w.str("token_hash", h);
    } else {
        if let Some(e) = cred(creds, "email") {
            w.str("email", e);
        }
        if let Some(p) = cred(creds, "phone") {
            w.str("phone", p);
        }
        w.str("token", cred(creds, "token").unwrap_or(""));
    }
    security(&mut w, creds);
    w.finish()
}

/// `?redirect_to=<url>` (or empty).
pub fn redirect_query(creds: &Value, key: &str) -> String {
    match opt(creds, key).and_then(Value::as_str) {
        Some(r) => {
            let mut q = String::from("?redirect_to=");
            encode_component(&mut q, r);
            q
        }
        None => String::new(),
    }
}

/// The `/authorize` URL for an OAuth provider.
pub fn authorize_url(base: &str, creds: &Value, pkce: Option<(&str, &str)>) -> String {
    let mut url = String::from(base);
    url.push_str("/authorize?provider=");
    encode_component(&mut url, cred(creds, "provider").unwrap_or(""));
    if let Some(r) = opt(creds, "redirectTo").and_then(Value::as_str) {
        url.push_str("&redirect_to=");
        encode_component(&mut url, r);
    }
    if let Some(s) = opt(creds, "scopes").and_then(Value::as_str) {
        url.push_str("&scopes=");
        encode_component(&mut url, s);
    }
    if let Some((challenge, method)) = pkce {
        url.push_str("&code_challenge=");
        encode_component(&mut url, challenge);
        url.push_str("&code_challenge_method=");
        url.push_str(method);
    }
    if let Some(Value::Obj(params)) = opt(creds, "queryParams") {
        for (k, v) in params {
            if let Some(v) = v.as_str() {
                url.push('&');
                encode_component(&mut url, k);
                url.push('=');
                encode_component(&mut url, v);
            }
        }
    }
    url
}

/// The JSON of a `{ user }` / `{ user, session }` result.
pub fn user_session_data(user: &str, session: Option<&str>) -> String {
    let mut w = ObjectWriter::new();
    w.raw("user", user);
    if let Some(s) = session {
        w.raw("session", s);
    } else {
        w.raw("session", "null");
    }
    w.finish()
}

/// `{ "user": … }`.
pub fn user_data(user: &str) -> String {
    let mut w = ObjectWriter::new();
    w.raw("user", user);
    w.finish()
}

/// Parses the app's credential object text; anything unreadable is an empty object.
pub fn parse_creds(text: &str) -> Value {
    json::parse(text).ok().filter(|v| v.as_object().is_some()).unwrap_or(Value::Obj(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_gotrue_headers() {
        let extra = alloc::vec![(String::from("x-app"), String::from("1"))];
        let g = Gotrue { base: "http://h/auth/v1", key: "KEY", headers: &extra };
        let r = g.request("POST", "/token?grant_type=refresh_token", None, Some(refresh_body("rt")));
        assert_eq!(r.url, "http://h/auth/v1/token?grant_type=refresh_token");
        assert_eq!(r.body.as_deref(), Some(r#"{"refresh_token":"rt"}"#));
        assert!(r.headers.contains(&("Authorization".into(), "Bearer KEY".into())));
        assert!(r.headers.contains(&("X-Supabase-Api-Version".into(), "2024-01-01".into())));
        assert!(r.headers.contains(&("x-app".into(), "1".into())));
        let r = g.request("GET", "/user", Some("AT"), None);
        assert!(r.headers.contains(&("Authorization".into(), "Bearer AT".into())));
        assert!(!r.headers.iter().any(|(k, _)| k == "Content-Type"));
    }

    #[test]
    fn bodies() {
        let c = parse_creds(r#"{"email":"a@b.c","password":"pw","options":{"data":{"n":1},"captchaToken":"cap"}}"#);
        assert_eq!(
            signup_body(&c, Some(("CH", "s256"))),
            r#"{"email":"a@b.c","password":"pw","data":{"n":1},"gotrue_meta_security":{"captcha_token":"cap"},"code_challenge":"CH","code_challenge_method":"s256"}"#
        );
        assert_eq!(
            password_body(&c),
            r#"{"email":"a@b.c","password":"pw","gotrue_meta_security":{"captcha_token":"cap"}}"#
        );
        let anon = parse_creds("{}");
        assert_eq!(signup_body(&anon, None), r#"{"data":{},"gotrue_meta_security":{}}"#);
        let o = parse_creds(r#"{"provider":"dev","options":{"redirectTo":"http://x/cb?a=1"}}"#);
        assert_eq!(
            authorize_url("http://h/auth/v1", &o, Some(("CH", "s256"))),
            "http://h/auth/v1/authorize?provider=dev&redirect_to=http%3A%2F%2Fx%2Fcb%3Fa%3D1&code_challenge=CH&code_challenge_method=s256"
        );
    }
}
