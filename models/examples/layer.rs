//! One recurrent layer's forward pass on the CPU kernel, timed alone: f32 (`forward_packed`),
//! int8 (`forward_int8`) and f32 with the tape recorded for BPTT, on the bench's shapes (the
//! tagger's BiLSTM layer, the classifier's first LSTM layer), both cores. One line per shape:
//! the best of `ROUNDS` rounds (first argument, default 20) of about 0.1 s each, the three
//! passes alternating round by round.
//!
//! cargo run --release -p seqlab-models --features ndarray --example layer [ROUNDS]

use std::time::Instant;

use seqlab_models::recurrent::kernel::{Direction, Int8Direction, Layer};
use seqlab_models::recurrent::CellKind;

/// (batch, seq, d_input, hidden, directions).
const SHAPES: [(usize, usize, usize, usize, usize); 2] = [(32, 40, 100, 200, 2), (64, 32, 128, 256, 1)];

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    for (batch, seq, d_input, hidden, directions) in SHAPES {
        let width = 4 * hidden;
        let values = |len: usize, seed: usize| -> Vec<f32> {
            (0..len).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5 - 1.0) * 0.1).collect()
        };
        let weights: Vec<Direction<f32>> = (0..directions)
            .map(|d| Direction {
                weight_ih: values(d_input * width, 1 + d).into(),
                bias_ih: Some(values(width, 2 + d)),
                weight_hh: values(hidden * width, 3 + d).into(),
                bias_hh: Some(values(width, 4 + d)),
                h0: vec![0.0; batch * hidden],
                c0: Some(vec![0.0; batch * hidden]),
                reverse: d == 1,
            })
            .collect();
        let int8: Vec<Int8Direction> = weights
            .iter()
            .map(|d| Int8Direction::quantize(&d.weight_ih, &d.weight_hh, d_input, hidden, width))
            .collect();
        let input = values(batch * seq * d_input, 9);
        let layer = Layer { batch, seq, d_input, hidden, input, masks: None, directions: weights };
        let passes: [&dyn Fn(); 3] = [
            &|| drop(layer.forward_packed(CellKind::Lstm, false)),
            &|| drop(layer.forward_int8(CellKind::Lstm, &int8)),
            &|| drop(layer.forward_packed(CellKind::Lstm, true)),
        ];
        let mut best = [f64::MAX; 3];
        for _ in 0..rounds {
            for (pass, best) in passes.iter().zip(&mut best) {
                let (start, mut reps) = (Instant::now(), 0);
                while start.elapsed().as_secs_f64() < 0.1 {
                    pass();
                    reps += 1;
                }
                *best = best.min(start.elapsed().as_secs_f64() / f64::from(reps));
            }
        }
        println!(
            "{batch}x{seq}, d_input {d_input}, hidden {hidden}, {directions} direction(s): \
             f32 {:.3} ms, int8 {:.3} ms, f32 recorded {:.3} ms",
            best[0] * 1e3,
            best[1] * 1e3,
            best[2] * 1e3
        );
    }
}
