//! The demo world: two facilities, two consultation offices and their accounts (password
//! `kakehashi-demo`), four clients with care teams and consents, and about three months of
//! observations per client. Idempotent: nothing is added when the demo organizations exist.
//!
//! The calendar is fixed relative to today ([`calendar`]): office events on business days within
//! office hours, 山田 太郎's plan drafted → proposed at a 担当者会議 → signed → activated →
//! monitored in his 実施月, and every record written some minutes to two days after what it
//! records ([`records::backdate_written_times`]), so information-lag metrics have real numbers.
//! `tests/integration/demo_calendar.rs` checks these rules on the seeded database.
//!
//! Files: `clients.rs` (clients, certificate, consents, the hand-written observations the tests
//! and the README quote), `plans.rs` (山田 太郎's plans, meetings, monitoring report and
//! collaboration), `caseload.rs` (the other clients' plans and meetings), `records.rs` (the generated daily records and their written times).
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

pub mod calendar;
mod caseload;
mod certificates;
mod clients;
mod plans;
mod records;

use calendar::DemoDates;
use entity::{organization::OrganizationKind, staff_member::StaffRole};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use kakehashi::{
    auth::{Viewer, password::PasswordHasher},
    error::ApiError,
    service::Ctx,
    service::{access::today, organizations, staff},
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
pub async fn seed_demo(state: &Ctx) -> anyhow::Result<()> {
    if seed_organizations(&state.db, &state.passwords).await? {
        let dates = DemoDates::new(today());
        clients::seed_clients(state, &dates)
            .await
            .map_err(into_anyhow)?;
        records::backdate_written_times(state)
            .await
            .map_err(into_anyhow)?;
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
    let txn = kakehashi::db::begin_write(db).await?;
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

pub(crate) async fn org_id(db: &DatabaseConnection, office_number: &str) -> Result<Uuid, ApiError> {
    entity::organization::Entity::find()
        .filter(entity::organization::Column::OfficeNumber.eq(office_number))
        .one(db)
        .await?
        .map(|o| o.id)
        .ok_or(ApiError::NotFound("Organization"))
}
