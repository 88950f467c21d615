//! `seqlab_models::flat`: tensors as flat row-major buffers, whether held once or shared, and
//! contiguous or not.

use burn::tensor::{Distribution, Tensor};
use seqlab_models::flat::{from_vec, to_vec};

use crate::common::*;

#[test]
fn flat_values_are_row_major_for_held_shared_and_strided_tensors() {
    let device = Default::default();
    let t = Tensor::<TestBackend, 2>::random([3, 5], Distribution::Normal(0.0, 1.0), &device);
    let expected = values(&t);
    let shared = t.clone(); // held twice: the copying path
    assert_eq!(to_vec::<TestBackend, f32, 2>(t.clone()), expected);
    assert_eq!(to_vec::<TestBackend, f32, 2>(shared.clone().transpose()), values(&shared.transpose()));
    drop(t);
    let once = from_vec::<TestBackend, f32, 2>(expected.clone(), [3, 5], &device);
    assert_eq!(to_vec::<TestBackend, f32, 2>(once), expected);
    let doubles: Vec<f64> = (0..6).map(|i| f64::from(i) / 3.0).collect();
    let t64 = from_vec::<TestBackend, f64, 2>(doubles.clone(), [2, 3], &device);
    let _keep = t64.clone();
    assert_eq!(to_vec::<TestBackend, f64, 2>(t64), doubles);
}
