//! Subscriptions (リアルタイム通知): every change pushed to whoever may see it, resumable from a
//! cursor. Served over WebSocket at `/graphql/ws` (`graphql-transport-ws`).

use std::sync::{Arc, Mutex};

use async_graphql::{Context, Enum, ID, Object, Subscription, Union};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::{
    care_team::{CareTeamMember, SharingConsent},
    client::{Client, RecipientCertificate},
    context::ContextExt,
    ids,
    meeting::{Meeting, MeetingBrief, MonitoringReport},
    observation::Observation,
    plan::SupportPlan,
    staff::StaffMember,
    statutory::{AccidentReport, ComplaintRecord, RestraintRecord},
};
use crate::{
    error::ApiError,
    realtime::feed::{self, FeedItem, Follow},
    service::{
        events::EventKind,
        {deliveries::EventRecord, outbox::Cursor},
    },
};

/// What happened (変更の種類).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "EventKind")]
pub enum ClientEventKind {
    /// A client was registered (利用者登録).
    ClientRegistered,
    /// The registering organization changed the client's profile (利用者情報の更新).
    ClientUpdated,
    /// A care-team membership began or ended (支援チームの変更).
    CareTeamChanged,
    /// A sharing consent was recorded or revoked (情報共有の同意の変更).
    ConsentChanged,
    /// A recipient certificate was recorded (受給者証の登録).
    CertificateRecorded,
    /// An observation was recorded (支援記録の登録).
    ObservationRecorded,
    /// An observation was amended (支援記録の修正).
    ObservationAmended,
    /// An observation was marked entered-in-error (誤記録の取消).
    ObservationEnteredInError,
    /// A support plan was created, revised or moved through its lifecycle (計画の変更).
    PlanChanged,
    /// A care meeting was scheduled (サービス担当者会議の予定).
    MeetingScheduled,
    /// A care meeting was rescheduled, held, cancelled or got its minutes (会議の更新).
    MeetingUpdated,
    /// A facility submitted its three-point brief (事前共有の提出).
    BriefSubmitted,
    /// A monitoring report was recorded (モニタリング報告).
    MonitoringRecorded,
    /// A shared risk sign was not acknowledged by the consultation office within its deadline
    /// (未確認のリスクの兆し); `record` is the observation.
    RiskSignOverdue,
    /// A grant period (支給決定期間) entered its renewal-preparation window, 3 months before it
    /// ends (更新準備の開始); `record` is the recipient certificate, `actor` is null. Raised once per
    /// grant.
    GrantRenewalDue,
    /// A grant period (支給決定期間) ended with no renewal recorded (支給決定期間の終了・更新未登録);
    /// `record` is the recipient certificate, `actor` is null. Raised once per grant, within a
    /// month of its end.
    GrantExpired,
    /// A physical restraint was recorded (身体拘束等の記録); `record` is the `RestraintRecord`.
    RestraintRecorded,
    /// A restraint record got its explanation to the family (家族への説明の追記).
    RestraintUpdated,
    /// An accident or near miss was reported (事故・ヒヤリハット報告); `record` is the
    /// `AccidentReport`.
    AccidentReported,
    /// An accident report got its reports to the family or municipality or its measures against
    /// recurrence (報告・再発防止策の追記).
    AccidentUpdated,
    /// A complaint was received (苦情の受付); `record` is the `ComplaintRecord`.
    ComplaintRecorded,
    /// A complaint was resolved (苦情の解決); `record` is the `ComplaintRecord`.
    ComplaintResolved,
    /// A restraint, accident or complaint record was marked entered-in-error (法定記録の記載誤り);
    /// `record` is the record.
    StatutoryRecordEnteredInError,
}

/// The changed record, as it is now and as the subscriber may see it (変更された記録).
#[derive(Union)]
pub(crate) enum ClientEventRecord {
    Client(Client),
    CareTeamMember(CareTeamMember),
    SharingConsent(SharingConsent),
    RecipientCertificate(RecipientCertificate),
    Observation(Observation),
    SupportPlan(SupportPlan),
    Meeting(Meeting),
    MeetingBrief(MeetingBrief),
    MonitoringReport(MonitoringReport),
    RestraintRecord(RestraintRecord),
    AccidentReport(AccidentReport),
    ComplaintRecord(ComplaintRecord),
}

pub(crate) struct ClientEvent(FeedItem);

/// A client the scope has just authorized (the feed admits nothing else).
fn client_of(item: &FeedItem) -> async_graphql::Result<Client> {
    let rel = item.scope.require(item.delivery.event.client_id)?.clone();
    Ok(Client {
        model: item.delivery.client.clone(),
        rel,
    })
}

/// One change to a client's records, pushed to a subscriber who may see it (変更イベント).
#[Object]
impl ClientEvent {
    /// Position in the event stream: pass the last one received as `after` to resume without
    /// loss after a disconnect (再開位置).
    async fn cursor(&self) -> String {
        self.0.delivery.cursor().encode()
    }
    /// What happened (種類).
    async fn kind(&self) -> ClientEventKind {
        self.0.delivery.event.kind.into()
    }
    /// When it was committed (発生日時).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.delivery.event.occurred_at
    }
    /// The client concerned (本人).
    async fn client(&self) -> async_graphql::Result<Client> {
        client_of(&self.0)
    }
    /// Global id of the changed record (for refetching with `node`).
    async fn record_id(&self) -> ID {
        let e = &self.0.delivery.event;
        ids::encode(ids::record_type_name(e.record_type), e.record_id)
    }
    /// The changed record as it is now (変更後の記録).
    async fn record(&self) -> async_graphql::Result<ClientEventRecord> {
        let record = self
            .0
            .delivery
            .record
            .clone()
            .ok_or(ApiError::NotFound("Record"))?;
        Ok(match record {
            EventRecord::Client(_) => ClientEventRecord::Client(client_of(&self.0)?),
            EventRecord::CareTeamMember(m) => ClientEventRecord::CareTeamMember(CareTeamMember(m)),
            EventRecord::SharingConsent(c) => ClientEventRecord::SharingConsent(SharingConsent(c)),
            EventRecord::RecipientCertificate(c) => {
                ClientEventRecord::RecipientCertificate(RecipientCertificate(c))
            }
            EventRecord::Observation(o) => ClientEventRecord::Observation(Observation(o)),
            EventRecord::SupportPlan(p) => ClientEventRecord::SupportPlan(SupportPlan(p)),
            EventRecord::Meeting(m) => ClientEventRecord::Meeting(Meeting(m)),
            EventRecord::MeetingBrief(b) => ClientEventRecord::MeetingBrief(MeetingBrief(b)),
            EventRecord::MonitoringReport(r) => {
                ClientEventRecord::MonitoringReport(MonitoringReport(r))
            }
            EventRecord::RestraintRecord(r) => {
                ClientEventRecord::RestraintRecord(RestraintRecord(r))
            }
            EventRecord::AccidentReport(a) => ClientEventRecord::AccidentReport(AccidentReport(a)),
            EventRecord::ComplaintRecord(c) => {
                ClientEventRecord::ComplaintRecord(ComplaintRecord(c))
            }
        })
    }
    /// Who made the change (変更者); `null` if the account no longer exists.
    async fn actor(&self) -> Option<StaffMember> {
        self.0.delivery.actor.clone().map(StaffMember::new)
    }
}

#[derive(Default)]
pub struct SubscriptionRoot;

/// Live changes over WebSocket at `/graphql/ws` (`graphql-transport-ws`; リアルタイム通知).
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Changes to one client's records that you may see (本人ごとの変更通知). With `after`, the
    /// events since that cursor come first; a cursor older than the retention fails with
    /// `CURSOR_EXPIRED`. Ends with `FORBIDDEN` when your access to the client ends.
    async fn client_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the client.")] client_id: ID,
        #[graphql(desc = "Resume after this event cursor.")] after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ClientEvent>> + use<>> {
        let client = ids::decode("Client", "clientId", &client_id)?;
        events(ctx, Follow::Client(client), after).await
    }

    /// Changes to every client you may see: the feed behind the facility and consultation
    /// views (自分の担当全体の変更通知). Same resume rules as `clientEvents`.
    async fn my_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Resume after this event cursor.")] after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ClientEvent>> + use<>> {
        events(ctx, Follow::AllMine, after).await
    }
}

async fn events(
    ctx: &Context<'_>,
    follow: Follow,
    after: Option<String>,
) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ClientEvent>> + use<>> {
    let state = ctx.state()?;
    let viewer = ctx.viewer()?;
    let after = after
        .as_deref()
        .map(|a| Cursor::decode("after", a))
        .transpose()?;
    let request = ctx.loaders()?.ctx.clone();
    let names = ctx.loaders()?.names();
    // A shared subscription gives each rendered event its cursor (see `http::ws::shared`).
    let shared = ctx.data_opt::<LastCursor>().cloned();
    // Boxed: async-graphql keeps this future's room beside the stream for the subscription's life.
    let stream = Box::pin(feed::open(state, viewer, follow, after)).await?;
    Ok(stream.map(move |item| {
        let item = item?;
        if let Some(last) = &shared {
            last.set(item.delivery.cursor().encode());
        }
        // Nested fields of this event resolve with the scope that authorized it, and with names
        // as they are now.
        request.set_scope(item.scope.clone());
        names.forget();
        Ok(ClientEvent(item))
    }))
}

/// The event cursor the feed last yielded, set by the subscription resolver (below) so that a
/// shared subscription (`http::ws::shared`) can give each response its cursor.
#[derive(Clone, Default)]
pub struct LastCursor(Arc<Mutex<Option<String>>>);

impl LastCursor {
    /// Records the cursor of the event just yielded.
    pub fn set(&self, cursor: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(cursor);
    }

    /// The cursor recorded since the last take.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}
