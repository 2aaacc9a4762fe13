/// Migration statements both databases run as written (every type in them means the same in SQLite and
/// PostgreSQL: `INTEGER` columns that hold 64-bit amounts are `BIGINT` on PostgreSQL, so these use `BIGINT`, which
/// SQLite reads as an integer).
enum PortableMigrations {
    /// The fee schedule, fees on fills and orders, and the ledger lines' bill details.
    static let feesAndBills: [String] = [
        """
        CREATE TABLE fee_rate (
            level TEXT NOT NULL,
            inst_type TEXT NOT NULL,
            maker TEXT NOT NULL,
            taker TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (level, inst_type)
        )
        """,
        """
        CREATE TABLE account_fee_level (
            account_uid TEXT PRIMARY KEY NOT NULL,
            level TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        // OKX's Lv1 rates as published when this migration was written (FeeSchedule.defaults may change later;
        // a migration never does).
        "INSERT INTO fee_rate (level, inst_type, maker, taker, updated_at) VALUES ('Lv1', 'SPOT', '-0.0008', '-0.001', 0)",
        "INSERT INTO fee_rate (level, inst_type, maker, taker, updated_at) VALUES ('Lv1', 'MARGIN', '-0.0008', '-0.001', 0)",
        "INSERT INTO fee_rate (level, inst_type, maker, taker, updated_at) VALUES ('Lv1', 'SWAP', '-0.0002', '-0.0005', 0)",
        "INSERT INTO fee_rate (level, inst_type, maker, taker, updated_at) VALUES ('Lv1', 'FUTURES', '-0.0002', '-0.0005', 0)",
        "ALTER TABLE spot_order ADD COLUMN fee BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE spot_order ADD COLUMN last_trade_id BIGINT",
        "ALTER TABLE fill ADD COLUMN taker_fee BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE fill ADD COLUMN maker_fee BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE fill ADD COLUMN taker_fee_rate TEXT NOT NULL DEFAULT '0'",
        "ALTER TABLE fill ADD COLUMN maker_fee_rate TEXT NOT NULL DEFAULT '0'",
        "ALTER TABLE ledger_entry ADD COLUMN order_id BIGINT",
        "ALTER TABLE ledger_entry ADD COLUMN trade_id BIGINT",
        "ALTER TABLE ledger_entry ADD COLUMN fee BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE ledger_entry ADD COLUMN balance_after BIGINT",
        "CREATE INDEX ledger_entry_bills ON ledger_entry(account_uid, kind, id)",
        """
        UPDATE spot_order SET last_trade_id = (
            SELECT MAX(trade_id) FROM fill WHERE fill.taker_order = spot_order.id OR fill.maker_order = spot_order.id)
        """,
    ]

    /// Linear perpetual swaps: instruments gain a type, a contract value and a maximum leverage, BTC-USDT-SWAP and
    /// ETH-USDT-SWAP are listed with OKX's terms, and each account's leverage per instrument, margin mode and side is
    /// kept once it is set; a key may be limited to some products (`--products spot,swap`); the operator may pin an instrument's mark price (`keysmith mark set`).
    static let swaps: [String] = [
        "ALTER TABLE instrument ADD COLUMN inst_type TEXT NOT NULL DEFAULT 'SPOT'",
        "ALTER TABLE instrument ADD COLUMN ct_val TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE instrument ADD COLUMN max_lever BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE api_key ADD COLUMN products TEXT NOT NULL DEFAULT ''",
        """
        INSERT INTO instrument (inst_id, base_ccy, quote_ccy, tick_sz, lot_sz, min_sz, max_lmt_sz, max_mkt_sz, listed_at,
        inst_type, ct_val, max_lever) VALUES
        ('BTC-USDT-SWAP', 'BTC', 'USDT', '0.1', '0.01', '0.01', '100000000.00', '35000.00', 1573557408000, 'SWAP', '0.01', 100),
        ('ETH-USDT-SWAP', 'ETH', 'USDT', '0.01', '0.01', '0.01', '100000000.00', '90000.00', 1573557408000, 'SWAP', '0.1', 100)
        ON CONFLICT (inst_id) DO NOTHING
        """,
        """
        CREATE TABLE leverage_setting (
            account_uid TEXT NOT NULL,
            inst_id TEXT NOT NULL,
            mgn_mode TEXT NOT NULL,
            pos_side TEXT NOT NULL,
            lever TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (account_uid, inst_id, mgn_mode, pos_side)
        )
        """,
        """
        CREATE TABLE mark_price_pin (
            inst_id TEXT PRIMARY KEY NOT NULL,
            px TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
    ]

    /// SWAP positions: each order's margin mode, position side, reduce-only flag and leverage; each fill's realised
    /// profit or loss per side; positions (one row per account, instrument, margin mode and side, kept at zero once
    /// closed) and the closed ones' history; funding settlements, and the operator's requests to settle now.
    /// `identity` is the database's auto-increment id column.
    static func positions(identity: String) -> [String] {
        [
            "ALTER TABLE spot_order ADD COLUMN td_mode TEXT NOT NULL DEFAULT 'cash'",
            "ALTER TABLE spot_order ADD COLUMN pos_side TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE spot_order ADD COLUMN reduce_only BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE spot_order ADD COLUMN lever TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE fill ADD COLUMN taker_pnl BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE fill ADD COLUMN maker_pnl BIGINT NOT NULL DEFAULT 0",
            """
            CREATE TABLE position (
                \(identity),
                account_uid TEXT NOT NULL,
                inst_id TEXT NOT NULL,
                mgn_mode TEXT NOT NULL,
                pos_side TEXT NOT NULL,
                pos BIGINT NOT NULL,
                open_value BIGINT NOT NULL,
                margin BIGINT NOT NULL CHECK (margin >= 0),
                lever TEXT NOT NULL,
                realized_pnl BIGINT NOT NULL,
                fee BIGINT NOT NULL,
                funding_fee BIGINT NOT NULL,
                max_pos BIGINT NOT NULL,
                opened BIGINT NOT NULL,
                opened_value BIGINT NOT NULL,
                closed BIGINT NOT NULL,
                closed_value BIGINT NOT NULL,
                last_trade_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (account_uid, inst_id, mgn_mode, pos_side)
            )
            """,
            """
            CREATE TABLE position_history (
                \(identity),
                pos_id BIGINT NOT NULL,
                account_uid TEXT NOT NULL,
                inst_id TEXT NOT NULL,
                mgn_mode TEXT NOT NULL,
                pos_side TEXT NOT NULL,
                direction TEXT NOT NULL,
                close_type BIGINT NOT NULL,
                lever TEXT NOT NULL,
                realized_pnl BIGINT NOT NULL,
                fee BIGINT NOT NULL,
                funding_fee BIGINT NOT NULL,
                max_pos BIGINT NOT NULL,
                opened BIGINT NOT NULL,
                opened_value BIGINT NOT NULL,
                closed BIGINT NOT NULL,
                closed_value BIGINT NOT NULL,
                last_trade_id BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX position_history_account ON position_history(account_uid, id)",
            """
            CREATE TABLE funding_settlement (
                inst_id TEXT NOT NULL,
                funding_time BIGINT NOT NULL,
                rate TEXT NOT NULL,
                mark TEXT NOT NULL,
                method TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (inst_id, funding_time)
            )
            """,
            """
            CREATE TABLE funding_request (
                \(identity),
                inst_id TEXT NOT NULL,
                requested_at BIGINT NOT NULL,
                settled_at BIGINT
            )
            """,
        ]
    }

    /// Mark prices by the minute, per perpetual (the serving node records the mark it measures each second):
    /// `market/mark-price-candles` aggregates them. Prices in units of `px_scale` decimals (the swap's tick).
    /// Funding requests are claimed (`claimed_at`) before they are settled (`settled_at`, with the failure's
    /// message in `outcome`, empty when settled).
    /// Amended orders: where an amendment put an order in its price level's queue (`queue_seq`, a value of the
    /// orders' id sequence; NULL: its id), and what amendments added to their keys' daily spending.
    static let amendments: [String] = [
        "ALTER TABLE spot_order ADD COLUMN queue_seq BIGINT",
        "CREATE TABLE amend_spending (api_key TEXT NOT NULL, at BIGINT NOT NULL, amount BIGINT NOT NULL)",
        "CREATE INDEX amend_spending_key_day ON amend_spending(api_key, at)",
    ]

    static let markCandles: [String] = [
        "ALTER TABLE funding_request ADD COLUMN claimed_at BIGINT",
        "ALTER TABLE funding_request ADD COLUMN outcome TEXT NOT NULL DEFAULT ''",
        """
        CREATE TABLE mark_price_minute (
            inst_id TEXT NOT NULL,
            minute BIGINT NOT NULL,
            px_scale BIGINT NOT NULL,
            open_px BIGINT NOT NULL,
            high_px BIGINT NOT NULL,
            low_px BIGINT NOT NULL,
            close_px BIGINT NOT NULL,
            PRIMARY KEY (inst_id, minute)
        )
        """
    ]
}
