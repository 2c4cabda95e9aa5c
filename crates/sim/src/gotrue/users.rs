//! Users and sessions: creating, banning and deleting users, starting and ending sessions,
//! the authorization codes and id tokens of the `dev` provider, OTP codes, and the user JSON.

use super::*;

impl ModelGoTrue {
    pub(super) fn uuid(&mut self) -> String {
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

    /// The live (not deleted) user with this email.
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let email = email.to_ascii_lowercase();
        self.users.values().find(|u| !u.deleted && u.email.as_deref() == Some(email.as_str()))
    }

    pub(super) fn insert_user(
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

    pub(super) fn new_session(&mut self, user_id: &str, amr: &'static str, now: UnixTime) -> (String, String) {
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
}
