//! Where a corpus comes from, as a user names it: a corpus built into seqlab
//! (`embedded:sentiment/train`, `embedded:ner/test`; see [`crate::embedded`]) or a file or
//! folder. [`Source::parse`] is the one place that reads the `embedded:` prefix.

use std::path::{Path, PathBuf};

use crate::embedded::{self, Split};
use crate::error::DataError;
use crate::format::Format;
use crate::task::Task;

/// An embedded corpus: a task's split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded {
    /// Labelled texts (`sentiment`) or tagged sentences (`ner`).
    pub task: Task,
    /// Which split.
    pub split: Split,
}

impl Embedded {
    /// The prefix of the embedded corpora's names.
    pub const PREFIX: &'static str = "embedded:";

    /// `embedded:sentiment/SPLIT` or `embedded:ner/SPLIT`.
    pub fn name(self) -> String {
        let corpus = match self.task {
            Task::Classification => "sentiment",
            Task::Tagging => "ner",
        };
        format!("{}{corpus}/{}", Self::PREFIX, self.split.name())
    }

    /// The corpus's format: GLUE TSV for labelled texts, CoNLL columns for tagged sentences.
    pub fn format(self) -> Format {
        match self.task {
            Task::Classification => Format::Glue,
            Task::Tagging => Format::Conll,
        }
    }

    /// The corpus's text, in [`Embedded::format`].
    pub fn text(self) -> String {
        match self.task {
            Task::Classification => embedded::sentiment::sentiment(self.split),
            Task::Tagging => embedded::ner::ner(self.split),
        }
    }
}

/// Where a corpus comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A corpus built into seqlab.
    Embedded(Embedded),
    /// A file or folder.
    Path(PathBuf),
}

impl Source {
    /// What `path` names: an embedded corpus (`embedded:ner/test`; an unknown one is an error
    /// listing the names) or a file or folder.
    pub fn parse(path: &Path) -> Result<Self, DataError> {
        let Some(name) = path.to_str().and_then(|p| p.strip_prefix(Embedded::PREFIX)) else {
            return Ok(Self::Path(path.to_path_buf()));
        };
        let unknown = || {
            DataError::file(
                path,
                "unknown embedded corpus; use embedded:sentiment/SPLIT or embedded:ner/SPLIT with SPLIT train, valid or test",
            )
        };
        let (corpus, split) = name.split_once('/').ok_or_else(unknown)?;
        let split = match split {
            "train" => Split::Train,
            "valid" | "dev" => Split::Valid,
            "test" => Split::Test,
            _ => return Err(unknown()),
        };
        let task = match corpus {
            "sentiment" => Task::Classification,
            "ner" => Task::Tagging,
            _ => return Err(unknown()),
        };
        Ok(Self::Embedded(Embedded { task, split }))
    }

    /// Whether `path` names an embedded corpus (by its prefix; [`Source::parse`] checks the name).
    pub fn is_embedded(path: impl AsRef<Path>) -> bool {
        path.as_ref().to_str().is_some_and(|p| p.starts_with(Embedded::PREFIX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_names_parse_and_print_back_and_others_are_paths() {
        for task in [Task::Classification, Task::Tagging] {
            for split in [Split::Train, Split::Valid, Split::Test] {
                let embedded = Embedded { task, split };
                assert_eq!(Source::parse(embedded.name().as_ref()).unwrap(), Source::Embedded(embedded));
            }
        }
        assert_eq!(Embedded { task: Task::Tagging, split: Split::Test }.name(), "embedded:ner/test");
        let dev = Source::parse("embedded:sentiment/dev".as_ref()).unwrap();
        assert_eq!(dev, Source::Embedded(Embedded { task: Task::Classification, split: Split::Valid }));
        for wrong in ["embedded:ner/holdout", "embedded:pos/train", "embedded:ner"] {
            let e = Source::parse(wrong.as_ref()).unwrap_err().to_string();
            assert!(e.starts_with(wrong) && e.contains("unknown embedded corpus"), "{e}");
        }
        assert_eq!(Source::parse("data/embedded:x".as_ref()).unwrap(), Source::Path("data/embedded:x".into()));
        assert!(Source::is_embedded("embedded:ner/test") && !Source::is_embedded("ner/test"));
    }
}
