//! Language tools for collaboration (協働の言葉): the fact check (事実と解釈を分ける), goal
//! similarity for plan alignment, and renderings for each audience (情報の翻訳).
//!
//! Pure functions over text and reviewed data files (`api/data/*.toml`): no database, no
//! GraphQL, no network. Deterministic and explainable: the same text and lexicon always give
//! the same result, and every finding or change names the lexicon entry or rule behind it.
//!
//! Analysis comes from [`analysis`]: `vibrato` over IPADIC, installed from Debian's
//! `mecab-ipadic` (a package registry; `lindera`'s embedded dictionaries are downloaded by its
//! build script, which fails where only package registries are reachable). Without it the server
//! still runs, with the degradations each module documents.

pub mod analysis;
pub mod counters;
pub mod evidence;
pub mod fact_check;
pub mod lexicon;
pub mod negation;
pub mod quality;
pub mod readings;
pub mod similarity;
pub mod text;
pub mod translation;
