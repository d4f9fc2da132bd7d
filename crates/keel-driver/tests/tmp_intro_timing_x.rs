#![allow(clippy::unwrap_used)]
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit_once(')').unwrap().1.split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tmp_timing() {
    let Ok(url) = std::env::var("KEEL_TMP_URL") else {
        return;
    };
    let mut v = vec![];
    for _ in 0..5 {
        let mut driver = keel_driver::connect(&url).await.unwrap();
        let c = cpu();
        let t = std::time::Instant::now();
        let _ = driver.introspect().await.unwrap();
        v.push((t.elapsed().as_millis(), cpu() - c));
    }
    eprintln!("wall ms / client cpu ms: {v:?}");
}
