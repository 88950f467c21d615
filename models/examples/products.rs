//! The recurrent kernel's matrix products timed on their own, on one thread: the `gemm` crate
//! with the features the kernel builds it with, the f32 kernel of the recurrent step on weights
//! packed once (`panels`, where the CPU has AVX-512F), and the int8 products of quantised
//! inference on every int8 kernel this CPU runs (quantising the activations included), on the
//! shapes the bench's models multiply. One JSON line per shape and implementation: the best of `ROUNDS`
//! rounds (first argument, default 5) of about 0.2 s. `scripts/kernel-products.sh` runs it
//! beside PyTorch's MKL and its dynamically quantised `Linear` on the same shapes.
//!
//! cargo run --release -p seqlab-models --example products [ROUNDS]

use std::time::Instant;

use seqlab_models::recurrent::kernel::int8::{Int8Kernel, Int8Matrix, QuantizedRows};
use seqlab_models::recurrent::kernel::panels::Panels;

/// (rows, k, n): a tagger step, a classifier step, the tagger's input projection, its `∂W_hh`.
const SHAPES: [(usize, usize, usize); 5] =
    [(16, 200, 800), (32, 200, 800), (32, 256, 1024), (1280, 100, 800), (200, 1280, 800)];

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    for (m, k, n) in SHAPES {
        let lhs: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.01).collect();
        let rhs: Vec<f32> = (0..k * n).map(|i| (i % 11) as f32 * 0.02).collect();
        let mut out = vec![0.0f32; m * n];
        let flop = 2.0 * (m * k * n) as f64;
        let reps = (0.2e11 / flop) as usize + 1;
        let best = |product: &mut dyn FnMut()| {
            let mut best = f64::MAX;
            for _ in 0..rounds {
                let start = Instant::now();
                for _ in 0..reps {
                    product();
                }
                best = best.min(start.elapsed().as_secs_f64() / reps as f64);
            }
            best
        };
        let print = |implementation: &str, seconds: f64| {
            println!(
                "{{\"shape\": \"{m}x{k}x{n}\", \"implementation\": \"{implementation}\", \"us\": {:.2}, \"gflops\": {:.1}}}",
                seconds * 1e6,
                flop / seconds / 1e9
            );
        };
        print("gemm crate f32", best(&mut || gemm_crate(&mut out, &lhs, &rhs, m, k, n)));
        if Panels::runs_here() {
            let panels = Panels::pack(&rhs, k, n);
            print("seqlab panels f32", best(&mut || panels.matmul_bias(&mut out, &lhs, m, None)));
        }
        let weights = Int8Matrix::quantize(&rhs, k, n);
        let mut scratch = QuantizedRows::default();
        for kernel in [Int8Kernel::Vnni, Int8Kernel::Amx].into_iter().filter(|kernel| kernel.runs_here()) {
            let seconds = best(&mut || weights.matmul_add_with(kernel, &mut out, &lhs, m, &mut scratch));
            print(&format!("seqlab int8 {}", kernel.name()), seconds);
        }
    }
}

/// `out += lhs × rhs`, row-major, through the `gemm` crate on this thread.
fn gemm_crate(out: &mut [f32], lhs: &[f32], rhs: &[f32], m: usize, k: usize, n: usize) {
    // SAFETY: the three slices are m·n, m·k and k·n long, row-major, and `out` aliases neither.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            true,
            lhs.as_ptr(),
            1,
            k as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
