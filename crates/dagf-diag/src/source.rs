use std::fmt;

/// Index of a file in [`Sources`].
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct FileId(pub u32);

/// A byte range inside one file. Small and `Copy`, so every node can carry one.
#[derive(
    Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize,
)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// Byte offset of the first byte in the range.
    pub start: u32,
    /// Byte offset just past the last byte (never before `start`).
    pub end: u32,
}

impl Span {
    /// The bytes `start..end` of `file` (an `end` before `start` becomes `start`).
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// The smallest span covering both (they must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The byte range, for slicing the file's text.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}..{}", self.file.0, self.start, self.end)
    }
}

/// One loaded file: the name shown to users and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics and generated headers (`src/ingest.dagf`).
    pub name: String,
    /// The file's whole text.
    pub text: String,
    line_starts: Vec<u32>,
}

/// A 1-based line and column (columns count characters).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub col: usize,
}

impl SourceFile {
    /// A file named `name` holding `text`, its line starts indexed.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// Line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.text.len() as u32);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).max(start);
        let col = self
            .text
            .get(start..end)
            .map_or(end - start, |s| s.chars().count());
        LineCol {
            line: line + 1,
            col: col + 1,
        }
    }

    /// Byte offset of the start of a 1-based line, if the file has it.
    pub fn line_start(&self, line: usize) -> Option<u32> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }
}

/// Every file the compiler has read, `.dagf` or config, addressed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// An empty source map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id (ids count up from 0 in the order files are added).
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(name, text));
        FileId(self.files.len() as u32 - 1)
    }

    /// How many files it holds (the next file added gets this id).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file has been added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file with id `id`, which must come from this map.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The id of the file shown as `name`, if it was added.
    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(i as u32))
    }

    /// The text a span covers (empty if it is not in its file's text).
    pub fn text(&self, span: Span) -> &str {
        self.get(span.file).text.get(span.range()).unwrap_or("")
    }

    /// Every file with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

/// Byte offsets of a text's characters, for tools that count positions in characters
/// (such as the YAML parser's markers) when spans count bytes.
#[derive(Clone, Debug)]
pub struct CharOffsets {
    /// The byte offset of each character and of the end; `None` for ASCII text, where
    /// the two counts agree.
    offsets: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    /// The offsets of `text`'s characters.
    pub fn new(text: &str) -> Self {
        let offsets = (!text.is_ascii()).then(|| {
            let mut o: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            o.push(text.len());
            o
        });
        CharOffsets {
            offsets,
            len: text.len(),
        }
    }

    /// The byte offset of the character at `char_index` (the end of the text past it).
    pub fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            Some(o) => o.get(char_index).copied().unwrap_or(self.len),
            None => char_index.min(self.len),
        }
    }
}
