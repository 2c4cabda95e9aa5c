//! Native decode speed: authwire-wire's JSON (the SDK's path: decode the frame, then read one
//! level of the payload without building a tree) against serde_json's `Value` tree.
use std::hint::black_box;
use std::time::Instant;

use authwire_wire::frame::{decode_text, Payload, Vsn};
use authwire_wire::realtime::{parse_postgres_changes, parse_presence_state, parse_reply};

fn change(bytes: usize) -> String {
    let mut record = String::from("{\"id\":1");
    let mut i = 0;
    while record.len() < bytes {
        record.push_str(&format!(",\"col{i}\":\"value {i} with some text é\",\"n{i}\":{i}.5"));
        i += 1;
    }
    record.push('}');
    format!(
        r#"[null,null,"realtime:room1","postgres_changes",{{"ids":[30636876],"data":{{"schema":"public","table":"songs","type":"UPDATE","commit_timestamp":"2026-08-01T10:00:00.123Z","columns":[{{"name":"id","type":"int4"}}],"record":{record},"old_record":{{"id":1}},"errors":null}}}}]"#
    )
}

fn presence(bytes: usize) -> String {
    let mut s = String::from(r#"["3",null,"realtime:room1","presence_state",{"#);
    let mut i = 0;
    while s.len() < bytes {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(r#""user-{i}":{{"metas":[{{"phx_ref":"GGv8kghlMIrHAlwB{i}","name":"user {i}","online_at":"2026-08-01T10:00:00Z"}}]}}"#));
        i += 1;
    }
    s.push_str("}]");
    s
}

fn ours(frame: &str) -> usize {
    let f = decode_text(frame, Vsn::V2).unwrap();
    let Payload::Json(p) = f.payload else { unreachable!() };
    match f.event.as_str() {
        "phx_reply" => parse_reply(&p).unwrap().status.len(),
        "postgres_changes" => parse_postgres_changes(&p).unwrap().data_field("record").unwrap().len(),
        _ => parse_presence_state(&p).unwrap().len(),
    }
}

fn serde(frame: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(frame).unwrap();
    let p = &v[4];
    match v[3].as_str().unwrap() {
        "phx_reply" => p["status"].as_str().unwrap().len(),
        "postgres_changes" => p["data"]["record"].to_string().len(),
        _ => p.as_object().unwrap().len(),
    }
}

fn bench(name: &str, frame: &str, f: fn(&str) -> usize) -> f64 {
    let iters = (20_000_000 / frame.len().max(100)).max(200);
    for _ in 0..iters / 10 {
        black_box(f(black_box(frame)));
    }
    let t = Instant::now();
    for _ in 0..iters {
        black_box(f(black_box(frame)));
    }
    let ns = t.elapsed().as_nanos() as f64 / iters as f64;
    println!("  {name:<12} {:>10.0} ns/op  {:>8.1} MB/s", ns, frame.len() as f64 / ns * 1000.0);
    ns
}

fn main() {
    let cases = [
        ("heartbeat reply", r#"[null,"12","phoenix","phx_reply",{"status":"ok","response":{}}]"#.to_string()),
        ("2 KB postgres_changes", change(2_000)),
        ("50 KB presence_state", presence(50_000)),
    ];
    for (name, frame) in &cases {
        println!("{name} ({} bytes)", frame.len());
        assert_eq!(ours(frame) > 0, serde(frame) > 0);
        let a = bench("authwire", frame, ours);
        let b = bench("serde_json", frame, serde);
        println!("  ratio authwire/serde_json: {:.2}", a / b);
    }
}
