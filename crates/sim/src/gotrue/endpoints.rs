//! The HTTP surface: routing a request (API key, bearer, API version) to GoTrue's endpoints —
//! signup, token grants, user, logout, otp, verify — and answering with GoTrue's bodies;
//! [`ModelGoTrue::serve`] adds the injected faults.

use super::*;

impl ModelGoTrue {
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

    pub(super) fn route(&mut self, r: &Req<'_>, now: UnixTime) -> Result<(u16, String), ApiErr> {
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
    pub(super) fn check_apikey(&self, r: &Req<'_>) -> Result<(), ApiErr> {
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

    /// GoTrue's checks of a user call's Bearer access token; `(user id, session id)`.
    pub(super) fn authenticate(&self, r: &Req<'_>, now: UnixTime) -> Result<(String, String), ApiErr> {
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

    pub(super) fn check_password(&self, password: &str) -> Result<(), ApiErr> {
        if password.chars().count() < self.config.min_password_len {
            return Err(ApiErr::Weak {
                message: "Password should be at least 6 characters.",
                reasons: r#"["length"]"#,
            });
        }
        Ok(())
    }

    pub(super) fn signup(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
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

    pub(super) fn token(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
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

    pub(super) fn sign_in_existing(&mut self, user: &str, amr: &'static str, now: UnixTime) -> Result<String, ApiErr> {
        if self.users.get(user).is_some_and(|u| u.banned) {
            return Err(err(400, "user_banned", "User is banned"));
        }
        let (sid, rt) = self.new_session(user, amr, now);
        Ok(self.token_response(user, &sid, &rt, now))
    }

    pub(super) fn update_user(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
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

    pub(super) fn logout(&mut self, r: &Req<'_>, now: UnixTime) -> Result<(), ApiErr> {
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

    pub(super) fn otp(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
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

    pub(super) fn verify(&mut self, r: &Req<'_>, now: UnixTime) -> Result<String, ApiErr> {
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
}
