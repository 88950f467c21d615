//! A linear-chain conditional random field (Lafferty et al., 2001) over per-token tag scores,
//! the output layer of Lample et al.'s (2016) and Ma & Hovy's (2016) taggers: the
//! log-likelihood of gold tag sequences for training, Viterbi and n-best decoding, and tag
//! marginals for confidences.
//!
//! Shape legend: `N` batch, `L` longest sequence, `K` tags. Batches are right-padded; `lengths`
//! says where each sequence ends, and positions past it are ignored.
//!
//! The dynamic programmes run on the host in `f64`, one sequence at a time ([`lattice`]): they
//! are `O(L·K²)` with `K` about 20, small next to the encoder, and per-step tensor operations
//! would cost more in dispatch than in arithmetic. The log-likelihood still takes part in
//! autodiff: its gradient is known in closed form (gold counts minus expected counts, see
//! [`Crf::log_likelihood`]) and is attached to the emissions and the CRF's parameters.

pub mod lattice;

use burn::config::Config;
use burn::module::{Initializer, Module, Param};
use burn::tensor::{backend::Backend, Int, Tensor, TensorCreationOptions, TensorData};

pub use lattice::{Marginals, Potentials};

/// Which tag may begin a sequence, end it, and follow which; forbidden ones get the score
/// `−∞`, so that no decoded path breaks the tag scheme (an `I-PER` after `O` in IOB2, say).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Allowed {
    /// `start[j]`: tag `j` may begin a sequence.
    pub start: Vec<bool>,
    /// `end[j]`: tag `j` may end a sequence.
    pub end: Vec<bool>,
    /// `transitions[i][j]`: tag `j` may follow tag `i`.
    pub transitions: Vec<Vec<bool>>,
}

impl Allowed {
    /// The rules given by `rule(from, to)` over `K` tags, where `None` stands for the
    /// sequence's boundary (`rule(None, Some(j))`: `j` may begin; `rule(Some(i), None)`: `i`
    /// may end).
    pub fn from_rule(tags: usize, rule: impl Fn(Option<usize>, Option<usize>) -> bool) -> Self {
        Self {
            start: (0..tags).map(|j| rule(None, Some(j))).collect(),
            end: (0..tags).map(|i| rule(Some(i), None)).collect(),
            transitions: (0..tags).map(|i| (0..tags).map(|j| rule(Some(i), Some(j))).collect()).collect(),
        }
    }

    /// Whether `path` breaks none of the rules (the empty path never does).
    pub fn permits(&self, path: &[usize]) -> bool {
        let (Some(&first), Some(&last)) = (path.first(), path.last()) else { return true };
        self.start[first] && self.end[last] && path.windows(2).all(|w| self.transitions[w[0]][w[1]])
    }
}

/// Configuration of a [`Crf`].
#[derive(Config, Debug)]
pub struct CrfConfig {
    /// Number of tags `K`.
    pub num_tags: usize,
    /// Allowed starts, ends and transitions; `None` allows everything.
    #[config(default = "None")]
    pub allowed: Option<Allowed>,
}

/// A linear-chain CRF: `score(y) = start[y₀] + Σₜ e[t][yₜ] + Σₜ transitions[yₜ₋₁][yₜ] +
/// end[y_{L−1}]`, `P(y | e) = exp(score(y)) / Z(e)`.
///
/// Should be created with [`CrfConfig`]. Parameters start uniform in `[−0.1, 0.1]`, as in
/// pytorch-crf.
#[derive(Module, Debug)]
pub struct Crf<B: Backend> {
    /// `[K, K]`: `transitions[i][j]` scores tag `j` right after tag `i`.
    pub transitions: Param<Tensor<B, 2>>,
    /// `[K]`: the score of beginning with each tag.
    pub start: Param<Tensor<B, 1>>,
    /// `[K]`: the score of ending with each tag.
    pub end: Param<Tensor<B, 1>>,
    /// The allowed transitions (from the config; not part of the weights).
    pub allowed: Option<Allowed>,
}

impl CrfConfig {
    /// Initialises the module.
    ///
    /// # Panics
    /// If `allowed` does not have `num_tags` entries everywhere.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Crf<B> {
        let k = self.num_tags;
        if let Some(a) = &self.allowed {
            assert!(
                a.start.len() == k
                    && a.end.len() == k
                    && a.transitions.len() == k
                    && a.transitions.iter().all(|r| r.len() == k),
                "allowed transitions for {k} tags"
            );
        }
        let init = Initializer::Uniform { min: -0.1, max: 0.1 };
        Crf {
            transitions: init.init([k, k], device),
            start: init.init([k], device),
            end: init.init([k], device),
            allowed: self.allowed.clone(),
        }
    }
}

/// A batch's emissions on the host: one row-major `[lengthₙ, K]` slice per sequence.
struct HostEmissions {
    values: Vec<f64>,
    lengths: Vec<usize>,
    seq: usize,
    tags: usize,
}

impl HostEmissions {
    fn read<B: Backend>(emissions: &Tensor<B, 3>, lengths: &Tensor<B, 1, Int>) -> Self {
        let [n, seq, tags] = emissions.dims();
        let values: Vec<f64> = emissions.clone().into_data().convert::<f64>().to_vec().expect("float emissions");
        let lengths: Vec<usize> = lengths
            .clone()
            .into_data()
            .convert::<i64>()
            .to_vec::<i64>()
            .expect("int lengths")
            .into_iter()
            .map(|l| l.clamp(0, seq as i64) as usize)
            .collect();
        assert_eq!(lengths.len(), n, "one length per sequence");
        Self { values, lengths, seq, tags }
    }

    fn sequence(&self, n: usize) -> &[f64] {
        let from = n * self.seq * self.tags;
        &self.values[from..from + self.lengths[n] * self.tags]
    }
}

impl<B: Backend> Crf<B> {
    /// The number of tags `K`.
    pub fn num_tags(&self) -> usize {
        self.start.dims()[0]
    }

    /// The CRF's scores on the host, forbidden transitions set to `−∞`.
    pub fn potentials(&self) -> Potentials {
        let host = |t: Tensor<B, 1>| -> Vec<f64> { t.into_data().convert::<f64>().to_vec().expect("float parameters") };
        let k = self.num_tags();
        let mut p = Potentials {
            tags: k,
            transitions: host(self.transitions.val().reshape([k * k])),
            start: host(self.start.val()),
            end: host(self.end.val()),
        };
        if let Some(a) = &self.allowed {
            let forbid = |v: &mut f64, ok: bool| {
                if !ok {
                    *v = f64::NEG_INFINITY;
                }
            };
            p.start.iter_mut().zip(&a.start).for_each(|(v, &ok)| forbid(v, ok));
            p.end.iter_mut().zip(&a.end).for_each(|(v, &ok)| forbid(v, ok));
            p.transitions.iter_mut().zip(a.transitions.iter().flatten()).for_each(|(v, &ok)| forbid(v, ok));
        }
        p
    }

    /// The log-likelihood `log P(tags | emissions)` of each sequence.
    ///
    /// ## Parameters
    /// - `emissions`: `[N, L, K]` per-token tag scores.
    /// - `tags`: `[N, L]` gold tag ids (values past a sequence's length are ignored).
    /// - `lengths`: `[N]` real lengths, each in `0..=L` (a length-0 sequence has
    ///   log-likelihood 0).
    ///
    /// ## Returns
    /// `[N]`; `−∞` for a gold sequence that the allowed transitions forbid.
    ///
    /// The value is computed on the host; on an autodiff backend the result carries the exact
    /// gradient `∂ log P / ∂e[t][j] = 1[yₜ = j] − P(yₜ = j)` (and likewise gold minus expected
    /// counts for `start`, `end` and `transitions`), attached as `s − detach(s) + value` with
    /// `s = Σ e ⊙ g_e + Σ transitions ⊙ g_tr + …`, whose value is `value` and whose gradient is
    /// the `g`s.
    pub fn log_likelihood(
        &self,
        emissions: Tensor<B, 3>,
        tags: Tensor<B, 2, Int>,
        lengths: Tensor<B, 1, Int>,
    ) -> Tensor<B, 1> {
        let host = HostEmissions::read(&emissions, &lengths);
        self.attach_log_likelihood(emissions, tags, &host, &self.potentials())
    }

    /// [`Crf::log_likelihood`] and [`Crf::decode`] from one read of the emissions and the
    /// parameters (what a training step that reports its predictions needs).
    pub fn log_likelihood_and_decode(
        &self,
        emissions: Tensor<B, 3>,
        tags: Tensor<B, 2, Int>,
        lengths: Tensor<B, 1, Int>,
    ) -> (Tensor<B, 1>, Vec<Vec<usize>>) {
        let host = HostEmissions::read(&emissions, &lengths);
        let potentials = self.potentials();
        let paths = (0..host.lengths.len()).map(|b| potentials.viterbi(host.sequence(b)).0).collect();
        (self.attach_log_likelihood(emissions, tags, &host, &potentials), paths)
    }

    /// The log-likelihood's value from the host and its gradient attached (see
    /// [`Crf::log_likelihood`]).
    fn attach_log_likelihood(
        &self,
        emissions: Tensor<B, 3>,
        tags: Tensor<B, 2, Int>,
        host: &HostEmissions,
        potentials: &Potentials,
    ) -> Tensor<B, 1> {
        let [n, seq, k] = emissions.dims();
        assert_eq!(k, self.num_tags(), "emissions for {} tags", self.num_tags());
        let gold: Vec<i64> = tags.into_data().convert::<i64>().to_vec().expect("int tags");
        let mut value = vec![0.0; n];
        let mut g_em = vec![0.0; n * seq * k];
        let mut g_tr = vec![0.0; n * k * k];
        let mut g_start = vec![0.0; n * k];
        let mut g_end = vec![0.0; n * k];
        for b in 0..n {
            let len = host.lengths[b];
            if len == 0 {
                continue;
            }
            let path: Vec<usize> =
                gold[b * seq..b * seq + len].iter().map(|&t| (t.max(0) as usize).min(k - 1)).collect();
            let em = host.sequence(b);
            let m = potentials.marginals(em);
            value[b] = potentials.score(em, &path) - m.log_z;
            for (t, &y) in path.iter().enumerate() {
                let row = &mut g_em[(b * seq + t) * k..(b * seq + t + 1) * k];
                row.iter_mut().zip(&m.unary[t * k..(t + 1) * k]).for_each(|(g, p)| *g = -p);
                row[y] += 1.0;
                if t > 0 {
                    g_tr[b * k * k + path[t - 1] * k + y] += 1.0;
                }
            }
            g_tr[b * k * k..(b + 1) * k * k].iter_mut().zip(&m.pairwise).for_each(|(g, p)| *g -= p);
            g_start[b * k..(b + 1) * k].iter_mut().zip(&m.unary[..k]).for_each(|(g, p)| *g = -p);
            g_end[b * k..(b + 1) * k].iter_mut().zip(&m.unary[(len - 1) * k..len * k]).for_each(|(g, p)| *g = -p);
            g_start[b * k + path[0]] += 1.0;
            g_end[b * k + path[len - 1]] += 1.0;
        }
        let device = emissions.device();
        let options = || TensorCreationOptions::new(device.clone()).with_dtype(emissions.dtype());
        let tensor = |values: Vec<f64>, shape: Vec<usize>| TensorData::new(values, shape);
        let g_em = Tensor::<B, 3>::from_data(tensor(g_em, vec![n, seq, k]), options());
        let g_tr = Tensor::<B, 3>::from_data(tensor(g_tr, vec![n, k, k]), options());
        let g_start = Tensor::<B, 2>::from_data(tensor(g_start, vec![n, k]), options());
        let g_end = Tensor::<B, 2>::from_data(tensor(g_end, vec![n, k]), options());
        let value = Tensor::<B, 1>::from_data(tensor(value, vec![n]), options());
        let surrogate = (emissions * g_em).sum_dim(2).sum_dim(1).reshape([n])
            + (self.transitions.val().unsqueeze::<3>() * g_tr).sum_dim(2).sum_dim(1).reshape([n])
            + (self.start.val().unsqueeze::<2>() * g_start).sum_dim(1).reshape([n])
            + (self.end.val().unsqueeze::<2>() * g_end).sum_dim(1).reshape([n]);
        surrogate.clone() - surrogate.detach() + value
    }

    /// The best tag sequence of each sequence (Viterbi), `lengthₙ` tags each.
    ///
    /// - `emissions`: `[N, L, K]`; `lengths`: `[N]`.
    pub fn decode(&self, emissions: Tensor<B, 3>, lengths: Tensor<B, 1, Int>) -> Vec<Vec<usize>> {
        let host = HostEmissions::read(&emissions, &lengths);
        let p = self.potentials();
        (0..host.lengths.len()).map(|b| p.viterbi(host.sequence(b)).0).collect()
    }

    /// The `k` best tag sequences of each sequence with their scores, best first (fewer when
    /// fewer are allowed). `exp(score − log Z)` is a path's probability; see
    /// [`Crf::log_partition`].
    pub fn decode_nbest(
        &self,
        emissions: Tensor<B, 3>,
        lengths: Tensor<B, 1, Int>,
        k: usize,
    ) -> Vec<Vec<(Vec<usize>, f64)>> {
        let host = HostEmissions::read(&emissions, &lengths);
        let p = self.potentials();
        (0..host.lengths.len()).map(|b| p.nbest(host.sequence(b), k)).collect()
    }

    /// `log Z` of each sequence: `[N]` values.
    pub fn log_partition(&self, emissions: Tensor<B, 3>, lengths: Tensor<B, 1, Int>) -> Vec<f64> {
        let host = HostEmissions::read(&emissions, &lengths);
        let p = self.potentials();
        (0..host.lengths.len()).map(|b| p.log_partition(host.sequence(b))).collect()
    }

    /// Per-token tag probabilities `P(yₜ = j | emissions)` by forward–backward: `[N, L, K]`,
    /// rows summing to 1 at real positions and 0 at padding.
    pub fn marginals(&self, emissions: Tensor<B, 3>, lengths: Tensor<B, 1, Int>) -> Tensor<B, 3> {
        let [n, seq, k] = emissions.dims();
        let host = HostEmissions::read(&emissions, &lengths);
        let p = self.potentials();
        let mut out = vec![0.0; n * seq * k];
        for b in 0..n {
            let m = p.marginals(host.sequence(b));
            out[b * seq * k..b * seq * k + m.unary.len()].copy_from_slice(&m.unary);
        }
        let options = TensorCreationOptions::new(emissions.device()).with_dtype(emissions.dtype());
        Tensor::from_data(TensorData::new(out, vec![n, seq, k]), options)
    }

    /// The host's view of each sequence's emissions, `[lengthₙ, K]` row-major, for the
    /// [`Potentials`] methods (span probabilities, say).
    pub fn host_emissions(emissions: Tensor<B, 3>, lengths: Tensor<B, 1, Int>) -> Vec<Vec<f64>> {
        let host = HostEmissions::read(&emissions, &lengths);
        (0..host.lengths.len()).map(|b| host.sequence(b).to_vec()).collect()
    }
}
