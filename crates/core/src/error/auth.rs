//! Auth errors, shaped as auth-js's error classes with GoTrue's codes preserved.

use alloc::string::String;

/// auth-js's text for a missing PKCE verifier.
const PKCE_VERIFIER_MISSING: &str = "PKCE code verifier not found in storage. This can happen if the auth flow was \
    initiated in a different browser or device, or if the storage was cleared. For SSR frameworks (Next.js, \
    SvelteKit, etc.), use @supabase/ssr on both the server and client to store the code verifier in cookies.";

/// Why an auth operation failed. Shapes follow auth-js's error classes (`name()`), with
/// GoTrue's codes preserved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// GoTrue answered with an error status.
    Api {
        /// HTTP status.
        status: u16,
        /// GoTrue's code (`invalid_credentials`, `refresh_token_already_used`, …), or
        /// `unknown` when the body had none.
        code: String,
        /// GoTrue's message.
        message: String,
    },
    /// A password GoTrue considers weak (422 `weak_password`).
    WeakPassword {
        /// HTTP status (GoTrue sends 422).
        status: u16,
        /// GoTrue's message.
        message: String,
        /// `length`, `characters`, `pwned` (auth-js's `reasons`).
        reasons: alloc::vec::Vec<String>,
    },
    /// An error answer that is not JSON and not worth retrying (auth-js's `AuthUnknownError`).
    Unknown {
        /// HTTP status (kept for retry decisions; auth-js's class has none).
        status: u16,
        /// The start of the body.
        message: String,
    },
    /// The call lacks what GoTrue needs (an email or a phone number): refused before any
    /// request, as auth-js does (`AuthInvalidCredentialsError`).
    InvalidCredentials {
        /// auth-js's text.
        message: &'static str,
    },
    /// The page URL carried an auth error at start (`error`, `error_code`,
    /// `error_description`), as auth-js reports it from `initialize()`
    /// (`AuthImplicitGrantRedirectError`, with `details`).
    ImplicitGrantRedirect {
        /// `error_description`.
        message: String,
        /// `error`.
        error: String,
        /// `error_code`.
        code: String,
    },
    /// No response (network, CORS, abort: status 0), or a 5xx/52x: worth retrying.
    RetryableFetch {
        /// HTTP status (0 without a response).
        status: u16,
        /// What failed.
        message: String,
    },
    /// The operation needs a session and there is none.
    SessionMissing,
    /// GoTrue no longer knows the session (`session_not_found`, any status): auth-js's
    /// `AuthSessionMissingError` (status 400), with GoTrue's code kept as the `code`.
    SessionNotFound,
    /// A JWT that cannot be decoded, is expired, or failed verification.
    InvalidJwt {
        /// What is wrong.
        message: &'static str,
    },
    /// `exchangeCodeForSession` found no PKCE code verifier in storage.
    PkceVerifierMissing,
    /// A success response that is not what GoTrue sends.
    InvalidResponse,
    /// The session could not be written to storage (quota, access denied); it is kept in
    /// memory.
    Storage {
        /// What the storage said.
        message: String,
    },
    /// Not supported by authwire (MFA, SSO, identity linking, the admin API, Web3).
    NotSupported {
        /// The feature.
        what: &'static str,
    },
    /// A secret was needed (a PKCE verifier) and the runtime has no `crypto.getRandomValues`.
    CryptoUnavailable,
    /// The client was destroyed.
    Destroyed,
    /// Another operation replaced this one (e.g. a newer sign-in), so its result was dropped.
    Superseded,
}

impl AuthError {
    /// The codes authwire gives itself, in declaration order, plus `unknown` for an
    /// [`AuthError::Api`] whose body had no code.
    pub const CODES: &'static [&'static str] = &[
        "weak_password",
        "credentials_required",
        "implicit_grant_redirect",
        "network_error",
        "server_error",
        "session_missing",
        "invalid_jwt",
        "pkce_code_verifier_not_found",
        "invalid_response",
        "storage_error",
        "not_supported",
        "crypto_unavailable",
        "destroyed",
        "superseded",
        "unknown",
    ];
    /// GoTrue's codes that matter to sessions, passed through in [`AuthError::Api`]. GoTrue
    /// has more; these are the ones the TS union `AuthErrorCode` names.
    pub const GOTRUE_CODES: &'static [&'static str] = &[
        "invalid_credentials",
        "email_not_confirmed",
        "phone_not_confirmed",
        "user_already_exists",
        "refresh_token_not_found",
        "refresh_token_already_used",
        "session_not_found",
        "session_expired",
        "user_not_found",
        "user_banned",
        "bad_jwt",
        "no_authorization",
        "validation_failed",
        "conflict",
        "over_request_rate_limit",
        "flow_state_not_found",
        "flow_state_expired",
        "bad_code_verifier",
        "otp_expired",
        "anonymous_provider_disabled",
        "unexpected_failure",
        "otp_disabled",
        "phone_provider_disabled",
        "email_provider_disabled",
        "email_exists",
        "phone_exists",
        "same_password",
        "reauthentication_not_valid",
        "over_email_send_rate_limit",
        "mfa_factor_not_found",
        "insufficient_aal",
    ];

    /// A stable code: GoTrue's own for API errors, authwire's otherwise.
    pub fn code(&self) -> &str {
        match self {
            AuthError::Api { code, .. } => code,
            AuthError::WeakPassword { .. } => "weak_password",
            AuthError::Unknown { .. } => "unknown",
            AuthError::InvalidCredentials { .. } => "credentials_required",
            AuthError::ImplicitGrantRedirect { .. } => "implicit_grant_redirect",
            AuthError::RetryableFetch { status: 0, .. } => "network_error",
            AuthError::RetryableFetch { .. } => "server_error",
            AuthError::SessionMissing => "session_missing",
            AuthError::SessionNotFound => "session_not_found",
            AuthError::InvalidJwt { .. } => "invalid_jwt",
            AuthError::PkceVerifierMissing => "pkce_code_verifier_not_found",
            AuthError::InvalidResponse => "invalid_response",
            AuthError::Storage { .. } => "storage_error",
            AuthError::NotSupported { .. } => "not_supported",
            AuthError::CryptoUnavailable => "crypto_unavailable",
            AuthError::Destroyed => "destroyed",
            AuthError::Superseded => "superseded",
        }
    }
    /// auth-js's class name for this error.
    pub fn name(&self) -> &'static str {
        match self {
            AuthError::Api { .. } => "AuthApiError",
            AuthError::WeakPassword { .. } => "AuthWeakPasswordError",
            AuthError::Unknown { .. } => "AuthUnknownError",
            AuthError::InvalidCredentials { .. } => "AuthInvalidCredentialsError",
            AuthError::ImplicitGrantRedirect { .. } => "AuthImplicitGrantRedirectError",
            AuthError::RetryableFetch { .. } => "AuthRetryableFetchError",
            AuthError::SessionMissing | AuthError::SessionNotFound => "AuthSessionMissingError",
            AuthError::InvalidJwt { .. } => "AuthInvalidJwtError",
            AuthError::PkceVerifierMissing => "AuthPKCECodeVerifierMissingError",
            AuthError::InvalidResponse => "AuthInvalidTokenResponseError",
            _ => "AuthError",
        }
    }
    /// The HTTP status, where there is one (the statuses auth-js gives its client-side
    /// errors: 400, or 500 for a bad token response and a URL error).
    pub fn status(&self) -> Option<u16> {
        match self {
            AuthError::Api { status, .. }
            | AuthError::RetryableFetch { status, .. }
            | AuthError::WeakPassword { status, .. } => Some(*status),
            AuthError::SessionMissing
            | AuthError::SessionNotFound
            | AuthError::InvalidJwt { .. }
            | AuthError::PkceVerifierMissing
            | AuthError::InvalidCredentials { .. } => Some(400),
            AuthError::InvalidResponse | AuthError::ImplicitGrantRedirect { .. } => Some(500),
            _ => None,
        }
    }
    /// `AuthWeakPasswordError.reasons` (empty for other errors).
    pub fn reasons(&self) -> &[String] {
        match self {
            AuthError::WeakPassword { reasons, .. } => reasons,
            _ => &[],
        }
    }
    /// `AuthImplicitGrantRedirectError.details`: the URL's `error` and `error_code`.
    pub fn details(&self) -> Option<(&str, &str)> {
        match self {
            AuthError::ImplicitGrantRedirect { error, code, .. } => Some((error, code)),
            _ => None,
        }
    }
    /// The human text.
    pub fn message(&self) -> &str {
        match self {
            AuthError::Api { message, .. }
            | AuthError::WeakPassword { message, .. }
            | AuthError::RetryableFetch { message, .. }
            | AuthError::Storage { message }
            | AuthError::Unknown { message, .. }
            | AuthError::ImplicitGrantRedirect { message, .. } => message,
            AuthError::SessionMissing | AuthError::SessionNotFound => "Auth session missing!",
            AuthError::InvalidJwt { message } | AuthError::InvalidCredentials { message } => message,
            AuthError::PkceVerifierMissing => PKCE_VERIFIER_MISSING,
            AuthError::InvalidResponse => "Auth session or user missing",
            AuthError::NotSupported { what } => what,
            AuthError::CryptoUnavailable => {
                "crypto.getRandomValues is not available: no PKCE verifier without a CSPRNG"
            }
            AuthError::Destroyed => "the client was destroyed",
            AuthError::Superseded => "a newer operation replaced this one",
        }
    }
    /// `true` for failures worth retrying with backoff: no response, 5xx, 52x, 429 and 409
    /// (`conflict`: lock contention on the server).
    pub fn is_retryable(&self) -> bool {
        match self {
            AuthError::RetryableFetch { .. } => true,
            AuthError::Api { status, .. } | AuthError::Unknown { status, .. } => matches!(status, 429 | 409),
            _ => false,
        }
    }
    /// The codes after which a refresh token is dead for good (auth-session.md §1.5).
    pub fn ends_session(&self) -> bool {
        matches!(
            self.code(),
            "refresh_token_not_found"
                | "refresh_token_already_used"
                | "session_not_found"
                | "session_expired"
                | "user_banned"
                | "user_not_found"
                | "validation_failed"
        )
    }
}
