//! `DELETE /factors/{factor_id}` (`mfa.unenroll`), as GoTrue answers it for a user without
//! MFA factors (`GT/internal/api/api.go` `/factors`, `admin.go` `loadFactor`). This server
//! cannot enroll factors (no TOTP, phone or WebAuthn), so there is never a factor to remove:
//! a signed-in, non-anonymous caller gets 404 `mfa_factor_not_found`, or 404
//! `validation_failed` for an id that is not a UUID. The other factor routes are not served.

use super::error::ApiError;
use super::{access, users};
use crate::http::Shared;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;

/// `DELETE /auth/v1/factors/{factor_id}`: GoTrue's checks in its order (authentication, not
/// anonymous, the id, the factor).
pub(crate) async fn unenroll(
    State(state): State<Shared>,
    Path(factor_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let access::UserCall { user, .. } = access::require_user(&state, &headers).await?;
    if user.is_anonymous {
        return Err(ApiError::forbidden("no_authorization", "Anonymous user not allowed to perform these actions"));
    }
    if !users::is_uuid(&factor_id) {
        return Err(ApiError::not_found("validation_failed", "factor_id must be an UUID"));
    }
    Err(ApiError::not_found("mfa_factor_not_found", "Factor not found"))
}
