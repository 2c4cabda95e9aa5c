//! Result and error shapes of the auth commands, as auth-js 2.119 gives them (weak passwords,
//! OTP and resend results, password reset, code exchange, account calls, error types).

use super::*;

#[test]
fn weak_passwords_are_auth_js_weak_password_errors() {
    let mut h = H::new();
    h.read("-auth-token", None);
    let t = h.cmd(AuthCommand::SignUp(String::from(r#"{"email":"a@b.c","password":"123"}"#)));
    let (id, _) = h.request("POST", "/signup");
    h.answer(
        id,
        422,
        r#"{"code":"weak_password","message":"Password should be at least 6 characters.","weak_password":{"reasons":["length"]}}"#,
    );
    let e = h.done(t).unwrap().unwrap_err();
    assert_eq!((e.name(), e.code(), e.status()), ("AuthWeakPasswordError", "weak_password", Some(422)));
    assert_eq!(e.reasons(), ["length"]);
    // Older servers: no code, only the reasons.
    let t = h.cmd(AuthCommand::SignUp(String::from(r#"{"email":"a@b.c","password":"123"}"#)));
    let (id, _) = h.request("POST", "/signup");
    h.answer(id, 422, r#"{"msg":"weak","weak_password":{"reasons":["characters"]}}"#);
    assert_eq!(h.done(t).unwrap().unwrap_err().reasons(), ["characters"]);
    // A weak but accepted password: the password grant's result carries `weak_password`.
    let t = h.cmd(AuthCommand::SignInWithPassword(String::from(r#"{"email":"a@b.c","password":"12345"}"#)));
    let (id, _) = h.request("POST", "grant_type=password");
    let mut body = token_response(T0 / 1000 + 3600, "rt1");
    body.pop();
    body.push_str(r#","weak_password":{"reasons":["length"],"message":"short"}}"#);
    h.answer(id, 200, &body);
    assert!(h.done(t).unwrap().unwrap().ends_with(r#","weak_password":{"reasons":["length"],"message":"short"}}"#));
}

#[test]
fn missing_addresses_fail_before_any_request() {
    let mut h = H::new();
    h.read("-auth-token", None);
    for cmd in [
        AuthCommand::SignUp(String::from(r#"{"password":"secret"}"#)),
        AuthCommand::SignInWithPassword(String::from(r#"{"password":"secret"}"#)),
        AuthCommand::SignInWithOtp(String::from("{}")),
        AuthCommand::Resend(String::from(r#"{"type":"signup"}"#)),
    ] {
        let t = h.cmd(cmd);
        let e = h.done(t).unwrap().unwrap_err();
        assert_eq!((e.name(), e.status()), ("AuthInvalidCredentialsError", Some(400)));
    }
    assert!(h.http.is_empty());
}

#[test]
fn otp_and_resend_results_carry_message_id_for_sms_only() {
    let mut h = H::new();
    h.read("-auth-token", None);
    let t = h.cmd(AuthCommand::SignInWithOtp(String::from(r#"{"phone":"+15555550100"}"#)));
    let (id, _) = h.request("POST", "/otp");
    h.answer(id, 200, r#"{"message_id":"SM123"}"#);
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"user":null,"session":null,"messageId":"SM123"}"#))));
    let t = h.cmd(AuthCommand::SignInWithOtp(String::from(r#"{"email":"a@b.c"}"#)));
    let (id, _) = h.request("POST", "/otp");
    h.answer(id, 200, "{}");
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"user":null,"session":null}"#))));

    let t = h.cmd(AuthCommand::Resend(String::from(
        r#"{"type":"signup","email":"a@b.c","options":{"emailRedirectTo":"http://localhost/x"}}"#,
    )));
    let (id, r) = h.request("POST", "/resend");
    assert!(r.url.ends_with("/resend?redirect_to=http%3A%2F%2Flocalhost%2Fx"), "{}", r.url);
    assert_eq!(
        r.body.as_deref(),
        Some(
            r#"{"email":"a@b.c","type":"signup","gotrue_meta_security":{},"code_challenge":null,"code_challenge_method":null}"#
        )
    );
    h.answer(id, 200, "{}");
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"user":null,"session":null}"#))));
    let t = h.cmd(AuthCommand::Resend(String::from(r#"{"type":"sms","phone":"+15555550100"}"#)));
    let (id, _) = h.request("POST", "/resend");
    h.answer(id, 200, r#"{"message_id":"SM9"}"#);
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"user":null,"session":null,"messageId":"SM9"}"#))));
}

#[test]
fn password_reset_posts_recover_and_with_pkce_stores_a_recovery_verifier() {
    let mut h = H::new();
    h.read("-auth-token", None);
    let t = h.cmd(AuthCommand::ResetPasswordForEmail(String::from(
        r#"{"email":"a@b.c","options":{"redirectTo":"http://localhost/reset"}}"#,
    )));
    let (id, r) = h.request("POST", "/recover");
    assert!(r.url.ends_with("/recover?redirect_to=http%3A%2F%2Flocalhost%2Freset"));
    assert_eq!(
        r.body.as_deref(),
        Some(r#"{"email":"a@b.c","code_challenge":null,"code_challenge_method":null,"gotrue_meta_security":{}}"#)
    );
    assert_eq!(bearer(&r), format!("Bearer {KEY}"));
    h.answer(id, 200, "{}");
    assert_eq!(h.done(t), Some(Ok(String::from("{}"))));

    // PKCE: the verifier is stored as `<verifier>/recovery`; its exchange is a recovery.
    let mut h = H::with(true, true, None);
    h.read("-auth-token", None);
    let now = h.now;
    let t = h.c.auth_command(AuthCommand::ResetPasswordForEmail(String::from(r#"{"email":"a@b.c"}"#)), now);
    let mut written = None;
    while let Some(o) = h.c.poll_output() {
        match o {
            Output::Storage { id, op: StorageOp::Set(k, v) } if k.ends_with("-code-verifier") => {
                written = Some((id, v))
            }
            Output::Event(e) => h.events.push(e),
            _ => {}
        }
    }
    let (wid, verifier) = written.expect("the verifier is stored first");
    assert!(verifier.ends_with("/recovery") && verifier.len() == 112 + 9, "{verifier}");
    h.input(Input::Storage { id: wid, result: Ok(None) });
    let (id, data) = h.digests.pop().expect("a digest");
    assert_eq!(data.len(), 112, "the challenge is of the verifier without the suffix");
    h.input(Input::Digest { id, b64url: Some(String::from("CHALLENGE")) });
    let (id, r) = h.request("POST", "/recover");
    assert!(r.body.as_deref().unwrap().contains(r#""code_challenge":"CHALLENGE","code_challenge_method":"s256""#));
    h.answer(id, 200, "{}");
    assert_eq!(h.done(t), Some(Ok(String::from("{}"))));
    // The link lands with ?code=…: the exchange answers redirectType 'recovery'.
    let t = h.cmd(AuthCommand::ExchangeCode(String::from("the-code")));
    h.read("-code-verifier", Some(&verifier));
    let (id, r) = h.request("POST", "grant_type=pkce");
    assert!(r.body.as_deref().unwrap().contains(&verifier[..112]) && !r.body.as_deref().unwrap().contains("/recovery"));
    h.answer(id, 200, &token_response(T0 / 1000 + 3600, "rt1"));
    assert!(h.done(t).unwrap().unwrap().ends_with(r#","redirectType":"recovery"}"#));
    assert!(h.auth_events().contains(&AuthEvent::PasswordRecovery));
}

#[test]
fn code_exchange_answers_redirect_type_null_for_a_sign_in() {
    let mut h = H::with(true, true, None);
    h.read("-auth-token", None);
    let t = h.cmd(AuthCommand::ExchangeCode(String::from("c")));
    h.read("-code-verifier", Some("v".repeat(112).as_str()));
    let (id, _) = h.request("POST", "grant_type=pkce");
    h.answer(id, 200, &token_response(T0 / 1000 + 3600, "rt1"));
    assert!(h.done(t).unwrap().unwrap().ends_with(r#","redirectType":null}"#));
    assert_eq!(h.auth_events(), [AuthEvent::InitialSession, AuthEvent::SignedIn]);
}

#[test]
fn reauthenticate_identities_factors_unenroll_and_assurance_level() {
    let mut h = H::new();
    h.read("-auth-token", None);
    for cmd in [AuthCommand::Reauthenticate, AuthCommand::GetUserIdentities, AuthCommand::MfaListFactors] {
        let t = h.cmd(cmd);
        assert_eq!(h.done(t), Some(Err(AuthError::SessionMissing)));
    }
    let t = h.cmd(AuthCommand::MfaAssuranceLevel(None));
    assert_eq!(
        h.done(t),
        Some(Ok(String::from(r#"{"currentLevel":null,"nextLevel":null,"currentAuthenticationMethods":[]}"#)))
    );
    let exp = T0 / 1000 + 3600;
    let t = h.cmd(AuthCommand::SignInWithPassword(String::from(r#"{"email":"a@b.c","password":"secret"}"#)));
    let (id, _) = h.request("POST", "grant_type=password");
    h.answer(id, 200, &token_response(exp, "rt1"));
    assert!(h.done(t).unwrap().is_ok());

    let t = h.cmd(AuthCommand::Reauthenticate);
    let (id, r) = h.request("GET", "/reauthenticate");
    assert_eq!(bearer(&r), format!("Bearer {}", at(exp)));
    h.answer(id, 200, r#"{"message_id":"dropped, as auth-js does"}"#);
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"user":null,"session":null}"#))));

    let t = h.cmd(AuthCommand::MfaListFactors);
    let (id, _) = h.request("GET", "/user");
    h.answer(
        id,
        200,
        &user(r#","factors":[{"id":"f1","factor_type":"totp","status":"verified"},{"id":"f2","factor_type":"phone","status":"unverified"}]"#),
    );
    assert_eq!(
        h.done(t),
        Some(Ok(String::from(
            r#"{"all":[{"id":"f1","factor_type":"totp","status":"verified"},{"id":"f2","factor_type":"phone","status":"unverified"}],"phone":[],"totp":[{"id":"f1","factor_type":"totp","status":"verified"}],"webauthn":[],"recovery_code":[]}"#
        )))
    );

    let t = h.cmd(AuthCommand::MfaUnenroll(String::from("f1")));
    let (id, r) = h.request("DELETE", "/factors/f1");
    assert_eq!(bearer(&r), format!("Bearer {}", at(exp)));
    h.answer(id, 200, r#"{"id":"f1"}"#);
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"id":"f1"}"#))));
    let t = h.cmd(AuthCommand::MfaUnenroll(String::from("00000000-0000-0000-0000-000000000000")));
    let (id, _) = h.request("DELETE", "/factors/");
    h.answer(id, 404, r#"{"code":"mfa_factor_not_found","message":"Factor not found"}"#);
    let e = h.done(t).unwrap().unwrap_err();
    assert_eq!((e.name(), e.code(), e.status()), ("AuthApiError", "mfa_factor_not_found", Some(404)));

    let t = h.cmd(AuthCommand::MfaAssuranceLevel(None));
    assert_eq!(
        h.done(t),
        Some(Ok(String::from(
            r#"{"currentLevel":"aal1","nextLevel":"aal1","currentAuthenticationMethods":[{"method":"password","timestamp":1}]}"#
        )))
    );
    // For a given token: its user's verified factor makes the next level aal2.
    let t = h.cmd(AuthCommand::MfaAssuranceLevel(Some(at(exp))));
    let (id, _) = h.request("GET", "/user");
    h.answer(id, 200, &user(r#","factors":[{"id":"f1","factor_type":"totp","status":"verified"}]"#));
    assert!(h.done(t).unwrap().unwrap().starts_with(r#"{"currentLevel":"aal1","nextLevel":"aal2""#));
}

#[test]
fn error_answers_are_typed_as_auth_js_types_them() {
    let mut h = H::new();
    h.read("-auth-token", None);
    let t = h.cmd(AuthCommand::ResetPasswordForEmail(String::from(r#"{"email":"a@b.c"}"#)));
    let (id, _) = h.request("POST", "/recover");
    h.answer(id, 404, "<html>not found</html>");
    let e = h.done(t).unwrap().unwrap_err();
    assert_eq!((e.name(), e.status(), e.code()), ("AuthUnknownError", None, "unknown"));
    let t = h.cmd(AuthCommand::ResetPasswordForEmail(String::from(r#"{"email":"a@b.c"}"#)));
    let (id, _) = h.request("POST", "/recover");
    h.answer(id, 404, r#"{"message":"no Route matched with those values"}"#);
    let e = h.done(t).unwrap().unwrap_err();
    assert_eq!((e.name(), e.status(), e.message()), ("AuthApiError", Some(404), "no Route matched with those values"));
    // GoTrue's 403 session_not_found is auth-js's AuthSessionMissingError (400); the code stays.
    let t = h.cmd(AuthCommand::ResetPasswordForEmail(String::from(r#"{"email":"a@b.c"}"#)));
    let (id, _) = h.request("POST", "/recover");
    h.answer(
        id,
        403,
        r#"{"code":"session_not_found","message":"Session from session_id claim in JWT does not exist"}"#,
    );
    let e = h.done(t).unwrap().unwrap_err();
    assert_eq!(
        (e.name(), e.status(), e.code(), e.message()),
        ("AuthSessionMissingError", Some(400), "session_not_found", "Auth session missing!")
    );
}
