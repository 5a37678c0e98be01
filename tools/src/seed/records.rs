//! The generated daily records (支援記録) of the last few months and their written times.
//!
//! Each client gets records from each facility that serves them, on the days that facility
//! works: the day service (ひまわり, 就労継続支援B型) on business days within office hours, the
//! group home (こもれび) on any day, in the evening, at night or early in the morning. The texts
//! cycle through a few templates whose numbers vary with the day, so that materials and
//! evidence-of-change have counts to show: work, meals and attendance at the day service;
//! sleep, meals and bathing at the group home; one incident or near miss (ヒヤリハット) per
//! client. None is a risk sign (the tests expect exactly the hand-written ones) and none is an
//! outburst (the monitoring report cites the only one between the plan's start and the visit).
//!
//! Written times: the services stamp `recorded_at` with the seeding moment; afterwards
//! [`backdate_written_times`] moves every demo record's written time to a realistic lag after
//! its event (day service: the same afternoon; group home: the next morning; consultation: a
//! business day later), never later than now.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use entity::observation::{ObservationCategory as Cat, Visibility as Vis};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::calendar::{self, DemoDates, at, is_business_day};
use kakehashi::{
    auth::Viewer,
    error::ApiError,
    service::Ctx,
    service::{access::jst_day, observations},
};

/// One record to write: when, category, visibility, fact, the client's words, tags.
pub(super) struct Record<'a> {
    pub at: DateTime<Utc>,
    pub category: Cat,
    pub visibility: Vis,
    pub fact: String,
    pub interpretation: Option<&'a str>,
    pub words: Option<&'a str>,
    pub tags: &'a [&'a str],
}

/// Writes one observation through the service (validation, events, timeline).
pub(super) async fn write(
    state: &Ctx,
    who: &Viewer,
    client: Uuid,
    r: Record<'_>,
) -> Result<Uuid, ApiError> {
    let o = observations::record(
        state,
        who,
        client,
        observations::ObservationContent {
            fact: r.fact,
            interpretation: r.interpretation.map(str::to_owned),
            client_words: r.words.map(str::to_owned),
            category: r.category,
            occurred_from: r.at,
            occurred_to: None,
            visibility: r.visibility,
            tags: r.tags.iter().map(|t| (*t).to_owned()).collect(),
            cited_observation_ids: Vec::new(),
        },
    )
    .await?;
    Ok(o.id)
}

/// Where a facility works: the day service on business days, the group home every day.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Setting {
    DayService,
    GroupHome,
}

/// One template: hour, category, visibility, tags, and the fact for the n-th use.
pub(super) type Template = (u32, Cat, Vis, &'static [&'static str], fn(u32) -> String);

/// `count` records spread evenly over the days from `from` until before `to` that the setting works,
/// cycling through `templates`, each at its template's hour (minutes vary).
pub(super) async fn daily(
    state: &Ctx,
    (who, client): (&Viewer, Uuid),
    dates: &DemoDates,
    (from, to): (NaiveDate, NaiveDate),
    setting: Setting,
    count: usize,
    templates: &[Template],
) -> Result<(), ApiError> {
    let days: Vec<NaiveDate> = from
        .iter_days()
        .take_while(|d| *d < to.min(dates.today))
        .filter(|d| setting == Setting::GroupHome || is_business_day(*d))
        .collect();
    if days.is_empty() || templates.is_empty() {
        return Ok(());
    }
    let count = count.min(days.len());
    for i in 0..count {
        let day = days[i * days.len() / count];
        let n = u32::try_from(i).unwrap_or(0);
        let (hour, category, visibility, tags, fact) = templates[i % templates.len()];
        let minute = (n * 17 + 5) % 55;
        write(
            state,
            who,
            client,
            Record {
                at: at(day, hour, minute),
                category,
                visibility,
                fact: fact(n),
                interpretation: None,
                words: None,
                tags,
            },
        )
        .await?;
    }
    Ok(())
}

/// How long after its event a record is written, from who wrote it and when it happened.
fn lag(setting: Option<Setting>, occurred: DateTime<Utc>, salt: u32) -> Duration {
    let local_hour = (occurred + Duration::hours(9)).hour();
    match setting {
        // The day service writes up in the afternoon, before 17:45.
        Some(Setting::DayService) => {
            if local_hour < 15 {
                Duration::hours(i64::from(16 - local_hour.min(15)))
                    + Duration::minutes(i64::from(salt % 45))
            } else {
                Duration::minutes(20 + i64::from(salt % 40))
            }
        }
        // The group home's evening and night records are written at the morning handover; its
        // morning records the same morning.
        Some(Setting::GroupHome) => {
            if local_hour >= 17 {
                Duration::hours(i64::from(24 + 8 - local_hour))
                    + Duration::minutes(i64::from(salt % 50))
            } else {
                Duration::minutes(40 + i64::from(salt % 80))
            }
        }
        // The consultation specialist writes up a visit the next business day.
        None => {
            let next = calendar::add_business_days(jst_day(occurred), 1);
            at(next, 10 + salt % 6, salt % 50) - occurred
        }
    }
}

/// Moves each demo record's written time (`recorded_at`, and the first version's `edited_at`)
/// to after its event, with the lag of [`lag`]; meetings, plans and the monitoring report are
/// dated in `plans.rs`.
pub(super) async fn backdate_written_times(state: &Ctx) -> Result<(), ApiError> {
    let db = &state.db;
    let now = Utc::now();
    let group_home = super::org_id(db, "1310100029").await?;
    let day_service = super::org_id(db, "1310100011").await?;
    let observations = entity::observation::Entity::find().all(db).await?;
    let txn = kakehashi::db::begin_write(db).await?;
    for (i, o) in observations.into_iter().enumerate() {
        let setting = if o.organization_id == group_home {
            Some(Setting::GroupHome)
        } else if o.organization_id == day_service {
            Some(Setting::DayService)
        } else {
            None
        };
        let salt = u32::try_from(i).unwrap_or(0).wrapping_mul(37) % 997;
        let event_end = o.occurred_to.unwrap_or(o.occurred_from);
        let written = (event_end + lag(setting, event_end, salt))
            .min(now - Duration::minutes(1))
            .max(event_end);
        let (id, version) = (o.id, o.version);
        let mut am: entity::observation::ActiveModel = o.into();
        am.recorded_at = Set(written);
        am.update(&txn).await?;
        entity::observation_version::Entity::update_many()
            .col_expr(
                entity::observation_version::Column::EditedAt,
                sea_orm::sea_query::Expr::value(written),
            )
            .filter(entity::observation_version::Column::ObservationId.eq(id))
            .filter(entity::observation_version::Column::Version.eq(version.min(1)))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The demo's clients.
pub(super) struct DemoClients {
    pub yamada: Uuid,
    pub sasaki: Uuid,
    pub ogawa: Uuid,
    pub mori: Uuid,
}

const MEALS: [&str; 4] = [
    "完食した",
    "8割食べた",
    "完食し、おかわりを1回した",
    "7割食べた",
];
const DINNERS: [&str; 5] = ["カレー", "焼き魚", "肉じゃが", "うどん", "ハンバーグ"];

/// 山田 太郎 at the day service.
const YAMADA_DAY: &[Template] = &[
    (10, Cat::Routine, Vis::CareTeam, &["作業"], |n| {
        format!(
            "9:30に来所し、箱折り作業を{}個行った。休憩は2回。",
            40 + n % 5 * 5
        )
    }),
    (12, Cat::Routine, Vis::Internal, &["食事"], |n| {
        format!("昼食を{}。", MEALS[n as usize % MEALS.len()])
    }),
    (14, Cat::Stable, Vis::CareTeam, &["予定変更"], |n| {
        format!(
            "前日に渡した予告カードを朝礼で確認し、{}時の作業変更に大声を出さずに移った。",
            13 + n % 3
        )
    }),
    (11, Cat::Routine, Vis::CareTeam, &["作業"], |n| {
        format!(
            "検品の手順書を見ながら{}分間一人で作業した。",
            20 + n % 4 * 10
        )
    }),
];

/// 山田 太郎 at the group home.
const YAMADA_HOME: &[Template] = &[
    (22, Cat::Routine, Vis::CareTeam, &["睡眠"], |n| {
        format!("22時{}分に入眠。0時と3時の巡回で中途覚醒なし。", n % 6 * 10)
    }),
    (19, Cat::Routine, Vis::CareTeam, &["食事"], |n| {
        format!(
            "夕食({})を完食。20時に一人で入浴を済ませた。",
            DINNERS[n as usize % DINNERS.len()]
        )
    }),
    (7, Cat::Routine, Vis::Internal, &["睡眠", "食事"], |n| {
        format!(
            "6時{}分に起床し、朝食をとって8時15分に出発した。",
            40 + n % 2 * 10
        )
    }),
];

/// 佐々木 健 at the day service.
const SASAKI_DAY: &[Template] = &[
    (10, Cat::Routine, Vis::CareTeam, &["作業"], |n| {
        format!(
            "部品の検品作業を{}個行い、不良の見落としは{}個だった。",
            100 + n % 4 * 10,
            n % 3 / 2
        )
    }),
    (13, Cat::Change, Vis::CareTeam, &["金銭管理"], |n| {
        format!(
            "お小遣い帳に今週の支出({}円)を自分で書き込んだ。",
            1500 + n % 5 * 300
        )
    }),
    (12, Cat::Routine, Vis::Internal, &["食事"], |n| {
        format!("昼食を{}。", MEALS[n as usize % MEALS.len()])
    }),
];

/// 小川 さくら at the day service (self-made plan: nothing is shared).
const OGAWA_DAY: &[Template] = &[
    (10, Cat::Routine, Vis::Internal, &["作業"], |n| {
        format!("パン袋のシール貼りを{}枚行った。", 150 + n % 4 * 25)
    }),
    (9, Cat::Stable, Vis::Internal, &["出席"], |n| {
        format!(
            "9時{}分に来所した。今週{}日目の来所。",
            10 + n % 3 * 5,
            1 + n % 4
        )
    }),
    (12, Cat::Routine, Vis::Internal, &["食事"], |_| {
        "昼食を完食し、休憩中に同じ班の利用者と10分間話した。".into()
    }),
];

/// 森 陽介 at the group home.
const MORI_HOME: &[Template] = &[
    (20, Cat::Routine, Vis::CareTeam, &["食事"], |n| {
        format!(
            "夕食({})を{}。21時から1時間テレビを見て過ごした。",
            DINNERS[n as usize % DINNERS.len()],
            MEALS[n as usize % MEALS.len()]
        )
    }),
    (23, Cat::Routine, Vis::CareTeam, &["睡眠"], |n| {
        format!(
            "22時{}分に入眠。夜間の巡回で中途覚醒{}回。",
            n % 4 * 15,
            n % 3 / 2
        )
    }),
    (19, Cat::Routine, Vis::Internal, &["入浴"], |_| {
        "入浴介助。洗身は本人が行い、背中のみ世話人が洗った。".into()
    }),
];

/// A few months of daily records for each client, and one incident or near miss each.
pub(super) async fn seed_daily(
    state: &Ctx,
    dates: &DemoDates,
    day_staff: &Viewer,
    home_staff: &Viewer,
    c: DemoClients,
) -> Result<(), ApiError> {
    use Setting::{DayService, GroupHome};
    let (from, today) = (dates.records_from, dates.today);
    let mori_from = from.max(calendar::on_or_after(today - Duration::days(88)));
    // 山田 太郎's day-service records stop a week ago: the hand-written ones of the last two
    // weeks (the outburst, the days he left half his lunch) tell that part.
    let yamada_until = today - Duration::days(14);
    for (who, client, span, setting, count, templates) in [
        (
            day_staff,
            c.yamada,
            (from, yamada_until),
            DayService,
            18,
            YAMADA_DAY,
        ),
        (
            home_staff,
            c.yamada,
            (from, today),
            GroupHome,
            12,
            YAMADA_HOME,
        ),
        (
            day_staff,
            c.sasaki,
            (from, today),
            DayService,
            18,
            SASAKI_DAY,
        ),
        (day_staff, c.ogawa, (from, today), DayService, 18, OGAWA_DAY),
        (
            home_staff,
            c.mori,
            (mori_from, today),
            GroupHome,
            18,
            MORI_HOME,
        ),
    ] {
        daily(state, (who, client), dates, span, setting, count, templates).await?;
    }
    // Incidents and near misses (事故・ヒヤリハット), each on a day of its setting.
    let incidents: [(&Viewer, Uuid, NaiveDate, u32, &str); 3] = [
        (
            home_staff,
            c.yamada,
            dates.today - Duration::days(40),
            20,
            "20:05 浴室の床で足を滑らせかけたが、手すりにつかまり転倒はなかった(ヒヤリハット)。床の水を拭き、滑り止めマットを敷いた。",
        ),
        (
            day_staff,
            c.sasaki,
            dates.office_day(33),
            14,
            "14:05 カッターで左手人差し指を約5mm切った。看護師が消毒し絆創膏で処置。父親へ電話で報告した。",
        ),
        (
            home_staff,
            c.mori,
            dates.today - Duration::days(26),
            6,
            "6:05 トイレからの帰りに廊下でつまずき、膝をついた。外傷なし。夜間の廊下の足元灯を点けることにした。",
        ),
    ];
    for (who, client, day, hour, fact) in incidents {
        write(
            state,
            who,
            client,
            Record {
                at: at(day, hour, 5),
                category: Cat::Unstable,
                visibility: Vis::CareTeam,
                fact: fact.into(),
                interpretation: None,
                words: None,
                tags: &["事故・ヒヤリハット"],
            },
        )
        .await?;
    }
    Ok(())
}
