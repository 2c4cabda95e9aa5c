//! Reading users and rendering them as GoTrue's user object.
//!
//! The JSON is built by PostgreSQL in one query (fields GoTrue marks `omitempty` are left out
//! when null; `email` and `phone` are `""` when unset), with timestamps in GoTrue's RFC 3339
//! UTC form with microseconds, e.g. `2026-01-02T03:04:05.123456Z`.

use super::error::ApiError;
use serde_json::Value;
use tokio_postgres::GenericClient;

/// SQL for an RFC 3339 UTC timestamp with microseconds.
macro_rules! ts {
    ($col:literal) => {
        concat!("to_char(", $col, " at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    };
}
pub(crate) use ts;

/// GoTrue's user object for the row `u` of `auth.users`.
pub(crate) const USER_JSON: &str = concat!(
    "jsonb_build_object(",
    "'id', u.id, 'aud', coalesce(u.aud, ''), 'role', coalesce(u.role, ''), ",
    "'email', coalesce(u.email, ''), 'phone', coalesce(u.phone, ''), ",
    "'app_metadata', coalesce(u.raw_app_meta_data, '{}'::jsonb), ",
    "'user_metadata', coalesce(u.raw_user_meta_data, '{}'::jsonb), ",
    "'identities', (select coalesce(jsonb_agg(jsonb_build_object(",
    "  'identity_id', i.id, 'id', i.provider_id, 'user_id', i.user_id, 'identity_data', i.identity_data, ",
    "  'provider', i.provider, 'created_at', ",
    ts!("i.created_at"),
    ", 'updated_at', ",
    ts!("i.updated_at"),
    ") || jsonb_strip_nulls(jsonb_build_object('last_sign_in_at', ",
    ts!("i.last_sign_in_at"),
    ", 'email', nullif(i.email, ''))) order by i.created_at, i.id), '[]'::jsonb) ",
    "  from auth.identities i where i.user_id = u.id), ",
    "'created_at', ",
    ts!("u.created_at"),
    ", 'updated_at', ",
    ts!("u.updated_at"),
    ", 'is_anonymous', u.is_anonymous",
    ") || jsonb_strip_nulls(jsonb_build_object(",
    "'email_confirmed_at', ",
    ts!("u.email_confirmed_at"),
    ", 'phone_confirmed_at', ",
    ts!("u.phone_confirmed_at"),
    ", 'confirmed_at', ",
    ts!("u.confirmed_at"),
    ", 'invited_at', ",
    ts!("u.invited_at"),
    ", 'confirmation_sent_at', ",
    ts!("u.confirmation_sent_at"),
    ", 'recovery_sent_at', ",
    ts!("u.recovery_sent_at"),
    ", 'new_email', nullif(u.email_change, ''), 'email_change_sent_at', ",
    ts!("u.email_change_sent_at"),
    ", 'new_phone', nullif(u.phone_change, ''), 'phone_change_sent_at', ",
    ts!("u.phone_change_sent_at"),
    ", 'reauthentication_sent_at', ",
    ts!("u.reauthentication_sent_at"),
    ", 'last_sign_in_at', ",
    ts!("u.last_sign_in_at"),
    ", 'banned_until', ",
    ts!("u.banned_until"),
    ", 'deleted_at', ",
    ts!("u.deleted_at"),
    "))"
);

/// The columns [`UserRow::from_row`] reads, from `auth.users u`.
pub(crate) const USER_COLUMNS: &str = concat!(
    "u.id::text, coalesce(u.aud, ''), coalesce(u.role, ''), u.email, u.phone, u.encrypted_password, ",
    "coalesce(u.banned_until > now(), false), u.is_anonymous, u.email_confirmed_at is not null, ",
    "coalesce(u.raw_app_meta_data, '{}'::jsonb), coalesce(u.raw_user_meta_data, '{}'::jsonb), "
);

/// A user as the handlers need it.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) aud: String,
    pub(crate) role: String,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) encrypted_password: Option<String>,
    pub(crate) banned: bool,
    pub(crate) is_anonymous: bool,
    pub(crate) email_confirmed: bool,
    pub(crate) app_metadata: Value,
    pub(crate) user_metadata: Value,
    /// GoTrue's user object.
    pub(crate) json: Value,
}

impl UserRow {
    fn from_row(r: &tokio_postgres::Row) -> Self {
        UserRow {
            id: r.get(0),
            aud: r.get(1),
            role: r.get(2),
            email: r.get::<_, Option<String>>(3).filter(|s| !s.is_empty()),
            phone: r.get::<_, Option<String>>(4).filter(|s| !s.is_empty()),
            encrypted_password: r.get::<_, Option<String>>(5).filter(|s| !s.is_empty()),
            banned: r.get(6),
            is_anonymous: r.get(7),
            email_confirmed: r.get(8),
            app_metadata: r.get(9),
            user_metadata: r.get(10),
            json: r.get(11),
        }
    }
}

fn select(filter: &str) -> String {
    format!("select {USER_COLUMNS}{USER_JSON} from auth.users u where u.deleted_at is null and {filter}")
}

/// True when `s` is a UUID in the canonical 8-4-4-4-12 hex form (any case).
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The user with this id (a UUID string), if any.
pub(crate) async fn by_id<C: GenericClient + Sync>(db: &C, id: &str) -> Result<Option<UserRow>, ApiError> {
    if !is_uuid(id) {
        return Ok(None);
    }
    let row = db
        .query_opt(&select("u.id = $1::text::uuid"), &[&id])
        .await
        .map_err(|e| ApiError::internal("Database error loading user", e))?;
    Ok(row.as_ref().map(UserRow::from_row))
}

/// The user with this email (compared case-insensitively), if any.
pub(crate) async fn by_email<C: GenericClient + Sync>(db: &C, email: &str) -> Result<Option<UserRow>, ApiError> {
    let row = db
        .query_opt(&select("lower(u.email) = lower($1) and not u.is_sso_user order by u.created_at limit 1"), &[&email])
        .await
        .map_err(|e| ApiError::internal("Database error finding user", e))?;
    Ok(row.as_ref().map(UserRow::from_row))
}

/// The user with this phone, if any.
pub(crate) async fn by_phone<C: GenericClient + Sync>(db: &C, phone: &str) -> Result<Option<UserRow>, ApiError> {
    let row = db
        .query_opt(&select("u.phone = $1"), &[&phone])
        .await
        .map_err(|e| ApiError::internal("Database error finding user", e))?;
    Ok(row.as_ref().map(UserRow::from_row))
}

/// GoTrue's email check: present, ≤ 255 bytes, `local@domain` with a dotted domain; lowercased.
pub(crate) fn validate_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim();
    if email.is_empty() {
        return Err(ApiError::validation("An email address is required"));
    }
    if email.len() > 255 {
        return Err(ApiError::validation("An email address is too long"));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain.contains('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c))
        }
        None => false,
    };
    if !valid {
        return Err(ApiError::validation("Unable to validate email address: invalid format"));
    }
    Ok(email.to_lowercase())
}

/// A phone number: digits with an optional leading `+`, stored without it (as GoTrue does).
pub(crate) fn validate_phone(phone: &str) -> Result<String, ApiError> {
    let p: String = phone.trim().trim_start_matches('+').chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if p.len() < 8 || p.len() > 15 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation("Invalid phone number format (E.164 required)"));
    }
    Ok(p)
}

/// A user to insert.
#[derive(Debug, Default)]
pub(crate) struct NewUser {
    pub(crate) id: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) password_hash: Option<String>,
    pub(crate) email_confirmed: bool,
    pub(crate) phone_confirmed: bool,
    pub(crate) app_metadata: Value,
    pub(crate) user_metadata: Value,
    pub(crate) is_anonymous: bool,
    pub(crate) role: Option<String>,
    /// An identity for the email or phone provider (not for anonymous users).
    pub(crate) identity: bool,
}

/// Inserts a user (and its email/phone identity) and returns its id. A duplicate email or
/// phone is GoTrue's 422 `email_exists` / `phone_exists`.
pub(crate) async fn create<C: GenericClient + Sync>(db: &C, u: NewUser) -> Result<String, ApiError> {
    let id = match u.id {
        Some(id) => id,
        None => super::session::new_uuid()?,
    };
    let role = u.role.unwrap_or_else(|| "authenticated".into());
    let res = db
        .execute(
            "insert into auth.users (instance_id, id, aud, role, email, phone, encrypted_password,
               email_confirmed_at, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, is_anonymous,
               created_at, updated_at)
             values ('00000000-0000-0000-0000-000000000000', $1::text::uuid, 'authenticated', $2, $3, $4, $5,
               case when $6 then now() end, case when $7 then now() end, $8, $9, $10, now(), now())",
            &[
                &id,
                &role,
                &u.email,
                &u.phone,
                &u.password_hash.clone().unwrap_or_default(),
                &u.email_confirmed,
                &u.phone_confirmed,
                &u.app_metadata,
                &u.user_metadata,
                &u.is_anonymous,
            ],
        )
        .await;
    if let Err(e) = res {
        if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
            let msg = e.as_db_error().map(|d| d.constraint().unwrap_or_default().to_string()).unwrap_or_default();
            return Err(if msg.contains("phone") {
                ApiError::unprocessable("phone_exists", "Phone number already registered by another user")
            } else if msg.contains("pkey") {
                ApiError::unprocessable("validation_failed", "A user with this ID already exists")
            } else {
                ApiError::unprocessable("email_exists", "A user with this email address has already been registered")
            });
        }
        return Err(ApiError::internal("Database error saving new user", e));
    }
    if u.identity {
        let (provider, data) = match (&u.email, &u.phone) {
            (Some(email), _) => (
                "email",
                serde_json::json!({ "sub": id, "email": email, "email_verified": u.email_confirmed, "phone_verified": false }),
            ),
            (None, Some(phone)) => (
                "phone",
                serde_json::json!({ "sub": id, "phone": phone, "email_verified": false, "phone_verified": u.phone_confirmed }),
            ),
            (None, None) => return Ok(id),
        };
        db.execute(
            "insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
             values ($1, $1::text::uuid, $2, $3, now(), now())",
            &[&id, &data, &provider],
        )
        .await
        .map_err(|e| ApiError::internal("Database error saving new user", e))?;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(validate_email(" Alice@Example.COM ").unwrap(), "alice@example.com");
        for bad in ["", "a", "a@", "@b.c", "a@b", "a b@c.d", "a@b@c.d", "a@.b", "a@b."] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("a11ce000-0000-4000-8000-000000000001"));
        assert!(!is_uuid("a11ce000-0000-4000-8000-00000000000"));
        assert!(!is_uuid("a11ce000x0000-4000-8000-000000000001"));
        assert!(!is_uuid("'; drop table x; --aaaaaaaaaaaaaaaaaaaa"));
    }
}
