//! The two tasks of seqlab, the one type every crate matches when it must tell them apart: a
//! corpus's records, an encoded corpus's header, a trained model's folder.

/// Sequence classification (one label per text) or token classification (one tag per token).
/// Written as `"classification"` / `"tagging"` (an encoded corpus's `header.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// One label per text: a sequence classifier's (`labels.json`).
    Classification,
    /// One tag per token, and the tokens' text: a tagger's (`tags.json`).
    Tagging,
}
