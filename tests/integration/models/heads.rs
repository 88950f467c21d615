//! Task heads: shapes, the pooled final state of a bidirectional encoder, and configs that
//! round-trip through JSON into an identical model.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use seqlab_models::heads::{EncoderConfig, EncoderKind, FeatureEmbeddingConfig};
use seqlab_models::CellKind;
use seqlab_models::{Pooling, SequenceClassifierConfig, TokenClassifierConfig};

use crate::common::*;

const KINDS: [EncoderKind; 5] = [
    EncoderKind::Bag,
    EncoderKind::Recurrent(CellKind::RnnTanh),
    EncoderKind::Recurrent(CellKind::RnnRelu),
    EncoderKind::Recurrent(CellKind::Lstm),
    EncoderKind::Recurrent(CellKind::Gru),
];

fn tokens(device: &seqlab_training::backend::Device) -> Tensor<TestBackend, 2, Int> {
    Tensor::from_data(TensorData::new(vec![3i64, 7, 2, 9, 4, 1, 0, 0, 5, 0, 0, 0], [3, 4]), device)
}

#[test]
fn sequence_classifier_shapes_for_every_encoder_and_pooling() {
    let device = Default::default();
    for kind in KINDS {
        for pooling in [Pooling::Last, Pooling::Mean, Pooling::Max] {
            for bidirectional in [false, true] {
                let model = SequenceClassifierConfig::new(10, 3)
                    .with_embedding_dim(6)
                    .with_encoder(
                        EncoderConfig::new()
                            .with_kind(kind)
                            .with_hidden(5)
                            .with_layers(2)
                            .with_bidirectional(bidirectional),
                    )
                    .with_pooling(pooling)
                    .with_ffn_hidden(vec![4])
                    .init::<TestBackend>(&device);
                let logits = model.forward(tokens(&device), Some(int_tensor(&[4, 2, 1], &device)));
                assert_eq!(logits.dims(), [3, 3], "{kind:?} {pooling:?} bi={bidirectional}");
                assert!(values(&logits).iter().all(|v| v.is_finite()));
            }
        }
    }
}

#[test]
fn bidirectional_final_state_is_last_forward_and_first_backward_output() {
    let device = Default::default();
    let encoder = EncoderConfig::new()
        .with_kind(EncoderKind::Recurrent(CellKind::Gru))
        .with_hidden(3)
        .with_bidirectional(true)
        .init::<TestBackend>(4, &device);
    let x = Tensor::<TestBackend, 3>::random([2, 5, 4], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let lengths = [5, 3];
    let (outputs, out) = encoder.forward(x, Some(int_tensor(&lengths, &device)));
    let last = encoder.last_state(out.as_ref().unwrap());
    assert_eq!(last.dims(), [2, 6]);
    for (b, &len) in lengths.iter().enumerate() {
        let forward = outputs.clone().slice([b..b + 1, len - 1..len, 0..3]);
        let backward = outputs.clone().slice([b..b + 1, 0..1, 3..6]);
        assert_close(&values(&last.clone().slice([b..b + 1, 0..3])), &values(&forward), 1e-6, "forward half");
        assert_close(&values(&last.clone().slice([b..b + 1, 3..6])), &values(&backward), 1e-6, "backward half");
    }
}

#[test]
fn token_classifier_shapes_with_a_feature_embedding() {
    let device = Default::default();
    for kind in KINDS {
        let model = TokenClassifierConfig::new(10, 9)
            .with_embedding_dim(6)
            .with_features(vec![FeatureEmbeddingConfig::new(7, 2)])
            .with_encoder(EncoderConfig::new().with_kind(kind).with_hidden(5).with_bidirectional(true))
            .init::<TestBackend>(&device);
        let casing = tokens(&device).clamp_max(6);
        let logits = model.forward(tokens(&device), vec![casing], None, Some(int_tensor(&[4, 2, 1], &device)));
        assert_eq!(logits.dims(), [3, 4, 9], "{kind:?}");
    }
}

#[test]
fn sequence_classifier_config_round_trips_into_an_identical_model() {
    let device = Default::default();
    let config = SequenceClassifierConfig::new(12, 2)
        .with_embedding_dim(5)
        .with_encoder(
            EncoderConfig::new()
                .with_kind(EncoderKind::Recurrent(CellKind::Lstm))
                .with_hidden(4)
                .with_layers(2)
                .with_bidirectional(true)
                .with_forget_bias(Some(1.0)),
        )
        .with_pooling(Pooling::Max)
        .with_ffn_hidden(vec![3]);
    let json = serde_json::to_string(&config).unwrap();
    let restored: SequenceClassifierConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&restored).unwrap(), json);

    // Run the original first: cloning a lazily initialised Burn module initialises each clone
    // on its own, so its record would otherwise be another random model.
    let original = config.init::<TestBackend>(&device);
    let lengths = || Some(int_tensor(&[4, 2, 1], &device));
    let a = original.forward(tokens(&device), lengths());
    let rebuilt = restored.init::<TestBackend>(&device).load_record(original.clone().into_record());
    assert_eq!(original.num_params(), rebuilt.num_params());
    let b = rebuilt.forward(tokens(&device), lengths());
    assert_eq!(values(&a), values(&b));
}

#[test]
fn token_classifier_config_round_trips_into_an_identical_model() {
    let device = Default::default();
    let config = TokenClassifierConfig::new(12, 5)
        .with_embedding_dim(4)
        .with_features(vec![FeatureEmbeddingConfig::new(7, 2)])
        .with_encoder(EncoderConfig::new().with_kind(EncoderKind::Recurrent(CellKind::Gru)).with_hidden(3));
    let json = serde_json::to_string_pretty(&config).unwrap();
    let restored: TokenClassifierConfig = serde_json::from_str(&json).unwrap();
    let original = config.init::<TestBackend>(&device);
    let run = |m: &seqlab_models::TokenClassifier<TestBackend>| {
        values(&m.forward(
            tokens(&device),
            vec![tokens(&device).clamp_max(6)],
            None,
            Some(int_tensor(&[4, 2, 1], &device)),
        ))
    };
    let a = run(&original); // initialises every parameter before the record is taken
    let rebuilt = restored.init::<TestBackend>(&device).load_record(original.clone().into_record());
    assert_eq!(a, run(&rebuilt));
}

#[test]
fn lstm_forget_bias_initialisation() {
    let device = Default::default();
    let lstm = seqlab_models::RecurrentConfig::new(CellKind::Lstm, 2, 3)
        .with_forget_bias(Some(1.0))
        .init::<TestBackend>(&device);
    let b_ih = values(&lstm.weights[0].bias_ih.as_ref().unwrap().val());
    let b_hh = values(&lstm.weights[0].bias_hh.as_ref().unwrap().val());
    assert_eq!(&b_ih[3..6], &[1.0, 1.0, 1.0]);
    assert_eq!(&b_hh[3..6], &[0.0, 0.0, 0.0]);
    let bound = 1.0 / 3f32.sqrt();
    assert!(b_ih[..3].iter().chain(&b_ih[6..]).all(|v| v.abs() <= bound), "other gates keep U(−1/√H, 1/√H)");
}

/// The character CNN's matmul-over-windows equals Burn's `conv1d` with the same weights,
/// masking and max-pooling.
#[test]
fn char_cnn_is_a_same_padded_convolution_max_pooled_over_real_characters() {
    use burn::tensor::module::conv1d;
    use burn::tensor::ops::ConvOptions;
    use seqlab_models::heads::CharCnnConfig;
    let device = Default::default();
    let (dim, filters, width) = (4, 5, 3);
    let cnn = CharCnnConfig::new(9).with_dim(dim).with_filters(filters).with_width(width).init::<TestBackend>(&device);
    // Two sentences of two words; the second sentence's second word is padding (no characters).
    let ids: Vec<i64> = vec![3, 1, 4, 0, 5, 0, 0, 0, 2, 6, 5, 3, 0, 0, 0, 0];
    let chars: Tensor<TestBackend, 3, Int> = Tensor::from_data(TensorData::new(ids, [2, 2, 4]), &device);
    let out = cnn.forward(chars.clone());
    assert_eq!(out.dims(), [2, 2, filters]);

    // The reference: conv1d with the Linear weights laid out as [filters, dim, width].
    let flat = chars.reshape([4, 4]);
    let real = flat.clone().not_equal_elem(0).float();
    let x = cnn.embedding.forward(flat) * real.clone().unsqueeze_dim(2);
    let weight = cnn.conv.weight.val().reshape([width, dim, filters]).permute([2, 1, 0]);
    let bias = cnn.conv.bias.as_ref().map(burn::module::Param::val);
    let h = conv1d(x.swap_dims(1, 2), weight, bias, ConvOptions::new([1], [width / 2], [1], 1)); // [words, filters, chars]
    let h = h + (real.clone() - 1.0).unsqueeze_dim(1) * 1e4;
    let expected = (h.max_dim(2).squeeze_dim::<2>(2) * real.max_dim(1)).reshape([2, 2, filters]);
    let (a, e) = (values(&out), values(&expected));
    assert_close(&a, &e, 1e-5, "char CNN vs conv1d");
    assert!(a[3 * filters..].iter().all(|&v| v == 0.0), "a word without characters gives zeros");
    assert!(a[..filters].iter().any(|&v| v != 0.0));
}

/// A very long sentence is encoded in buckets of similar word lengths: the same vectors and the
/// same gradients as the single padded matrix.
#[test]
fn char_cnn_in_length_buckets_equals_one_padded_matrix() {
    use burn::tensor::backend::AutodiffBackend;
    use seqlab_models::heads::{CharCnn, CharCnnConfig};
    let device = Default::default();
    let cnn: CharCnn<TestAutodiff> = CharCnnConfig::new(30).with_dim(6).with_filters(7).init(&device);
    // More words than the bucketing threshold, lengths 0 (padding) to 23, one 41-character word.
    let words = CharCnn::<TestAutodiff>::BUCKETED_ABOVE + 500;
    let width = 41;
    let mut ids = vec![0i64; words * width];
    for w in 0..words {
        let length = if w == 17 { width } else { (w * 7919) % 24 };
        for c in 0..length {
            ids[w * width + c] = 1 + ((w * 31 + c * 7) % 29) as i64;
        }
    }
    let chars: Tensor<TestAutodiff, 3, Int> = Tensor::from_data(TensorData::new(ids, [1, words, width]), &device);
    let bucketed = cnn.forward(chars.clone()).reshape([words, 7]);
    let whole = cnn.words(chars.reshape([words, width]));
    assert_eq!(values(&bucketed.clone().inner()), values(&whole.clone().inner()), "same values, bit for bit");
    let weights = Tensor::<TestAutodiff, 2>::random([words, 7], burn::tensor::Distribution::Default, &device);
    let grads_b = (bucketed * weights.clone()).sum().backward();
    let grads_w = (whole * weights).sum().backward();
    // Sums over thousands of words in another order: equal to float rounding (relative 1e-5).
    let relative = |a: &[f32], b: &[f32], what: &str| {
        let scale = b.iter().fold(1f32, |m, v| m.max(v.abs()));
        assert_close(a, b, 1e-5 * scale, what);
    };
    let grad = |g: &<TestAutodiff as AutodiffBackend>::Gradients| values(&cnn.conv.weight.grad(g).unwrap());
    relative(&grad(&grads_b), &grad(&grads_w), "filter gradients");
    let table = |g: &<TestAutodiff as AutodiffBackend>::Gradients| values(&cnn.embedding.weight.grad(g).unwrap());
    relative(&table(&grads_b), &table(&grads_w), "character embedding gradients");
}
