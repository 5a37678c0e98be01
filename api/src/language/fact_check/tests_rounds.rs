//! Unit tests of the signs added in the later rounds of blind sets (BENCHMARKS.md, rounds 12
//! to 16): each case is a sentence of our own, not one from the labelled sets.

use super::{Mode, tests::expect};

#[test]
fn round_twelve_signs() {
    expect(
        &[
            // The usual is never written down: a count of it answers, the act alone does not.
            ("巡回時、普段通り入眠していた。", true),
            ("いつも通り登所した。", true),
            ("相変わらず野菜を残し、サラダは3口で止めた。", false),
            // Bullets with a colon.
            ("・表情：硬い。", true),
            ("・睡眠：不規則。", true),
            // When an event was held is no sign of calm; sitting through it is.
            ("面談は10時から10時30分まで行い、穏やかだった。", true),
            // Which time it was is no count.
            ("今日で3回目の参加、だいぶ慣れてきた。", true),
            // A state named as the topic of an act is no claim.
            ("父の体調を心配して「大丈夫かな」と話した。", false),
            // Muscle tone is the body's.
            ("筋緊張が強く、足が突っ張っていた。", false),
            ("筋緊張が強かった。", true),
            // A guessed cause rests on nothing the sentence shows.
            ("雨のせいか、朝から3回大声を出した。", true),
            ("季節の変わり目のためか、咳が5回出た。", true),
            ("声をかけると聞こえないふりをした。", true),
            // Words that show the state.
            ("迷っている様子で、「どっちにしようかな」と話した。", false),
            ("寂しそうに「家に誰もいない」と話した。", false),
            (
                "「母が入院したら一人で暮らせない」と話し、不安そうだった。",
                false,
            ),
            (
                "見学に前向きになってきており、先月は「行かない」と言っていたが、今月は「行ってみる」と話した。",
                false,
            ),
            // Someone else's voice is no sign of the client's state; the client's act on
            // someone else's things is.
            ("他利用者の泣き声を聞いて、不安そうだった。", true),
            ("他利用者のコップを倒し、興奮していた。", false),
            // What was seen before is no evidence of what came after.
            ("23時巡視：入眠。その後も良眠。", true),
            (
                "緊張した様子で、入口で立ち止まったまま座りませんでした。",
                false,
            ),
        ],
        Mode::Record,
    );
    expect(
        &[
            (
                "家族へ夜間の様子（入眠時刻・起床時刻）を連絡帳で伝える。",
                false,
            ),
            ("無理のない範囲で作業に参加する。", true),
            ("できる範囲で洗濯物をたたむ。", true),
        ],
        Mode::Plan,
    );
}

#[test]
fn round_thirteen_signs() {
    expect(
        &[
            // An adverb says how the act went; it names no thing (機嫌良く着替えに協力).
            ("機嫌良く歯磨きに協力。", true),
            // The minutes of a clock time are no count.
            ("4:20 口の中に痰が溜まりやすい傾向。", true),
            ("2:15 着替え時、体が硬い。", true),
            // A wish seen from outside is no hearsay (言いたそう); 寝たそう stays hearsay.
            ("何か書きたそうだった。", true),
            ("母によると、21時に寝たそうだ。", false),
            ("寒気があるようなので、毛布を足した。", true),
            ("両手を胸の前で組んでいて、嫌な夢を見たのかも。", true),
            // The colour of the face is the body's; a word of cold shows no dark expression.
            ("「さむい」と示したあと、表情が暗かった。", true),
            ("「さむい」と言い、顔色が青白かった。", false),
            ("検温36.4℃、体調はいまひとつの様子。", true),
            // Being with others shows neither the relationship nor the will to take part.
            ("他児と仲良く遊べていた。", true),
            ("調理に加わり、意欲的に取り組んでいた。", true),
            ("友達と仲良く遊び、ボールを3回貸した。", false),
            // Accepting is no understanding: a redone task shows neither.
            ("やり直しを指示され、納得していない様子だった。", true),
            (
                "「わかった、じゃあ明日にする」と答え、納得した様子だった。",
                false,
            ),
            ("評価：協調性に欠ける。", true),
            // Asking how to go on shows what is not yet understood.
            (
                "手順を理解できておらず、「どうすればいい？」と10分間に3回尋ねた。",
                false,
            ),
            (
                "欠勤は月曜に集中している（10月の欠勤3日はすべて月曜）。",
                false,
            ),
            ("落ち着かない様子で、掛け布団を3回はねのけた。", false),
            ("痛がる様子で、右膝に触れると顔をしかめた。", false),
            ("傷は直径約1cmで、前日から変化なし。", false),
        ],
        Mode::Record,
    );
    expect(
        &[
            ("週3日・1日4時間の勤務を継続する。", false),
            ("ヘルパー間の連携を密にする。", true),
            ("入浴を本人の負担なく行う。", true),
        ],
        Mode::Plan,
    );
}

#[test]
fn round_fourteen_signs() {
    expect(
        &[
            // Words that hold their own negation are not turned round again by a zero, and a
            // heading's colon ends what a negation can reach.
            ("緊張気味で、面談の間一度も目を合わせなかった。", false),
            (
                "不安緊張：職員と一度も目を合わせず、下を向いて答えた。",
                false,
            ),
            // A wish not to is a refusal; asking what one forgot shows what is not understood.
            (
                "ヘルパーの利用に拒否があり、「家に人を入れたくない」と話した。",
                false,
            ),
            (
                "予定を理解できていない様子で、「今日は何曜日だっけ」と3回尋ねた。",
                false,
            ),
            (
                "練習に意欲的に取り組み、表には30日中25日分の丸印があった。",
                false,
            ),
            (
                "「もう生きていても仕方がない」と話し、落ち込んでいた。",
                false,
            ),
            // Then and now, though a contrast parts them.
            (
                "手順を覚えてきており、7月は「わからない」と話していたが、今回は「先にメモを見る」と自分から話した。",
                false,
            ),
            (
                "以前より歩行が不安定になっており、6月は杖なしで歩けていたが、今回は10mの間に3回つまずいた。",
                false,
            ),
            // A reason guessed, from what stands beside it or from a cause.
            ("寂しかったのか、写真を眺めていた。", true),
            ("遅くまで起きていたので、朝は眠かったと思われる。", true),
            // Output is no attention, whether it changed or not.
            (
                "集中できないようで、30分で塗り絵を1枚しか仕上げなかった。",
                true,
            ),
            ("幻聴：軽度", true),
            (
                "廊下で他の入居者とすれ違ったが、特に揉めることもなかった。",
                true,
            ),
            ("訪問時、身だしなみは整っていた。", true),
            ("休日は自室でゴロゴロしていた。", true),
            ("必要以上に菓子を買い込んでいた。", true),
        ],
        Mode::Record,
    );
    expect(
        &[
            ("金銭トラブルを起こさない。", true),
            ("共同生活のルールを守れるようになる。", true),
        ],
        Mode::Plan,
    );
}

#[test]
fn round_fifteen_signs() {
    expect(
        &[
            // Words that show the state, in dialect or not.
            (
                "寂しそうで、「置いていかれた」と言い、玄関の方を見ていた。",
                false,
            ),
            ("介護を拒否し、「やめろ」と言って職員の手を払った。", false),
            ("投げやりな様子で、「もうどうでもいい」と言った。", false),
            (
                "疲労感を訴え、「仕事のあとは何もできない」と話した。",
                false,
            ),
            (
                "痛そうな表情で、膝に触れると「あいた」と言って体を引いた。",
                false,
            ),
            (
                "予定を理解している様子で、職員が時間を伝えると復唱した。",
                false,
            ),
            (
                "興味を示した様子で、「これ、参加できますか」と尋ねた。",
                false,
            ),
            ("就職活動に前向きで、今月は自分で4社に応募した。", false),
            // A wave goodbye is no sign of joy.
            ("嬉しそうに「またね」と手を振った。", true),
            // A vague amount that is its subject's predicate grades nothing after it.
            ("寝返りが多く眠りが浅い様子だった。", true),
            ("食事量が落ちてきている。", true),
            ("穏やかな寝顔で休まれた。", true),
            ("夜間はせん妄のような状態であった。", true),
            (
                "誤嚥に注意して介助し、大きなむせ込みもなく食べられた。",
                true,
            ),
            ("・外出先でのトラブル：特になし", true),
            // Getting up in the morning is the day's rhythm, not how well someone slept.
            ("夜間良眠。朝は自分で起き、朝食も全量摂取。", true),
        ],
        Mode::Record,
    );
    expect(
        &[
            ("体調が悪い日は、9時までに事業所へ欠席の電話をする。", false),
            ("薬を飲み忘れた日は、服薬カレンダーに×を付ける。", false),
            (
                "家族が面会に来た際は、職員が最近の様子を10分程度で伝える。",
                false,
            ),
            (
                "昼食後、歩行器で食堂まで（約20m）職員の見守りのもとで往復する。",
                false,
            ),
        ],
        Mode::Plan,
    );
}

#[test]
fn round_sixteen_signs() {
    expect(
        &[
            // Signs of breathing, of stopping crying, of looking away.
            ("呼吸が苦しそうで、肩呼吸がみられた。", false),
            ("興奮気味で、手足をばたつかせた。", false),
            ("落ち着いて、約1分で泣き止んだ。", false),
            ("気が散っている様子で、2回窓の方を見た。", false),
            // Muscle tone named 緊張 is the body's when the limbs show it.
            ("緊張が強く、両足を突っ張らせていた。", false),
            // で ends a noun's predicate: the negation after it is another's.
            (
                "不機嫌な様子で、挨拶に返事をせず、「話しかけるな」と言った。",
                false,
            ),
            ("迷惑そうな表情だった。", true),
            ("反省しているようには見えなかった。", true),
            ("時間を持て余している様子だった。", true),
            ("交友関係に、特に変化は見られませんでした。", true),
            ("昨夜は遅く帰宅した。", true),
            ("痰がからみ、ゴロゴロという音が聞こえた。", false),
        ],
        Mode::Record,
    );
    expect(
        &[
            ("生活介護 週5日 9:30〜15:30。", false),
            ("呼名に対して10回中5回以上顔を向ける。", false),
            ("飲酒は控えめにする。", true),
            ("コミュニケーション手段を獲得する。", true),
        ],
        Mode::Plan,
    );
}
