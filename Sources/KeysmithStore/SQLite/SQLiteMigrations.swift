import GRDB
import KeysmithCore

/// The embedded database's schema, as ordered migrations. Never edit a shipped migration; add a new one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-accounts-and-keys") { db in
            try db.execute(sql: """
                CREATE TABLE meta (
                    name TEXT PRIMARY KEY NOT NULL,
                    value BLOB NOT NULL
                );
                CREATE TABLE account (
                    uid TEXT PRIMARY KEY NOT NULL,
                    parent_uid TEXT REFERENCES account(uid),
                    name TEXT NOT NULL,
                    type TEXT NOT NULL,
                    acct_lv TEXT NOT NULL,
                    pos_mode TEXT NOT NULL,
                    deposits_allowed INTEGER NOT NULL,
                    frozen INTEGER NOT NULL DEFAULT 0,
                    label TEXT NOT NULL DEFAULT '',
                    created_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX account_single_master ON account((parent_uid IS NULL)) WHERE parent_uid IS NULL;
                CREATE UNIQUE INDEX account_sub_name ON account(parent_uid, name) WHERE parent_uid IS NOT NULL;
                CREATE TABLE api_key (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    api_key TEXT NOT NULL UNIQUE,
                    account_uid TEXT NOT NULL REFERENCES account(uid),
                    label TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    app TEXT,
                    permissions TEXT NOT NULL,
                    ip_allowlist TEXT NOT NULL,
                    algorithm TEXT NOT NULL DEFAULT 'hmac',
                    environment TEXT NOT NULL,
                    sealed_secret BLOB NOT NULL,
                    passphrase_verifier BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    revoked_at INTEGER,
                    revoke_reason TEXT,
                    change_seq INTEGER NOT NULL UNIQUE
                );
                CREATE UNIQUE INDEX api_key_active_label ON api_key(account_uid, label) WHERE revoked_at IS NULL;
                CREATE INDEX api_key_account ON api_key(account_uid);
                """)
        }
        migrator.registerMigration("v2-key-rate-limit") { db in
            // NULL: OKX's limits per endpoint family; else a RateLimit text form ("unlimited", "100/s").
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN rate_limit TEXT")
        }
        migrator.registerMigration("v3-key-last-use") { db in
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN last_used_at INTEGER")
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN last_used_ip TEXT")
        }
        migrator.registerMigration("v4-key-rotation") { db in
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN rotated_from TEXT")
        }
        migrator.registerMigration("v5-apps") { db in
            try db.execute(sql: """
                CREATE TABLE app (
                    name TEXT PRIMARY KEY NOT NULL,
                    ip_allowlist TEXT NOT NULL,
                    url TEXT,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX api_key_app ON api_key(app) WHERE app IS NOT NULL;
                """)
        }
        migrator.registerMigration("v6-ed25519-keys") { db in
            // Ed25519 keys: the public key only; their sealed_secret is empty.
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN public_key BLOB")
        }
        migrator.registerMigration("v7-trading-restrictions") { db in
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN instruments TEXT NOT NULL DEFAULT ''")
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN max_order_usdt TEXT")
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN max_daily_usdt TEXT")
        }
        migrator.registerMigration("v8-key-events") { db in
            try db.execute(sql: """
                CREATE TABLE key_event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    api_key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    expires_at INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    UNIQUE (api_key, kind, expires_at)
                );
                """)
        }
        migrator.registerMigration("v9-secret-fingerprints") { db in
            // A peppered HMAC of each HMAC secret, so that a leaked secret found by `keysmith scan` names its key.
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN secret_fingerprint BLOB")
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN secret_format TEXT NOT NULL DEFAULT 'hex'")
            try db.execute(sql: "CREATE UNIQUE INDEX api_key_secret_fingerprint ON api_key(secret_fingerprint) WHERE secret_fingerprint IS NOT NULL")
        }
        migrator.registerMigration("v10-pending-key-changes") { db in
            try db.execute(sql: """
                CREATE TABLE pending_key_change (
                    api_key TEXT PRIMARY KEY NOT NULL REFERENCES api_key(api_key),
                    permissions TEXT NOT NULL,
                    ip_allowlist TEXT NOT NULL,
                    requested_at INTEGER NOT NULL,
                    effective_at INTEGER NOT NULL
                );
                CREATE INDEX pending_key_change_due ON pending_key_change(effective_at);
                """)
        }
        migrator.registerMigration("v11-audit-and-alerts") { db in
            // The audit chain: append-only; seq is the chain order, hash covers the fields and prev_hash. No secondary
            // index: every index is one more B-tree insert per audited request, and searches (an investigator's tool,
            // over a table that retention keeps bounded) scan newest-first by seq, which is also time order.
            try db.execute(sql: """
                CREATE TABLE audit_event (
                    seq INTEGER PRIMARY KEY,
                    time INTEGER NOT NULL,
                    request_id TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    account TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    client_ip TEXT NOT NULL,
                    result TEXT NOT NULL,
                    latency_us INTEGER NOT NULL,
                    details TEXT NOT NULL,
                    prev_hash BLOB NOT NULL,
                    hash BLOB NOT NULL
                );
                CREATE TABLE audit_checkpoint (
                    seq INTEGER PRIMARY KEY,
                    hash BLOB NOT NULL,
                    time INTEGER NOT NULL,
                    signature BLOB NOT NULL
                );
                CREATE TABLE audit_anchor (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    seq INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    archived_to TEXT NOT NULL,
                    time INTEGER NOT NULL
                );
                CREATE TABLE key_ip_seen (
                    api_key TEXT NOT NULL,
                    ip TEXT NOT NULL,
                    first_seen INTEGER NOT NULL,
                    PRIMARY KEY (api_key, ip)
                ) WITHOUT ROWID;
                CREATE TABLE alert_sink (
                    name TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    email_from TEXT NOT NULL DEFAULT '',
                    email_to TEXT NOT NULL DEFAULT '',
                    events TEXT NOT NULL,
                    sealed_secret BLOB,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE alert_outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sink TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    audit_seq INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL,
                    last_error TEXT NOT NULL DEFAULT '',
                    created_at INTEGER NOT NULL,
                    delivered_at INTEGER
                );
                CREATE INDEX alert_outbox_due ON alert_outbox(next_attempt_at) WHERE status = 'pending';
                """)
        }
        migrator.registerMigration("v12-ledger") { db in
            // Amounts are whole numbers of each currency's smallest unit (10^-scale). Balances can never go below
            // zero: the CHECK constraints refuse it, whatever the code above them does.
            try db.execute(sql: """
                CREATE TABLE currency (
                    code TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    scale INTEGER NOT NULL CHECK (scale BETWEEN 0 AND 18),
                    chain TEXT NOT NULL,
                    withdrawal_fee INTEGER NOT NULL,
                    min_withdrawal INTEGER NOT NULL,
                    max_withdrawal INTEGER NOT NULL,
                    daily_withdrawal INTEGER NOT NULL,
                    can_deposit INTEGER NOT NULL,
                    can_withdraw INTEGER NOT NULL
                );
                CREATE TABLE balance (
                    account_uid TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('6', '18')),
                    ccy TEXT NOT NULL,
                    available INTEGER NOT NULL DEFAULT 0 CHECK (available >= 0),
                    frozen INTEGER NOT NULL DEFAULT 0 CHECK (frozen >= 0),
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (account_uid, kind, ccy)
                ) WITHOUT ROWID;
                CREATE TABLE movement (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    reference TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE ledger_entry (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    movement_id INTEGER NOT NULL REFERENCES movement(id),
                    account_uid TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    ccy TEXT NOT NULL,
                    available_delta INTEGER NOT NULL,
                    frozen_delta INTEGER NOT NULL
                );
                CREATE INDEX ledger_entry_movement ON ledger_entry(movement_id);
                CREATE TABLE deposit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    account_uid TEXT NOT NULL,
                    ccy TEXT NOT NULL,
                    amount INTEGER NOT NULL CHECK (amount > 0),
                    chain TEXT NOT NULL,
                    address TEXT NOT NULL,
                    tx_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX deposit_account ON deposit(account_uid, id);
                CREATE TABLE transfer (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    initiator_uid TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    ccy TEXT NOT NULL,
                    amount INTEGER NOT NULL CHECK (amount > 0),
                    from_uid TEXT NOT NULL,
                    from_kind TEXT NOT NULL,
                    to_uid TEXT NOT NULL,
                    to_kind TEXT NOT NULL,
                    sub_acct TEXT NOT NULL,
                    state TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX transfer_client_id ON transfer(initiator_uid, client_id) WHERE client_id != '';
                """)
            for currency in Currency.defaults {
                try SQLLedgerStore.save(currency, in: SQLTransaction(db))
            }
        }
        migrator.registerMigration("v13-instruments") { db in
            // Sizes are stored as text with their scale: tick and lot sizes define the precision of prices and sizes.
            try db.execute(sql: """
                CREATE TABLE instrument (
                    inst_id TEXT PRIMARY KEY NOT NULL,
                    base_ccy TEXT NOT NULL,
                    quote_ccy TEXT NOT NULL,
                    tick_sz TEXT NOT NULL,
                    lot_sz TEXT NOT NULL,
                    min_sz TEXT NOT NULL,
                    max_lmt_sz TEXT NOT NULL,
                    max_mkt_sz TEXT NOT NULL,
                    listed_at INTEGER NOT NULL
                );
                """)
            for instrument in Instrument.defaultSpot {
                try SQLTransaction(db).execute(
                    """
                    INSERT INTO instrument (inst_id, base_ccy, quote_ccy, tick_sz, lot_sz, min_sz, max_lmt_sz, max_mkt_sz, listed_at)
                    VALUES (\(instrument.id), \(instrument.base), \(instrument.quote), \(instrument.tickSize.fixedText),
                    \(instrument.lotSize.fixedText), \(instrument.minimumSize.fixedText), \(instrument.maximumLimitSize.fixedText),
                    \(instrument.maximumMarketSize.fixedText), \(instrument.listedAt))
                    """)
            }
        }
        migrator.registerMigration("v14-withdrawals") { db in
            try db.execute(sql: """
                CREATE TABLE withdrawal_address (
                    account_uid TEXT NOT NULL,
                    ccy TEXT NOT NULL,
                    address TEXT NOT NULL,
                    label TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (account_uid, ccy, address)
                ) WITHOUT ROWID;
                CREATE TABLE withdrawal (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    account_uid TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    ccy TEXT NOT NULL,
                    chain TEXT NOT NULL,
                    amount INTEGER NOT NULL CHECK (amount > 0),
                    fee INTEGER NOT NULL CHECK (fee >= 0),
                    to_addr TEXT NOT NULL,
                    state TEXT NOT NULL,
                    tx_id TEXT NOT NULL DEFAULT '',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX withdrawal_client_id ON withdrawal(account_uid, client_id) WHERE client_id != '';
                CREATE INDEX withdrawal_account ON withdrawal(account_uid, created_at);
                """)
        }
        migrator.registerMigration("v15-orders") { db in
            try db.execute(sql: """
                CREATE TABLE spot_order (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    client_order_id TEXT NOT NULL,
                    tag TEXT NOT NULL,
                    account_uid TEXT NOT NULL,
                    api_key TEXT NOT NULL,
                    inst_id TEXT NOT NULL,
                    side TEXT NOT NULL,
                    ord_type TEXT NOT NULL,
                    price INTEGER,
                    size INTEGER NOT NULL CHECK (size > 0),
                    tgt_ccy TEXT NOT NULL,
                    filled INTEGER NOT NULL CHECK (filled >= 0),
                    filled_notional INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    frozen INTEGER NOT NULL CHECK (frozen >= 0),
                    notional INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX spot_order_client_id ON spot_order(account_uid, client_order_id) WHERE client_order_id != '';
                CREATE INDEX spot_order_open ON spot_order(state) WHERE state IN ('live', 'partially_filled');
                CREATE INDEX spot_order_account ON spot_order(account_uid, id);
                CREATE INDEX spot_order_key_day ON spot_order(api_key, created_at);
                CREATE TABLE fill (
                    trade_id INTEGER PRIMARY KEY AUTOINCREMENT,
                    inst_id TEXT NOT NULL,
                    taker_order INTEGER NOT NULL,
                    maker_order INTEGER NOT NULL,
                    taker_uid TEXT NOT NULL,
                    maker_uid TEXT NOT NULL,
                    side TEXT NOT NULL,
                    price INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    notional INTEGER NOT NULL,
                    time INTEGER NOT NULL
                );
                CREATE INDEX fill_inst ON fill(inst_id, trade_id);
                CREATE INDEX fill_taker ON fill(taker_uid, trade_id);
                CREATE INDEX fill_maker ON fill(maker_uid, trade_id);
                """)
        }
        migrator.registerMigration("v16-transfer-out") { db in
            // Whether a sub-account may send funds to its siblings itself (OKX's "transfer out" setting).
            try db.execute(sql: "ALTER TABLE account ADD COLUMN can_transfer_out INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v17-console") { db in
            // Web-console operators (bcrypt hash, sealed TOTP secret, lockout) and their sessions.
            try db.execute(
                sql: """
                    CREATE TABLE console_user (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        password_hash TEXT NOT NULL,
                        totp_secret BLOB,
                        totp_enabled INTEGER NOT NULL DEFAULT 0,
                        failed_attempts INTEGER NOT NULL DEFAULT 0,
                        locked_until INTEGER,
                        last_totp_step INTEGER NOT NULL DEFAULT 0,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE console_session (
                        key TEXT PRIMARY KEY,
                        value BLOB NOT NULL,
                        expires_at INTEGER
                    );
                    CREATE INDEX console_session_expiry ON console_session(expires_at);
                    """)
        }
        migrator.registerMigration("v18-console-sign-in-hardening") { db in
            // A per-user session epoch (a session made under an older one has ended: the user's second factor changed
            // since), and wrong passwords counted per user and client network, so failures from one network never
            // lock the user out of another.
            try db.execute(
                sql: """
                    ALTER TABLE console_user ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE console_signin_failure (
                        user_id INTEGER NOT NULL REFERENCES console_user(id) ON DELETE CASCADE,
                        network TEXT NOT NULL,
                        failures INTEGER NOT NULL,
                        locked_until INTEGER,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (user_id, network)
                    );
                    CREATE INDEX console_signin_failure_updated ON console_signin_failure(updated_at);
                    """)
        }
        migrator.registerMigration("v19-order-fill-value") { db in
            // Σ fill price × size per order, exact (the average price), filled in from the fills already recorded (-1
            // where it does not fit 64 bits); the fills of one order found by its id (indexed first, so the fill-in
            // reads each order's fills through them); public trades paged by time.
            try db.execute(
                sql: """
                    CREATE INDEX fill_taker_order ON fill(taker_order);
                    CREATE INDEX fill_maker_order ON fill(maker_order);
                    CREATE INDEX fill_inst_time ON fill(inst_id, time, trade_id);
                    ALTER TABLE spot_order ADD COLUMN filled_value INTEGER NOT NULL DEFAULT 0;
                    UPDATE spot_order SET filled_value = COALESCE((
                        SELECT CASE WHEN SUM(CAST(price AS REAL) * size) < 9.0e18 THEN SUM(price * size) ELSE -1 END
                        FROM fill WHERE fill.taker_order = spot_order.id OR fill.maker_order = spot_order.id), 0);
                    """)
        }
        migrator.registerMigration("v20-maintenance-windows") { db in
            // The operator's maintenance windows (`keysmith maintenance`), listed by system/status.
            try db.execute(
                sql: """
                    CREATE TABLE maintenance_window (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        title TEXT NOT NULL,
                        begin_at INTEGER NOT NULL,
                        end_at INTEGER NOT NULL CHECK (end_at > begin_at),
                        service_type TEXT NOT NULL,
                        canceled_at INTEGER,
                        completed_at INTEGER,
                        created_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v21-fees-and-bills") { db in
            // The fee schedule (rates per level and instrument type, OKX's Lv1 rates to start with) and the accounts
            // off the default level; each fill's fees and rates, each order's fees and latest fill; and what each
            // ledger line tells its account's bill: its order, trade and fee, and the balance it left (filled in for
            // the lines already recorded, as the running sum of each balance's changes).
            try db.execute(sql: PortableMigrations.feesAndBills.joined(separator: ";\n"))
            try db.execute(
                sql: """
                    UPDATE ledger_entry SET balance_after = running.total FROM (
                        SELECT id, SUM(available_delta + frozen_delta) OVER (PARTITION BY account_uid, kind, ccy ORDER BY id) AS total
                        FROM ledger_entry WHERE account_uid != 'world') AS running
                    WHERE running.id = ledger_entry.id
                    """)
        }
        migrator.registerMigration("v22-swaps") { db in
            try db.execute(sql: PortableMigrations.swaps.joined(separator: ";\n"))
        }
        migrator.registerMigration("v23-positions") { db in
            try db.execute(sql: PortableMigrations.positions(identity: "id INTEGER PRIMARY KEY AUTOINCREMENT").joined(separator: ";\n"))
        }
        migrator.registerMigration("v24-mark-candles") { db in
            try db.execute(sql: PortableMigrations.markCandles.joined(separator: ";\n"))
        }
        migrator.registerMigration("v25-amendments") { db in
            try db.execute(sql: PortableMigrations.amendments.joined(separator: ";\n"))
        }
        return migrator
    }
}
