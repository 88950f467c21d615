//! Label and tag maps: names ↔ ids, built from the training split in a stable (sorted) order,
//! kept with a model so that reports use the names.

use std::path::Path;

use crate::error::DataError;
use crate::text::vocab::{load_json, save_json};

/// Names of the classes of a task, by id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabelMap {
    /// Names by id.
    pub names: Vec<String>,
}

/// The reserved first entry of a tag map: the label of padded positions, never a target.
pub const PAD_TAG: &str = "<pad>";

impl LabelMap {
    /// The sorted distinct labels.
    pub fn build<'a>(labels: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = labels.into_iter().map(String::from).collect();
        names.sort();
        names.dedup();
        Self { names }
    }

    /// The entity types of a tag map (`B-PER`, `I-PER`, `S-LOC` … → `LOC`, `PER`), sorted and
    /// distinct; tags without a prefix (`O`, the padding tag) have none.
    pub fn entity_types(&self) -> Vec<String> {
        let mut types: Vec<String> =
            self.names.iter().filter_map(|t| t.split_once('-').map(|(_, ty)| ty.to_string())).collect();
        types.sort();
        types.dedup();
        types
    }

    /// A tag map: [`PAD_TAG`] at id 0 (the padding label), then the sorted distinct tags.
    pub fn build_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> Self {
        let mut map = Self::build(tags);
        map.names.retain(|n| n != PAD_TAG);
        map.names.insert(0, PAD_TAG.to_string());
        map
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The id of a label.
    pub fn get(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The id of a label, or an error naming where it was found and the known labels.
    pub fn id_at(&self, name: &str, path: &Path, line: usize) -> Result<usize, DataError> {
        self.get(name).ok_or_else(|| {
            let message = format!("unknown label {name:?} (the model knows: {})", self.names.join(", "));
            // Line 0: the example is a whole file (a folder corpus).
            if line == 0 {
                DataError::file(path, message)
            } else {
                DataError::line(path, line, message)
            }
        })
    }

    /// The name of an id.
    pub fn name(&self, id: usize) -> &str {
        &self.names[id]
    }

    /// Saves as JSON.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DataError> {
        save_json(path.as_ref(), self)
    }

    /// Loads a map saved by [`LabelMap::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, DataError> {
        load_json(path.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_order_and_clear_unknown_label_errors() {
        let m = LabelMap::build(["pos", "neg", "pos"]);
        assert_eq!(m.names, ["neg", "pos"]);
        let err = m.id_at("neutral", Path::new("test.tsv"), 7).unwrap_err().to_string();
        assert_eq!(err, "test.tsv:7: unknown label \"neutral\" (the model knows: neg, pos)");
        let tags = LabelMap::build_tags(["O", "I-PER", "B-LOC", "O"]);
        assert_eq!(tags.names, ["<pad>", "B-LOC", "I-PER", "O"]);
    }
}
