//! Project keys, created on first start and persisted in `<data-dir>/keys.json` (mode 0600)
//! so that tokens and sessions survive a restart.

use crate::jwt::{random_bytes, Alg, JwtKeys, KeyError, B64URL};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::fmt;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// The project ref baked into the API-key JWTs (`ref` claim).
pub const PROJECT_REF: &str = "authwire-dev";

/// API keys are valid for about ten years, like Supabase's legacy keys.
const API_KEY_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// The keys a client of this server needs; what `GET /_dev/config` serves.
#[derive(Clone, PartialEq)]
pub struct ProjectKeys {
    /// Legacy anon key: HS256 JWT, `role: "anon"`.
    pub anon_key: String,
    /// Opaque `sb_publishable_…` key, mapped to the anon role.
    pub publishable_key: String,
    /// Legacy service key: HS256 JWT, `role: "service_role"`.
    pub service_role_key: String,
    /// Opaque `sb_secret_…` key, mapped to the service role.
    pub secret_key: String,
    /// The HS256 secret, used as raw UTF-8 bytes.
    pub jwt_secret: String,
    /// `{ "keys": [ … ] }` with the ES256 public key.
    pub jwks: Value,
}

impl fmt::Debug for ProjectKeys {
    // Secrets stay out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProjectKeys").field("jwks", &self.jwks).finish_non_exhaustive()
    }
}

/// What an API key or bearer token authenticates as, at the project level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// anon key or publishable key.
    Anon,
    /// service_role key or secret key.
    ServiceRole,
}

/// The loaded key store: the public [`ProjectKeys`] and the signing keys.
pub struct KeyStore {
    /// The project's API keys.
    pub project: ProjectKeys,
    /// Signing and verification keys.
    pub jwt: JwtKeys,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore").field("jwt", &self.jwt).finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Maps an opaque project key to its role; constant-time against both keys.
    pub fn opaque_key_role(&self, key: &str) -> Option<KeyRole> {
        let p = ct_eq(key, &self.project.publishable_key);
        let s = ct_eq(key, &self.project.secret_key);
        match (p, s) {
            (true, _) => Some(KeyRole::Anon),
            (_, true) => Some(KeyRole::ServiceRole),
            _ => None,
        }
    }

    /// The legacy JWT an opaque project key stands for (what the gateway substitutes).
    pub fn jwt_for_opaque_key(&self, key: &str) -> Option<&str> {
        match self.opaque_key_role(key)? {
            KeyRole::Anon => Some(&self.project.anon_key),
            KeyRole::ServiceRole => Some(&self.project.service_role_key),
        }
    }
}

/// Compares without an early exit on the first differing byte.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The on-disk form of `keys.json`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeysFile {
    version: u32,
    project_ref: String,
    jwt_secret: String,
    anon_key: String,
    service_role_key: String,
    publishable_key: String,
    secret_key: String,
    signing_key: SigningKeyFile,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningKeyFile {
    kid: String,
    alg: String,
    /// base64url of the PKCS#8 document.
    pkcs8: String,
}

/// Why the keys could not be loaded or created.
#[derive(Debug)]
pub enum KeysError {
    /// Reading or writing the file failed.
    Io(PathBuf, std::io::Error),
    /// The file exists but is not a keys file we can use; we never overwrite it.
    Invalid(PathBuf, String),
    /// Key generation failed.
    Key(KeyError),
}

impl fmt::Display for KeysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeysError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            KeysError::Invalid(p, why) => {
                write!(f, "{}: {why} (delete it to create new keys; existing sessions will end)", p.display())
            }
            KeysError::Key(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for KeysError {}

impl From<KeyError> for KeysError {
    fn from(e: KeyError) -> Self {
        KeysError::Key(e)
    }
}

/// Loads `<data_dir>/keys.json`, or creates it (mode 0600) with fresh keys.
pub fn load_or_create(data_dir: &Path, now: i64) -> Result<KeyStore, KeysError> {
    let path = data_dir.join("keys.json");
    match fs::read(&path) {
        Ok(bytes) => {
            let file: KeysFile =
                serde_json::from_slice(&bytes).map_err(|e| KeysError::Invalid(path.clone(), e.to_string()))?;
            from_file(file).map_err(|why| KeysError::Invalid(path, why))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let file = generate(now)?;
            let body = serde_json::to_vec_pretty(&file).map_err(|e| KeysError::Invalid(path.clone(), e.to_string()))?;
            write_private(&path, &body).map_err(|e| KeysError::Io(path.clone(), e))?;
            from_file(file).map_err(|why| KeysError::Invalid(path, why))
        }
        Err(e) => Err(KeysError::Io(path, e)),
    }
}

/// Writes via a temp file and rename so a crash never leaves a half-written keys file.
fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(body)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

fn random_token(n: usize) -> Result<String, KeyError> {
    Ok(B64URL.encode(random_bytes(n)?))
}

fn generate(now: i64) -> Result<KeysFile, KeyError> {
    // 48 random bytes -> 64 base64url characters; used as raw UTF-8 bytes for HS256.
    let jwt_secret = random_token(48)?;
    let pkcs8 = JwtKeys::generate_es256_pkcs8()?;
    let kid = uuid_v4(&random_bytes(16)?);
    let keys = JwtKeys::new(jwt_secret.as_bytes(), &pkcs8, kid.clone())?;
    let api_key = |role: &str| -> Result<String, KeyError> {
        let claims = json!({ "iss": "supabase", "ref": PROJECT_REF, "role": role, "iat": now,
                             "exp": now + API_KEY_LIFETIME_SECS });
        keys.sign(Alg::Hs256, &as_map(claims))
    };
    Ok(KeysFile {
        version: 1,
        project_ref: PROJECT_REF.into(),
        anon_key: api_key("anon")?,
        service_role_key: api_key("service_role")?,
        jwt_secret,
        publishable_key: format!("sb_publishable_{}", random_token(24)?),
        secret_key: format!("sb_secret_{}", random_token(24)?),
        signing_key: SigningKeyFile { kid, alg: "ES256".into(), pkcs8: B64URL.encode(&pkcs8) },
    })
}

fn from_file(f: KeysFile) -> Result<KeyStore, String> {
    if f.version != 1 {
        return Err(format!("unsupported keys file version {}", f.version));
    }
    if f.signing_key.alg != "ES256" {
        return Err(format!("unsupported signing key algorithm {}", f.signing_key.alg));
    }
    if f.jwt_secret.len() < 32 {
        return Err("jwtSecret is shorter than 32 characters".into());
    }
    let pkcs8 = B64URL.decode(&f.signing_key.pkcs8).map_err(|_| "signingKey.pkcs8 is not base64url".to_string())?;
    let jwt = JwtKeys::new(f.jwt_secret.as_bytes(), &pkcs8, f.signing_key.kid).map_err(|e| e.to_string())?;
    let jwks = jwt.jwks();
    Ok(KeyStore {
        project: ProjectKeys {
            anon_key: f.anon_key,
            publishable_key: f.publishable_key,
            service_role_key: f.service_role_key,
            secret_key: f.secret_key,
            jwt_secret: f.jwt_secret,
            jwks,
        },
        jwt,
    })
}

pub(crate) fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Formats 16 random bytes as an RFC 4122 version-4 UUID string.
pub(crate) fn uuid_v4(b: &[u8]) -> String {
    let mut b: [u8; 16] = b.get(..16).and_then(|s| s.try_into().ok()).unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn created_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let now = 1_800_000_000;
        let a = load_or_create(dir.path(), now).unwrap();
        let mode = fs::metadata(dir.path().join("keys.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = load_or_create(dir.path(), now + 100).unwrap();
        assert!(a.project == b.project);
        assert!(a.project.jwt_secret.len() >= 40);
        assert!(a.project.publishable_key.starts_with("sb_publishable_"));
        assert!(a.project.secret_key.starts_with("sb_secret_"));
        let anon = b.jwt.verify(&a.project.anon_key, now).unwrap();
        assert_eq!(anon.role(), Some("anon"));
        assert_eq!(anon.str("iss"), Some("supabase"));
        assert_eq!(anon.str("ref"), Some(PROJECT_REF));
        assert!(anon.exp().unwrap() > now + 9 * 365 * 24 * 3600);
        assert_eq!(b.jwt.verify(&a.project.service_role_key, now).unwrap().role(), Some("service_role"));
        assert_eq!(b.opaque_key_role(&a.project.secret_key), Some(KeyRole::ServiceRole));
        assert_eq!(b.jwt_for_opaque_key(&a.project.publishable_key), Some(a.project.anon_key.as_str()));
        assert_eq!(b.opaque_key_role("sb_secret_nope"), None);
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("keys.json"), b"{not json").unwrap();
        assert!(matches!(load_or_create(dir.path(), 0), Err(KeysError::Invalid(..))));
        assert_eq!(fs::read(dir.path().join("keys.json")).unwrap(), b"{not json");
    }

    #[test]
    fn uuid_shape() {
        let u = uuid_v4(&[0xff; 16]);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
