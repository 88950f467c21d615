//! The PyTorch twins: the reference scripts run on the same machine with the same threads,
//! their JSON lines read back as rows of the table.

use std::path::Path;
use std::process::Command;

use super::{Row, Settings, Twin, Workload};

/// Runs the PyTorch twins of `workloads` (each script once); no rows for a script that is
/// missing or does not run.
pub fn pytorch(workloads: &[Workload], settings: &Settings) -> Vec<Row> {
    let named = |twin: Twin| -> Vec<&str> { workloads.iter().filter(|w| w.twin == twin).map(|w| w.name).collect() };
    let mut rows = Vec::new();
    let reference = named(Twin::Reference);
    if !reference.is_empty() {
        rows.extend(run_script(&settings.torch_script, &reference, settings));
    }
    if !named(Twin::Crf).is_empty() {
        rows.extend(run_script(&settings.torch_crf_script, &[], settings));
    }
    rows
}

/// Runs one PyTorch reference script on `workloads` (none: the script's own).
fn run_script(script: &Path, workloads: &[&str], settings: &Settings) -> Vec<Row> {
    if !script.exists() {
        eprintln!("PyTorch: skipped ({} not found)", script.display());
        return Vec::new();
    }
    let steps = (settings.steps * settings.rounds).to_string();
    let output = Command::new("python3")
        .arg(script)
        .args(["--threads", &settings.threads.to_string(), "--steps", &steps, "--warmup", &settings.warmup.to_string()])
        .args(workloads)
        .output();
    let Some(output) = output.ok().filter(|o| o.status.success()) else {
        eprintln!("PyTorch: skipped (python3 with torch did not run {})", script.display());
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| Row {
            workload: v["workload"].as_str().unwrap_or("?").into(),
            implementation: format!("pytorch {}", v["torch"].as_str().unwrap_or("")),
            backend: format!("cpu, {} threads", v["threads"]),
            ms_per_step: v["ms_per_step"].as_f64().unwrap_or(f64::NAN),
            tokens_per_s: v["tokens_per_s"].as_f64().unwrap_or(f64::NAN),
            peak_rss_mib: None,
        })
        .collect()
}
