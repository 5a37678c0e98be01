//! Language tools for collaboration (協働の言葉): the fact check (事実と解釈を分ける), goal
//! similarity for plan alignment, and renderings for each audience (情報の翻訳).
//!
//! Pure functions over text and reviewed data files (`api/data/*.toml`): no database, no
//! GraphQL, no network. Deterministic and explainable: the same text and lexicon always give
//! the same result, and every finding or change names the lexicon entry or rule behind it.
//!
//! Why no morphological analyser: the embedded dictionaries of `lindera` are downloaded by its
//! build script (which fails where only package registries are reachable), and a run-time MeCab
//! dictionary would make `cargo run` on a fresh machine depend on a system package. A stem
//! lexicon covers conjugations by matching stems (落ち着 → 落ち着いて / 落ち着かない / 落ち着いた
//! 様子) and context patterns for markers; its trade-off (no part-of-speech, so look-alikes
//! need `except` entries) is measured by the labelled sentence sets in `api/data`.

pub mod fact_check;
pub mod lexicon;
pub mod readings;
pub mod similarity;
pub mod text;
pub mod translation;
