//! Chaining audit entries on PostgreSQL: a use case commits its entry as *pending*,
//! without waiting for the chain, and a sealer moves committed entries into the chain
//! in batches, under the advisory lock that keeps the chain one chain across servers.
//!
//! Why: an entry's hash covers its predecessor's, so whoever appends to the chain must
//! hold its lock from reading the head until commit. When every use case appended its
//! own entry, every kiosk and counter of every server queued on that lock for three
//! round trips and a WAL flush each, and the lock (not the CPU) set the throughput.
//! Now only the sealer takes it, once per batch, and use cases commit side by side.
//!
//! Every reader of the audit log seals first ([`Store::seal_audit`]), so it sees every
//! entry committed before it asked; a day close seals inside its own transaction and
//! records the head that covers them. SQLite needs none of this: its use cases hold
//! the database's only write lock anyway, and chain their entry as they commit.

use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

use crate::error::StoreError;
use crate::ledger::{AUDIT_LOCK, AuditEntry, AuditRow, GENESIS};
use crate::{Pool, Store};

/// Entries chained per sealing transaction.
const BATCH: i64 = 2000;

/// How long a woken sealer lets entries gather before it seals them. A round costs a
/// transaction of its own (the lock, the head, the batch, a WAL flush) whether it chains
/// one entry or hundreds: under kiosk load, rounds of one entry each cost PostgreSQL
/// more than the issuances themselves. Readers never wait for this: they seal first.
const GATHER: std::time::Duration = std::time::Duration::from_millis(50);

/// A pending entry as read back: its id, then the entry's columns.
type PendingRow = (i64, String, String, String, String, String, String);

/// Takes the chain's lock in `conn`'s open transaction and chains up to `limit`
/// pending entries, oldest first. Returns the chain's head afterwards and how many
/// entries were chained; the lock holds until the transaction ends.
pub(crate) async fn seal_in(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<(String, usize), StoreError> {
    // The lock and the head in one round trip (migration 0008). Under READ COMMITTED
    // the statements below see every entry committed before the lock was granted.
    const LOCK_HEAD: &str = "SELECT seq, hash FROM kofu_audit_lock_head($1)";
    const PENDING: &str = "SELECT id, at, actor, action, target, detail, records \
                           FROM audit_pending ORDER BY id LIMIT $1";
    const INSERT: &str = "INSERT INTO audit_log \
        (seq, at, actor, action, target, detail, records, prev_hash, hash) \
        SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                             $6::text[], $7::text[], $8::text[], $9::text[])";
    const DELETE: &str = "DELETE FROM audit_pending WHERE id = ANY($1)";
    let (seq, hash): (Option<i64>, Option<String>) = sqlx::query_as(LOCK_HEAD)
        .bind(AUDIT_LOCK)
        .fetch_one(&mut *conn)
        .await?;
    let (mut seq, mut head) = seq.zip(hash).unwrap_or((0, GENESIS.to_owned()));
    let pending: Vec<PendingRow> = sqlx::query_as(PENDING)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let n = pending.len();
    if n == 0 {
        return Ok((head, 0));
    }
    let mut ids = Vec::with_capacity(n);
    let mut columns: [Vec<String>; 8] = Default::default();
    let mut seqs = Vec::with_capacity(n);
    for (id, at, actor, action, target, detail, records) in pending {
        seq += 1;
        let entry = AuditEntry {
            at,
            actor,
            action,
            target,
            detail,
        };
        let row = AuditRow::chained(seq, head, entry, records);
        head = row.hash.clone();
        ids.push(id);
        seqs.push(row.seq);
        let values = [
            row.at,
            row.actor,
            row.action,
            row.target,
            row.detail,
            row.records,
            row.prev_hash,
            row.hash,
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
    }
    let mut insert = sqlx::query(INSERT).bind(seqs);
    for column in columns {
        insert = insert.bind(column);
    }
    insert.execute(&mut *conn).await?;
    sqlx::query(DELETE).bind(ids).execute(&mut *conn).await?;
    Ok((head, n))
}

/// Chains every entry pending when it is called, in transactions of up to [`BATCH`].
async fn seal_all(pool: &PgPool) -> Result<usize, StoreError> {
    const ANY: &str = "SELECT EXISTS (SELECT 1 FROM audit_pending)";
    let mut total = 0;
    loop {
        // Nothing pending (the common case for a reader): no lock, no transaction.
        if !sqlx::query_scalar::<_, bool>(ANY).fetch_one(pool).await? {
            return Ok(total);
        }
        let mut tx = pool.begin().await?;
        let (_, n) = seal_in(&mut tx, BATCH).await?;
        tx.commit().await?;
        total += n;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

/// The handle of a store's background sealer (PostgreSQL): a use case wakes it after
/// committing a pending entry. The task ends when the last handle is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Sealer {
    wake: mpsc::Sender<()>,
}

impl Sealer {
    /// Starts the sealer of `pool`, which first chains whatever an earlier process
    /// left pending (a crash, or a command that exited after its commit).
    pub(crate) fn start(pool: PgPool) -> Sealer {
        // One slot: a wake while the sealer runs queues exactly one more round, which
        // picks up every entry committed after the running round read its batch.
        let (wake, mut woken) = mpsc::channel::<()>(1);
        let _ = wake.try_send(());
        tokio::spawn(async move {
            while woken.recv().await.is_some() {
                // Wakes that come meanwhile fill the one slot: they are served by this
                // round or, if after its read, the next.
                tokio::time::sleep(GATHER).await;
                if let Err(e) = seal_all(&pool).await {
                    // The entries stay pending, committed: the next round or the next
                    // reader chains them.
                    tracing::warn!(error = %e, "audit entries left pending for now");
                }
            }
        });
        Sealer { wake }
    }

    /// Asks for a round (never waits: a round already queued covers this entry).
    pub(crate) fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

impl Store {
    /// Chains the audit entries committed but not yet chained, and returns how many.
    /// On PostgreSQL use cases commit their entries as pending and a background
    /// sealer chains them within moments; every reader of the audit log calls this
    /// first, so it sees every entry committed before it. On SQLite every entry is
    /// chained as it commits, and this returns 0.
    pub async fn seal_audit(&self) -> Result<usize, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => Ok(0),
            Pool::Postgres(pool) => seal_all(pool).await,
        }
    }
}
