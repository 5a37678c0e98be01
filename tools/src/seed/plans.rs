//! 山田 太郎's plans, meetings and monitoring report, and the collaboration around them, on the
//! fixed calendar of [`DemoDates`]: the service-use plan draft (案) is written and proposed, the
//! 担当者会議 discusses it, 山田 太郎 signs the next business day and the plan is activated that
//! day; the facilities' individual support plans follow; the monitoring visit in his last 実施月
//! cites the one outburst recorded since the plan started; the next monitoring meeting is in the
//! next 実施月. Goal target dates fall within each plan's period. The services stamp the
//! seeding moment as the written time; [`backdate`] moves it to when each was written.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::calendar::{DemoDates, add_business_days, at};
use entity::observation::{ObservationCategory as Cat, Visibility as Vis};
use kakehashi::{
    auth::Viewer,
    error::ApiError,
    service::Ctx,
    service::{dates::Date, documents::OrganizationRef},
    service::{
        documents::{
            Achievement, Attendee, BriefContent, BriefPoint, DeliveryRecipient, ExpressedBy,
            Minutes, MonitoringContent, MonitoringGoalRow, NeedRow, PlanAxis, PlanContent,
            PlanGoal,
        },
        meetings, monitoring,
        plans::{self, PlanChange},
    },
};

pub(super) fn goal(
    text: &str,
    by: ExpressedBy,
    achievement: Achievement,
    target: NaiveDate,
) -> PlanGoal {
    PlanGoal {
        text: text.into(),
        expressed_by: by,
        achievement,
        target_date: Some(Date(target)),
        ..Default::default()
    }
}

fn need(
    priority: i32,
    need: &str,
    goal: &str,
    (service, amount): (&str, &str),
    provider: Uuid,
    role: &str,
    dates: &DemoDates,
) -> NeedRow {
    NeedRow {
        priority,
        need: need.into(),
        support_goal: goal.into(),
        target_date: Some(Date(dates.plan_active + Duration::days(180))),
        service_type: Some(service.into()),
        service_content: None,
        amount: Some(amount.into()),
        provider_organization_id: Some(OrganizationRef(provider)),
        client_role: Some(role.into()),
        evaluation_date: Some(Date(dates.plan_active + Duration::days(90))),
        notes: None,
    }
}

/// Writes a plan (dated `drafted`), proposes it, records consent signed by `signer` on `signed`
/// (explained the same day) and activates it that day.
pub(super) async fn active_plan(
    state: &Ctx,
    who: &Viewer,
    new: plans::NewPlan,
    deliver_to_office: bool,
    (drafted, signed): (NaiveDate, NaiveDate),
    signer: &str,
) -> Result<Uuid, ApiError> {
    let p = plans::create(state, who, new).await?;
    backdate_plan(state, p.id, at(drafted, 11, 0)).await?;
    let p = plans::change(state, who, p.id, p.version, PlanChange::Propose).await?;
    let p = plans::change(
        state,
        who,
        p.id,
        p.version,
        PlanChange::RecordConsent {
            explained_on: signed,
            explained_by: "担当者".into(),
            signed_by: signer.into(),
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

/// 山田 太郎's plans, the proposal meeting with minutes, an upcoming one with one brief in, and a
/// monitoring report.
pub(super) async fn seed_plans_and_meetings(
    state: &Ctx,
    dates: &DemoDates,
    yamada: Uuid,
    (himawari, komorebi): (Uuid, Uuid),
    specialist: &Viewer,
    himawari_manager: &Viewer,
    komorebi_manager: &Viewer,
) -> Result<(), ApiError> {
    let from = dates.plan_active;
    let goal_by = from + Duration::days(180);
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
            goal("予定変更の前日予告で、当日の大声を月2回以下にする", ExpressedBy::Facility, Achievement::Improving, goal_by),
            goal("週5日、定時に作業所へ通う", ExpressedBy::Client, Achievement::Improving, goal_by),
        ],
        plan_author: Some("渡辺 直子".into()),
        proposal_date: Some(Date(dates.plan_drafted)),
        needs: vec![
            need(1, "予定が急に変わると混乱してしまう", "変更を前もって知り、落ち着いて作業に移れる", ("就労継続支援B型", "週5日 9:30–15:00"), himawari, "変更の予告カードを確認する", dates),
            need(2, "夜に物音で眠れないことがある", "夜間に安心して眠れる", ("共同生活援助", "毎日"), komorebi, "眠れないときは世話人に伝える", dates),
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
        (
            dates.plan_drafted,
            add_business_days(dates.proposal_meeting, 1),
        ),
        "山田 太郎",
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
                period_from: dates.individual_plans_active,
                period_to: Some(dates.individual_plans_active + Duration::days(182)),
                content: PlanContent {
                    client_wishes: Some("「はこづくりをつづけたい」".into()),
                    overall_policy: Some(text.into()),
                    goals: vec![goal(
                        text,
                        ExpressedBy::Facility,
                        Achievement::Improving,
                        dates.individual_plans_active + Duration::days(150),
                    )],
                    standard_service_hours: Some("1日5時間".into()),
                    ..Default::default()
                },
                external_id: None,
            },
            true,
            (
                add_business_days(dates.individual_plans_active, -5),
                dates.individual_plans_active,
            ),
            "山田 太郎",
        )
        .await?;
    }

    // The 担当者会議 on the draft, with minutes written the next business day.
    let past = meetings::schedule(
        state,
        specialist,
        meetings::NewMeeting {
            client_id: yamada,
            kind: entity::meeting::MeetingKind::ServiceCoordination,
            scheduled_at: at(dates.proposal_meeting, 14, 0),
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
            conclusions: Some(format!("計画案に同意。前日予告を試し、{}月のモニタリングで振り返る。", dates.last_monitoring.month())),
            decisions: vec![kakehashi::service::documents::Decision { text: "予告カードを作る".into(), owner_organization_id: OrganizationRef(himawari), due_on: Some(Date(add_business_days(dates.proposal_meeting, 5))) }],
            remaining_issues: Some("夜間の睡眠の記録方法".into()),
            next_date: Some(Date(dates.last_monitoring)),
            meeting_number: Some(1),
            client_attended: Some(true),
            family_attended: Some(true),
            ..Default::default()
        },
        direction: "予定の見通しを持てる支援を両事業所で揃える".into(),
        direction_change_reason: None,
    }).await?;
    let scheduled = at(add_business_days(dates.proposal_meeting, -10), 10, 30);
    let minuted = at(add_business_days(dates.proposal_meeting, 1), 16, 30);
    entity::meeting::Entity::update_many()
        .col_expr(entity::meeting::Column::CreatedAt, Expr::value(scheduled))
        .col_expr(entity::meeting::Column::UpdatedAt, Expr::value(minuted))
        .filter(entity::meeting::Column::Id.eq(past.id))
        .exec(&state.db)
        .await?;

    // The next monitoring meeting, in the next 実施月, with ひまわり's brief in and こもれび's still missing.
    let next = meetings::schedule(
        state,
        specialist,
        meetings::NewMeeting {
            client_id: yamada,
            kind: entity::meeting::MeetingKind::Monitoring,
            scheduled_at: at(dates.next_meeting, 14, 0),
            place: None,
            online: true,
            invited_organization_ids: vec![himawari, komorebi],
            agenda: Some(format!(
                "3か月モニタリング({}年{}月実施月)と次の1か月の方向",
                dates.next_monitoring_month.year(),
                dates.next_monitoring_month.month()
            )),
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

    let report = monitoring::record(
        state,
        specialist,
        monitoring::NewReport {
            client_id: yamada,
            monitored_on: dates.last_monitoring,
            method: "VISIT".into(),
            outcome: "CONTINUE".into(),
            content: MonitoringContent {
                overall_situation:
                    "作業所には週5日通えている。予定変更時の混乱は前日予告で減ってきた。".into(),
                goal_rows: vec![MonitoringGoalRow {
                    goal: "予定変更の前日予告で、当日の大声を月2回以下にする".into(),
                    service_status_from_facility: Some(format!(
                        "ひまわり: 予告開始後の大声は1回({}/{})。",
                        dates.cited_outburst.month(),
                        dates.cited_outburst.day()
                    )),
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
    entity::monitoring_report::Entity::update_many()
        .col_expr(
            entity::monitoring_report::Column::CreatedAt,
            Expr::value(at(add_business_days(dates.last_monitoring, 1), 16, 20)),
        )
        .filter(entity::monitoring_report::Column::Id.eq(report.id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Sets a plan's written time (`created_at`): the draft was written before it was proposed.
async fn backdate_plan(state: &Ctx, id: Uuid, when: DateTime<Utc>) -> Result<(), ApiError> {
    entity::support_plan::Entity::update_many()
        .col_expr(entity::support_plan::Column::CreatedAt, Expr::value(when))
        .filter(entity::support_plan::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Acknowledgements, an organization's own fact-check term and glossary entry, and a vague
/// note for the fact check to flag.
pub(super) async fn seed_collaboration(
    state: &Ctx,
    dates: &DemoDates,
    yamada: Uuid,
    aozora_specialist: &Viewer,
    himawari_manager: &Viewer,
    komorebi_staff: &Viewer,
) -> Result<(), ApiError> {
    use entity::observation::{self, Column};
    use kakehashi::{
        language::{lexicon::OwnTermKind, translation::Audience},
        service::{
            acknowledgements::{self, Subject},
            fact_checks, glossaries,
        },
    };
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
    super::records::write(
        state,
        komorebi_staff,
        yamada,
        super::records::Record {
            at: at(dates.today - Duration::days(1), 20, 0),
            category: Cat::Routine,
            visibility: Vis::CareTeam,
            fact: "最近は落ち着いて過ごしている様子。".into(),
            interpretation: None,
            words: None,
            tags: &[],
        },
    )
    .await?;
    Ok(())
}
