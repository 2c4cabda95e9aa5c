//! Browser tests: the wasm SDK in headless Chromium against a real `authwire-dev`.
//!
//! `scripts/test.mjs` starts the devserver on a free port and compiles these tests with its
//! URL and keys (`AUTHWIRE_TEST_URL`, `AUTHWIRE_TEST_ANON_KEY`, `AUTHWIRE_TEST_PUBLISHABLE_KEY`),
//! because wasm cannot read the environment at run time.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn url() -> &'static str {
    option_env!("AUTHWIRE_TEST_URL").expect("AUTHWIRE_TEST_URL is set by scripts/test.mjs")
}

fn anon_key() -> &'static str {
    option_env!("AUTHWIRE_TEST_ANON_KEY").expect("AUTHWIRE_TEST_ANON_KEY is set by scripts/test.mjs")
}

fn publishable_key() -> &'static str {
    option_env!("AUTHWIRE_TEST_PUBLISHABLE_KEY").expect("AUTHWIRE_TEST_PUBLISHABLE_KEY is set by scripts/test.mjs")
}

type StatusCb = Closure<dyn FnMut(JsValue, JsValue)>;

/// Subscribes and resolves with the first status (and the error code, if any). The callback
/// is returned so the caller keeps it alive while the channel may still call it.
async fn first_status(channel: &JsValue) -> (String, Option<String>, StatusCb) {
    let mut resolve_fn: Option<Function> = None;
    let promise = Promise::new(&mut |resolve, _| resolve_fn = Some(resolve));
    let resolve_fn = resolve_fn.unwrap();
    let cb: StatusCb = Closure::new(move |status: JsValue, err: JsValue| {
        let pair = js_sys::Array::of2(&status, &err);
        let _ = resolve_fn.call1(&JsValue::NULL, &pair);
    });
    let subscribe: Function = Reflect::get(channel, &"subscribe".into()).unwrap().into();
    subscribe.call1(channel, cb.as_ref()).unwrap();
    let pair: js_sys::Array = JsFuture::from(promise).await.unwrap().into();
    let status = pair.get(0).as_string().unwrap();
    let err = pair.get(1);
    let code = if err.is_undefined() { None } else { Reflect::get(&err, &"code".into()).unwrap().as_string() };
    (status, code, cb)
}

#[wasm_bindgen_test]
async fn a_public_channel_reaches_subscribed() {
    let client = authwire::create_client(url(), anon_key(), None).unwrap();
    let channel = client.channel("room1", None).unwrap();
    let (status, err, _cb) = first_status(&channel).await;
    assert_eq!(status, "SUBSCRIBED", "error: {err:?}");
    assert_eq!(client.realtime().connection_state(), "open");
    client.destroy();
}

#[wasm_bindgen_test]
async fn the_publishable_key_works_through_the_gateway() {
    let client = authwire::create_client(url(), publishable_key(), None).unwrap();
    let channel = client.channel("room2", None).unwrap();
    let (status, err, _cb) = first_status(&channel).await;
    assert_eq!(status, "SUBSCRIBED", "error: {err:?}");
    client.destroy();
}

#[wasm_bindgen_test]
fn an_invalid_url_is_a_typed_error() {
    let err = authwire::create_client("not a url", "key", None).err().expect("refused");
    let code = Reflect::get(&err, &"code".into()).unwrap().as_string();
    assert_eq!(code.as_deref(), Some("invalid_url"));
    let name = Reflect::get(&err, &"name".into()).unwrap().as_string();
    assert_eq!(name.as_deref(), Some("AuthwireError"));
}

#[wasm_bindgen_test]
fn an_empty_channel_name_is_a_typed_error() {
    let client = authwire::create_client(url(), anon_key(), None).unwrap();
    let err = client.channel("", None).err().expect("refused");
    let code = Reflect::get(&err, &"code".into()).unwrap().as_string();
    assert_eq!(code.as_deref(), Some("empty_topic"));
    client.destroy();
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap()
}

#[wasm_bindgen_test]
fn a_refused_channel_call_throws_a_realtime_error() {
    let client = authwire::create_client(url(), anon_key(), None).unwrap();
    let channel = client.channel("room3", None).unwrap();
    let on: Function = get(&channel, "on").into();
    let subscribe: Function = get(&channel, "subscribe").into();
    subscribe.call0(&channel).unwrap();
    // realtime-js refuses presence and postgres_changes listeners once the join is under way.
    let err = on.call3(&channel, &"presence".into(), &js_sys::Object::new(), &on).err().expect("refused");
    assert_eq!(get(&err, "name").as_string().as_deref(), Some("RealtimeError"));
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("binding_after_subscribe"));
    assert_eq!(
        get(&err, "message").as_string().as_deref(),
        Some("cannot add `presence` callbacks for realtime:room3 after `subscribe()`.")
    );
    assert!(get(&err, "status").is_undefined());
    assert!(!authwire::is_auth_error(&err));
    client.destroy();
}

#[wasm_bindgen_test]
fn calls_realtime_js_does_not_throw_for_do_not_throw() {
    let client = authwire::create_client(url(), anon_key(), None).unwrap();
    let channel = client.channel("room4", None).unwrap();
    let on: Function = get(&channel, "on").into();
    // An unknown listener type and an invalid filter: chained code goes on.
    let same = on.call3(&channel, &"nope".into(), &js_sys::Object::new(), &on).unwrap();
    assert!(js_sys::Object::is(&same, &channel));
    let spec = js_sys::JSON::parse(r#"{"event":"*","schema":"public","table":"songs","filter":"id=foo.1"}"#).unwrap();
    let same = on.call3(&channel, &"postgres_changes".into(), &spec, &on).unwrap();
    assert!(js_sys::Object::is(&same, &channel));
    // A second subscribe() on a joining channel is a no-op returning the channel.
    let subscribe: Function = get(&channel, "subscribe").into();
    subscribe.call0(&channel).unwrap();
    let again = subscribe.call0(&channel).unwrap();
    assert!(js_sys::Object::is(&again, &channel));
    // setAuth never throws and returns a promise, with or without a token.
    let realtime: JsValue = client.realtime().into();
    let set_auth: Function = get(&realtime, "setAuth").into();
    let p = set_auth.call1(&realtime, &"not-a-jwt".into()).unwrap();
    assert!(p.is_instance_of::<Promise>());
    let p = set_auth.call0(&realtime).unwrap();
    assert!(p.is_instance_of::<Promise>());
    client.destroy();
}

#[wasm_bindgen_test]
async fn an_out_of_scope_call_resolves_with_an_auth_error() {
    let client = authwire::create_client(url(), anon_key(), None).unwrap();
    // `client.auth` is one JS object per client, so it is reached as JS reaches it.
    let auth = client.auth();
    let sso: Function = get(&auth, "signInWithSSO").into();
    let result = JsFuture::from(Promise::from(sso.call0(&auth).unwrap())).await.unwrap();
    assert!(get(&result, "data").is_null());
    let err = get(&result, "error");
    assert!(authwire::is_auth_error(&err));
    assert_eq!(get(&err, "name").as_string().as_deref(), Some("AuthError"));
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("not_supported"));
    assert!(get(&err, "status").is_undefined());
    client.destroy();
}
