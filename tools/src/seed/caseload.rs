//! The other clients' plans and meetings, so that every client of the demo has a plan a
//! specialist or a service manager can open, and the consultation offices' caseloads show more
//! than one story:
//!
//! - 佐々木 健 (みらい, ひまわり): a service-use plan drafted, discussed at a 担当者会議 with
//!   minutes, signed and activated; ひまわり's individual support plan a week later; a case
//!   conference next week on the money trouble ひまわり reported. みらい's consent covers daily
//!   records only, so ひまわり does not see みらい's plan: the demo shows consent at work.
//! - 小川 さくら (a self-made plan, セルフプラン): ひまわり's individual support plan only.
//! - 森 陽介 (こもれび, no consent yet): こもれび's individual support plan.
//!
//! The same calendar rules as 山田 太郎's story hold (business days, office hours, draft →
//! meeting → consent → activation, targets within the plan).

use chrono::{Duration, NaiveDate};
use uuid::Uuid;

use super::{
    calendar::{DemoDates, add_business_days, at},
    plans::{active_plan, goal},
};
use entity::{meeting::MeetingKind, support_plan::PlanKind};
use kakehashi::{
    auth::Viewer,
    error::ApiError,
    service::Ctx,
    service::{dates::Date, documents::OrganizationRef},
    service::{
        documents::{
            Achievement, Attendee, ExpressedBy, MeetingEnquiry, Minutes, NeedRow, PlanContent,
        },
        meetings,
        plans::NewPlan,
    },
};

/// Who writes in the other clients' stories.
pub(super) struct Writers<'a> {
    pub mirai_specialist: &'a Viewer,
    pub himawari_manager: &'a Viewer,
    pub komorebi_manager: &'a Viewer,
}

/// The clients, by name.
pub(super) struct Clients {
    pub sasaki: Uuid,
    pub ogawa: Uuid,
    pub mori: Uuid,
}

/// A facility's individual support plan (個別支援計画), activated on `active` for half a year.
async fn individual_plan(
    state: &Ctx,
    who: &Viewer,
    (client, signer): (Uuid, &str),
    active: NaiveDate,
    (wishes, policy, goals): (&str, &str, &[&str]),
    deliver_to_office: bool,
) -> Result<Uuid, ApiError> {
    let until = active + Duration::days(182);
    active_plan(
        state,
        who,
        NewPlan {
            client_id: client,
            kind: PlanKind::IndividualSupportPlan,
            based_on_plan_id: None,
            period_from: active,
            period_to: Some(until),
            content: PlanContent {
                client_wishes: Some(wishes.into()),
                overall_policy: Some(policy.into()),
                goals: goals
                    .iter()
                    .map(|g| {
                        goal(
                            g,
                            ExpressedBy::Facility,
                            Achievement::NotAssessed,
                            active + Duration::days(150),
                        )
                    })
                    .collect(),
                standard_service_hours: Some("1日5時間".into()),
                ..Default::default()
            },
            external_id: None,
        },
        deliver_to_office,
        (add_business_days(active, -5), active),
        signer,
    )
    .await
}

pub(super) async fn seed_caseload(
    state: &Ctx,
    dates: &DemoDates,
    clients: Clients,
    (himawari, _komorebi): (Uuid, Uuid),
    w: Writers<'_>,
) -> Result<(), ApiError> {
    // 佐々木 健: みらい drafts the service-use plan, the 担当者会議 discusses it a week and a half
    // later, he signs two business days after and the plan starts that day.
    let drafted = dates.office_day(75);
    let meeting_day = add_business_days(drafted, 8);
    let signed = add_business_days(meeting_day, 2);
    let target = signed + Duration::days(180);
    let proposal = meetings::schedule(
        state,
        w.mirai_specialist,
        meetings::NewMeeting {
            client_id: clients.sasaki,
            kind: MeetingKind::ServiceCoordination,
            scheduled_at: at(meeting_day, 10, 0),
            place: Some("ひまわり作業所 相談室".into()),
            online: false,
            invited_organization_ids: vec![himawari],
            agenda: Some("サービス等利用計画(案)の確認と一人暮らしに向けた準備".into()),
            external_id: None,
        },
    )
    .await?;
    meetings::record_minutes(
        state,
        w.mirai_specialist,
        proposal.id,
        proposal.version,
        meetings::MinutesInput {
            attendance: vec![
                Attendee {
                    affiliation: "本人".into(),
                    role: None,
                    name: "佐々木 健".into(),
                    attended: true,
                    written_opinion: None,
                },
                Attendee {
                    affiliation: "家族".into(),
                    role: Some("父".into()),
                    name: "佐々木 正".into(),
                    attended: false,
                    written_opinion: Some("仕事の都合で欠席。金銭管理の練習には賛成。".into()),
                },
                Attendee {
                    affiliation: "ひまわり作業所".into(),
                    role: Some("サービス管理責任者".into()),
                    name: "鈴木 一郎".into(),
                    attended: true,
                    written_opinion: None,
                },
            ],
            minutes: Minutes {
                discussion: "一人暮らしに向けて、工賃から毎月決まった額を貯める練習を作業所で支える案を検討した。".into(),
                conclusions: Some("計画案に同意。小遣い帳を毎週金曜に職員と確認する。".into()),
                started_at: Some(at(meeting_day, 10, 0)),
                ended_at: Some(at(meeting_day, 10, 50)),
                meeting_number: Some(1),
                client_attended: Some(true),
                family_attended: Some(false),
                family_absence_reason: Some("父は仕事のため欠席(意見は書面で受領)".into()),
                enquiries: vec![MeetingEnquiry {
                    addressee: "父 佐々木 正".into(),
                    organization_id: None,
                    asked_on: Date(add_business_days(meeting_day, -3)),
                    question: Some("工賃の一部を毎月貯金する練習に賛成か。".into()),
                    answer: Some("賛成。家でも小遣い帳を見せてもらう。".into()),
                    answered_on: Some(Date(add_business_days(meeting_day, -1))),
                }],
                ..Default::default()
            },
            direction: "一人暮らしに向けた金銭管理の練習を作業所で支える".into(),
            direction_change_reason: None,
        },
    )
    .await?;
    let plan = PlanContent {
        client_wishes: Some("「いつか一人で暮らしたい。お金をためたい」".into()),
        family_wishes: Some(
            "父: 無駄遣いをせず、困ったときに相談できるようになってほしい。".into(),
        ),
        overall_policy: Some(
            "工賃の使い方を作業所と一緒に振り返り、一人暮らしに必要な金銭管理を身につける。".into(),
        ),
        long_term_goal: Some("1年後にグループホームの体験利用を始める。".into()),
        short_term_goal: Some("小遣い帳を毎週つけ、月5000円を貯金する。".into()),
        goals: vec![
            goal(
                "小遣い帳を毎週金曜に職員と確認する",
                ExpressedBy::Client,
                Achievement::NotAssessed,
                target,
            ),
            goal(
                "月5000円を貯金する",
                ExpressedBy::Client,
                Achievement::NotAssessed,
                target,
            ),
        ],
        plan_author: Some("中村 真理".into()),
        proposal_date: Some(Date(drafted)),
        needs: vec![NeedRow {
            priority: 1,
            need: "お金をすぐに使ってしまい、月末に困る".into(),
            support_goal: "1か月の使い方を自分で決めて守れる".into(),
            target_date: Some(Date(target)),
            service_type: Some("就労継続支援B型".into()),
            service_content: Some("工賃受け取り時に使い道を一緒に確認する".into()),
            amount: Some("週5日".into()),
            provider_organization_id: Some(OrganizationRef(himawari)),
            client_role: Some("小遣い帳をつける".into()),
            evaluation_date: Some(Date(signed + Duration::days(90))),
            notes: None,
        }],
        monitoring_period_months: Some(6),
        weekly_schedule: Some("月〜金 作業所 / 土日 自宅".into()),
        ..Default::default()
    };
    active_plan(
        state,
        w.mirai_specialist,
        NewPlan {
            client_id: clients.sasaki,
            kind: PlanKind::ServiceUsePlan,
            based_on_plan_id: None,
            period_from: signed,
            period_to: Some(signed + Duration::days(364)),
            content: plan,
            external_id: None,
        },
        false,
        (drafted, signed),
        "佐々木 健",
    )
    .await?;
    individual_plan(
        state,
        w.himawari_manager,
        (clients.sasaki, "佐々木 健"),
        add_business_days(signed, 5),
        (
            "「お金をためて一人で暮らしたい」",
            "工賃の受け取り日に使い道を一緒に決め、小遣い帳を毎週確認する",
            &["小遣い帳を毎週金曜に職員と確認する"],
        ),
        true,
    )
    .await?;
    // A case conference next week on the money he could not refuse to lend (ひまわり's risk sign).
    meetings::schedule(
        state,
        w.mirai_specialist,
        meetings::NewMeeting {
            client_id: clients.sasaki,
            kind: MeetingKind::CaseConference,
            scheduled_at: at(add_business_days(dates.today, 5), 15, 0),
            place: None,
            online: true,
            invited_organization_ids: vec![himawari],
            agenda: Some("金銭の貸し借りへの対応(ひまわりからのリスクの兆し)".into()),
            external_id: None,
        },
    )
    .await?;

    // 小川 さくら: a self-made plan, so only ひまわり's individual plan.
    individual_plan(
        state,
        w.himawari_manager,
        (clients.ogawa, "小川 さくら"),
        dates.office_day(40),
        (
            "「絵をかく時間がほしい」",
            "午前は作業、午後の30分を創作の時間にして、通所の日数を増やす",
            &["週4日通所する", "午後の創作の時間に作品を1つ仕上げる"],
        ),
        false,
    )
    .await?;
    // 森 陽介: こもれび's individual plan (no consent yet, so it stays with こもれび).
    individual_plan(
        state,
        w.komorebi_manager,
        (clients.mori, "森 陽介"),
        dates.office_day(55),
        (
            "「夜はテレビを見てから寝たい」",
            "夕食後の過ごし方を本人と決め、22時までに就寝の準備を始める",
            &["22時までに歯みがきと着替えを済ませる"],
        ),
        false,
    )
    .await?;
    Ok(())
}
