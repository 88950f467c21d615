//! The linear-chain CRF's algorithms on one sequence, on the host in `f64`: path scores, the
//! forward and backward algorithms (scaled, so that the inner loops multiply instead of
//! taking logarithms), Viterbi, n-best Viterbi, marginals and span
//! probabilities. [`super::Crf`] gathers a batch's scores and calls these per sequence.
//!
//! Notation, for a sequence of length `L` over `K` tags with emissions `e[t][j]`:
//!
//! - `score(y) = start[y₀] + Σₜ e[t][yₜ] + Σₜ₌₁ transitions[yₜ₋₁][yₜ] + end[y_{L−1}]`;
//! - `α[t][j]` = Σ of `exp(score)` over prefixes ending in tag `j` at `t` (`e[t][j]` included);
//! - `β[t][j]` = Σ over suffixes after tag `j` at `t` (`end` included, `e[t][j]` not);
//! - `Z = Σⱼ α[L−1][j]·exp(end[j])`; the empty sequence has one path, of score 0.
//!
//! A forbidden transition has the score `−∞`: no path through it has any probability.

/// The CRF's own scores, with forbidden transitions already set to `−∞`.
#[derive(Debug, Clone, PartialEq)]
pub struct Potentials {
    /// Number of tags `K`.
    pub tags: usize,
    /// `transitions[i·K + j]`: the score of tag `j` right after tag `i`.
    pub transitions: Vec<f64>,
    /// `start[j]`: the score of a sequence beginning with `j`.
    pub start: Vec<f64>,
    /// `end[j]`: the score of a sequence ending with `j`.
    pub end: Vec<f64>,
}

/// The scaled forward (and backward) values of one sequence (see
/// [`Potentials::forward_backward`]).
struct ForwardBackward {
    log_z: f64,
    /// `α̃`, `[L, K]`, each row summing to 1.
    alpha: Vec<f64>,
    /// `β̃`, `[L, K]` (empty unless asked for).
    beta: Vec<f64>,
    /// `cₜ`, the normaliser of row `t` of `α̃`.
    scale: Vec<f64>,
    /// `S = Σⱼ α̃[L−1][j]·exp(end[j] − max end)`.
    total: f64,
    exp_tr: Vec<f64>,
    exp_em: Vec<f64>,
}

/// The expected counts of one sequence under the CRF, and its `log Z`: what the gradient of
/// the log-likelihood needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Marginals {
    /// `log Z`.
    pub log_z: f64,
    /// `P(yₜ = j)`, row-major `[L, K]`.
    pub unary: Vec<f64>,
    /// `Σₜ P(yₜ₋₁ = i, yₜ = j)`, row-major `[K, K]`.
    pub pairwise: Vec<f64>,
}

impl Potentials {
    fn tr(&self, from: usize, to: usize) -> f64 {
        self.transitions[from * self.tags + to]
    }

    /// The score of `path` (`emissions` row-major `[path.len(), K]`).
    pub fn score(&self, emissions: &[f64], path: &[usize]) -> f64 {
        let k = self.tags;
        let (Some(&first), Some(&last)) = (path.first(), path.last()) else { return 0.0 };
        let mut s = self.start[first] + self.end[last];
        for (t, &y) in path.iter().enumerate() {
            s += emissions[t * k + y];
            if t > 0 {
                s += self.tr(path[t - 1], y);
            }
        }
        s
    }

    /// `log Z`, the log of the sum of `exp(score)` over every tag sequence of this length
    /// (`−∞` when no sequence is allowed).
    pub fn log_partition(&self, emissions: &[f64]) -> f64 {
        self.forward_backward(emissions, false).log_z
    }

    /// Tag marginals and expected transition counts, by forward–backward.
    pub fn marginals(&self, emissions: &[f64]) -> Marginals {
        let k = self.tags;
        let len = emissions.len() / k;
        let fb = self.forward_backward(emissions, true);
        let mut pairwise = vec![0.0; k * k];
        if len == 0 || !fb.log_z.is_finite() {
            return Marginals { log_z: fb.log_z, unary: vec![0.0; len * k], pairwise };
        }
        let unary = fb.alpha.iter().zip(&fb.beta).map(|(a, b)| a * b / fb.total).collect();
        for t in 1..len {
            let norm = fb.scale[t] * fb.total;
            for i in 0..k {
                let a = fb.alpha[(t - 1) * k + i] / norm;
                if a == 0.0 {
                    continue;
                }
                for j in 0..k {
                    pairwise[i * k + j] += a * fb.exp_tr[i * k + j] * fb.exp_em[t * k + j] * fb.beta[t * k + j];
                }
            }
        }
        Marginals { log_z: fb.log_z, unary, pairwise }
    }

    /// The probability that tokens `start..start + tags.len()` carry exactly `tags` (whatever
    /// the rest of the sequence): a tagged span's confidence.
    pub fn span_probability(&self, emissions: &[f64], start: usize, tags: &[usize]) -> f64 {
        self.span_probabilities(emissions, &[(start, tags)])[0]
    }

    /// [`Potentials::span_probability`] of each `(start, tags)` span of one sequence, from one
    /// forward–backward pass: linear in the sequence's length and the spans' total length.
    pub fn span_probabilities(&self, emissions: &[f64], spans: &[(usize, &[usize])]) -> Vec<f64> {
        let k = self.tags;
        let len = emissions.len() / k;
        let fb = self.forward_backward(emissions, true);
        let one = |&(start, tags): &(usize, &[usize])| {
            if tags.is_empty() || start + tags.len() > len || !fb.log_z.is_finite() {
                return 0.0;
            }
            let last = start + tags.len() - 1;
            let mut p = fb.alpha[start * k + tags[0]] * fb.beta[last * k + tags[tags.len() - 1]] / fb.total;
            for (offset, pair) in tags.windows(2).enumerate() {
                let t = start + offset + 1;
                p *= fb.exp_tr[pair[0] * k + pair[1]] * fb.exp_em[t * k + pair[1]] / fb.scale[t];
            }
            p
        };
        spans.iter().map(one).collect()
    }

    /// The forward algorithm (and with `backward`, the backward one) in scaled probability
    /// space, as Rabiner (1989) writes it: scores are exponentiated once, each step's forward
    /// values are normalised to sum to 1, and `log Z` is the sum of the logs of those
    /// normalisers. With `α̃`, `β̃` the scaled values, `cₜ` the normalisers and
    /// `S = Σⱼ α̃[L−1][j]·exp(end[j] − max end)`:
    /// `P(yₜ = j) = α̃[t][j]·β̃[t][j] / S` and
    /// `P(yₜ₋₁ = i, yₜ = j) = α̃[t−1][i]·exp(tr[i][j])·exp(e[t][j])·β̃[t][j] / (cₜ·S)`,
    /// where every `exp` is taken after subtracting its row's (or matrix's) maximum.
    fn forward_backward(&self, emissions: &[f64], backward: bool) -> ForwardBackward {
        let k = self.tags;
        let len = emissions.len() / k;
        let shifted = |v: &[f64]| -> (Vec<f64>, f64) {
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let max = if max.is_finite() { max } else { 0.0 };
            (v.iter().map(|x| (x - max).exp()).collect(), max)
        };
        let (exp_tr, max_tr) = shifted(&self.transitions);
        let (exp_start, max_start) = shifted(&self.start);
        let (exp_end, max_end) = shifted(&self.end);
        let mut exp_em = vec![0.0; len * k];
        let mut log_z = 0.0;
        for t in 0..len {
            let (row, max) = shifted(&emissions[t * k..(t + 1) * k]);
            exp_em[t * k..(t + 1) * k].copy_from_slice(&row);
            log_z += max + if t == 0 { max_start } else { max_tr };
        }
        let mut alpha = vec![0.0; len * k];
        let mut scale = vec![1.0; len];
        for t in 0..len {
            for j in 0..k {
                let into = if t == 0 {
                    exp_start[j]
                } else {
                    (0..k).map(|i| alpha[(t - 1) * k + i] * exp_tr[i * k + j]).sum()
                };
                alpha[t * k + j] = into * exp_em[t * k + j];
            }
            let c: f64 = alpha[t * k..(t + 1) * k].iter().sum();
            if c == 0.0 || !c.is_finite() {
                return ForwardBackward {
                    log_z: f64::NEG_INFINITY,
                    alpha,
                    beta: Vec::new(),
                    scale,
                    total: 0.0,
                    exp_tr,
                    exp_em,
                };
            }
            alpha[t * k..(t + 1) * k].iter_mut().for_each(|a| *a /= c);
            scale[t] = c;
            log_z += c.ln();
        }
        let total: f64 = if len == 0 { 1.0 } else { (0..k).map(|j| alpha[(len - 1) * k + j] * exp_end[j]).sum() };
        log_z = if len == 0 {
            0.0
        } else if total > 0.0 {
            log_z + total.ln() + max_end
        } else {
            f64::NEG_INFINITY
        };
        let mut beta = Vec::new();
        if backward && len > 0 {
            beta = vec![0.0; len * k];
            beta[(len - 1) * k..].copy_from_slice(&exp_end);
            for t in (0..len - 1).rev() {
                for i in 0..k {
                    beta[t * k + i] = (0..k)
                        .map(|j| exp_tr[i * k + j] * exp_em[(t + 1) * k + j] * beta[(t + 1) * k + j])
                        .sum::<f64>()
                        / scale[t + 1];
                }
            }
        }
        ForwardBackward { log_z, alpha, beta, scale, total, exp_tr, exp_em }
    }

    /// The best path and its score (Viterbi). Ties go to the lower tag id. The empty sequence
    /// gives the empty path, score 0.
    pub fn viterbi(&self, emissions: &[f64]) -> (Vec<usize>, f64) {
        let k = self.tags;
        let len = emissions.len() / k;
        if len == 0 {
            return (Vec::new(), 0.0);
        }
        let mut delta: Vec<f64> = (0..k).map(|j| self.start[j] + emissions[j]).collect();
        let mut back = vec![0usize; len * k];
        let mut next = vec![0.0; k];
        for t in 1..len {
            for j in 0..k {
                let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
                for (i, d) in delta.iter().enumerate() {
                    let s = d + self.tr(i, j);
                    if s > best {
                        (best, arg) = (s, i);
                    }
                }
                next[j] = best + emissions[t * k + j];
                back[t * k + j] = arg;
            }
            std::mem::swap(&mut delta, &mut next);
        }
        let (mut best, mut tag) = (f64::NEG_INFINITY, 0);
        for (j, d) in delta.iter().enumerate() {
            if d + self.end[j] > best {
                (best, tag) = (d + self.end[j], j);
            }
        }
        let mut path = vec![0; len];
        for t in (0..len).rev() {
            path[t] = tag;
            tag = back[t * k + tag];
        }
        (path, best)
    }

    /// The `n` best paths with their scores, best first (list Viterbi: every tag at every step
    /// keeps its `n` best prefixes). Fewer when fewer paths have a finite score; ties go to the
    /// lower tag id, then to the better-ranked prefix.
    pub fn nbest(&self, emissions: &[f64], n: usize) -> Vec<(Vec<usize>, f64)> {
        let k = self.tags;
        let len = emissions.len() / k;
        if n == 0 {
            return Vec::new();
        }
        if len == 0 {
            return vec![(Vec::new(), 0.0)];
        }
        // lists[t][j]: up to n (score, previous tag, rank in the previous tag's list), best first.
        let mut lists: Vec<Vec<Vec<(f64, usize, usize)>>> = Vec::with_capacity(len);
        lists.push((0..k).map(|j| vec![(self.start[j] + emissions[j], usize::MAX, 0)]).collect());
        for t in 1..len {
            let prev = &lists[t - 1];
            let step = (0..k)
                .map(|j| {
                    let candidates = (0..k).flat_map(|i| {
                        prev[i]
                            .iter()
                            .enumerate()
                            .map(move |(r, &(s, _, _))| (s + self.tr(i, j) + emissions[t * k + j], i, r))
                    });
                    best_n(candidates, n)
                })
                .collect();
            lists.push(step);
        }
        let last = &lists[len - 1];
        let ends = (0..k).flat_map(|j| last[j].iter().enumerate().map(move |(r, &(s, _, _))| (s + self.end[j], j, r)));
        best_n(ends, n)
            .into_iter()
            .map(|(score, mut tag, mut rank)| {
                let mut path = vec![0; len];
                for t in (0..len).rev() {
                    path[t] = tag;
                    let (_, prev_tag, prev_rank) = lists[t][tag][rank];
                    (tag, rank) = (prev_tag, prev_rank);
                }
                (path, score)
            })
            .collect()
    }
}

/// The `n` best finite candidates, best first; stable, so earlier candidates win ties.
fn best_n(candidates: impl Iterator<Item = (f64, usize, usize)>, n: usize) -> Vec<(f64, usize, usize)> {
    let mut kept: Vec<(f64, usize, usize)> = candidates.filter(|c| c.0 > f64::NEG_INFINITY).collect();
    kept.sort_by(|a, b| b.0.total_cmp(&a.0));
    kept.truncate(n);
    kept
}
