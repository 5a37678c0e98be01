//! The demo's clients, their certificate and consents, and the hand-written observations the
//! tests and the README quote (days before today, snapped back onto business days for the day
//! service and the consultation office; the group home's may fall on any day). The generated
//! daily records around them come from [`super::records`].
//!
//! Who lives where: 山田 太郎 and 森 陽介 live at グループホームこもれび (so a visit to 山田 太郎
//! meets him and the group home's staff there, not his mother); 佐々木 健 lives with his father
//! and 小川 さくら with her mother.

use chrono::{Duration, NaiveDate};
use entity::{
    care_team_membership::CareRelationship,
    observation::{ObservationCategory as Cat, Visibility as Vis},
};
use uuid::Uuid;

use super::{
    act_as,
    calendar::{DemoDates, at, on_or_after},
    org_id,
    records::{self, Record},
};
use kakehashi::{
    auth::{Viewer, policy::DataCategory},
    error::ApiError,
    service::Ctx,
    service::{access::today, care_team, clients, consents},
};

fn contact(name: &str, relationship: &str, phone: &str) -> clients::FamilyContact {
    clients::FamilyContact {
        name: name.into(),
        relationship: relationship.into(),
        phone: Some(phone.into()),
        note: None,
    }
}

fn new_client(
    name: &str,
    kana: &str,
    born: (i32, u32, u32),
    category: Option<i32>,
    wishes: &str,
    family: Vec<clients::FamilyContact>,
    months_ago: i64,
) -> clients::NewClient {
    clients::NewClient {
        display_name: name.into(),
        name_kana: kana.into(),
        birth_date: NaiveDate::from_ymd_opt(born.0, born.1, born.2),
        support_category: category,
        wishes: Some(wishes.into()),
        family_contacts: family,
        external_id: None,
        service_type: None,
        start_date: Some(on_or_after(today() - Duration::days(30 * months_ago))),
    }
}

/// One demo observation: days ago, hour (JST), category, visibility, fact, interpretation,
/// the client's words, tags.
type Obs<'a> = (
    i64,
    u32,
    Cat,
    Vis,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a [&'a str],
);

/// Writes hand-written observations; `office` snaps each day back onto a business day.
async fn observe(
    state: &Ctx,
    dates: &DemoDates,
    office: bool,
    who: &Viewer,
    client: Uuid,
    items: &[Obs<'_>],
) -> Result<(), ApiError> {
    for (days_ago, hour, category, visibility, fact, interpretation, words, tags) in items {
        let day = if office {
            dates.office_day(*days_ago)
        } else {
            dates.today - Duration::days(*days_ago)
        };
        let minute = u32::try_from(fact.len() % 5).unwrap_or(0) * 10;
        records::write(
            state,
            who,
            client,
            Record {
                at: at(day, *hour, minute),
                category: *category,
                visibility: *visibility,
                fact: (*fact).into(),
                interpretation: *interpretation,
                words: *words,
                tags,
            },
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn seed_clients(state: &Ctx, dates: &DemoDates) -> Result<(), ApiError> {
    let db = &state.db;
    let himawari = org_id(db, "1310100011").await?;
    let komorebi = org_id(db, "1310100029").await?;
    let mirai = org_id(db, "1330100023").await?;
    let aozora_specialist = act_as(db, "specialist@aozora.example").await?;
    let mirai_specialist = act_as(db, "specialist@mirai.example").await?;
    let himawari_manager = act_as(db, "manager@himawari.example").await?;
    let himawari_staff = act_as(db, "staff@himawari.example").await?;
    let komorebi_manager = act_as(db, "manager@komorebi.example").await?;
    let komorebi_staff = act_as(db, "staff@komorebi.example").await?;
    let all = vec![
        DataCategory::Profile,
        DataCategory::Observations,
        DataCategory::Plans,
        DataCategory::Meetings,
    ];
    let add = |client: Uuid,
               organization_id: Uuid,
               relationship: CareRelationship,
               months_ago: i64| care_team::NewMembership {
        client_id: client,
        organization_id,
        relationship,
        service_type: None,
        start_date: Some(on_or_after(today() - Duration::days(30 * months_ago))),
    };
    let consent = |client: Uuid, by: &str, relationship: &str, categories: Vec<DataCategory>| {
        consents::NewConsent {
            client_id: client,
            granted_by: by.into(),
            signer_relationship: relationship.into(),
            granted_on: dates.office_day(150),
            recipient_organization_ids: None,
            covers_future_members: false,
            includes_earlier_records: true,
            data_categories: categories,
            expires_on: Some(today() + Duration::days(215)),
            document_reference: Some(format!(
                "同意書ファイル {}",
                dates.office_day(150).format("%Y-%m")
            )),
        }
    };

    // 山田 太郎: both facilities, あおぞら, full consent.
    let yamada = clients::register(
        state,
        &aozora_specialist,
        new_client(
            "山田 太郎",
            "やまだ たろう",
            (1994, 5, 12),
            Some(4),
            "自分の部屋で静かに過ごしたい。作業所の仕事は続けたい。",
            vec![contact("山田 幸子", "母", "090-1234-5678")],
            8,
        ),
    )
    .await?
    .id;
    care_team::add(
        state,
        &aozora_specialist,
        add(yamada, himawari, CareRelationship::ServiceProvider, 8),
    )
    .await?;
    care_team::add(
        state,
        &aozora_specialist,
        add(yamada, komorebi, CareRelationship::ServiceProvider, 6),
    )
    .await?;
    consents::record(
        state,
        &aozora_specialist,
        consent(yamada, "山田 太郎", "CLIENT", all.clone()),
    )
    .await?;
    super::certificates::yamada(
        state,
        &aozora_specialist,
        dates,
        yamada,
        [himawari, komorebi],
    )
    .await?;
    observe(
        state,
        dates,
        true,
        &himawari_staff,
        yamada,
        &[
            (
                20,
                10,
                Cat::Routine,
                Vis::CareTeam,
                "9:30に来所し、袋詰め作業を15時まで行った。休憩は2回。",
                None,
                None,
                &["作業"],
            ),
            (
                14,
                11,
                Cat::Unstable,
                Vis::CareTeam,
                "10:20 作業内容の変更を伝えた直後に大声を出し、床に座り込んだ(約5分)。",
                Some("予定の急な変更が負担になっていると思われる。"),
                Some("「きいてない!」"),
                &["怒りの表出", "予定変更"],
            ),
            (
                9,
                10,
                Cat::Change,
                Vis::CareTeam,
                "作業変更を前日に予告したところ、当日は大声を出さずに作業へ移った。",
                Some("前もって伝えると見通しが持てる。"),
                Some("「あしたは箱づくりだね」"),
                &["予定変更"],
            ),
            (
                5,
                15,
                Cat::Stable,
                Vis::CareTeam,
                "この1週間、怒りの表出はなかった。5日間すべて定時に来所した。",
                None,
                None,
                &["怒りの表出"],
            ),
            (
                2,
                14,
                Cat::RiskSign,
                Vis::CareTeam,
                "昼食を半分残した日が3日続いた。",
                Some("体調の変化の兆しかもしれない。"),
                Some("「おなかすいてない」"),
                &["食事"],
            ),
            (
                1,
                16,
                Cat::Routine,
                Vis::Internal,
                "送迎車の座席を本人の希望で前列に変更した。",
                None,
                None,
                &["送迎"],
            ),
        ],
    )
    .await?;
    observe(
        state,
        dates,
        false,
        &komorebi_staff,
        yamada,
        &[
            (
                12,
                21,
                Cat::Unstable,
                Vis::CareTeam,
                "21時過ぎに自室で大きな物音。声をかけると「うるさい」と答え、30分後に入眠。",
                None,
                Some("「うるさい」"),
                &["睡眠"],
            ),
            (
                3,
                7,
                Cat::RiskSign,
                Vis::Consultation,
                "2日続けて起床が8時を過ぎ、朝食をとらずに出発した。",
                Some("生活リズムが乱れ始めている可能性。"),
                None,
                &["睡眠", "食事"],
            ),
        ],
    )
    .await?;
    // The only outburst between the plan's start and the last monitoring visit, which cites it.
    records::write(
        state,
        &himawari_staff,
        yamada,
        Record {
            at: at(dates.cited_outburst, 10, 20),
            category: Cat::Unstable,
            visibility: Vis::CareTeam,
            fact: "10:20 午後の作業を袋詰めから箱折りに変えると伝えた直後に大声を出し、作業台を1回叩いた(約3分)。".into(),
            interpretation: None,
            words: Some("「きょうはふくろづめ!」"),
            tags: &["怒りの表出", "予定変更"],
        },
    )
    .await?;
    super::plans::seed_plans_and_meetings(
        state,
        dates,
        yamada,
        (himawari, komorebi),
        &aozora_specialist,
        &himawari_manager,
        &komorebi_manager,
    )
    .await?;
    super::plans::seed_collaboration(
        state,
        dates,
        yamada,
        &aozora_specialist,
        &himawari_manager,
        &komorebi_staff,
    )
    .await?;
    observe(
        state, dates, true,
        &aozora_specialist,
        yamada,
        &[(
            10,
            14,
            Cat::Change,
            Vis::CareTeam,
            "グループホームこもれびを訪問し、居室で本人と30分話した。世話人から、土日に作業所の話を職員に2回していたと聞いた。",
            None,
            Some("「はこづくり、じょうずになった」"),
            &["訪問"],
        )],
    )
    .await?;

    // 佐々木 健: ひまわり with みらい; consent for observations only.
    let sasaki = clients::register(
        state,
        &himawari_manager,
        new_client(
            "佐々木 健",
            "ささき けん",
            (1988, 11, 3),
            Some(3),
            "お金をためて一人暮らしをしたい。",
            vec![contact("佐々木 正", "父", "080-2222-3333")],
            14,
        ),
    )
    .await?
    .id;
    care_team::add(
        state,
        &himawari_manager,
        add(sasaki, mirai, CareRelationship::Consultation, 14),
    )
    .await?;
    consents::record(
        state,
        &mirai_specialist,
        consent(
            sasaki,
            "佐々木 健",
            "CLIENT",
            vec![DataCategory::Observations],
        ),
    )
    .await?;
    observe(
        state,
        dates,
        true,
        &himawari_staff,
        sasaki,
        &[
            (
                15,
                10,
                Cat::Routine,
                Vis::CareTeam,
                "部品の検品作業を120個行い、不良の見落としは0個だった。",
                None,
                None,
                &["作業"],
            ),
            (
                8,
                13,
                Cat::Change,
                Vis::CareTeam,
                "給料日に「貯金箱を買った」と話し、使った金額をメモに書いていた。",
                Some("一人暮らしに向けた金銭管理の意欲が出てきている。"),
                Some("「来月は5000円ためる」"),
                &["金銭管理"],
            ),
            (
                4,
                11,
                Cat::RiskSign,
                Vis::Consultation,
                "同じ利用者から昼食代として1000円を求められ、渡したと本人が話した。",
                None,
                Some("「ことわれなかった」"),
                &["金銭管理", "対人関係"],
            ),
        ],
    )
    .await?;

    // 小川 さくら: self-made plan (no consultation office), ひまわり only.
    let ogawa = clients::register(
        state,
        &himawari_manager,
        new_client(
            "小川 さくら",
            "おがわ さくら",
            (2001, 2, 20),
            Some(2),
            "パンを作る仕事をしてみたい。",
            vec![contact("小川 恵", "母", "070-4444-5555")],
            5,
        ),
    )
    .await?
    .id;
    observe(
        state,
        dates,
        true,
        &himawari_staff,
        ogawa,
        &[
            (
                6,
                10,
                Cat::Stable,
                Vis::Internal,
                "3週間続けて週4日来所した。欠席の連絡は本人が電話でした。",
                None,
                None,
                &["出席"],
            ),
            (
                2,
                15,
                Cat::Change,
                Vis::Internal,
                "パン工房の見学で、生地を丸める作業を20分間続けた。",
                Some("パン作りへの関心が具体的になった。"),
                Some("「またやりたい」"),
                &["職業体験"],
            ),
        ],
    )
    .await?;

    // 森 陽介: こもれび with あおぞら; no consent on file yet.
    let mori = clients::register(
        state,
        &komorebi_manager,
        new_client(
            "森 陽介",
            "もり ようすけ",
            (1979, 8, 30),
            Some(5),
            "夜はゆっくりテレビを見たい。",
            vec![contact("森 和子", "姉", "090-6666-7777")],
            3,
        ),
    )
    .await?
    .id;
    care_team::add(
        state,
        &komorebi_manager,
        add(
            mori,
            org_id(db, "1330100015").await?,
            CareRelationship::Consultation,
            3,
        ),
    )
    .await?;
    observe(
        state,
        dates,
        false,
        &komorebi_staff,
        mori,
        &[
            (
                7,
                20,
                Cat::Routine,
                Vis::CareTeam,
                "夕食を完食し、20時から1時間テレビを見て過ごした。",
                None,
                None,
                &["食事"],
            ),
            (
                1,
                8,
                Cat::Safeguarding,
                Vis::Consultation,
                "右腕に直径3cmのあざを確認。本人は「ぶつけた」と話す。",
                Some("原因不明のため、経過を記録し相談支援専門員と共有する。"),
                Some("「ぶつけた」"),
                &["あざ", "虐待の疑い確認"],
            ),
        ],
    )
    .await?;
    records::seed_daily(
        state,
        dates,
        &himawari_staff,
        &komorebi_staff,
        records::DemoClients {
            yamada,
            sasaki,
            ogawa,
            mori,
        },
    )
    .await?;
    super::caseload::seed_caseload(
        state,
        dates,
        super::caseload::Clients {
            sasaki,
            ogawa,
            mori,
        },
        (himawari, komorebi),
        super::caseload::Writers {
            mirai_specialist: &mirai_specialist,
            himawari_manager: &himawari_manager,
            komorebi_manager: &komorebi_manager,
        },
    )
    .await
}
