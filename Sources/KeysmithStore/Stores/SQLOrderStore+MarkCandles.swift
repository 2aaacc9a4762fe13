import KeysmithCore

extension SQLOrderStore {
    public func recordMarkMinute(_ candle: PriceCandle) async throws(StoreError) {
        try await database.write { tx throws(StoreError) in
            try tx.execute(
                """
                INSERT INTO mark_price_minute (inst_id, minute, px_scale, open_px, high_px, low_px, close_px)
                VALUES (\(candle.instrument), \(candle.start), \(Int64(candle.scale)), \(candle.open), \(candle.high), \(candle.low),
                \(candle.close))
                ON CONFLICT (inst_id, minute) DO UPDATE SET
                high_px = CASE WHEN excluded.high_px > mark_price_minute.high_px THEN excluded.high_px ELSE mark_price_minute.high_px END,
                low_px = CASE WHEN excluded.low_px < mark_price_minute.low_px THEN excluded.low_px ELSE mark_price_minute.low_px END,
                close_px = excluded.close_px
                """)
        }
    }

    public func latestMarkMinute(instrument: String, before time: Int64, after floor: Int64?) async throws(StoreError) -> Int64? {
        try await database.value(
            """
            SELECT MAX(minute) FROM mark_price_minute WHERE inst_id = \(instrument) AND minute < \(time)
            AND (CAST(\(floor) AS BIGINT) IS NULL OR minute > \(floor))
            """, as: Int64?.self) ?? nil
    }

    public func markCandle(instrument: String, from start: Int64, to end: Int64) async throws(StoreError) -> PriceCandle? {
        // Aggregated in the database: a month holds 43,200 minutes. The scale is the latest minute's (a tick changed
        // within the period is the one case that reads oddly).
        let rows = try await database.fetchAll(
            """
            SELECT MAX(high_px) AS high_px, MIN(low_px) AS low_px,
            (SELECT open_px FROM mark_price_minute WHERE inst_id = \(instrument) AND minute >= \(start) AND minute < \(end)
             ORDER BY minute ASC LIMIT 1) AS open_px,
            (SELECT close_px FROM mark_price_minute WHERE inst_id = \(instrument) AND minute >= \(start) AND minute < \(end)
             ORDER BY minute DESC LIMIT 1) AS close_px,
            (SELECT px_scale FROM mark_price_minute WHERE inst_id = \(instrument) AND minute >= \(start) AND minute < \(end)
             ORDER BY minute DESC LIMIT 1) AS px_scale
            FROM mark_price_minute WHERE inst_id = \(instrument) AND minute >= \(start) AND minute < \(end)
            """
        ) { row throws(StoreError) -> PriceCandle? in
            guard let open = try row("open_px", as: Int64?.self), let close = try row("close_px", as: Int64?.self),
                let high = try row("high_px", as: Int64?.self), let low = try row("low_px", as: Int64?.self),
                let scale = try row("px_scale", as: Int64?.self)
            else { return nil }
            return PriceCandle(instrument: instrument, start: start, scale: Int(scale), open: open, high: high, low: low, close: close)
        }
        return rows.first ?? nil
    }
}
