//! What the workflows and communities files share: reading one, and
//! pointing at the line and column of what is wrong in it.

use std::path::Path;

/// Why a configuration file (workflows, communities) was refused.
///
/// Every variant but [`FileError::Read`] displays as
/// `<file>:<line>:<column>: <reason>`, lines and columns counted from 1.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The path as given.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a key or value of the wrong shape: syntax errors,
    /// unknown keys, values of the wrong type, missing required keys.
    #[error("{file}:{line}:{column}: {reason}")]
    Parse {
        /// The file's name as given to the loader.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// Well-formed, but refused: a value the file's rules do not accept
    /// (a bad name, regex, glob, URL or language, an empty list,
    /// contradictory conditions).
    #[error("{file}:{line}:{column}: {reason}")]
    Invalid {
        /// The file's name as given to the loader.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

impl FileError {
    /// The 1-based line the error points at; `None` for read errors.
    pub fn line(&self) -> Option<usize> {
        self.position().map(|(line, _)| line)
    }

    /// The 1-based line and column the error points at; `None` for read
    /// errors.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Self::Read { .. } => None,
            Self::Parse { line, column, .. } | Self::Invalid { line, column, .. } => {
                Some((*line, *column))
            }
        }
    }

    /// The reason without the location.
    pub fn reason(&self) -> String {
        match self {
            Self::Read { source, .. } => source.to_string(),
            Self::Parse { reason, .. } | Self::Invalid { reason, .. } => reason.clone(),
        }
    }
}

/// The text of the file at `path`, and its name for errors.
pub(crate) fn read(path: &Path) -> Result<(String, String), FileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        file: file.clone(),
        source,
    })?;
    Ok((text, file))
}

/// A file's text and its name, to point at places in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'t> {
    pub(crate) text: &'t str,
    pub(crate) origin: &'t str,
}

impl<'t> Source<'t> {
    /// Parses the TOML text as `T`; a syntax or shape error points at its
    /// place.
    pub(crate) fn toml<T: serde::de::DeserializeOwned>(&self) -> Result<T, FileError> {
        toml::from_str(self.text).map_err(|e| {
            let (line, column) = self.locate(e.span().map_or(0, |s| s.start));
            FileError::Parse {
                file: self.origin.to_owned(),
                line,
                column,
                reason: e.message().trim_end().to_owned(),
            }
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    /// A refused value at `span`.
    pub(crate) fn invalid(&self, span: &std::ops::Range<usize>, reason: String) -> FileError {
        let (line, column) = self.locate(span.start);
        FileError::Invalid {
            file: self.origin.to_owned(),
            line,
            column,
            reason,
        }
    }
}
