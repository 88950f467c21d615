//! The linear-chain CRF against brute force (every tag sequence enumerated), float64 finite
//! differences, the tag schemes' rules, and pytorch-crf.

#[cfg(feature = "ndarray")]
use burn::backend::{Autodiff, NdArray};
use burn::module::Param;
use burn::tensor::{backend::Backend, DType, Int, Tensor, TensorCreationOptions, TensorData};
use seqlab_datasets::ner::{allowed_transition, validate, TagScheme};
use seqlab_models::crf::{Allowed, Potentials};
use seqlab_models::{Crf, CrfConfig};

use crate::common::{fixture_path, TestAutodiff, TestBackend};

#[cfg(feature = "ndarray")]
type F64 = NdArray<f64>;
#[cfg(feature = "ndarray")]
type AdF64 = Autodiff<F64>;

/// A small deterministic generator (xorshift64*), values in [−1, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545F4914F6CDD1D) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| scale * self.next()).collect()
    }

    fn below(&mut self, n: usize) -> usize {
        (((self.next() + 1.0) / 2.0) * n as f64) as usize % n
    }
}

/// Every tag sequence of length `len` over `k` tags.
fn all_paths(k: usize, len: usize) -> Vec<Vec<usize>> {
    (0..k.pow(len as u32))
        .map(|mut code| {
            (0..len)
                .map(|_| {
                    let t = code % k;
                    code /= k;
                    t
                })
                .collect()
        })
        .collect()
}

/// Equal within 1e-9 (infinities of one sign equal).
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() < 1e-9
}

fn ln_sum_exp(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        max
    } else {
        max + v.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
    }
}

/// `log P(y)` by enumerating every tag sequence of `y`'s length (0 for the empty sequence).
fn brute_force_log_likelihood(p: &Potentials, emissions: &[f64], y: &[usize]) -> f64 {
    if y.is_empty() {
        return 0.0;
    }
    let scores: Vec<f64> = all_paths(p.tags, y.len()).iter().map(|path| p.score(emissions, path)).collect();
    p.score(emissions, y) - ln_sum_exp(&scores)
}

/// Random potentials over `k` tags; with `forbid`, about a quarter of the transitions, one
/// start and one end are `−∞`.
fn potentials(rng: &mut Rng, k: usize, forbid: bool) -> Potentials {
    let mut p = Potentials { tags: k, transitions: rng.vec(k * k, 2.0), start: rng.vec(k, 2.0), end: rng.vec(k, 2.0) };
    if forbid {
        for v in p.transitions.iter_mut() {
            if rng.next() < -0.5 {
                *v = f64::NEG_INFINITY;
            }
        }
        p.start[0] = f64::NEG_INFINITY;
        p.end[k - 1] = f64::NEG_INFINITY;
    }
    p
}

#[test]
fn partition_marginals_viterbi_and_nbest_match_brute_force() {
    let mut rng = Rng(0x5eed_c0de);
    for case in 0..24 {
        let k = 2 + case % 3;
        let len = case % 6; // 0..=5
        let p = potentials(&mut rng, k, case % 2 == 1);
        let em = rng.vec(len * k, 3.0);
        let paths = all_paths(k, len);
        let scores: Vec<f64> = paths.iter().map(|y| p.score(&em, y)).collect();
        let log_z = ln_sum_exp(&scores);
        assert!(close(p.log_partition(&em), log_z), "case {case}: log Z {} vs {log_z}", p.log_partition(&em));

        // Marginals: unary and summed pairwise, by enumeration.
        let m = p.marginals(&em);
        assert!(close(m.log_z, log_z));
        let mut unary = vec![0.0; len * k];
        let mut pairwise = vec![0.0; k * k];
        for (y, s) in paths.iter().zip(&scores) {
            let prob = (s - log_z).exp();
            for t in 0..len {
                unary[t * k + y[t]] += prob;
                if t > 0 {
                    pairwise[y[t - 1] * k + y[t]] += prob;
                }
            }
        }
        if log_z == f64::NEG_INFINITY {
            // No allowed path: no probability anywhere, and nothing to decode.
            assert!(m.unary.iter().chain(&m.pairwise).all(|&p| p == 0.0), "case {case}");
            assert!(p.nbest(&em, 3).is_empty(), "case {case}");
            continue;
        }
        for (a, b) in m.unary.iter().zip(&unary).chain(m.pairwise.iter().zip(&pairwise)) {
            assert!((a - b).abs() < 1e-9, "case {case}: marginal {a} vs {b}");
        }
        for t in 0..len {
            let row: f64 = m.unary[t * k..(t + 1) * k].iter().sum();
            assert!((row - 1.0).abs() < 1e-9, "case {case}: marginals of token {t} sum to {row}");
        }

        // Viterbi and the 5 best, against the sorted enumeration (finite scores only).
        let mut ranked: Vec<(f64, &Vec<usize>)> =
            scores.iter().copied().zip(&paths).filter(|(s, _)| s.is_finite()).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (best, best_score) = p.viterbi(&em);
        if len == 0 {
            assert_eq!((best, best_score), (vec![], 0.0));
            continue;
        }
        assert!((best_score - ranked[0].0).abs() < 1e-9 && &best == ranked[0].1, "case {case}: viterbi");
        let nbest = p.nbest(&em, 5);
        assert_eq!(nbest.len(), ranked.len().min(5), "case {case}: number of paths");
        for (i, (path, score)) in nbest.iter().enumerate() {
            assert!((score - ranked[i].0).abs() < 1e-9, "case {case}: rank {i} score {score} vs {}", ranked[i].0);
            assert!((p.score(&em, path) - score).abs() < 1e-9, "case {case}: rank {i}'s path has another score");
        }
        let distinct: std::collections::HashSet<&Vec<usize>> = nbest.iter().map(|(p, _)| p).collect();
        assert_eq!(distinct.len(), nbest.len(), "case {case}: n-best paths are distinct");

        // A span's probability: the enumerated mass of paths carrying it.
        let (start, span) = (len / 2, &best[len / 2..]);
        let mass: f64 =
            paths.iter().zip(&scores).filter(|(y, _)| &y[start..] == span).map(|(_, s)| (s - log_z).exp()).sum();
        assert!((p.span_probability(&em, start, span) - mass).abs() < 1e-9, "case {case}: span probability");
        // Every span of the best path at once (one forward–backward): each against its
        // enumerated mass.
        let spans: Vec<(usize, &[usize])> =
            (0..len).flat_map(|a| (a + 1..=len).map(move |b| (a, b))).map(|(a, b)| (a, &best[a..b])).collect();
        for (&(a, tags), got) in spans.iter().zip(p.span_probabilities(&em, &spans)) {
            let mass: f64 = paths
                .iter()
                .zip(&scores)
                .filter(|(y, _)| &y[a..a + tags.len()] == tags)
                .map(|(_, s)| (s - log_z).exp())
                .sum();
            assert!((got - mass).abs() < 1e-9, "case {case}: span {a}+{} probability {got} vs {mass}", tags.len());
        }
    }
}

/// A CRF module over `k` tags with the given potentials (no forbidden entries).
fn crf_with<B: Backend>(p: &Potentials, device: &B::Device, dtype: DType) -> Crf<B> {
    let k = p.tags;
    let options = || TensorCreationOptions::<B>::new(device.clone()).with_dtype(dtype);
    let mut crf = CrfConfig::new(k).init::<B>(device);
    crf.transitions = Param::from_tensor(Tensor::from_data(TensorData::new(p.transitions.clone(), [k, k]), options()));
    crf.start = Param::from_tensor(Tensor::from_data(TensorData::new(p.start.clone(), [k]), options()));
    crf.end = Param::from_tensor(Tensor::from_data(TensorData::new(p.end.clone(), [k]), options()));
    crf
}

const K: usize = 3;
const SEQ: usize = 4;
const LENGTHS: [usize; 3] = [4, 1, 0];

fn batch<B: Backend>(rng: &mut Rng, device: &B::Device) -> (Vec<f64>, Tensor<B, 2, Int>, Tensor<B, 1, Int>) {
    let em = rng.vec(LENGTHS.len() * SEQ * K, 2.0);
    let tags: Vec<i64> = (0..LENGTHS.len() * SEQ).map(|_| rng.below(K) as i64).collect();
    let tags = Tensor::from_data(TensorData::new(tags, [LENGTHS.len(), SEQ]), device);
    let lengths = Tensor::from_data(
        TensorData::new(LENGTHS.iter().map(|&l| l as i64).collect::<Vec<_>>(), [LENGTHS.len()]),
        device,
    );
    (em, tags, lengths)
}

#[test]
#[cfg(feature = "ndarray")]
fn log_likelihood_of_a_padded_batch_matches_brute_force() {
    let device = Default::default();
    let mut rng = Rng(7);
    let p = potentials(&mut rng, K, false);
    let crf = crf_with::<F64>(&p, &device, DType::F64);
    let (em, tags, lengths) = batch::<F64>(&mut rng, &device);
    let gold: Vec<i64> = tags.to_data().convert::<i64>().to_vec().unwrap();
    let emissions = Tensor::<F64, 3>::from_data(
        TensorData::new(em.clone(), [LENGTHS.len(), SEQ, K]),
        TensorCreationOptions::new(device).with_dtype(DType::F64),
    );
    let ll: Vec<f64> =
        crf.log_likelihood(emissions.clone(), tags, lengths.clone()).into_data().convert::<f64>().to_vec().unwrap();
    for (b, &len) in LENGTHS.iter().enumerate() {
        let seq_em = &em[b * SEQ * K..b * SEQ * K + len * K];
        let y: Vec<usize> = gold[b * SEQ..b * SEQ + len].iter().map(|&t| t as usize).collect();
        let expected = brute_force_log_likelihood(&p, seq_em, &y);
        assert!((ll[b] - expected).abs() < 1e-9, "sequence {b}: {} vs {expected}", ll[b]);
    }
    // Marginals over the padded batch: rows of real tokens sum to 1, padding rows to 0.
    let m: Vec<f64> = crf.marginals(emissions, lengths).into_data().convert::<f64>().to_vec().unwrap();
    for (b, &len) in LENGTHS.iter().enumerate() {
        for t in 0..SEQ {
            let row: f64 = m[(b * SEQ + t) * K..(b * SEQ + t + 1) * K].iter().sum();
            assert!((row - if t < len { 1.0 } else { 0.0 }).abs() < 1e-12, "sequence {b} token {t}: {row}");
        }
    }
}

#[test]
#[cfg(feature = "ndarray")]
fn log_likelihood_gradients_match_finite_differences() {
    let device = Default::default();
    let mut rng = Rng(99);
    let p = potentials(&mut rng, K, false);
    let (em, tags, lengths) = batch::<AdF64>(&mut rng, &device);
    let weights = [0.7, -1.3, 2.0]; // a loss Σ wₙ·llₙ, so each sequence's gradient counts apart
    let f64_options = || TensorCreationOptions::<AdF64>::new(device).with_dtype(DType::F64);
    let loss_of = |p: &Potentials, em: &[f64], grad: bool| {
        let crf = crf_with::<AdF64>(p, &device, DType::F64);
        let mut e = Tensor::<AdF64, 3>::from_data(TensorData::new(em.to_vec(), [LENGTHS.len(), SEQ, K]), f64_options());
        if grad {
            e = e.require_grad();
        }
        let w = Tensor::<AdF64, 1>::from_data(TensorData::new(weights.to_vec(), [3]), f64_options());
        let loss = (crf.log_likelihood(e.clone(), tags.clone(), lengths.clone()) * w).sum();
        (crf, e, loss)
    };
    let (crf, e, loss) = loss_of(&p, &em, true);
    let grads = loss.backward();
    let host = |t: Option<Tensor<F64, 3>>| -> Vec<f64> { t.unwrap().into_data().convert::<f64>().to_vec().unwrap() };
    let g_em = host(e.grad(&grads));
    let g_tr: Vec<f64> = crf.transitions.val().grad(&grads).unwrap().into_data().convert::<f64>().to_vec().unwrap();
    let g_start: Vec<f64> = crf.start.val().grad(&grads).unwrap().into_data().convert::<f64>().to_vec().unwrap();
    let g_end: Vec<f64> = crf.end.val().grad(&grads).unwrap().into_data().convert::<f64>().to_vec().unwrap();
    let value = |p: &Potentials, em: &[f64]| -> f64 { loss_of(p, em, false).2.into_scalar() };
    let eps = 1e-6;
    let central = |plus: f64, minus: f64| (plus - minus) / (2.0 * eps);
    for i in 0..em.len() {
        let (mut a, mut b) = (em.clone(), em.clone());
        a[i] += eps;
        b[i] -= eps;
        let fd = central(value(&p, &a), value(&p, &b));
        assert!((fd - g_em[i]).abs() < 1e-6, "∂/∂emissions[{i}]: {} vs {fd}", g_em[i]);
    }
    let nudge = |which: usize, i: usize, delta: f64| {
        let mut q = p.clone();
        [&mut q.transitions, &mut q.start, &mut q.end][which][i] += delta;
        value(&q, &em)
    };
    for (which, grads, name) in [(0, &g_tr, "transitions"), (1, &g_start, "start"), (2, &g_end, "end")] {
        for (i, g) in grads.iter().enumerate() {
            let fd = central(nudge(which, i, eps), nudge(which, i, -eps));
            assert!((fd - g).abs() < 1e-6, "∂/∂{name}[{i}]: {g} vs {fd}");
        }
    }
}

/// The tags of a 2-type tag map in `scheme`, with `<pad>` first as the trainers build it.
fn tag_names(scheme: TagScheme) -> Vec<String> {
    let prefixes: &[&str] = if scheme == TagScheme::Iobes { &["B", "I", "E", "S"] } else { &["B", "I"] };
    let mut tags = vec!["<pad>".to_string(), "O".to_string()];
    tags.extend(["LOC", "PER"].iter().flat_map(|t| prefixes.iter().map(move |p| format!("{p}-{t}"))));
    tags
}

fn scheme_rules(tags: &[String], scheme: TagScheme) -> Allowed {
    Allowed::from_rule(tags.len(), |from, to| {
        allowed_transition(scheme, from.map(|i| tags[i].as_str()), to.map(|j| tags[j].as_str()))
    })
}

#[test]
fn scheme_rules_agree_with_validate() {
    let mut rng = Rng(3);
    for scheme in TagScheme::ALL {
        let tags = tag_names(scheme);
        let rules = scheme_rules(&tags, scheme);
        assert!(
            !rules.start[0] && !rules.end[0] && rules.transitions.iter().all(|r| !r[0]),
            "{scheme}: <pad> is never allowed"
        );
        for _ in 0..2000 {
            let len = 1 + rng.below(5);
            let path: Vec<usize> = (0..len).map(|_| 1 + rng.below(tags.len() - 1)).collect();
            let names: Vec<&str> = path.iter().map(|&i| tags[i].as_str()).collect();
            assert_eq!(rules.permits(&path), validate(&names, scheme).is_empty(), "{scheme}: {names:?}");
        }
    }
}

#[test]
fn constrained_decoding_never_breaks_the_scheme() {
    let device = Default::default();
    let mut rng = Rng(11);
    for scheme in TagScheme::ALL {
        let tags = tag_names(scheme);
        let k = tags.len();
        let crf = CrfConfig::new(k).with_allowed(Some(scheme_rules(&tags, scheme))).init::<TestBackend>(&device);
        // Emissions that favour invalid tags: without the rules, I-/E- tags and <pad> would win.
        let (n, seq) = (6, 7);
        let em: Vec<f32> = (0..n * seq * k)
            .map(|i| rng.next() as f32 * 4.0 + if tags[i % k].starts_with(['I', 'E', '<']) { 3.0 } else { 0.0 })
            .collect();
        let emissions = Tensor::<TestBackend, 3>::from_data(TensorData::new(em, [n, seq, k]), &device);
        let lengths =
            Tensor::<TestBackend, 1, Int>::from_data(TensorData::new(vec![7i64, 6, 3, 1, 0, 7], [n]), &device);
        for (b, path) in crf.decode(emissions.clone(), lengths.clone()).into_iter().enumerate() {
            let names: Vec<&str> = path.iter().map(|&i| tags[i].as_str()).collect();
            assert!(validate(&names, scheme).is_empty(), "{scheme}, sequence {b}: {names:?}");
        }
        for (b, list) in crf.decode_nbest(emissions, lengths, 4).into_iter().enumerate() {
            assert!(!list.is_empty());
            for (path, _) in list {
                let names: Vec<&str> = path.iter().map(|&i| tags[i].as_str()).collect();
                assert!(validate(&names, scheme).is_empty(), "{scheme}, sequence {b} (n-best): {names:?}");
            }
        }
    }
}

/// pytorch-crf 0.7.2's `CRF` on the same parameters, emissions, tags and mask
/// (`tests/fixtures/crf/make_fixture.py`): log-likelihood per sequence and Viterbi paths.
#[test]
#[cfg(feature = "ndarray")]
fn matches_pytorch_crf() {
    let text = std::fs::read_to_string(fixture_path("crf/pytorch_crf.json")).expect("fixture");
    let f: serde_json::Value = serde_json::from_str(&text).unwrap();
    let floats = |key: &str| -> Vec<f64> { f[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect() };
    let ints = |key: &str| -> Vec<i64> { f[key].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect() };
    let (n, seq, k) = (
        f["batch"].as_u64().unwrap() as usize,
        f["seq"].as_u64().unwrap() as usize,
        f["tags"].as_u64().unwrap() as usize,
    );
    let device = Default::default();
    let p = Potentials { tags: k, transitions: floats("transitions"), start: floats("start"), end: floats("end") };
    let crf = crf_with::<F64>(&p, &device, DType::F64);
    let options = TensorCreationOptions::<F64>::new(device).with_dtype(DType::F64);
    let emissions = Tensor::<F64, 3>::from_data(TensorData::new(floats("emissions"), [n, seq, k]), options);
    let tags = Tensor::<F64, 2, Int>::from_data(TensorData::new(ints("gold"), [n, seq]), &device);
    let lengths = Tensor::<F64, 1, Int>::from_data(TensorData::new(ints("lengths"), [n]), &device);
    let ll: Vec<f64> =
        crf.log_likelihood(emissions.clone(), tags, lengths.clone()).into_data().convert::<f64>().to_vec().unwrap();
    for (b, (ours, theirs)) in ll.iter().zip(floats("log_likelihood")).enumerate() {
        assert!((ours - theirs).abs() < 1e-5, "sequence {b}: log-likelihood {ours} vs pytorch-crf {theirs}");
    }
    let decoded = crf.decode(emissions, lengths);
    let expected: Vec<Vec<usize>> = f["viterbi"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect())
        .collect();
    assert_eq!(decoded, expected);
}

/// On the test backend (wgpu with `--features wgpu`): the log-likelihood's value and gradient
/// through autodiff equal the host's brute force and marginals.
#[test]
fn log_likelihood_and_gradient_on_the_test_backend() {
    let device = Default::default();
    let mut rng = Rng(5);
    let p = potentials(&mut rng, K, false);
    let crf = crf_with::<TestAutodiff>(&p, &device, DType::F32);
    let (em, tags, lengths) = batch::<TestAutodiff>(&mut rng, &device);
    let gold: Vec<i64> = tags.to_data().convert::<i64>().to_vec().unwrap();
    let f32_options = TensorCreationOptions::<TestAutodiff>::new(device).with_dtype(DType::F32);
    let e = Tensor::<TestAutodiff, 3>::from_data(
        TensorData::new(em.iter().map(|&v| v as f32).collect::<Vec<_>>(), [LENGTHS.len(), SEQ, K]),
        f32_options,
    )
    .require_grad();
    let ll = crf.log_likelihood(e.clone(), tags, lengths);
    let values: Vec<f32> = ll.to_data().convert::<f32>().to_vec().unwrap();
    let grads = ll.sum().backward();
    let g: Vec<f32> = e.grad(&grads).unwrap().into_data().convert::<f32>().to_vec().unwrap();
    for (b, &len) in LENGTHS.iter().enumerate() {
        let seq_em: Vec<f64> = em[b * SEQ * K..b * SEQ * K + len * K].iter().map(|&v| f64::from(v as f32)).collect();
        let y: Vec<usize> = gold[b * SEQ..b * SEQ + len].iter().map(|&t| t as usize).collect();
        let expected = brute_force_log_likelihood(&p, &seq_em, &y);
        assert!((f64::from(values[b]) - expected).abs() < 1e-4, "sequence {b}: {} vs {expected}", values[b]);
        let m = p.marginals(&seq_em);
        for t in 0..SEQ {
            for j in 0..K {
                let want = if t < len { f64::from(u8::from(y[t] == j)) - m.unary[t * K + j] } else { 0.0 };
                let got = f64::from(g[(b * SEQ + t) * K + j]);
                assert!((got - want).abs() < 1e-4, "∂/∂e[{b}][{t}][{j}]: {got} vs {want}");
            }
        }
    }
}
