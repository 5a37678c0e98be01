//! Readings from an installed dictionary, for furigana where the glossary has none.
//!
//! Optional: set `READING_DICTIONARY` to a directory of MeCab IPA dictionary source files (the
//! Debian package `mecab-ipadic` installs them in `/usr/share/mecab/dic/ipadic`, EUC-JP;
//! UTF-8 files work too). Without it, readings come from the glossaries only. Loaded once at
//! start-up; lookups are longest-match over words that contain kanji.

use std::{collections::HashMap, path::Path, sync::OnceLock};

use anyhow::Context;

/// Surface form → reading in hiragana (the lowest-cost entry where a form has several).
#[derive(Debug, Default)]
pub struct ReadingDictionary {
    words: HashMap<String, (i32, String)>,
    longest: usize,
}

fn has_kanji(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || c == '々')
}

/// Katakana to hiragana (ー stays).
pub fn hiragana(katakana: &str) -> String {
    katakana
        .chars()
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

impl ReadingDictionary {
    /// Reads every `*.csv` of `dir`.
    pub fn load_dir(dir: &Path) -> anyhow::Result<Self> {
        let mut out = Self::default();
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading dictionary directory {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "csv") {
                let bytes =
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                out.add_csv(&decode(&bytes));
            }
        }
        anyhow::ensure!(
            !out.words.is_empty(),
            "no dictionary entries with kanji in {}",
            dir.display()
        );
        Ok(out)
    }

    /// Adds MeCab IPA dictionary lines: `surface,left,right,cost,pos…(6),base,reading,pron`.
    pub fn add_csv(&mut self, text: &str) {
        for line in text.lines() {
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() < 12 || !has_kanji(cols[0]) || cols[11] == "*" {
                continue;
            }
            let cost: i32 = cols[3].trim().parse().unwrap_or(i32::MAX);
            let reading = hiragana(cols[11]);
            let better = self.words.get(cols[0]).is_none_or(|(c, _)| cost < *c);
            if better {
                self.longest = self.longest.max(cols[0].chars().count());
                self.words.insert(cols[0].to_owned(), (cost, reading));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The longest word with kanji at the start of `text`: its length in bytes and reading.
    pub fn longest_at<'a>(&'a self, text: &str) -> Option<(usize, &'a str)> {
        let ends: Vec<usize> = text
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .take(self.longest)
            .collect();
        ends.into_iter().rev().find_map(|end| {
            self.words
                .get(&text[..end])
                .map(|(_, reading)| (end, reading.as_str()))
        })
    }
}

/// UTF-8 when valid, else EUC-JP (how Debian ships the IPA dictionary sources).
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::EUC_JP.decode(bytes).0.into_owned(),
    }
}

static INSTALLED: OnceLock<ReadingDictionary> = OnceLock::new();

/// Loads the dictionary for the life of the process (start-up; a second call is ignored).
pub fn install(dir: &Path) -> anyhow::Result<usize> {
    let dict = ReadingDictionary::load_dir(dir)?;
    let n = dict.len();
    let _ = INSTALLED.set(dict);
    Ok(n)
}

/// The installed dictionary, if any.
pub fn installed() -> Option<&'static ReadingDictionary> {
    INSTALLED.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = "参加,1285,1285,3000,名詞,サ変接続,*,*,*,*,参加,サンカ,サンカ\n参,1285,1285,9000,名詞,一般,*,*,*,*,参,サン,サン\n今日,1285,1285,4000,名詞,副詞可能,*,*,*,*,今日,キョウ,キョー\n今日,1285,1285,7000,名詞,一般,*,*,*,*,今日,コンニチ,コンニチ\nする,610,610,5000,動詞,自立,*,*,サ変・スル,基本形,する,スル,スル\n";

    #[test]
    fn the_longest_word_with_kanji_gives_its_lowest_cost_reading() {
        let mut d = ReadingDictionary::default();
        d.add_csv(LINES);
        assert_eq!(d.len(), 3, "kana-only words are not kept");
        assert_eq!(d.longest_at("参加する"), Some(("参加".len(), "さんか")));
        assert_eq!(d.longest_at("今日は"), Some(("今日".len(), "きょう")));
        assert_eq!(d.longest_at("は今日"), None);
    }

    #[test]
    fn euc_jp_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _, _) = encoding_rs::EUC_JP.encode(LINES);
        std::fs::write(dir.path().join("Noun.csv"), &bytes).unwrap();
        std::fs::write(dir.path().join("README"), b"not a csv").unwrap();
        let d = ReadingDictionary::load_dir(dir.path()).unwrap();
        assert_eq!(d.longest_at("参加"), Some(("参加".len(), "さんか")));
        assert!(ReadingDictionary::load_dir(&dir.path().join("missing")).is_err());
    }
}
