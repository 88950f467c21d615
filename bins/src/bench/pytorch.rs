//! The PyTorch twins: `scripts/torch_bench_twin.py`, started once and asked for one round at a
//! time, so that its rounds alternate with seqlab's in the same minutes of the machine.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use super::{Settings, Workload};
use seqlab_training::note;

/// A running twin script.
pub struct PyTorch {
    child: Child,
    /// Its standard input: one request a line; closing it ends the script.
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
    /// What the script said of itself: versions, threads, build, the twins it set up.
    pub info: serde_json::Value,
}

impl PyTorch {
    /// Starts the twin script on `workloads` (it sets each up and warms it up); `None`, with a
    /// line saying why, when the script, python3 or torch is missing.
    pub fn start(workloads: &[Workload], settings: &Settings) -> Option<Self> {
        let missing = [&settings.twin_script, &settings.torch_script].into_iter().find(|p| !p.exists());
        if let Some(path) = missing {
            note!("PyTorch: skipped ({} not found)", path.display());
            return None;
        }
        let mut command = Command::new("python3");
        command
            .arg(&settings.twin_script)
            .arg("--reference")
            .arg(&settings.torch_script)
            .args(["--threads", &settings.threads.to_string(), "--warmup", &settings.warmup.to_string()])
            .args(workloads.iter().map(|w| w.name));
        if settings.torch_crf_script.exists() {
            command.arg("--crf").arg(&settings.torch_crf_script);
        }
        if settings.torch_flush_denormal {
            command.arg("--flush-denormal");
        }
        let mut child = match command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn() {
            Ok(child) => child,
            Err(e) => {
                note!("PyTorch: skipped (python3: {e})");
                return None;
            }
        };
        let input = child.stdin.take()?;
        let mut output = BufReader::new(child.stdout.take()?);
        let mut first = String::new();
        let Some(info) = output.read_line(&mut first).ok().and_then(|_| serde_json::from_str(&first).ok()) else {
            note!("PyTorch: skipped ({} did not start; is torch installed?)", settings.twin_script.display());
            let _ = child.kill();
            return None;
        };
        Some(Self { child, input: Some(input), output, info })
    }

    /// The implementations the script has for `workload` (`pytorch`, `pytorch-qdynamic`).
    pub fn twins(&self, workload: &str) -> Vec<String> {
        self.info["twins"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t[0] == workload)
            .filter_map(|t| t[1].as_str().map(String::from))
            .collect()
    }

    /// One round: `steps` steps of `implementation` on `workload`; seconds per step.
    pub fn round(&mut self, workload: &str, implementation: &str, steps: usize) -> Option<f64> {
        let input = self.input.as_mut()?;
        writeln!(input, "{workload} {implementation} {steps}").ok()?;
        input.flush().ok()?;
        let mut line = String::new();
        self.output.read_line(&mut line).ok()?;
        serde_json::from_str::<serde_json::Value>(&line).ok()?["seconds_per_step"].as_f64()
    }

    /// The backend column of its rows: threads, and whether it flushes subnormals.
    pub fn backend(&self) -> String {
        let ftz = if self.info["build"]["flush_denormal"] == true { ", flush_denormal" } else { "" };
        format!("cpu, {} threads{ftz}", self.info["threads"])
    }
}

impl Drop for PyTorch {
    fn drop(&mut self) {
        // Closing its input ends the script; wait so that no zombie is left.
        drop(self.input.take());
        let _ = self.child.wait();
    }
}
