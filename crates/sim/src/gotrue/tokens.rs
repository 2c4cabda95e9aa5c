//! Tokens and rotation: minting and judging access tokens, issuing refresh tokens, the
//! refresh grant with GoTrue's legacy rotation rules (the module doc of [`super`] lists them)
//! and the record of every presentation (G8's evidence), and the JWKS.

use super::*;

impl ModelGoTrue {
    pub(super) fn sign(&mut self, header: &str, claims: &str) -> String {
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

    pub(super) fn new_refresh_token(&mut self, session: &str, parent: Option<&str>) -> String {
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

    pub(super) fn mint_access_token(&mut self, user_id: &str, session_id: &str, now: UnixTime) -> String {
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

    /// `true` if `signed.signature` is a token this server minted (an [`authwire_core::io::Output::Verify`]
    /// against its JWKS).
    pub fn verify_signature(&self, signed: &str, signature: &str) -> bool {
        let mut t = String::from(signed);
        t.push('.');
        t.push_str(signature);
        self.access_tokens.contains_key(&t)
    }

    // ---- users and sessions (also the test's admin API) -----------------------------------

    pub(super) fn token_response(&mut self, user_id: &str, session_id: &str, refresh: &str, now: UnixTime) -> String {
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

    pub(super) fn jwks(&self) -> String {
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

    pub(super) fn refresh_grant(&mut self, body: &Value, now: UnixTime) -> Result<String, ApiErr> {
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
    pub(super) fn exchange(&mut self, token: &str, now: UnixTime) -> Result<RefreshOutcome, (RefreshOutcome, ApiErr)> {
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

    pub(super) fn revoke(&mut self, token: &str, now: UnixTime) {
        if let Some(t) = self.refresh_tokens.get_mut(token) {
            if !t.revoked {
                t.revoked = true;
                t.revoked_at = Some(now);
            }
        }
    }

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
