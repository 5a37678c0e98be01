//! Unit tests of what a sign or a measure shows: vital signs by their range, acts in the small
//! hours, injuries that did not happen, and the vague ways of saying how often or how much.

use super::{Mode, tests::expect};

#[test]
fn a_vital_sign_supports_a_health_claim_only_when_it_is_out_of_range() {
    expect(
        &[
            ("体温36.3℃だったが、だるそうにしていた。", true),
            ("だるそうで、検温すると37.8℃あった。", false),
            ("具合が悪そうで、血圧は168/102だった。", false),
            ("具合が悪そうだったが、血圧は122/76だった。", true),
            // 3度 counts times here, not a temperature.
            ("3度声をかけたが、体調が悪そうだった。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn acting_in_the_small_hours_is_evidence_of_poor_sleep() {
    expect(
        &[
            (
                "寝つけない様子で、1:10から2:00まで食堂でテレビを見ていた。",
                false,
            ),
            ("眠れないようで、深夜に廊下を3往復した。", false),
            // Up at two points the other way from a good night.
            ("よく眠れたようで、2時に廊下を歩き回っていた。", true),
            // Fourteen o'clock is no night, and an hour is no clock time.
            ("眠れていないようで、14時に廊下を歩き回っていた。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn an_injury_that_did_not_happen_is_a_fact_but_a_graded_one_is_not() {
    expect(
        &[
            ("階段で転倒したが、けがはなかった。", false),
            ("双方けがなし。", false),
            ("大きなけがはなかった。", true),
            ("相手とぶつかったが、大事には至らなかった。", true),
            ("昨夜、軽い発作があった。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn now_and_then_without_a_number_asks_how_often() {
    expect(
        &[
            ("作業中に席を立つことがある。", true),
            ("作業中に席を立つことが3回あった。", false),
            ("適宜、水分補給の声かけを行った。", true),
            ("財布の管理が難しくなってきている。", true),
            (
                "起床が遅くなってきており、今週は5日中4日が8時過ぎだった。",
                false,
            ),
            ("財布がなくなっていた。", false),
            ("転倒のおそれがあるため、付き添いを増やした。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn a_physical_act_or_a_form_field_is_not_an_interpretation() {
    expect(
        &[("両耳を手でふさぎ、その場に約1分しゃがみ込んだ。", false)],
        Mode::Record,
    );
    expect(
        &[(
            "発作時は開始時刻と様子を記録用紙に記入し、当日中に家族へ電話で伝える。",
            false,
        )],
        Mode::Plan,
    );
}

#[test]
fn evidence_next_door_must_show_the_state_not_just_a_number() {
    expect(
        &[
            // A grade beside an amount of something else; a vague amount beside a body measure.
            ("金銭出納：残金3,120円。計画的に使えている。", true),
            ("体重61.0kg（前月比+1.8kg）。食べ過ぎの傾向がある。", true),
            // A change beside a count of something else, and beside counts against a baseline.
            (
                "短期入所2日目。昼食12:00全量、入浴15:00。環境に慣れてきている。",
                true,
            ),
            ("他害が減ってきている。8月10件、9月6件、10月2件。", false),
            // A measure of how it was done tells a grade.
            (
                "6:50起床から7:20までに、声かけ1回で着替えと歯みがきを済ませた。支度はスムーズだった。",
                false,
            ),
            // A bare note takes nothing from the note before it; a sentence does.
            ("朝食全量。良好。", true),
            ("入眠21時。熟睡。", true),
            (
                "朝食時に「うるさい」と怒鳴り、皿を1回床に落とした。怒っていた。",
                false,
            ),
            // Evidence may go on past the first clause of the next sentence.
            (
                "喉が渇いている様子。「お茶ちょうだい」と言い、コップ2杯を飲み干した。",
                false,
            ),
        ],
        Mode::Record,
    );
}

#[test]
fn quoted_words_show_what_their_grammar_says_and_whose_they_are() {
    expect(
        &[
            // A prohibition is a refusal whatever its verb (話しかける is friendly elsewhere).
            (
                "機嫌が悪く、職員の声かけに「話しかけるな」と返した。",
                false,
            ),
            // A plain no to doing something.
            (
                "拒否あり。入浴の声かけに「入らない」と言い、居室に戻った。",
                false,
            ),
            // Another person's words show that person's state, not the client's.
            (
                "利用者Dさんが「あっち行って」と3回言い、本人は気まずそうだった。",
                true,
            ),
            // The person telling a change in their own words.
            (
                "作業所に慣れてきたと思われる。本人は「前は緊張したけど、今は平気」と話した。",
                false,
            ),
        ],
        Mode::Record,
    );
}

#[test]
fn zero_counts_turn_an_act_round_only_when_they_count_it() {
    expect(
        &[
            (
                "夜間は落ち着いており、この1週間、夜間の大声は0回である。",
                false,
            ),
            // 4回 is what happened; 0回 last week is the baseline.
            (
                "情緒が不安定で、この1週間に泣いて作業を中断したことが4回あった（前週0回）。",
                false,
            ),
        ],
        Mode::Record,
    );
}

#[test]
fn everyday_judgements_are_claims() {
    expect(
        &[
            ("携帯電話の使用ルールは守れている。", true),
            ("着替えに時間がかかっていた。", true),
            ("声かけに対して反応が薄かった。", true),
            ("家庭訪問：室内は清潔に保たれている。", true),
            ("お金の使い方が荒いとのこと。", true),
            ("本人より、仕事がつらいとのこと。", true),
            ("排便：普通量", true),
            ("門限を守れない日がある。", true),
            ("外気温33℃の中を20分歩いた。疲れた様子だった。", true),
            ("安定して通所できている（9月：予定21日中21日通所）。", false),
        ],
        Mode::Record,
    );
    expect(
        &[
            ("帰りの会で、その日うれしかったことを1つ発表する。", false),
            (
                "就労継続支援B型の作業を週4日、10:00〜15:00まで続ける。",
                false,
            ),
        ],
        Mode::Plan,
    );
}

#[test]
fn bed_and_rising_times_show_the_rhythm_not_the_sleep() {
    expect(
        &[
            ("良眠。6:45起床。", true),
            ("就寝21:30、起床6:15。よく眠れた模様。", true),
            (
                "生活リズムが整ってきており、この2週間は毎朝6時半に起床している。",
                false,
            ),
        ],
        Mode::Record,
    );
}

#[test]
fn grades_in_symbols_blurred_amounts_and_wishes_read_from_outside_are_claims() {
    expect(
        &[
            ("気分◎、食事○、睡眠△。", true),
            ("夕食ほぼ全量。", true),
            ("いつもより15分早い8:45に来所した。", false),
            ("兄より、本人は自宅に帰りたがっているとのこと。", true),
            ("したがって、明日の通所は10時からとする。", false),
            ("膝に痛みを感じると話した。", false),
            ("相談員所感：自信のなさを感じる。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn an_evaluative_word_no_entry_lists_is_still_a_claim() {
    expect(
        &[
            ("食事中の態度は上品だった。", true),
            ("動作は緩慢だった。", true),
            ("作業中はひたむきだった。", true),
            // …unless something shows it, or it describes what is seen.
            (
                "作業中はひたむきで、10:00から11:30まで一度も手を止めなかった。",
                false,
            ),
            ("顔が赤かった。", false),
            ("新しい靴を履いて来所した。", false),
            ("今日は大事な面談の日だった。", false),
            ("送迎車の座席に前向きに座った。", false),
        ],
        Mode::Record,
    );
}

#[test]
fn a_change_against_a_baseline_is_measured_and_output_is_no_measure_of_motivation() {
    expect(
        &[
            (
                "睡眠が改善してきており、平均入眠時刻は先月1:40、今月は23:30。",
                false,
            ),
            (
                "意欲が低下しており、1時間でタオルを9枚しかたたまなかった。",
                true,
            ),
            (
                "体重が先月より1.8kg増えており、食べ過ぎの傾向がある。",
                true,
            ),
            ("熱がやや高めで、14時の検温で37.6℃だった。", false),
            ("寒そうだったため、居室の暖房を25℃に設定した。", true),
            ("気分が良さそうだったが、昼食は全量摂取した。", true),
            ("入浴時、いつもと違う点は見られなかった。", true),
        ],
        Mode::Record,
    );
    expect(
        &[("外出から戻ったら、うがいを自分で行う。", false)],
        Mode::Plan,
    );
}

/// Round 7: an interpretive word inside a name is no claim, but a compound that names a state
/// still is.
#[test]
fn an_interpretive_word_inside_a_name_is_no_claim() {
    expect(
        &[
            ("就労定着支援の面談を行った。", false),
            ("気分安定薬を毎朝1錠服用している。", false),
            ("安定剤を1錠服用した。", false),
            ("穏やかな天気だった。", false),
            ("体調不良で欠席した。", true),
            ("意欲低下が見られる。", true),
            ("こだわり行動が見られた。", true),
            ("穏やかな人柄だ。", true),
        ],
        Mode::Record,
    );
    expect(
        &[("週1回、就労定着支援員が職場を訪問する。", false)],
        Mode::Plan,
    );
}

/// The period a note looks back over frames a count; it is none (この2週間、よく…), unless
/// every day of it, or none, is what is counted.
#[test]
fn the_period_looked_back_over_is_no_count() {
    expect(
        &[
            ("この2週間、独り言がよく聞かれた。", true),
            ("ここ1か月、夜中に起きることが多い。", true),
            (
                "生活リズムが整ってきており、この1週間は毎朝7時に起床している。",
                false,
            ),
            // A span that is what happened still counts.
            ("欠席が増えており、この1か月で5日間休んだ。", false),
        ],
        Mode::Record,
    );
}

/// How often is no measure of how much; what did not happen must be named.
#[test]
fn an_amount_needs_a_measure_and_a_negation_a_name() {
    expect(
        &[
            ("排尿：少量×2回。", true),
            ("昼食は全量摂取。昼食後は居眠りが多かった。", true),
            ("水分摂取が少ない傾向。本日の総水分量600ml。", false),
            ("嘔吐あり、少量を3回。", true),
            ("食事は少なめで、主食を半分残した。", false),
            ("服薬に関する問題は特に見られない。", true),
            ("週末は何事もなく過ごした。", true),
            ("週末は転倒もなく過ごした。", false),
            ("移乗時、表情が和らいでいた。", true),
            ("集中が切れ、作業中に2回作業台を離れた。", false),
            ("落ち着かない様子で、2回キッチンを離れた。", false),
            (
                "眠れていない様子で、22時と2時の巡視時に開眼していた。",
                false,
            ),
        ],
        Mode::Record,
    );
}

/// A plan line that goes over named records, or whose interpretive word is only its topic, is
/// checkable; an aim nobody can see is not.
#[test]
fn going_over_a_named_record_is_checkable() {
    expect(
        &[
            ("月1回、服薬の不安について本人と15分話し合う。", false),
            (
                "受診の前日に、1か月分の睡眠記録表を本人と一緒に見直す。",
                false,
            ),
            ("自分に合った働き方を見つける。", true),
            ("困りごとを一人で抱え込まない。", true),
        ],
        Mode::Plan,
    );
}

/// Quoted words show the state they say, and only that one.
#[test]
fn quoted_words_show_the_state_they_say() {
    expect(
        &[
            ("疲れた様子で、「もう休む」と言ってベンチに座った。", false),
            ("調子が良さそうで、「今日は気分がいい」と話した。", false),
            ("嬉しそうで、「休む」と言った。", true),
        ],
        Mode::Record,
    );
}

/// How often someone did something shows the will to do it; an amount of output does not.
#[test]
fn how_often_shows_the_will_to_act() {
    expect(
        &[
            (
                "意欲的に求職活動をしており、今週ハローワークに2回行った。",
                false,
            ),
            ("自炊に前向きで、この1週間で米を3回炊いた。", false),
            ("意欲的に作業に取り組み、タオルを42枚たたんだ。", true),
            // Attention is not will: how often says nothing of it.
            ("集中して取り組み、3回練習した。", true),
        ],
        Mode::Record,
    );
}

/// A grade of a state past its particle (不安が強く) stands or falls with the state; a change
/// named before its marker (回復傾向) is a claim of change.
#[test]
fn grades_and_named_changes_go_with_their_claim() {
    expect(
        &[
            ("就職への不安が強く、「怖い」と話した。", false),
            ("不安が強い。", true),
            // 概ね reaches forward: it grades 良好, not 体調.
            ("体重58.2kg（先月比+0.4kg）。体調は概ね良好。", true),
            ("回復傾向。外出が先月の3回から今月は9回に増えた。", false),
            ("回復傾向にある。", true),
        ],
        Mode::Record,
    );
}

/// Quotation marks around a name (a café, a programme) hold no one's words: they neither show
/// a state nor hide a claim.
#[test]
fn a_name_in_quotation_marks_is_no_ones_words() {
    expect(
        &[
            (
                "デイケアの「元気アップ体操」に参加し、楽しそうだった。",
                true,
            ),
            (
                "当事者会「前向きカフェ」に参加し、気持ちも前向きになった様子。",
                true,
            ),
            ("「楽しかった」と笑顔で話し、楽しそうだった。", false),
        ],
        Mode::Record,
    );
}

/// Signs added in round 8: eyes off the task, medicine thrown away, 数 in place of a number,
/// and a reported vague word (休みがちとの連絡).
#[test]
fn round_eight_signs() {
    expect(
        &[
            (
                "集中できておらず、30分間に画面から目を離してスマホを見る場面が5回あった。",
                false,
            ),
            ("服薬を拒否し、夕分の錠剤2錠を流しに捨てた。", false),
            ("玄関前にゴミ袋が数袋たまっていた。", true),
            ("玄関前にゴミ袋が3袋たまっていた。", false),
            ("会社から、月曜は休みがちとの連絡がありました。", true),
            // A floor named is no restlessness (床に座り込んだ is).
            ("床にゴミ袋が山積み。意欲低下あり。", true),
            ("落ち着かない様子で、床に座り込んだ。", false),
        ],
        Mode::Record,
    );
}

/// Watching a state or widening a life names nothing a third person could check.
#[test]
fn watching_a_state_is_no_plan() {
    expect(
        &[
            ("再発の兆候に注意し、状態を観察する。", true),
            ("本人のペースを大切にしながら、生活の幅を広げていく。", true),
            ("毎朝9時に血圧を測り、記録表に書く。", false),
        ],
        Mode::Plan,
    );
}

/// Round nine: a grade carried onto a state, a guess over its own content, difficulty as a
/// bad direction, counted words that show no will.
#[test]
fn round_nine_signs() {
    expect(
        &[
            // A grade of a mood needs evidence of the mood, not a count of a meal.
            ("機嫌良好。昼食全量。", true),
            ("機嫌良好で、職員と冗談を言って3回笑った。", false),
            // What a guess stands on in its own clause is what it guesses.
            ("作業の持続は30分程度と思われる。", true),
            ("腰の痛みを我慢している感じだった。", true),
            ("手が5回止まり、集中が切れていると思われる。", false),
            // Hard to keep a good state is a bad one: leaving the seat shows it.
            ("集中しにくく、20分の作業中に4回席を立った。", false),
            ("集中しにくく、20分間作業を続けた。", true),
            ("興味を示し、新しい絵本を手に取って眺め続けた。", false),
            ("疲れた様子で、「もう無理」と言ってベンチに座った。", false),
            ("嬉しそうに、跳び上がって手を振った。", false),
            (
                "説明を理解しており、説明なしで券売機の操作を3回完了した。",
                false,
            ),
            // Counted words that show no will are no count of it.
            ("「お腹すいた」と2回話し、意欲がない感じだった。", true),
            ("気持ちの切り替えが難しい場面があった。", true),
            // A second helping not taken is no "nothing changed".
            ("昼食はご飯のおかわりなし、全量摂取。", false),
            ("週末は毎朝7時に起きているらしい。", true),
            // The person's own words in the guess's clause still show it.
            ("S:「もう怖くない」 A: 不安は消えていると思われる", false),
        ],
        Mode::Record,
    );
    expect(
        &[
            ("本人の様子を見ながら作業量を決める。", true),
            ("月1回、家族と家での様子を15分間共有する。", false),
            ("苦手な食材は一口分だけ盛り付ける。", false),
        ],
        Mode::Plan,
    );
}

/// Round ten: words written in katakana, a phone picked up, the same question again, an order
/// to go away, attendance counted against a change, and how often without a number.
#[test]
fn round_ten_signs() {
    expect(
        &[
            // Katakana speech says what it would in hiragana.
            ("不安そうに「ビョウイン、コワイ」と話した。", false),
            ("意欲的で、「ハタラキタイ」と3回話した。", false),
            ("集中できず、15分間に4回スマートフォンを手に取った。", false),
            ("混乱した様子で、同じ質問を4回繰り返した。", false),
            ("拒否的で、職員が入ると「帰れ」と言い、背を向けた。", false),
            ("落ち着きがなく、椅子の上で体を左右に揺らしていた。", false),
            ("本人は掃除を手伝う気がない。", true),
            // Going somewhere counts the going, unless the going is what changed.
            ("日本語が上達してきて、教室に今月5回出席した。", true),
            ("通所に慣れてきており、今週は5日間一人で来所した。", false),
            // How often needs a number, whatever it joined; a meeting's length is none.
            ("大声：相変わらず時々ある。", true),
            ("30分の面談で、同じ質問をすることが多かった。", true),
            ("同じ歌を繰り返し聴いている。", true),
            ("「ありがとう、ありがとう」と繰り返し、手を握った。", false),
            ("ボタンの留め方がぎこちない。", true),
        ],
        Mode::Record,
    );
}
