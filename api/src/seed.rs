//! The demo world: two facilities, two consultation offices and their accounts (password
//! `kakehashi-demo`). Idempotent: nothing is added when the demo organizations exist.
//! Later features add clients, records, plans and meetings to the same world.

use entity::{organization::OrganizationKind, staff_member::StaffRole};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    auth::password::PasswordHasher,
    error::ApiError,
    service::{organizations, staff},
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

/// Loads the demo organizations and accounts unless they are already there.
pub async fn seed_demo(db: &DatabaseConnection, passwords: &PasswordHasher) -> anyhow::Result<()> {
    let exists = entity::organization::Entity::find()
        .filter(entity::organization::Column::OfficeNumber.eq(DEMO[0].office_number))
        .one(db)
        .await?
        .is_some();
    if exists {
        tracing::info!("demo data already present");
        return Ok(());
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
                },
            )
            .await
            .map_err(into_anyhow)?;
        }
    }
    txn.commit().await?;
    tracing::info!("demo data loaded: sign in as staff@himawari.example / {DEMO_PASSWORD}");
    Ok(())
}

fn into_anyhow(e: ApiError) -> anyhow::Error {
    match e {
        ApiError::Internal(e) => e,
        other => anyhow::anyhow!("{}: {}", other.code().as_str(), other.public_message()),
    }
}
