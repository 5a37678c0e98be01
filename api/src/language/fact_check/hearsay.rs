//! Hearsay (伝聞): a sentence that reports what someone other than the writer observed is
//! labelled as such, so that a reader can tell the writer's observation from a report. It is
//! hearsay when it ends reportively (〜とのこと, 〜と聞いた, 〜によると, 伝聞の「そうだ」), or
//! when the information comes from someone else (母より…, 看護師から電話で…, 父は「…」と話した).
//! The client's own words recorded as words (本人が「…」と言った) are an observation, not
//! hearsay.

use std::sync::LazyLock;

use regex::Regex;

use super::Sentence;

/// Who, other than the client and the writer's own team, information comes from.
const SOURCES: &str = "(?:お?母(?:親|様|さま|さん|ちゃん)?|お?父(?:親|様|さま|さん|ちゃん)?|ご?家族|ご?両親|兄|姉|弟|妹|祖母|祖父|叔母|伯母|叔父|伯父|配偶者|妻|夫|世話人|GH|グループホーム|学校|担任|先生|教員|訪問看護師?|看護師|医師|主治医|Dr|ヘルパー|相談支援専門員|相談員|専門員|他事業所|事業所|施設|サービス管理責任者|サビ管|活動先|日中活動先|職場|会社|上司|ケースワーカー|CW|保健師|薬剤師|役所|市役所|区役所|福祉課|警察|近所の方|近隣住民|友人|実習先|連絡帳|サ責|サービス提供責任者|管理者|担当者|担当職員|担当ケースワーカー|チーフ|班長|店長|人事(?:担当|部)?|企業|大家|管理会社|民生委員|隣人|近所の人)";
/// Places a report may come from (通所先より、…): a source only when the sentence opens with
/// them and より (病院から戻り is a journey, not a report).
const PLACES: &str =
    "(?:通所先|通所施設|病院|クリニック|歯科|薬局|ショートステイ|SS|学校|保育園|幼稚園)";

static REPORTIVE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "とのこと|との事|の由|とのよし|と聞(?:い|き|く)|と書かれ|と記載(?:が|さ|あり)|と伺|とうかが|によると|によれば|の話では|話によると|との(?:連絡|報告|情報|電話|話|訴えが家族)|[\\p{Hiragana}」]との(?:評価|見立て|診断|所見|意見|見解|返答|回答|説明|指摘|申し送り)|と(?:の)?説明を受け|との(?:お)?言葉を(?:いただ|頂|受け|もら)|と(?:の)?(?:報告|連絡)(?:あり|有り|が?あっ|を受け|をいただ|を頂|が入)|情報提供(?:あり|有|を受け|があ|によ)|と申し送り|(?:から|より)の申し送り|申し送り(?:あり|有り|が?あっ|を受け|では)",
    )
});

/// Another staff member passing something on (申し送り, 職員から報告): the writer did not see it.
static FROM_STAFF: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:職員|スタッフ|担当者|支援員|世話人|ヘルパー|看護師|生活支援員)(?:さん)?(?:から|より)[^。]*?(?:報告|連絡|申し送り|聞|伺|情報|指示|説明)",
    )
});

static FROM_SOURCE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(&format!(
        "{SOURCES}(?:の[^、。]{{0,12}})?(?:より|から)[^。]*?(?:電話|連絡|報告|説明|聞|伺|記載|記入|話|「|書|メール|手紙|相談|情報|伝え|申し出|訴え|指示|助言|指摘|コメント|受領)"
    ))
});

static SOURCE_SAYS: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(&format!(
        "{SOURCES}(?:は[^。]*?|が[^。、]*?)(?:と|って)(?:話|言|おっしゃ|説明|訴え|記載|書|連絡|報告|述べ)|{SOURCES}(?:さん|様|氏)?[はがも]?「[^」]*」(?:[^のでにへをがはもや]|$)|{SOURCES}の(?:指示|説明|診断|判断|意見|見立て|見解)(?:により|によって|によると|では|で)"
    ))
});

/// A report opening with its source (主治医より、…, 学校の連絡帳より：…).
static OPENS_WITH_SOURCE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(&format!(
        "^[・\\-\\s]*(?:[^、。：:「はが]{{0,10}}の)?[^、。：:「はが]{{0,8}}?(?:{SOURCES}(?:さん|様|氏)?(?:より|から)|{PLACES}より)[、：:\\s]"
    ))
});

/// The client opening a sentence as the one who speaks (本人より「…」との話).
static OWN_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "^[・\\-\\s]*(?:ご?本人|利用者)(?:さん|様)?(?:より|から|は|が)[、\\s]*「",
    )
});

/// Whether the sentence reports what someone else said or saw.
pub(super) fn reports_someone_else(sentence: &Sentence) -> bool {
    let s = sentence.s;
    // Reportive words inside someone's quoted words do not make the sentence a report.
    // A match that starts inside them (「今の職場は…」と話した) is the speaker's words too.
    let outside = |m: regex::Match| {
        !sentence
            .quotes
            .iter()
            .any(|q| q.start < m.start() && m.start() < q.end)
    };
    // と聞いてきた / と聞きに来た: the client asked, nobody reported.
    // 「明日は休み？」と聞き: a question the client put, quoted just before.
    let asked = |m: &regex::Match| {
        let rest = &s[m.end()..];
        let question_before = s[..m.start()].ends_with("？」") || s[..m.start()].ends_with("?」");
        rest.starts_with("てき")
            || rest.starts_with('返')
            || rest.starts_with("てく")
            || (m.as_str().ends_with('き') && rest.starts_with('に'))
            || question_before
    };
    // 本人より「…」との話があった: the client's own words, recorded as words (GUIDELINE rule 11).
    let own_words = |m: &regex::Match| {
        m.as_str().starts_with("との")
            && s[..m.start()].ends_with('」')
            && OWN_WORDS.is_match(&s[..m.start()])
    };
    if REPORTIVE
        .find_iter(s)
        .any(|m| outside(m) && !asked(&m) && !own_words(&m))
    {
        return true;
    }
    // The hearsay そうだ (降るそうだ), as opposed to the looks-like そう (眠そう).
    let hearsay_sou = sentence.tokens.iter().enumerate().any(|(i, t)| {
        t.t.surface == "そう"
            && t.t.is(&["名詞", "特殊", "助動詞語幹"])
            && !super::said_of::wish_looked(sentence, i)
            && !in_quote(sentence, t.bytes.start)
    });
    if hearsay_sou {
        return true;
    }
    if sentence.analysed {
        // The analysis is there: a source counts only as a subject or origin, not inside
        // quoted words (「お母さんに会いたい」).
        OPENS_WITH_SOURCE.is_match(s)
            || FROM_SOURCE.find_iter(s).any(outside)
            || SOURCE_SAYS.find_iter(s).any(outside)
            || FROM_STAFF.find_iter(s).any(outside)
    } else {
        OPENS_WITH_SOURCE.is_match(s)
            || FROM_SOURCE.is_match(s)
            || SOURCE_SAYS.is_match(s)
            || FROM_STAFF.is_match(s)
    }
}

fn in_quote(sentence: &Sentence, at: usize) -> bool {
    sentence.quotes.iter().any(|q| q.start < at && at < q.end)
}
