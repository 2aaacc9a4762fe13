import KeysmithCore
import PostgresNIO

/// The PostgreSQL schema, as ordered migrations (one statement per entry: the extended query protocol runs one
/// statement at a time). Never edit a shipped migration; add a new one. `PostgresDatabase.migrate()` applies the
/// missing ones in one transaction under an advisory lock, so nodes starting together migrate once.
///
/// The tables mirror the embedded schema (``SQLiteMigrations``' final state) with PostgreSQL types: `BIGINT` for
/// amounts and times, `BYTEA` for sealed values and hashes, `BOOLEAN` for flags. The same CHECK constraints keep
/// balances from going below zero whatever the code above them does.
enum PostgresMigrations {
    struct Migration: Sendable {
        let name: String
        let statements: [String]
    }

    static let all: [Migration] = [
        Migration(name: "v1-schema", statements: schema),
        Migration(
            name: "v2-shared-replay",
            statements: [
                // Signed POSTs accepted by any node, until their timestamp leaves the window (see PostgresReplayStore).
                "CREATE TABLE replay_seen (digest BYTEA PRIMARY KEY, expires_at BIGINT NOT NULL)",
                "CREATE INDEX replay_seen_expiry ON replay_seen(expires_at)",
            ]),
        Migration(
            name: "v3-shared-rate-limits",
            statements: [
                // Per key, endpoint family and limit: a token bucket the nodes take leases from (PostgresRateBudget).
                """
                CREATE TABLE rate_bucket (
                    subject TEXT NOT NULL,
                    family TEXT NOT NULL,
                    tokens DOUBLE PRECISION NOT NULL,
                    updated_at BIGINT NOT NULL,
                    last_grant INTEGER NOT NULL,
                    expires_at BIGINT NOT NULL,
                    PRIMARY KEY (subject, family)
                )
                """,
                "CREATE INDEX rate_bucket_expiry ON rate_bucket(expires_at)",
            ]),
        Migration(
            name: "v4-console-sign-in-hardening",
            statements: [
                // A per-user session epoch (a session made under an older one has ended: the user's second factor
                // changed since), and wrong passwords counted per user and client network (ConsoleFailureScope).
                "ALTER TABLE console_user ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0",
                """
                CREATE TABLE console_signin_failure (
                    user_id BIGINT NOT NULL REFERENCES console_user(id) ON DELETE CASCADE,
                    network TEXT NOT NULL,
                    failures INTEGER NOT NULL,
                    locked_until BIGINT,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (user_id, network)
                )
                """,
                "CREATE INDEX console_signin_failure_updated ON console_signin_failure(updated_at)",
            ]),
        Migration(
            name: "v5-order-fill-value",
            statements: [
                // Σ fill price × size per order, exact (the average price), filled in from the fills already recorded
                // (-1 where it does not fit 64 bits); the fills of one order found by its id (indexed first, so the
                // fill-in reads each order's fills through them); public trades paged by time.
                "CREATE INDEX fill_taker_order ON fill(taker_order)",
                "CREATE INDEX fill_maker_order ON fill(maker_order)",
                "CREATE INDEX fill_inst_time ON fill(inst_id, time, trade_id)",
                "ALTER TABLE spot_order ADD COLUMN filled_value BIGINT NOT NULL DEFAULT 0",
                """
                UPDATE spot_order SET filled_value = COALESCE((
                    SELECT CASE WHEN SUM(price::numeric * size) <= 9223372036854775807 THEN SUM(price::numeric * size)::bigint ELSE -1 END
                    FROM fill WHERE fill.taker_order = spot_order.id OR fill.maker_order = spot_order.id), 0)
                """,
            ]),
        Migration(
            name: "v6-maintenance-windows",
            statements: [
                // The operator's maintenance windows (`keysmith maintenance`), listed by system/status.
                """
                CREATE TABLE maintenance_window (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    title TEXT NOT NULL,
                    begin_at BIGINT NOT NULL,
                    end_at BIGINT NOT NULL CHECK (end_at > begin_at),
                    service_type TEXT NOT NULL,
                    canceled_at BIGINT,
                    completed_at BIGINT,
                    created_at BIGINT NOT NULL
                )
                """,
            ]),
        Migration(
            name: "v7-fees-and-bills",
            statements: PortableMigrations.feesAndBills + [
                // See the SQLite migration v21-fees-and-bills.
                """
                UPDATE ledger_entry SET balance_after = running.total FROM (
                    SELECT id, SUM(available_delta + frozen_delta) OVER (PARTITION BY account_uid, kind, ccy ORDER BY id)::bigint AS total
                    FROM ledger_entry WHERE account_uid != 'world') AS running
                WHERE running.id = ledger_entry.id
                """,
            ]),
        Migration(name: "v8-swaps", statements: PortableMigrations.swaps),
        Migration(name: "v9-positions", statements: PortableMigrations.positions(identity: "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")),
        Migration(name: "v10-mark-candles", statements: PortableMigrations.markCandles),
        Migration(name: "v11-amendments", statements: PortableMigrations.amendments),
    ]

    /// Rows every installation starts with (currencies and instruments), inserted by the first migration.
    static func seed(on connection: PostgresConnection, logger: Logger) async throws {
        for currency in Currency.defaults {
            try await connection.query(
                """
                INSERT INTO currency (code, name, scale, chain, withdrawal_fee, min_withdrawal, max_withdrawal, daily_withdrawal,
                can_deposit, can_withdraw) VALUES (\(currency.code), \(currency.name), \(Int64(currency.scale)), \(currency.chain),
                \(currency.withdrawalFee.units), \(currency.minimumWithdrawal.units), \(currency.maximumWithdrawal.units),
                \(currency.dailyWithdrawalLimit.units), \(currency.canDeposit), \(currency.canWithdraw))
                ON CONFLICT (code) DO NOTHING
                """, logger: logger)
        }
        for instrument in Instrument.defaultSpot {
            try await connection.query(
                """
                INSERT INTO instrument (inst_id, base_ccy, quote_ccy, tick_sz, lot_sz, min_sz, max_lmt_sz, max_mkt_sz, listed_at)
                VALUES (\(instrument.id), \(instrument.base), \(instrument.quote), \(instrument.tickSize.fixedText),
                \(instrument.lotSize.fixedText), \(instrument.minimumSize.fixedText), \(instrument.maximumLimitSize.fixedText),
                \(instrument.maximumMarketSize.fixedText), \(instrument.listedAt))
                ON CONFLICT (inst_id) DO NOTHING
                """, logger: logger)
        }
    }

    static let schema: [String] = [
        """
        CREATE TABLE meta (
            name TEXT PRIMARY KEY,
            value BYTEA NOT NULL
        )
        """,
        """
        CREATE TABLE account (
            uid TEXT PRIMARY KEY,
            parent_uid TEXT REFERENCES account(uid),
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            acct_lv TEXT NOT NULL,
            pos_mode TEXT NOT NULL,
            deposits_allowed BOOLEAN NOT NULL,
            frozen BOOLEAN NOT NULL DEFAULT FALSE,
            label TEXT NOT NULL DEFAULT '',
            can_transfer_out BOOLEAN NOT NULL DEFAULT FALSE,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX account_single_master ON account((parent_uid IS NULL)) WHERE parent_uid IS NULL",
        "CREATE UNIQUE INDEX account_sub_name ON account(parent_uid, name) WHERE parent_uid IS NOT NULL",
        """
        CREATE TABLE app (
            name TEXT PRIMARY KEY,
            ip_allowlist TEXT NOT NULL,
            url TEXT,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE api_key (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            api_key TEXT NOT NULL UNIQUE,
            account_uid TEXT NOT NULL REFERENCES account(uid),
            label TEXT NOT NULL,
            purpose TEXT NOT NULL,
            app TEXT,
            permissions TEXT NOT NULL,
            ip_allowlist TEXT NOT NULL,
            algorithm TEXT NOT NULL DEFAULT 'hmac',
            environment TEXT NOT NULL,
            sealed_secret BYTEA NOT NULL,
            passphrase_verifier BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT,
            revoked_at BIGINT,
            revoke_reason TEXT,
            change_seq BIGINT NOT NULL UNIQUE,
            rate_limit TEXT,
            last_used_at BIGINT,
            last_used_ip TEXT,
            rotated_from TEXT,
            public_key BYTEA,
            instruments TEXT NOT NULL DEFAULT '',
            max_order_usdt TEXT,
            max_daily_usdt TEXT,
            secret_fingerprint BYTEA,
            secret_format TEXT NOT NULL DEFAULT 'hex'
        )
        """,
        "CREATE UNIQUE INDEX api_key_active_label ON api_key(account_uid, label) WHERE revoked_at IS NULL",
        "CREATE INDEX api_key_account ON api_key(account_uid)",
        "CREATE INDEX api_key_app ON api_key(app) WHERE app IS NOT NULL",
        "CREATE UNIQUE INDEX api_key_secret_fingerprint ON api_key(secret_fingerprint) WHERE secret_fingerprint IS NOT NULL",
        """
        CREATE TABLE key_event (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            api_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            expires_at BIGINT NOT NULL,
            reason TEXT NOT NULL,
            at BIGINT NOT NULL,
            UNIQUE (api_key, kind, expires_at)
        )
        """,
        """
        CREATE TABLE pending_key_change (
            api_key TEXT PRIMARY KEY REFERENCES api_key(api_key),
            permissions TEXT NOT NULL,
            ip_allowlist TEXT NOT NULL,
            requested_at BIGINT NOT NULL,
            effective_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX pending_key_change_due ON pending_key_change(effective_at)",
        """
        CREATE TABLE audit_event (
            seq BIGINT PRIMARY KEY,
            time BIGINT NOT NULL,
            request_id TEXT NOT NULL,
            actor TEXT NOT NULL,
            account TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            client_ip TEXT NOT NULL,
            result TEXT NOT NULL,
            latency_us BIGINT NOT NULL,
            details TEXT NOT NULL,
            prev_hash BYTEA NOT NULL,
            hash BYTEA NOT NULL
        )
        """,
        """
        CREATE TABLE audit_checkpoint (
            seq BIGINT PRIMARY KEY,
            hash BYTEA NOT NULL,
            time BIGINT NOT NULL,
            signature BYTEA NOT NULL
        )
        """,
        """
        CREATE TABLE audit_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq BIGINT NOT NULL,
            hash BYTEA NOT NULL,
            archived_to TEXT NOT NULL,
            time BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE key_ip_seen (
            api_key TEXT NOT NULL,
            ip TEXT NOT NULL,
            first_seen BIGINT NOT NULL,
            PRIMARY KEY (api_key, ip)
        )
        """,
        """
        CREATE TABLE alert_sink (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            email_from TEXT NOT NULL DEFAULT '',
            email_to TEXT NOT NULL DEFAULT '',
            events TEXT NOT NULL,
            sealed_secret BYTEA,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE alert_outbox (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            sink TEXT NOT NULL,
            kind TEXT NOT NULL,
            audit_seq BIGINT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            created_at BIGINT NOT NULL,
            delivered_at BIGINT
        )
        """,
        "CREATE INDEX alert_outbox_due ON alert_outbox(next_attempt_at) WHERE status = 'pending'",
        """
        CREATE TABLE currency (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            scale INTEGER NOT NULL CHECK (scale BETWEEN 0 AND 18),
            chain TEXT NOT NULL,
            withdrawal_fee BIGINT NOT NULL,
            min_withdrawal BIGINT NOT NULL,
            max_withdrawal BIGINT NOT NULL,
            daily_withdrawal BIGINT NOT NULL,
            can_deposit BOOLEAN NOT NULL,
            can_withdraw BOOLEAN NOT NULL
        )
        """,
        """
        CREATE TABLE balance (
            account_uid TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('6', '18')),
            ccy TEXT NOT NULL,
            available BIGINT NOT NULL DEFAULT 0 CONSTRAINT balance_available_not_negative CHECK (available >= 0),
            frozen BIGINT NOT NULL DEFAULT 0 CONSTRAINT balance_frozen_not_negative CHECK (frozen >= 0),
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_uid, kind, ccy)
        )
        """,
        """
        CREATE TABLE movement (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind TEXT NOT NULL,
            reference TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE ledger_entry (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            movement_id BIGINT NOT NULL REFERENCES movement(id),
            account_uid TEXT NOT NULL,
            kind TEXT NOT NULL,
            ccy TEXT NOT NULL,
            available_delta BIGINT NOT NULL,
            frozen_delta BIGINT NOT NULL
        )
        """,
        "CREATE INDEX ledger_entry_movement ON ledger_entry(movement_id)",
        """
        CREATE TABLE deposit (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account_uid TEXT NOT NULL,
            ccy TEXT NOT NULL,
            amount BIGINT NOT NULL CHECK (amount > 0),
            chain TEXT NOT NULL,
            address TEXT NOT NULL,
            tx_id TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX deposit_account ON deposit(account_uid, id)",
        """
        CREATE TABLE transfer (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            initiator_uid TEXT NOT NULL,
            client_id TEXT NOT NULL,
            type TEXT NOT NULL,
            ccy TEXT NOT NULL,
            amount BIGINT NOT NULL CHECK (amount > 0),
            from_uid TEXT NOT NULL,
            from_kind TEXT NOT NULL,
            to_uid TEXT NOT NULL,
            to_kind TEXT NOT NULL,
            sub_acct TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX transfer_client_id ON transfer(initiator_uid, client_id) WHERE client_id != ''",
        """
        CREATE TABLE instrument (
            inst_id TEXT PRIMARY KEY,
            base_ccy TEXT NOT NULL,
            quote_ccy TEXT NOT NULL,
            tick_sz TEXT NOT NULL,
            lot_sz TEXT NOT NULL,
            min_sz TEXT NOT NULL,
            max_lmt_sz TEXT NOT NULL,
            max_mkt_sz TEXT NOT NULL,
            listed_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE withdrawal_address (
            account_uid TEXT NOT NULL,
            ccy TEXT NOT NULL,
            address TEXT NOT NULL,
            label TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (account_uid, ccy, address)
        )
        """,
        """
        CREATE TABLE withdrawal (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            account_uid TEXT NOT NULL,
            client_id TEXT NOT NULL,
            ccy TEXT NOT NULL,
            chain TEXT NOT NULL,
            amount BIGINT NOT NULL CHECK (amount > 0),
            fee BIGINT NOT NULL CHECK (fee >= 0),
            to_addr TEXT NOT NULL,
            state TEXT NOT NULL,
            tx_id TEXT NOT NULL DEFAULT '',
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX withdrawal_client_id ON withdrawal(account_uid, client_id) WHERE client_id != ''",
        "CREATE INDEX withdrawal_account ON withdrawal(account_uid, created_at)",
        """
        CREATE TABLE spot_order (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            client_order_id TEXT NOT NULL,
            tag TEXT NOT NULL,
            account_uid TEXT NOT NULL,
            api_key TEXT NOT NULL,
            inst_id TEXT NOT NULL,
            side TEXT NOT NULL,
            ord_type TEXT NOT NULL,
            price BIGINT,
            size BIGINT NOT NULL CHECK (size > 0),
            tgt_ccy TEXT NOT NULL,
            filled BIGINT NOT NULL CHECK (filled >= 0),
            filled_notional BIGINT NOT NULL,
            state TEXT NOT NULL,
            frozen BIGINT NOT NULL CHECK (frozen >= 0),
            notional BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX spot_order_client_id ON spot_order(account_uid, client_order_id) WHERE client_order_id != ''",
        "CREATE INDEX spot_order_open ON spot_order(state) WHERE state IN ('live', 'partially_filled')",
        "CREATE INDEX spot_order_account ON spot_order(account_uid, id)",
        "CREATE INDEX spot_order_key_day ON spot_order(api_key, created_at)",
        """
        CREATE TABLE fill (
            trade_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            inst_id TEXT NOT NULL,
            taker_order BIGINT NOT NULL,
            maker_order BIGINT NOT NULL,
            taker_uid TEXT NOT NULL,
            maker_uid TEXT NOT NULL,
            side TEXT NOT NULL,
            price BIGINT NOT NULL,
            size BIGINT NOT NULL,
            notional BIGINT NOT NULL,
            time BIGINT NOT NULL
        )
        """,
        "CREATE INDEX fill_inst ON fill(inst_id, trade_id)",
        "CREATE INDEX fill_taker ON fill(taker_uid, trade_id)",
        "CREATE INDEX fill_maker ON fill(maker_uid, trade_id)",
        """
        CREATE TABLE console_user (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            totp_secret BYTEA,
            totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until BIGINT,
            last_totp_step BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX console_user_email ON console_user(lower(email))",
        """
        CREATE TABLE console_session (
            key TEXT PRIMARY KEY,
            value BYTEA NOT NULL,
            expires_at BIGINT
        )
        """,
        "CREATE INDEX console_session_expiry ON console_session(expires_at)",
    ]
}
