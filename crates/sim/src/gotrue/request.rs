//! Reading requests (method, path, query, headers, JSON body, bearer, API version) and
//! GoTrue's error bodies and timestamps.

use super::*;

/// A parsed request.
pub(super) struct Req<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: &'a [(String, String)],
    pub(super) body: Option<&'a str>,
}

impl Req<'_> {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }
    pub(super) fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// The body as a JSON object (an absent body is `{}`).
    pub(super) fn json(&self) -> Result<Value, ApiErr> {
        let text = self.body.unwrap_or("").trim();
        if text.is_empty() {
            return Ok(Value::Obj(Vec::new()));
        }
        match json::parse(text) {
            Ok(v @ Value::Obj(_)) => Ok(v),
            Ok(_) => Err(err(400, "bad_json", "Could not parse request body as JSON: not an object")),
            Err(e) => {
                let mut m = String::from("Could not parse request body as JSON: ");
                m.push_str(e.code());
                Err(ApiErr::Http { status: 400, code: "bad_json", message: m })
            }
        }
    }
    /// The Bearer token.
    pub(super) fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?;
        let prefix = v.get(..7)?;
        prefix.eq_ignore_ascii_case("bearer ").then(|| v[7..].trim()).filter(|t| !t.is_empty())
    }
    /// GoTrue picks the `{code, message}` shape for API version ≥ 2024-01-01.
    pub(super) fn new_shape(&self) -> bool {
        self.header("x-supabase-api-version").is_some_and(|v| {
            let b = v.as_bytes();
            b.len() == 10
                && b[4] == b'-'
                && b[7] == b'-'
                && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
                && v >= API_VERSION
        })
    }
}

/// `(path, query)` of an absolute URL.
pub(super) fn split_url(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path_q = rest.find('/').map_or("/", |i| &rest[i..]);
    path_q.split_once('?').unwrap_or((path_q, ""))
}

pub(super) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

pub(super) fn push_2(out: &mut String, n: u64) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// RFC 3339 with microseconds, as GoTrue renders timestamps: `2027-01-15T08:00:00.123000Z`.
pub fn rfc3339(t: UnixTime) -> String {
    let ms = t.as_millis();
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian, era-based).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = String::with_capacity(27);
    json::write_u64(&mut out, year.max(0) as u64);
    out.push('-');
    push_2(&mut out, month as u64);
    out.push('-');
    push_2(&mut out, day as u64);
    out.push('T');
    push_2(&mut out, rem / 3600);
    out.push(':');
    push_2(&mut out, rem / 60 % 60);
    out.push(':');
    push_2(&mut out, rem % 60);
    out.push('.');
    let frac = ms % 1000;
    out.push(char::from(b'0' + (frac / 100) as u8));
    push_2(&mut out, frac % 100);
    out.push_str("000Z");
    out
}

pub(super) fn opt_time(w: &mut ObjectWriter, k: &str, t: Option<UnixTime>) {
    match t {
        Some(t) => w.str(k, &rfc3339(t)),
        None => w.raw(k, "null"),
    };
}
