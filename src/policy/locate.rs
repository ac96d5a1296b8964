//! Finds where a key sits in YAML or JSON text, because `serde_yaml` values
//! carry no positions.
//!
//! The scanner reads the common subset of YAML: block and flow mappings and
//! sequences, plain and quoted scalars, block scalars and comments. JSON is
//! flow YAML. On anything else (anchors, aliases, tags, complex keys,
//! directives, inconsistent indentation) it gives up on the whole text, so
//! diagnostics lose their positions instead of getting wrong ones.

use super::model::Location;

/// One step of a key path: a mapping key as written, or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// The positions of every key and list item of a document.
#[derive(Debug)]
pub(crate) struct SourceMap {
    root: Node,
}

#[derive(Debug)]
enum Node {
    Map(Vec<Entry>),
    Seq(Vec<Item>),
    Scalar,
}

#[derive(Debug)]
struct Entry {
    /// `None` when the key uses an escape the scanner does not decode.
    key: Option<String>,
    key_at: Location,
    value_at: Location,
    value: Node,
}

#[derive(Debug)]
struct Item {
    at: Location,
    value: Node,
}

impl SourceMap {
    /// Scans `text`; `None` if it uses YAML the scanner does not read.
    pub(crate) fn build(text: &str) -> Option<SourceMap> {
        let mut scanner = Scanner::new(text);
        scanner.skip_preamble()?;
        let root = scanner.block_node(-1)?;
        scanner.skip_blank();
        if !scanner.at_end() {
            return None;
        }
        Some(SourceMap { root })
    }

    /// Returns the position of the last key (or list item) of `path`.
    pub(crate) fn key(&self, path: &[Segment]) -> Option<Location> {
        self.find(path).map(|(key_at, _)| key_at)
    }

    /// Returns the position of the value under `path`.
    pub(crate) fn value(&self, path: &[Segment]) -> Option<Location> {
        self.find(path).map(|(_, value_at)| value_at)
    }

    /// Returns the position of `path`, or of its nearest ancestor that
    /// exists, for problems about keys that are missing.
    pub(crate) fn nearest(&self, path: &[Segment]) -> Option<Location> {
        (1..=path.len()).rev().find_map(|len| self.key(path.get(..len)?))
    }

    fn find(&self, path: &[Segment]) -> Option<(Location, Location)> {
        let mut node = &self.root;
        let mut found = None;
        for segment in path {
            let (key_at, value_at, child) = step(node, segment)?;
            found = Some((key_at, value_at));
            node = child;
        }
        found
    }
}

fn step<'a>(node: &'a Node, segment: &Segment) -> Option<(Location, Location, &'a Node)> {
    match (node, segment) {
        (Node::Map(entries), Segment::Key(key)) => {
            let entry = entries.iter().rev().find(|entry| entry.key.as_deref() == Some(key.as_str()))?;
            Some((entry.key_at, entry.value_at, &entry.value))
        }
        (Node::Seq(items), Segment::Index(index)) => {
            let item = items.get(*index)?;
            Some((item.at, item.at, &item.value))
        }
        (Node::Seq(items), Segment::Key(key)) => {
            let item = items.get(key.parse::<usize>().ok()?)?;
            Some((item.at, item.at, &item.value))
        }
        _ => None,
    }
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
    /// Offset of the first character of each line.
    line_starts: Vec<usize>,
}

impl Scanner {
    fn new(text: &str) -> Scanner {
        let chars: Vec<char> = text.chars().collect();
        let mut line_starts = vec![0];
        for (offset, c) in chars.iter().enumerate() {
            if *c == '\n' {
                line_starts.push(offset + 1);
            }
        }
        Scanner { chars, pos: 0, line_starts }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn location(&self) -> Location {
        let line = self.line_starts.partition_point(|start| *start <= self.pos);
        let start = self.line_starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        Location { line, column: self.pos - start + 1 }
    }

    fn column(&self) -> isize {
        self.location().column as isize - 1
    }

    /// Skips a byte-order mark and a leading `---`; gives up on directives.
    fn skip_preamble(&mut self) -> Option<()> {
        if self.peek() == Some('\u{feff}') {
            self.pos += 1;
        }
        self.skip_blank();
        if self.peek() == Some('%') {
            return None;
        }
        if self.peek() == Some('-') && self.peek_at(1) == Some('-') && self.peek_at(2) == Some('-') && is_space_or_end(self.peek_at(3)) {
            self.pos += 3;
        }
        Some(())
    }

    /// Skips whitespace, line breaks and comments.
    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' && self.comment_may_start() {
                self.skip_to_line_end();
            } else if c.is_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Skips spaces and a comment, but not the line break.
    fn skip_inline_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' && self.comment_may_start() {
                self.skip_to_line_end();
            } else if c == ' ' || c == '\t' || c == '\r' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn comment_may_start(&self) -> bool {
        self.pos == 0 || self.chars.get(self.pos - 1).is_none_or(|c| c.is_whitespace())
    }

    fn skip_to_line_end(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.pos += 1;
        }
    }

    fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some('\n'))
    }

    /// Reads the node starting at the next content, if that content is
    /// indented deeper than `parent`; otherwise the value is empty.
    fn block_node(&mut self, parent: isize) -> Option<Node> {
        self.skip_blank();
        if self.at_end() || self.column() <= parent {
            return Some(Node::Scalar);
        }
        self.block_node_here(parent)
    }

    fn block_node_here(&mut self, parent: isize) -> Option<Node> {
        let indent = self.column();
        match self.peek()? {
            '-' if is_space_or_end(self.peek_at(1)) => self.block_sequence(indent),
            '{' | '[' => {
                let node = self.flow_node()?;
                self.end_of_line()?;
                Some(node)
            }
            '&' | '*' | '!' | '?' | '%' | '@' | '`' | '|' | '>' => None,
            _ if self.key_ahead(false).is_some() => self.block_mapping(indent),
            _ => {
                self.scalar(parent)?;
                Some(Node::Scalar)
            }
        }
    }

    fn block_sequence(&mut self, indent: isize) -> Option<Node> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.at_end() || self.column() < indent {
                break;
            }
            let is_item = self.column() == indent && self.peek() == Some('-') && is_space_or_end(self.peek_at(1));
            if !is_item {
                return None;
            }
            let dash_at = self.location();
            self.pos += 1;
            self.skip_inline_blank();
            if self.at_line_end() {
                let value = self.block_node(indent)?;
                items.push(Item { at: dash_at, value });
            } else {
                let at = self.location();
                let value = self.block_node_here(indent)?;
                items.push(Item { at, value });
            }
        }
        Some(Node::Seq(items))
    }

    fn block_mapping(&mut self, indent: isize) -> Option<Node> {
        let mut entries = Vec::new();
        loop {
            self.skip_blank();
            if self.at_end() || self.column() < indent {
                break;
            }
            if self.column() > indent {
                return None;
            }
            let key_at = self.location();
            let (key, after_colon) = self.key_ahead(false)?;
            self.pos = after_colon;
            let (value_at, value) = self.block_value(indent, key_at)?;
            entries.push(Entry { key, key_at, value_at, value });
        }
        Some(Node::Map(entries))
    }

    /// Reads the value after `key:` of a block mapping at `indent`.
    fn block_value(&mut self, indent: isize, key_at: Location) -> Option<(Location, Node)> {
        self.skip_inline_blank();
        if self.at_line_end() {
            self.skip_blank();
            let nested = !self.at_end() && self.column() > indent;
            let compact_sequence = !self.at_end()
                && self.column() == indent
                && self.peek() == Some('-')
                && is_space_or_end(self.peek_at(1));
            if nested || compact_sequence {
                let at = self.location();
                let node = if nested { self.block_node_here(indent)? } else { self.block_sequence(indent)? };
                return Some((at, node));
            }
            return Some((key_at, Node::Scalar));
        }
        let at = self.location();
        match self.peek()? {
            '{' | '[' => {
                let node = self.flow_node()?;
                self.end_of_line()?;
                Some((at, node))
            }
            '|' | '>' => {
                self.skip_block_scalar(indent);
                Some((at, Node::Scalar))
            }
            '&' | '*' | '!' | '?' | '%' | '@' | '`' => None,
            _ => {
                self.scalar(indent)?;
                Some((at, Node::Scalar))
            }
        }
    }

    /// Skips a `|` or `>` scalar: its header line and every following line
    /// that is blank or indented deeper than `indent`.
    fn skip_block_scalar(&mut self, indent: isize) {
        self.skip_to_line_end();
        while self.peek() == Some('\n') {
            let next_line = self.pos + 1;
            let mut probe = next_line;
            while self.chars.get(probe).is_some_and(|c| *c == ' ') {
                probe += 1;
            }
            let blank = matches!(self.chars.get(probe), None | Some('\n') | Some('\r'));
            if !blank && (probe - next_line) as isize <= indent {
                break;
            }
            self.pos = next_line;
            self.skip_to_line_end();
        }
    }

    /// Skips a block-context scalar, including plain continuation lines
    /// indented deeper than `parent`.
    fn scalar(&mut self, parent: isize) -> Option<()> {
        match self.peek()? {
            '"' | '\'' => {
                self.quoted()?;
                self.end_of_line()
            }
            _ => {
                self.plain_to_line_end();
                loop {
                    let before = self.pos;
                    self.skip_blank();
                    if self.at_end() || self.column() <= parent {
                        self.pos = before;
                        return Some(());
                    }
                    if self.key_ahead(false).is_some() {
                        return None;
                    }
                    self.plain_to_line_end();
                }
            }
        }
    }

    fn plain_to_line_end(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' || (c == '#' && self.comment_may_start()) {
                break;
            }
            self.pos += 1;
        }
    }

    fn end_of_line(&mut self) -> Option<()> {
        self.skip_inline_blank();
        self.at_line_end().then_some(())
    }

    /// Looks for `key:` at the cursor without moving it. Returns the key
    /// (`None` if it has escapes the scanner does not decode) and the offset
    /// after the colon.
    fn key_ahead(&self, flow: bool) -> Option<(Option<String>, usize)> {
        let (key, end) = match self.peek()? {
            '"' | '\'' => self.quoted_at(self.pos)?,
            _ => {
                let end = self.plain_key_end(flow)?;
                let text: String = self.chars.get(self.pos..end)?.iter().collect();
                (Some(text.trim_end().to_string()), end)
            }
        };
        let mut colon = end;
        while self.chars.get(colon).is_some_and(|c| *c == ' ' || *c == '\t') {
            colon += 1;
        }
        let after = self.chars.get(colon + 1).copied();
        let separates = is_space_or_end(after) || (flow && matches!(after, Some(',' | '}' | ']' | '"')));
        let quoted_key = matches!(self.peek(), Some('"' | '\''));
        (self.chars.get(colon) == Some(&':') && (separates || quoted_key)).then_some((key, colon + 1))
    }

    /// Returns the offset where a plain key ends: the `:` that separates it
    /// from its value.
    fn plain_key_end(&self, flow: bool) -> Option<usize> {
        let mut offset = self.pos;
        while let Some(c) = self.chars.get(offset).copied() {
            let next = self.chars.get(offset + 1).copied();
            let flow_break = flow && matches!(c, ',' | '{' | '}' | '[' | ']');
            if c == '\n' || flow_break || (c == '#' && offset > 0 && self.chars.get(offset - 1).is_some_and(|p| p.is_whitespace())) {
                return None;
            }
            if c == ':' && (is_space_or_end(next) || (flow && matches!(next, Some(',' | '}' | ']')))) {
                return Some(offset);
            }
            offset += 1;
        }
        None
    }

    fn quoted(&mut self) -> Option<Option<String>> {
        let (text, end) = self.quoted_at(self.pos)?;
        self.pos = end;
        Some(text)
    }

    /// Reads a quoted scalar starting at `start`. Returns its text (`None`
    /// for escapes other than `\"`, `\\`, `\/` and `''`) and the offset after
    /// the closing quote.
    fn quoted_at(&self, start: usize) -> Option<(Option<String>, usize)> {
        let quote = self.chars.get(start).copied()?;
        let mut text = Some(String::new());
        let mut offset = start + 1;
        loop {
            let c = self.chars.get(offset).copied()?;
            if quote == '"' && c == '\\' {
                let escaped = self.chars.get(offset + 1).copied()?;
                match escaped {
                    '"' | '\\' | '/' => text.iter_mut().for_each(|t| t.push(escaped)),
                    _ => text = None,
                }
                offset += 2;
            } else if quote == '\'' && c == '\'' && self.chars.get(offset + 1) == Some(&'\'') {
                text.iter_mut().for_each(|t| t.push('\''));
                offset += 2;
            } else if c == quote {
                return Some((text, offset + 1));
            } else if c == '\n' {
                // A line break folds into a space; keys never span lines.
                text = None;
                offset += 1;
            } else {
                text.iter_mut().for_each(|t| t.push(c));
                offset += 1;
            }
        }
    }

    fn flow_node(&mut self) -> Option<Node> {
        match self.peek()? {
            '{' => self.flow_mapping(),
            '[' => self.flow_sequence(),
            _ => None,
        }
    }

    fn flow_mapping(&mut self) -> Option<Node> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_blank();
            if self.peek()? == '}' {
                self.pos += 1;
                return Some(Node::Map(entries));
            }
            let key_at = self.location();
            let (key, after_colon) = self.key_ahead(true)?;
            self.pos = after_colon;
            self.skip_blank();
            let value_at = self.location();
            let value = match self.peek()? {
                ',' | '}' => Node::Scalar,
                _ => self.flow_value()?,
            };
            entries.push(Entry { key, key_at, value_at, value });
            self.flow_separator('}')?;
        }
    }

    fn flow_sequence(&mut self) -> Option<Node> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.peek()? == ']' {
                self.pos += 1;
                return Some(Node::Seq(items));
            }
            let at = self.location();
            let value = self.flow_value()?;
            items.push(Item { at, value });
            self.flow_separator(']')?;
        }
    }

    /// Consumes the `,` after a flow entry, or checks that `close` follows.
    fn flow_separator(&mut self, close: char) -> Option<()> {
        self.skip_blank();
        match self.peek()? {
            ',' => {
                self.pos += 1;
                Some(())
            }
            c if c == close => Some(()),
            _ => None,
        }
    }

    fn flow_value(&mut self) -> Option<Node> {
        match self.peek()? {
            '{' | '[' => self.flow_node(),
            '"' | '\'' => {
                self.quoted()?;
                Some(Node::Scalar)
            }
            '&' | '*' | '!' | '?' | '%' | '@' | '`' | '|' | '>' | ':' => None,
            _ => {
                while let Some(c) = self.peek() {
                    let ends_key = c == ':' && is_space_or_end(self.peek_at(1));
                    if matches!(c, ',' | ']' | '}' | '\n') || ends_key || (c == '#' && self.comment_may_start()) {
                        break;
                    }
                    self.pos += 1;
                }
                (self.peek() != Some(':')).then_some(Node::Scalar)
            }
        }
    }
}

fn is_space_or_end(c: Option<char>) -> bool {
    c.is_none_or(|c| c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str, path: &[Segment]) -> Option<(usize, usize)> {
        SourceMap::build(text)?.key(path).map(|at| (at.line, at.column))
    }

    fn value(text: &str, path: &[Segment]) -> Option<(usize, usize)> {
        SourceMap::build(text)?.value(path).map(|at| (at.line, at.column))
    }

    fn k(name: &str) -> Segment {
        Segment::Key(name.to_string())
    }

    #[test]
    fn block_keys_are_located() {
        let text = "# policy\npermissions:\n  file_edit:\n    inside_worktree: maybe # why\n";
        assert_eq!(key(text, &[k("permissions"), k("file_edit"), k("inside_worktree")]), Some((4, 5)));
        assert_eq!(value(text, &[k("permissions"), k("file_edit"), k("inside_worktree")]), Some((4, 22)));
    }

    #[test]
    fn sequence_items_are_located() {
        let text = "rules:\n- pattern: a\n  decision: deny\n-   pattern: b\n    decision: nope\n";
        assert_eq!(key(text, &[k("rules"), Segment::Index(1), k("decision")]), Some((5, 5)));
        assert_eq!(key(text, &[k("rules"), Segment::Index(0)]), Some((2, 3)));
    }

    #[test]
    fn flow_and_json_keys_are_located() {
        let text = "mcp: { default: x, rules: [ { pattern: \"a\", decision: y } ] }\n";
        assert_eq!(value(text, &[k("mcp"), k("rules"), Segment::Index(0), k("decision")]), Some((1, 55)));
        let json = "{\n  \"permissions\": {\"other\": \"x\"}\n}";
        assert_eq!(value(json, &[k("permissions"), k("other")]), Some((2, 28)));
    }

    #[test]
    fn block_scalars_and_quoted_keys_are_skipped() {
        let text = "plan: |\n  text: not a key\n\"**/.env\": deny\n'it''s': ok\n";
        assert_eq!(key(text, &[k("**/.env")]), Some((3, 1)));
        assert_eq!(key(text, &[k("it's")]), Some((4, 1)));
        assert_eq!(key(text, &[k("text")]), None);
    }

    #[test]
    fn unsupported_yaml_gives_no_map() {
        assert!(SourceMap::build("a: &x 1\nb: *x\n").is_none());
        assert!(SourceMap::build("? complex\n: key\n").is_none());
    }

    #[test]
    fn missing_key_falls_back_to_ancestor() {
        let map = SourceMap::build("budget:\n  job: {}\n");
        let at = map.and_then(|map| map.nearest(&[k("budget"), k("job"), k("usd")]));
        assert_eq!(at, Some(Location { line: 2, column: 3 }));
    }

    /// Checks that every key of `text` is found and that its position
    /// points at the key's text.
    fn assert_keys_located(text: &str, map: &SourceMap, value: &serde_json::Value, require_all: bool) {
        let lines: Vec<&str> = text.lines().collect();
        let mut stack = vec![(Vec::new(), value)];
        while let Some((path, node)) = stack.pop() {
            let children: Vec<(Segment, &serde_json::Value)> = match node {
                serde_json::Value::Object(object) => object.iter().map(|(key, item)| (k(key), item)).collect(),
                serde_json::Value::Array(items) => items.iter().enumerate().map(|(index, item)| (Segment::Index(index), item)).collect(),
                _ => Vec::new(),
            };
            for (segment, item) in children {
                let mut child = path.clone();
                child.push(segment.clone());
                let Some(at) = map.key(&child) else {
                    assert!(!require_all, "{child:?} not found in {text:?}");
                    continue;
                };
                let line = lines.get(at.line - 1).copied().unwrap_or_default();
                let rest: String = line.chars().skip(at.column - 1).collect();
                if let Segment::Key(key) = &segment {
                    let bare = match rest.strip_prefix(['"', '\'']) {
                        Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\").replace("''", "'"),
                        None => rest.clone(),
                    };
                    assert!(bare.starts_with(key.as_str()), "{child:?} at {at:?} points at {rest:?} in {text:?}");
                }
                stack.push((child, item));
            }
        }
    }

    #[test]
    fn every_key_points_at_its_text() {
        let documents = [
            "a: 1\nb:\n  c: [1, {d: 2, 'e': x}]\n  f:\n  - g: 1\n    h: 2\n  -   - 3\n      - i: 4\n",
            "permissions:\r\n  file_edit: deny   # comment\r\n  other:\r\n    default: deny\r\n",
            "text: this is\n  a folded plain scalar\nnext: >\n  folded: text\n\n  more\nlast: \"q: \\\" x\"\n",
            "{\"a\": {\"b\": [1, {\"c\": null}]},\n \"d\": \"x\"}\n",
            "---\nrules:\n  \"**/.env\": deny\n  https://x.org/*: ask-user\n  a: { b: c }\n",
        ];
        for text in documents {
            let map = SourceMap::build(text).unwrap_or_else(|| panic!("no source map for {text:?}"));
            let value: serde_json::Value = serde_yaml::from_str(text).unwrap_or_else(|error| panic!("{error}"));
            assert_keys_located(text, &map, &value, true);
        }
    }

    #[test]
    fn mutated_text_gets_no_wrong_positions() {
        let seeds = [
            "permissions:\n  file_edit: { inside_worktree: deny, rules: [ { pattern: \"**/.env\", decision: deny } ] }\n",
            "jobs:\n  fix:\n    - a: 'x''y'\n      b: |\n        text\n    - [1, 2]\n",
            "{\"a\": [\"b\", {\"c\": \"d\\\"e\"}]}",
            "a:\n  - b: 1\n    c: # note\n      d: x\n  - e\nf: 'g'\nh:\n- i\n- j: k\n",
        ];
        let alphabet: Vec<char> = " \n:-{}[],'\"#|>&*!?\\ax".chars().collect();
        // A fixed linear congruential generator keeps the cases repeatable.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: usize| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % bound.max(1)
        };
        for seed in seeds {
            for _ in 0..300 {
                let mut chars: Vec<char> = seed.chars().collect();
                for _ in 0..3 {
                    let at = next(chars.len() + 1);
                    if next(2) == 0 && at < chars.len() {
                        chars.remove(at);
                    } else {
                        chars.insert(at, alphabet.get(next(alphabet.len())).copied().unwrap_or(' '));
                    }
                }
                let text: String = chars.into_iter().collect();
                let parsed = serde_yaml::from_str::<serde_json::Value>(&text);
                if let (Some(map), Ok(value)) = (SourceMap::build(&text), parsed) {
                    assert_keys_located(&text, &map, &value, false);
                }
            }
        }
    }
}
