//! Unit tests of the JSON reader and writer.

use super::*;
use alloc::string::ToString;
use alloc::vec;

#[test]
fn parses_nested_documents() {
    let v = parse(r#" {"a": [1, -2.5e3, true, null, "x\"\u00e9\ud83d\ude00"], "b": {}} "#).unwrap();
    let a = v.get("a").unwrap().as_array().unwrap();
    assert_eq!(a[0].as_i64(), Some(1));
    assert_eq!(a[1].as_i64(), Some(-2500));
    assert_eq!(a[2].as_bool(), Some(true));
    assert!(a[3].is_null());
    assert_eq!(a[4].as_str(), Some("x\"é😀"));
    assert_eq!(v.get("b"), Some(&Value::Obj(vec![])));
}

#[test]
fn writes_what_it_reads() {
    let text = r#"{"k":["a\nb",1.25,{"z":null}],"t":false}"#;
    assert_eq!(parse(text).unwrap().to_json(), text);
}

#[test]
fn refuses_malformed_input_with_offsets() {
    for (bad, kind) in [
        ("", JsonErrorKind::UnexpectedEnd),
        ("{", JsonErrorKind::UnexpectedEnd),
        ("[1,]", JsonErrorKind::UnexpectedByte),
        ("01", JsonErrorKind::TrailingCharacters),
        ("1.", JsonErrorKind::InvalidNumber),
        ("\"\\x\"", JsonErrorKind::InvalidEscape),
        ("\"a\u{1}\"", JsonErrorKind::ControlCharacter),
        ("{} x", JsonErrorKind::TrailingCharacters),
        ("tru", JsonErrorKind::UnexpectedEnd),
    ] {
        assert_eq!(parse(bad).unwrap_err().kind, kind, "parse {bad:?}");
        assert_eq!(validate(bad).unwrap_err().kind, kind, "validate {bad:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = "[".repeat(100_000);
    assert_eq!(parse(&deep).unwrap_err().kind, JsonErrorKind::TooDeep);
    assert_eq!(validate(&deep).unwrap_err().kind, JsonErrorKind::TooDeep);
    let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    assert!(parse(&ok).is_ok());
}

#[test]
fn fields_and_elements_give_raw_slices() {
    let f = fields(r#"{"status":"ok", "response" : {"postgres_changes":[]}}"#).unwrap();
    assert_eq!(f[0], ("status".to_string(), "\"ok\""));
    assert_eq!(f[1].1, r#"{"postgres_changes":[]}"#);
    assert_eq!(elements("[ 1 , \"x\", {} ]").unwrap(), vec!["1", "\"x\"", "{}"]);
    assert_eq!(fields("[]").unwrap_err().kind, JsonErrorKind::WrongType);
    assert_eq!(str_of("\"a\\u0041\""), Some("aA".to_string()));
    assert_eq!(field(r#"{"a":1}"#, "b").unwrap(), None);
}

#[test]
fn integers_from_number_text() {
    assert_eq!(int_of("1700000000"), Some(1_700_000_000));
    assert_eq!(int_of("1700000000.9"), Some(1_700_000_000));
    assert_eq!(int_of("1.7e9"), Some(1_700_000_000));
    assert_eq!(int_of("17e-1"), Some(1));
    assert_eq!(int_of("-0"), Some(0));
    assert_eq!(int_of("99999999999999999999"), None);
    assert_eq!(int_of("x"), None);
    assert_eq!(int_of("-1.9"), Some(-1));
    assert_eq!(int_of("12.5e1"), Some(125));
    assert_eq!(int_of("1e18"), Some(1_000_000_000_000_000_000));
    assert_eq!(int_of("1e19"), None);
    assert_eq!(int_of("0e999999999999999999999"), Some(0));
    assert_eq!(int_of("1e-999999999999999999999"), Some(0));
    for bad in ["", "-", "1.", ".5", "1e", "1e+", "--1", "+1", "1x", "0x10"] {
        assert_eq!(int_of(bad), None, "{bad:?}");
    }
}

#[test]
fn integers_at_the_edges() {
    // i64::MIN was refused: the magnitude was accumulated positive, then negated.
    assert_eq!(int_of("-9223372036854775808"), Some(i64::MIN));
    assert_eq!(int_of("9223372036854775807"), Some(i64::MAX));
    assert_eq!(int_of("9223372036854775808"), None);
    assert_eq!(int_of("-9223372036854775809"), None);
    // Found by fuzzing: a mantissa past i64 that the exponent scales back into range read
    // as None (here the value is -2.2e-534, integer part 0).
    assert_eq!(int_of("-2222222241111111010405e-00000000000555524122"), Some(0));
    assert_eq!(int_of("123456789012345678901e-5"), Some(1_234_567_890_123_456));
    // An exponent that shifts more than 20 fraction digits in read as 0.
    assert_eq!(int_of("0.000000000000000000001e25"), Some(10_000));
}

#[test]
fn escapes_control_characters() {
    let mut s = String::new();
    write_str(&mut s, "a\"b\\c\u{1}\n");
    assert_eq!(s, r#""a\"b\\c\u0001\n""#);
    assert_eq!(parse(&s).unwrap().as_str(), Some("a\"b\\c\u{1}\n"));
    assert_eq!(u64_text(0), "0");
    assert_eq!(u64_text(u64::MAX), "18446744073709551615");
}
