//! The demo world: two facilities, two consultation offices and their accounts (password
//! `kakehashi-demo`), four clients with care teams and consents, and a few weeks of
//! observations. Idempotent: nothing is added when the demo organizations exist.
//!
//! Clients: 山田 太郎 uses both facilities with あおぞら as consultation office and full consent;
//! 佐々木 健 uses ひまわり with みらい, consent for observations only; 小川 さくら has a self-made
//! plan (セルフプラン, no consultation office); 森 陽介 lives at こもれび with あおぞら and has no
//! consent on file yet.
//!
//! Collaboration (山田 太郎): あおぞら has acknowledged part of what ひまわり shared (so freshness
//! and reciprocity have numbers, and the risk signs are still waiting), ひまわり allow-lists its
//! 落ち着きルーム in the fact check, あおぞら has a glossary entry of its own, and こもれび wrote
//! one vague note the fact check flags.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use entity::{
    care_team_membership::CareRelationship,
    observation::{ObservationCategory as Cat, Visibility as Vis},
    organization::OrganizationKind,
    staff_member::StaffRole,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    auth::{Viewer, password::PasswordHasher, policy::DataCategory},
    error::ApiError,
    graphql::{ids, scalars::Date},
    service::{
        access::today,
        care_team, clients, consents,
        documents::{
            Achievement, Attendee, BriefContent, BriefPoint, DeliveryRecipient, ExpressedBy,
            Minutes, MonitoringContent, MonitoringGoalRow, NeedRow, PlanAxis, PlanContent,
            PlanGoal,
        },
        meetings, monitoring, observations, organizations,
        plans::{self, PlanChange},
        staff,
    },
    state::AppState,
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "kakehashi-demo";

struct DemoOrg {
    office_number: &'static str,
    kind: OrganizationKind,
    name: &'static str,
    service_types: &'static [&'static str],
    accounts: &'static [(&'static str, &'static str, StaffRole)],
}

const DEMO: &[DemoOrg] = &[
    DemoOrg {
        office_number: "1310100011",
        kind: OrganizationKind::Facility,
        name: "ひまわり作業所",
        service_types: &["就労継続支援B型"],
        accounts: &[
            (
                "staff@himawari.example",
                "佐藤 花子",
                StaffRole::FacilityStaff,
            ),
            (
                "manager@himawari.example",
                "鈴木 一郎",
                StaffRole::ServiceManager,
            ),
            ("admin@himawari.example", "高橋 誠", StaffRole::OrgAdmin),
        ],
    },
    DemoOrg {
        office_number: "1310100029",
        kind: OrganizationKind::Facility,
        name: "グループホームこもれび",
        service_types: &["共同生活援助"],
        accounts: &[
            (
                "staff@komorebi.example",
                "田中 美咲",
                StaffRole::FacilityStaff,
            ),
            (
                "manager@komorebi.example",
                "伊藤 健太",
                StaffRole::ServiceManager,
            ),
        ],
    },
    DemoOrg {
        office_number: "1330100015",
        kind: OrganizationKind::ConsultationOffice,
        name: "あおぞら相談支援センター",
        service_types: &[],
        accounts: &[
            (
                "specialist@aozora.example",
                "渡辺 直子",
                StaffRole::ConsultationSpecialist,
            ),
            ("admin@aozora.example", "山本 修", StaffRole::OrgAdmin),
        ],
    },
    DemoOrg {
        office_number: "1330100023",
        kind: OrganizationKind::ConsultationOffice,
        name: "みらい相談室",
        service_types: &[],
        accounts: &[(
            "specialist@mirai.example",
            "中村 由美",
            StaffRole::ConsultationSpecialist,
        )],
    },
];

/// Loads the demo world unless it is already there.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    if seed_organizations(&state.db, &state.passwords).await? {
        seed_clients(state).await.map_err(into_anyhow)?;
        tracing::info!("demo data loaded: sign in as staff@himawari.example / {DEMO_PASSWORD}");
    }
    Ok(())
}

/// Organizations and accounts; `false` when they already exist.
async fn seed_organizations(
    db: &DatabaseConnection,
    passwords: &PasswordHasher,
) -> anyhow::Result<bool> {
    let exists = entity::organization::Entity::find()
        .filter(entity::organization::Column::OfficeNumber.eq(DEMO[0].office_number))
        .one(db)
        .await?
        .is_some();
    if exists {
        tracing::info!("demo data already present");
        return Ok(false);
    }
    let txn = crate::db::begin_write(db).await?;
    for d in DEMO {
        let org = organizations::create(
            &txn,
            organizations::NewOrganization {
                kind: d.kind,
                name: d.name.into(),
                service_types: d.service_types.iter().map(|s| (*s).to_owned()).collect(),
                municipality: "東京都千代田区".into(),
                office_number: Some(d.office_number.into()),
            },
        )
        .await
        .map_err(into_anyhow)?;
        for (email, name, role) in d.accounts {
            staff::insert(
                &txn,
                passwords,
                org.id,
                staff::NewStaffMember {
                    email: (*email).into(),
                    display_name: (*name).into(),
                    role: *role,
                    initial_password: DEMO_PASSWORD.into(),
                    external_id: None,
                },
            )
            .await
            .map_err(into_anyhow)?;
        }
    }
    txn.commit().await?;
    Ok(true)
}

fn into_anyhow(e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Internal(e) => anyhow::anyhow!("{e:#}"),
        other => anyhow::anyhow!("{}: {}", other.code().as_str(), other.public_message()),
    }
}

/// The demo account `email` acting as a viewer.
pub(crate) async fn act_as(db: &DatabaseConnection, email: &str) -> Result<Viewer, ApiError> {
    let member = entity::staff_member::Entity::find()
        .filter(entity::staff_member::Column::Email.eq(email))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("Staff member"))?;
    let org = organizations::get_unchecked(db, member.organization_id).await?;
    Ok(Viewer {
        staff_member_id: member.id,
        organization_id: org.id,
        organization_kind: org.kind,
        role: member.role,
        session_id: Uuid::nil(),
    })
}

async fn org_id(db: &DatabaseConnection, office_number: &str) -> Result<Uuid, ApiError> {
    entity::organization::Entity::find()
        .filter(entity::organization::Column::OfficeNumber.eq(office_number))
        .one(db)
        .await?
        .map(|o| o.id)
        .ok_or(ApiError::NotFound("Organization"))
}

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
        start_date: Some(today() - Duration::days(30 * months_ago)),
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

async fn observe(
    state: &AppState,
    who: &Viewer,
    client: Uuid,
    items: &[Obs<'_>],
) -> Result<(), ApiError> {
    let today = today();
    for (days_ago, hour, category, visibility, fact, interpretation, words, tags) in items {
        let day = today - Duration::days(*days_ago);
        let local = day.and_hms_opt(*hour, 0, 0).unwrap_or_default();
        let occurred = Utc.from_utc_datetime(&(local - Duration::hours(9)));
        observations::record(
            state,
            who,
            client,
            observations::ObservationContent {
                fact: (*fact).into(),
                interpretation: interpretation.map(str::to_owned),
                client_words: words.map(str::to_owned),
                category: *category,
                occurred_from: occurred,
                occurred_to: None,
                visibility: *visibility,
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                cited_observation_ids: Vec::new(),
            },
        )
        .await?;
    }
    Ok(())
}

async fn seed_clients(state: &AppState) -> Result<(), ApiError> {
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
        start_date: Some(today() - Duration::days(30 * months_ago)),
    };
    let consent = |client: Uuid, by: &str, relationship: &str, categories: Vec<DataCategory>| {
        consents::NewConsent {
            client_id: client,
            granted_by: by.into(),
            signer_relationship: relationship.into(),
            granted_on: today() - Duration::days(150),
            recipient_organization_ids: None,
            covers_future_members: false,
            includes_earlier_records: true,
            data_categories: categories,
            expires_on: Some(today() + Duration::days(215)),
            document_reference: Some("同意書ファイル 2026-03".into()),
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
    let start = NaiveDate::from_ymd_opt(today().year(), 1, 1).unwrap_or_else(today);
    clients::add_certificate(
        state,
        &aozora_specialist,
        clients::NewCertificate {
            client_id: yamada,
            number: "1300012345".into(),
            municipality: "東京都千代田区".into(),
            valid_from: start,
            valid_until: start + Duration::days(364),
            monitoring_period_months: Some(3),
            monitoring_start_month: Some(start),
            monitoring: None,
            services_start_on: None,
            monitoring_situations: Vec::new(),
            copay_cap_yen: Some(9300),
            granted_services: vec![
                clients::GrantedService {
                    service_type: "就労継続支援B型".into(),
                    amount: 22,
                    unit: "DAYS_PER_MONTH".into(),
                    grant_from: start,
                    grant_until: start + Duration::days(364),
                },
                clients::GrantedService {
                    service_type: "共同生活援助".into(),
                    amount: 31,
                    unit: "DAYS_PER_MONTH".into(),
                    grant_from: start,
                    grant_until: start + Duration::days(364),
                },
            ],
            contracted_amounts: vec![
                clients::ContractedAmount {
                    organization_id: himawari,
                    service_type: "就労継続支援B型".into(),
                    amount: 22,
                },
                clients::ContractedAmount {
                    organization_id: komorebi,
                    service_type: "共同生活援助".into(),
                    amount: 31,
                },
            ],
        },
    )
    .await?;
    observe(
        state,
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
    seed_plans_and_meetings(
        state,
        yamada,
        himawari,
        komorebi,
        &aozora_specialist,
        &himawari_manager,
        &komorebi_manager,
    )
    .await?;
    seed_collaboration(
        state,
        yamada,
        &aozora_specialist,
        &himawari_manager,
        &komorebi_staff,
    )
    .await?;
    observe(
        state,
        &aozora_specialist,
        yamada,
        &[(
            10,
            14,
            Cat::Change,
            Vis::CareTeam,
            "自宅訪問。母親から、週末に作業所の話を楽しそうにしていると聞いた。",
            None,
            Some("「はこづくり、じょうずになった」"),
            &["家族"],
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
    Ok(())
}

use chrono::Datelike;

fn goal(text: &str, by: ExpressedBy, achievement: Achievement) -> PlanGoal {
    PlanGoal {
        text: text.into(),
        expressed_by: by,
        achievement,
        target_date: Some(Date(today() + Duration::days(180))),
        ..Default::default()
    }
}

fn need(
    priority: i32,
    need: &str,
    goal: &str,
    service: &str,
    amount: &str,
    provider: Uuid,
    role: &str,
) -> NeedRow {
    NeedRow {
        priority,
        need: need.into(),
        support_goal: goal.into(),
        target_date: Some(Date(today() + Duration::days(180))),
        service_type: Some(service.into()),
        service_content: None,
        amount: Some(amount.into()),
        provider_organization_id: Some(ids::encode("Organization", provider)),
        client_role: Some(role.into()),
        evaluation_date: Some(Date(today() + Duration::days(90))),
        notes: None,
    }
}

/// Writes a plan, proposes it, records consent and activates it.
async fn active_plan(
    state: &AppState,
    who: &Viewer,
    new: plans::NewPlan,
    deliver_to_office: bool,
) -> Result<Uuid, ApiError> {
    let p = plans::create(state, who, new).await?;
    let p = plans::change(state, who, p.id, p.version, PlanChange::Propose).await?;
    let signed = today() - Duration::days(60);
    let p = plans::change(
        state,
        who,
        p.id,
        p.version,
        PlanChange::RecordConsent {
            explained_on: signed,
            explained_by: "担当者".into(),
            signed_by: "山田 太郎".into(),
            signed_on: signed,
            method: "署名".into(),
        },
    )
    .await?;
    let p = plans::change(
        state,
        who,
        p.id,
        p.version,
        PlanChange::Activate {
            activated_on: Some(signed),
        },
    )
    .await?;
    let mut p = plans::change(
        state,
        who,
        p.id,
        p.version,
        PlanChange::RecordDelivery {
            recipient: DeliveryRecipient::Client,
            delivered_on: signed,
        },
    )
    .await?;
    if deliver_to_office {
        p = plans::change(
            state,
            who,
            p.id,
            p.version,
            PlanChange::RecordDelivery {
                recipient: DeliveryRecipient::ConsultationOffice,
                delivered_on: signed,
            },
        )
        .await?;
    }
    Ok(p.id)
}

/// 山田 太郎's plans, a past meeting with minutes, an upcoming one with one brief in, and a
/// monitoring report.
async fn seed_plans_and_meetings(
    state: &AppState,
    yamada: Uuid,
    himawari: Uuid,
    komorebi: Uuid,
    specialist: &Viewer,
    himawari_manager: &Viewer,
    komorebi_manager: &Viewer,
) -> Result<(), ApiError> {
    let from = today() - Duration::days(60);
    let sup = PlanContent {
        client_wishes: Some("「自分の部屋で静かに過ごしたい。はこづくりの仕事を続けたい」".into()),
        family_wishes: Some("母: 一人で抱え込まずに、困ったときに言えるようになってほしい。".into()),
        overall_policy: Some("予定の見通しを持てる工夫を作業所とグループホームで揃え、本人が落ち着いて働き続けられる生活をつくる。".into()),
        long_term_goal: Some("週5日の作業を続けながら、グループホームで自分のペースで暮らす。".into()),
        short_term_goal: Some("予定の変更を前日に知らせてもらい、当日の大声を月2回以下にする。".into()),
        axis: PlanAxis {
            client_wishes: Some("はこづくりを続けたい。夜は静かに過ごしたい。".into()),
            family_worries: Some("急な予定変更で混乱し、仕事を辞めたくなるのではないか。".into()),
            facility_expertise: Some("作業手順の視覚化と前日予告(ひまわり)、夜間の声かけ(こもれび)。".into()),
            community_resources: Some("地域の余暇サークル(月1回の卓球)への参加を検討。".into()),
        },
        goals: vec![
            goal("予定変更の前日予告で、当日の大声を月2回以下にする", ExpressedBy::Facility, Achievement::Improving),
            goal("週5日、定時に作業所へ通う", ExpressedBy::Client, Achievement::Improving),
        ],
        needs: vec![
            need(1, "予定が急に変わると混乱してしまう", "変更を前もって知り、落ち着いて作業に移れる", "就労継続支援B型", "週5日 9:30–15:00", himawari, "変更の予告カードを確認する"),
            need(2, "夜に物音で眠れないことがある", "夜間に安心して眠れる", "共同生活援助", "毎日", komorebi, "眠れないときは世話人に伝える"),
        ],
        monitoring_period_months: Some(3),
        standard_service_hours: None,
        weekly_schedule: Some("月〜金 作業所 / 土日 グループホームで余暇".into()),
        ..Default::default()
    };
    let sup_id = active_plan(
        state,
        specialist,
        plans::NewPlan {
            client_id: yamada,
            kind: entity::support_plan::PlanKind::ServiceUsePlan,
            based_on_plan_id: None,
            period_from: from,
            period_to: Some(from + Duration::days(364)),
            content: sup,
            external_id: None,
        },
        false,
    )
    .await?;
    for (who, text) in [
        (
            himawari_manager,
            "作業変更は前日の終礼で予告カードを渡して伝える",
        ),
        (
            komorebi_manager,
            "21時以降は見回りの声かけを小さくし、眠れないときの合図を決める",
        ),
    ] {
        active_plan(
            state,
            who,
            plans::NewPlan {
                client_id: yamada,
                kind: entity::support_plan::PlanKind::IndividualSupportPlan,
                based_on_plan_id: Some(sup_id),
                period_from: from,
                period_to: Some(from + Duration::days(182)),
                content: PlanContent {
                    client_wishes: Some("「はこづくりをつづけたい」".into()),
                    overall_policy: Some(text.into()),
                    goals: vec![goal(text, ExpressedBy::Facility, Achievement::Improving)],
                    standard_service_hours: Some("1日5時間".into()),
                    ..Default::default()
                },
                external_id: None,
            },
            true,
        )
        .await?;
    }

    // A past coordination meeting with minutes.
    let past = meetings::schedule(
        state,
        specialist,
        meetings::NewMeeting {
            client_id: yamada,
            kind: entity::meeting::MeetingKind::ServiceCoordination,
            scheduled_at: Utc::now() - Duration::days(58),
            place: Some("ひまわり作業所 相談室".into()),
            online: false,
            invited_organization_ids: vec![himawari, komorebi],
            agenda: Some("サービス等利用計画(案)の確認".into()),
            external_id: None,
        },
    )
    .await?;
    meetings::record_minutes(state, specialist, past.id, past.version, meetings::MinutesInput {
        attendance: vec![
            Attendee { affiliation: "本人".into(), role: None, name: "山田 太郎".into(), attended: true, written_opinion: None },
            Attendee { affiliation: "家族".into(), role: Some("母".into()), name: "山田 幸子".into(), attended: true, written_opinion: None },
            Attendee { affiliation: "ひまわり作業所".into(), role: Some("サービス管理責任者".into()), name: "鈴木 一郎".into(), attended: true, written_opinion: None },
            Attendee { affiliation: "グループホームこもれび".into(), role: Some("サービス管理責任者".into()), name: "伊藤 健太".into(), attended: false, written_opinion: Some("夜間の様子は別紙のとおり。大きな変化なし。".into()) },
        ],
        minutes: Minutes {
            discussion: "作業内容の急な変更で大声が出ることについて、前日予告を両事業所で揃える案を検討した。".into(),
            conclusions: Some("前日予告を試し、1か月後に振り返る。".into()),
            decisions: vec![crate::service::documents::Decision { text: "予告カードを作る".into(), owner_organization_id: ids::encode("Organization", himawari), due_on: Some(Date(today() - Duration::days(40))) }],
            remaining_issues: Some("夜間の睡眠の記録方法".into()),
            next_date: Some(Date(today() + Duration::days(10))),
            ..Default::default()
        },
        direction: "予定の見通しを持てる支援を両事業所で揃える".into(),
        direction_change_reason: None,
    }).await?;

    // The next meeting, with ひまわり's brief in and こもれび's still missing.
    let next = meetings::schedule(
        state,
        specialist,
        meetings::NewMeeting {
            client_id: yamada,
            kind: entity::meeting::MeetingKind::Monitoring,
            scheduled_at: Utc::now() + Duration::days(10),
            place: None,
            online: true,
            invited_organization_ids: vec![himawari, komorebi],
            agenda: Some("3か月モニタリングと次の1か月の方向".into()),
            external_id: None,
        },
    )
    .await?;
    meetings::submit_brief(
        state,
        himawari_manager,
        next.id,
        BriefContent {
            recent_changes: vec![BriefPoint {
                text: "前日予告を始めてから、作業変更の日も大声が出ていない(この1週間0回)。".into(),
                observation_ids: vec![],
                impression: false,
            }],
            stable_points: vec![BriefPoint {
                text: "5日間すべて定時に来所している。".into(),
                observation_ids: vec![],
                impression: false,
            }],
            unstable_points: vec![BriefPoint {
                text: "昼食を半分残す日が3日続いた。".into(),
                observation_ids: vec![],
                impression: false,
            }],
            focus_next_month: vec![BriefPoint {
                text: "昼食の摂取量を毎日記録し、3日続けて半分以上残したら家族に電話で伝える。"
                    .into(),
                observation_ids: vec![],
                impression: false,
            }],
        },
    )
    .await?;

    monitoring::record(
        state,
        specialist,
        monitoring::NewReport {
            client_id: yamada,
            monitored_on: today() - Duration::days(30),
            method: "VISIT".into(),
            outcome: "CONTINUE".into(),
            content: MonitoringContent {
                overall_situation:
                    "作業所には週5日通えている。予定変更時の混乱は前日予告で減ってきた。".into(),
                goal_rows: vec![MonitoringGoalRow {
                    goal: "予定変更の前日予告で、当日の大声を月2回以下にする".into(),
                    service_status_from_facility: Some(
                        "ひまわり: 予告開始後の大声は1回(11/14)。".into(),
                    ),
                    client_impression: Some("「まえにいってくれるとわかる」".into()),
                    achievement: Achievement::Improving,
                    remaining_issues: Some("グループホームでも同じ予告の仕方を使う。".into()),
                    ..Default::default()
                }],
                change_service_type: false,
                change_amount: false,
                change_weekly_schedule: false,
                ..Default::default()
            },
        },
    )
    .await?;
    Ok(())
}

/// Acknowledgements, an organization's own fact-check term and glossary entry, and a vague
/// note for the fact check to flag.
async fn seed_collaboration(
    state: &AppState,
    yamada: Uuid,
    aozora_specialist: &Viewer,
    himawari_manager: &Viewer,
    komorebi_staff: &Viewer,
) -> Result<(), ApiError> {
    use crate::{
        language::{lexicon::OwnTermKind, translation::Audience},
        service::{
            acknowledgements::{self, Subject},
            fact_checks, glossaries,
        },
    };
    use entity::observation::{self, Column};
    use sea_orm::QueryOrder;

    let shared = observation::Entity::find()
        .filter(Column::ClientId.eq(yamada))
        .filter(Column::OrganizationId.eq(himawari_manager.organization_id))
        .filter(Column::Category.is_in([Cat::Change, Cat::Unstable]))
        .order_by_asc(Column::Id)
        .all(&state.db)
        .await?;
    let mut subjects: Vec<(Subject, Uuid)> = shared
        .iter()
        .map(|o| (Subject::Observation, o.id))
        .collect();
    subjects.extend(
        entity::meeting_brief::Entity::find()
            .filter(entity::meeting_brief::Column::ClientId.eq(yamada))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|b| (Subject::MeetingBrief, b.id)),
    );
    acknowledgements::acknowledge(state, aozora_specialist, &subjects).await?;
    fact_checks::add_term(
        state,
        himawari_manager,
        "落ち着きルーム",
        OwnTermKind::Allowed,
    )
    .await?;
    glossaries::set_entry(
        state,
        aozora_specialist,
        "見通し支援",
        Some("みとおししえん"),
        &[(
            Audience::Family,
            "予定を前もってお知らせして、安心して過ごせるようにする工夫".to_owned(),
        )],
    )
    .await?;
    observe(
        state,
        komorebi_staff,
        yamada,
        &[(
            1,
            20,
            Cat::Routine,
            Vis::CareTeam,
            "最近は落ち着いて過ごしている様子。",
            None,
            None,
            &[],
        )],
    )
    .await
}
