//! The random stream: body edits in the middle crates of the fixture, of the kind made between
//! two saves (a string literal changed, a branch added), at places drawn from a seeded
//! generator so that a run can be repeated (`--seed`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use proc_macro2::{LineColumn, TokenStream, TokenTree};
use syn::visit::Visit;

/// Crates in the middle of the `gix` build: a dozen workspace crates above each of them.
const MIDDLE_CRATES: &[&str] = &[
    "gix-path",
    "gix-date",
    "gix-object",
    "gix-ref",
    "gix-revwalk",
    "gix-diff",
    "gix-traverse",
    "gix-odb",
    "gix-pack",
    "gix-config",
    "gix-url",
    "gix-refspec",
];

/// xorshift64*: small, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }
}

/// One edit made: the package and what changed where.
pub struct RandomEdit {
    pub krate: String,
    pub description: String,
}

/// Makes one body edit in a middle crate of the fixture at `dir`.
pub fn edit(dir: &Path, rng: &mut Rng, round: usize) -> Result<RandomEdit> {
    let members: Vec<(String, PathBuf)> = fs::read_dir(dir.join("members"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|path| {
            let folder = path.file_name()?.to_str()?;
            let krate = MIDDLE_CRATES.iter().find(|name| {
                folder
                    .strip_prefix(&format!("{name}-"))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            })?;
            Some((krate.to_string(), path))
        })
        .collect();
    if members.is_empty() {
        bail!("none of the middle crates is a member of {}", dir.display());
    }
    for _ in 0..1000 {
        let (krate, folder) = &members[rng.below(members.len())];
        let files = rust_files(&folder.join("src"));
        if files.is_empty() {
            continue;
        }
        let file = &files[rng.below(files.len())];
        let text = fs::read_to_string(file)?;
        let Ok(ast) = syn::parse_file(&text) else {
            continue;
        };
        let mut bodies = Bodies::default();
        bodies.visit_file(&ast);
        if bodies.0.is_empty() {
            continue;
        }
        let body = &bodies.0[rng.below(bodies.0.len())];
        let (at, insert, what) = if !body.strings.is_empty() && rng.below(2) == 0 {
            let quote = body.strings[rng.below(body.strings.len())];
            // Right after the opening quote of a plain string literal.
            let offset = byte_offset(&text, quote);
            if !text[offset..].starts_with('"') {
                continue;
            }
            (
                offset + 1,
                format!("replay {round}: "),
                "a string literal changed",
            )
        } else {
            (
                byte_offset(&text, body.open) + 1,
                " if ::std::hint::black_box(false) { ::std::process::abort() } ".to_string(),
                "a branch added",
            )
        };
        let mut edited = text.clone();
        edited.insert_str(at, &insert);
        fs::write(file, edited)?;
        let relative = file.strip_prefix(dir).unwrap_or(file);
        let line = text[..at].lines().count().max(1);
        return Ok(RandomEdit {
            krate: krate.clone(),
            description: format!("{}:{line}: {what}", relative.display()),
        });
    }
    bail!("found no function body to edit in the middle crates")
}

/// The `.rs` files under `dir`, sorted (the same draw picks the same file on every machine).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The byte offset of a line and column (in characters) of `text`.
fn byte_offset(text: &str, at: LineColumn) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(at.line - 1)
        .map(str::len)
        .sum();
    let line = &text[line_start..];
    line_start
        + line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(i, _)| i)
}

/// A function body: where its opening brace is, and the string literals in it (macro
/// arguments included).
struct Body {
    open: LineColumn,
    strings: Vec<LineColumn>,
}

/// The bodies of the functions of a file that are not `const` (where a branch could not go).
#[derive(Default)]
struct Bodies(Vec<Body>);

impl Bodies {
    fn add(&mut self, block: &syn::Block) {
        let mut strings = Strings::default();
        strings.visit_block(block);
        self.0.push(Body {
            open: block.brace_token.span.open().start(),
            strings: strings.0,
        });
    }
}

impl<'ast> Visit<'ast> for Bodies {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if f.sig.constness.is_none() {
            self.add(&f.block);
        }
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if f.sig.constness.is_none() {
            self.add(&f.block);
        }
        syn::visit::visit_impl_item_fn(self, f);
    }
}

#[derive(Default)]
struct Strings(Vec<LineColumn>);

impl Strings {
    fn tokens(&mut self, stream: TokenStream) {
        for tree in stream {
            match tree {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Literal(literal) if literal.to_string().starts_with('"') => {
                    self.0.push(literal.span().start())
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Strings {
    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        self.0.push(literal.span().start());
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
    }

    // A nested function is a body of its own.
    fn visit_item_fn(&mut self, _: &'ast syn::ItemFn) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bodies_and_their_strings_with_positions() {
        let text = "const fn c() -> u8 { 1 }\nfn f() {\n    let s = \"é\";\n    println!(\"x {}\", s);\n}\n";
        let mut bodies = Bodies::default();
        bodies.visit_file(&syn::parse_file(text).unwrap());
        assert_eq!(bodies.0.len(), 1);
        let body = &bodies.0[0];
        assert_eq!(&text[byte_offset(text, body.open)..][..1], "{");
        let quotes: Vec<String> = body
            .strings
            .iter()
            .map(|at| text[byte_offset(text, *at)..].chars().take(3).collect())
            .collect();
        assert_eq!(quotes, ["\"é\"", "\"x "]);
    }
}
