//! Native decode speed of the four JSON strategies on three frames (a heartbeat reply, a 2 KB
//! postgres_changes event, a 50 KB presence_state), each doing the job of `json-tasks`.
//! `json-bench DIR` also writes the three frames to DIR for the node measurement.
use std::hint::black_box;
use std::time::{Duration, Instant};

use json_tasks::{miniserde, ours, serde_typed, serde_value};

fn change(bytes: usize) -> String {
    let mut record = String::from("{\"id\":1");
    let mut i = 0;
    while record.len() < bytes - 420 {
        record.push_str(&format!(",\"col{i}\":\"value {i} with some text é\",\"n{i}\":{i}.5"));
        i += 1;
    }
    record.push('}');
    format!(
        r#"[null,null,"realtime:room1","postgres_changes",{{"ids":[30636876,30636877],"data":{{"schema":"public","table":"songs","type":"UPDATE","commit_timestamp":"2026-08-01T10:00:00.123Z","columns":[{{"name":"id","type":"int4"}},{{"name":"title","type":"text"}}],"record":{record},"old_record":{{"id":1}},"errors":null}}}}]"#
    )
}

fn presence(bytes: usize) -> String {
    let mut s = String::from(r#"["3",null,"realtime:room1","presence_state",{"#);
    let mut i = 0;
    while s.len() < bytes - 160 {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#""user-{i}":{{"metas":[{{"phx_ref":"GGv8kghlMIrHAlwB{i}","name":"user {i}","online_at":"2026-08-01T10:00:00Z","status":"online"}}]}}"#
        ));
        i += 1;
    }
    s.push_str("}]");
    s
}

/// Median ns per call over 7 rounds of ~150 ms each.
fn bench(frame: &str, f: fn(&str) -> usize) -> f64 {
    let mut iters = 1u64;
    while {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f(black_box(frame)));
        }
        t.elapsed() < Duration::from_millis(150)
    } {
        iters *= 2;
    }
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(f(black_box(frame)));
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[3]
}

fn main() {
    let frames = [
        ("heartbeat_reply", r#"[null,"12","phoenix","phx_reply",{"status":"ok","response":{}}]"#.to_string()),
        ("postgres_changes_2k", change(2_048)),
        ("presence_state_50k", presence(50 * 1024)),
    ];
    if let Some(dir) = std::env::args().nth(1) {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, frame) in &frames {
            std::fs::write(format!("{dir}/{name}.json"), frame).unwrap();
        }
    }
    let options: [(&str, fn(&str) -> usize); 4] = [
        ("authwire json", ours::run),
        ("serde_json Value", serde_value::run),
        ("serde_json typed+RawValue", serde_typed::run),
        ("miniserde Value", miniserde::run),
    ];
    println!("| frame | bytes | strategy | checksum | ns/op | MB/s |");
    println!("|---|---|---|---|---|---|");
    for (name, frame) in &frames {
        for (option, f) in options {
            let sum = f(frame);
            assert!(sum > 0, "{option} refused {name}");
            let ns = bench(frame, f);
            println!(
                "| {name} | {} | {option} | {sum} | {ns:.0} | {:.0} |",
                frame.len(),
                frame.len() as f64 / ns * 1e3
            );
        }
    }
}
