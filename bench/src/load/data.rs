//! The generated world of the load scenarios: 1,000 clients written through the service layer,
//! each with its care team, consent, plan, meeting and observations of varied Japanese text.

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use entity::{
    care_team_membership::CareRelationship,
    meeting::MeetingKind,
    observation::{ObservationCategory, Visibility},
    support_plan::PlanKind,
};
use kakehashi::{
    auth::{Viewer, policy::DataCategory},
    service::{
        care_team, clients, consents, meetings,
        observations::{self, ObservationContent},
        plans,
    },
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{CLIENTS, NAME_PREFIX, OBSERVATIONS_PER_CLIENT};
use crate::fanout::SECRET;

/// Writes the clients and their records that are not there yet.
///
/// On PostgreSQL the generator's own connections commit with `synchronous_commit = off` (a
/// crash could lose the last moments of generated data, never make it inconsistent) and it
/// runs 8 writers: each commit no longer waits for the disk, which made generation take over
/// 20 minutes. The measured server that follows connects with the database's defaults.
pub(super) async fn generate(database_url: &str) -> anyhow::Result<()> {
    let postgres = database_url.starts_with("postgres");
    let generator_url = if postgres {
        let sep = if database_url.contains('?') { '&' } else { '?' };
        format!("{database_url}{sep}options=-c%20synchronous_commit%3Doff")
    } else {
        database_url.to_owned()
    };
    // SQLite has one writer at a time: more than 4 only wait for its lock.
    let writers = if postgres { 8 } else { 4 };
    let config = kakehashi::Config {
        database_url: generator_url,
        bind_addr: "127.0.0.1:0".parse()?,
        jwt_secret: Some(SECRET.to_vec()),
        db_max_connections: 16,
        ..kakehashi::Config::default()
    };
    let state = kakehashi::build_state(config).await?;
    kakehashi_tools::seed::seed_demo(&state).await?;
    let existing = entity::client::Entity::find()
        .filter(entity::client::Column::DisplayName.starts_with(NAME_PREFIX))
        .count(&state.db)
        .await? as usize;
    if existing >= CLIENTS {
        println!("data: {existing} generated clients already present");
        return Ok(());
    }
    // Half the clients with あおぞら and ひまわり, half with みらい and こもれび.
    let teams = [
        (
            viewer(&state, "specialist@aozora.example").await?,
            viewer(&state, "staff@himawari.example").await?,
        ),
        (
            viewer(&state, "specialist@mirai.example").await?,
            viewer(&state, "staff@komorebi.example").await?,
        ),
    ];
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|worker| {
            let (state, teams) = (state.clone(), teams.clone());
            tokio::spawn(async move {
                for i in (existing..CLIENTS).filter(|i| i % writers == worker) {
                    let (office, facility) = &teams[i % 2];
                    one_client(&state, office, facility, i, OBSERVATIONS_PER_CLIENT).await?;
                    if i.is_multiple_of(100) {
                        println!(
                            "data: client {i} of {CLIENTS} ({:.0} s)",
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let written = (CLIENTS - existing) * (OBSERVATIONS_PER_CLIENT + 5);
    println!(
        "data: {} clients, {} observations written through the service layer in {secs:.0} s ({:.0} writes/s, {writers} writers)",
        CLIENTS - existing,
        (CLIENTS - existing) * OBSERVATIONS_PER_CLIENT,
        written as f64 / secs
    );
    Ok(())
}

const FAMILY: [&str; 10] = [
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
];
const GIVEN: [&str; 10] = [
    "健",
    "陽子",
    "大輔",
    "美咲",
    "翔",
    "由美",
    "拓也",
    "恵",
    "直樹",
    "さくら",
];
const WORK: [&str; 8] = [
    "袋詰め作業",
    "箱折り",
    "部品の組み立て",
    "清掃作業",
    "パンの袋詰め",
    "シール貼り",
    "検品",
    "農園の草取り",
];
const WORDS: [&str; 6] = [
    "きょうはつかれた",
    "あしたもくる",
    "うるさいのはいや",
    "もっとやりたい",
    "おなかすいた",
    "ひとりになりたい",
];

/// A demo account as the service layer's viewer.
pub(crate) async fn viewer(
    state: &kakehashi::AppState,
    email: &'static str,
) -> anyhow::Result<Viewer> {
    let member = entity::staff_member::Entity::find()
        .filter(entity::staff_member::Column::Email.eq(email))
        .one(&state.db)
        .await?
        .context("demo account")?;
    let org = entity::organization::Entity::find_by_id(member.organization_id)
        .one(&state.db)
        .await?
        .context("organization")?;
    Ok(Viewer {
        staff_member_id: member.id,
        organization_id: org.id,
        organization_kind: org.kind,
        role: member.role,
        session_id: uuid::Uuid::nil(),
    })
}

/// One generated client (the `i`th) with its team, consent, plan, meeting and `observations`
/// observations, one a day up to now.
pub(crate) async fn one_client(
    state: &kakehashi::AppState,
    office: &Viewer,
    facility: &Viewer,
    i: usize,
    observations: usize,
) -> anyhow::Result<()> {
    let fail = |what: &'static str| {
        move |e: kakehashi::error::ApiError| anyhow::anyhow!("{what}: {}", e.code().as_str())
    };
    let today = Utc::now().date_naive();
    let name = format!(
        "{NAME_PREFIX}{} {}{i}",
        FAMILY[i % 10],
        GIVEN[(i / 10) % 10]
    );
    let client = clients::register(
        state,
        office,
        clients::NewClient {
            display_name: name.clone(),
            name_kana: "ふか".into(),
            birth_date: NaiveDate::from_ymd_opt(
                1970 + (i % 35) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            ),
            support_category: Some(1 + (i % 6) as i32),
            wishes: Some(format!(
                "{}を続けたい。休みの日は家でゆっくりしたい。",
                WORK[i % 8]
            )),
            family_contacts: vec![],
            external_id: None,
            service_type: None,
            start_date: Some(today - chrono::Duration::days(400)),
        },
    )
    .await
    .map_err(fail("register"))?
    .id;
    care_team::add(
        state,
        office,
        care_team::NewMembership {
            client_id: client,
            organization_id: facility.organization_id,
            relationship: CareRelationship::ServiceProvider,
            service_type: None,
            start_date: Some(today - chrono::Duration::days(400)),
        },
    )
    .await
    .map_err(fail("care team"))?;
    consents::record(
        state,
        office,
        consents::NewConsent {
            client_id: client,
            granted_by: name.clone(),
            signer_relationship: "CLIENT".into(),
            granted_on: today - chrono::Duration::days(300),
            recipient_organization_ids: None,
            covers_future_members: false,
            includes_earlier_records: true,
            data_categories: vec![
                DataCategory::Profile,
                DataCategory::Observations,
                DataCategory::Plans,
                DataCategory::Meetings,
            ],
            expires_on: Some(today + chrono::Duration::days(60)),
            document_reference: Some("同意書".into()),
        },
    )
    .await
    .map_err(fail("consent"))?;
    plans::create(
        state,
        office,
        plans::NewPlan {
            client_id: client,
            kind: PlanKind::ServiceUsePlan,
            based_on_plan_id: None,
            period_from: today - chrono::Duration::days(30),
            period_to: Some(today + chrono::Duration::days(335)),
            content: kakehashi::service::documents::PlanContent {
                client_wishes: Some(format!("「{}をつづけたい」", WORK[i % 8])),
                long_term_goal: Some(
                    "週4日の通所を続けながら、地域で自分のペースで暮らす。".into(),
                ),
                short_term_goal: Some("3か月間、月の欠席を2日以下にする。".into()),
                ..Default::default()
            },
            external_id: None,
        },
    )
    .await
    .map_err(fail("plan"))?;
    meetings::schedule(
        state,
        office,
        meetings::NewMeeting {
            client_id: client,
            kind: MeetingKind::Monitoring,
            scheduled_at: Utc::now() + chrono::Duration::days(7 + (i % 50) as i64),
            place: Some("事業所 相談室".into()),
            online: false,
            invited_organization_ids: vec![facility.organization_id],
            agenda: Some("モニタリング".into()),
            external_id: None,
        },
    )
    .await
    .map_err(fail("meeting"))?;
    let start = Utc::now() - chrono::Duration::days(observations as i64);
    for k in 0..observations {
        let n = i * observations + k;
        let (category, fact, interpretation, words) = match n % 10 {
            0 => (
                ObservationCategory::Change,
                format!(
                    "{}時{}分、作業内容の変更を伝えた直後に大声を出し、約{}分座り込んだ。",
                    9 + n % 6,
                    n % 60,
                    2 + n % 8
                ),
                Some("予定の変更が負担になっていると思われる。".to_owned()),
                None,
            ),
            1 => (
                ObservationCategory::Unstable,
                format!(
                    "昼食を半分残し、午後の{}を{}回中断した。",
                    WORK[n % 8],
                    1 + n % 4
                ),
                None,
                Some(WORDS[n % 6].to_owned()),
            ),
            2 if n % 20 == 2 => (
                ObservationCategory::RiskSign,
                format!(
                    "帰りの送迎で「{}」と話し、顔に{}cmほどのすり傷があった。",
                    WORDS[n % 6],
                    1 + n % 3
                ),
                Some("家庭での様子を確認したい。".to_owned()),
                Some(WORDS[n % 6].to_owned()),
            ),
            3 | 4 => (
                ObservationCategory::Stable,
                format!(
                    "{}を{}個行い、休憩は{}回。終わりに道具を自分で片付けた。",
                    WORK[n % 8],
                    40 + n % 120,
                    1 + n % 3
                ),
                None,
                None,
            ),
            _ => (
                ObservationCategory::Routine,
                format!(
                    "{}:{:02}に来所し、{}を15時まで行った。",
                    9 + n % 2,
                    n % 60,
                    WORK[n % 8]
                ),
                None,
                None,
            ),
        };
        observations::record(
            state,
            facility,
            client,
            ObservationContent {
                fact,
                interpretation,
                client_words: words,
                category,
                occurred_from: start + chrono::Duration::hours(k as i64 * 24 + (n % 8) as i64),
                occurred_to: None,
                visibility: if n.is_multiple_of(7) {
                    Visibility::Internal
                } else {
                    Visibility::CareTeam
                },
                tags: vec![WORK[n % 8].to_owned()],
                cited_observation_ids: vec![],
            },
        )
        .await
        .map_err(fail("observation"))?;
    }
    Ok(())
}
