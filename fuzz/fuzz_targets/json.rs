//! The JSON reader: never panics; `parse` and `validate` agree; a parsed value writes text
//! that parses back to it; the one-level readers agree with the tree; `int_of` gives the exact
//! integer part of every number (checked against a decimal-string reference).
#![no_main]
use authwire_wire::json::{self, Value};
use libfuzzer_sys::fuzz_target;

/// The integer part of JSON number text, by string manipulation and Rust's integer parser.
fn reference_int(num: &str) -> Option<i64> {
    let (neg, rest) = match num.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, num),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, "0"),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    // An exponent too long for i64 is beyond any digit count here.
    let exp: i64 = exp.parse().unwrap_or(if exp.starts_with('-') { i64::MIN / 2 } else { i64::MAX / 2 });
    let digits: String = format!("{int}{frac}");
    let point = (int.len() as i64).saturating_add(exp);
    let significant = digits.trim_start_matches('0');
    if point <= 0 || significant.is_empty() {
        return Some(0);
    }
    // Leading zeros do not count; more than 19 significant integer digits overflow.
    let lead = (digits.len() - significant.len()) as i64;
    let width = point - lead;
    if width <= 0 {
        return Some(0);
    }
    if width > 19 {
        return None;
    }
    let mut text = String::from(if neg { "-" } else { "" });
    let width = width as usize;
    text.push_str(&significant[..width.min(significant.len())]);
    text.extend(std::iter::repeat_n('0', width.saturating_sub(significant.len())));
    text.parse().ok()
}

fn check_numbers(v: &Value) {
    match v {
        Value::Num(n) => assert_eq!(json::int_of(n), reference_int(n), "int_of({n:?})"),
        Value::Arr(a) => a.iter().for_each(check_numbers),
        Value::Obj(m) => m.iter().for_each(|(_, v)| check_numbers(v)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let parsed = json::parse(text);
    assert_eq!(parsed.is_ok(), json::validate(text).is_ok(), "parse and validate disagree on {text:?}");
    // Integer text agrees with Rust's parser (int_of also reads text JSON would refuse).
    if !text.is_empty() && text.strip_prefix('-').unwrap_or(text).bytes().all(|c| c.is_ascii_digit()) {
        assert_eq!(json::int_of(text), text.parse::<i64>().ok(), "int_of({text:?})");
    }
    let _ = json::int_of(text);
    let Ok(v) = parsed else {
        assert!(json::fields(text).is_err() && json::elements(text).is_err());
        assert_eq!(json::str_of(text), None);
        return;
    };
    assert_eq!(json::parse(&v.to_json()).expect("written JSON parses"), v);
    check_numbers(&v);
    match &v {
        Value::Obj(members) => {
            let fields = json::fields(text).expect("an object has fields");
            assert_eq!(fields.len(), members.len());
            for ((k, raw), (key, value)) in fields.iter().zip(members) {
                assert_eq!(k, key);
                assert_eq!(&json::parse(raw).expect("a member's raw text parses"), value);
            }
        }
        Value::Arr(items) => {
            let elements = json::elements(text).expect("an array has elements");
            assert_eq!(elements.len(), items.len());
            for (raw, item) in elements.iter().zip(items) {
                assert_eq!(&json::parse(raw).expect("an element's raw text parses"), item);
            }
        }
        Value::Str(s) => assert_eq!(json::str_of(text).as_ref(), Some(s)),
        _ => {}
    }
});
