//! The README's layer example, verbatim, with the shapes it claims.

#[test]
fn readme_layer_example() {
    use burn::backend::NdArray;
    use burn::tensor::{Int, Tensor};
    use seqlab_models::{CellKind, RecurrentConfig};

    let device = Default::default();
    // A 2-layer bidirectional LSTM, 100 → 2×200, dropout 0.3 between layers.
    let lstm = RecurrentConfig::new(CellKind::Lstm, 100, 200)
        .with_num_layers(2)
        .with_bidirectional(true)
        .with_dropout(0.3)
        .init::<NdArray>(&device);

    let x = Tensor::<NdArray, 3>::zeros([32, 40, 100], &device); // [batch, seq, input]
    let lengths = Tensor::<NdArray, 1, Int>::from_ints([40; 32], &device); // real lengths
    let out = lstm.forward(x, Some(lengths), None);
    assert_eq!(out.output.dims(), [32, 40, 400]);
    assert_eq!(out.state.hidden.dims(), [4, 32, 200]);
    assert_eq!(out.state.cell.map(|c| c.dims()), Some([4, 32, 200]));
}
