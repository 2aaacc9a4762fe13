import Foundation
import KeysmithApp
import KeysmithCore
import KeysmithStore
import Testing

/// A background step's failures: a database that fails for a moment is a warning, one that keeps failing (or any
/// other failure) an error.
@Suite struct RetriedFailuresTests {
    @Test
    func aBriefDatabaseFailureIsAWarningAndALastingOneAnError() async throws {
        let logs = LogCollector()
        let failures = RetriedFailures(grace: .seconds(3600))
        await failures.round {
            failures.failed(logs.logger, "writing failed", error: StoreError.database("PostgreSQL is unreachable"))
            failures.failed(logs.logger, "mapped failure", error: OKXError.systemError)
        }
        #expect(logs.text.components(separatedBy: "\n").allSatisfy { $0.hasPrefix("warning ") }, "\(logs.text)")
        // Not a database failure: an error at once.
        failures.failed(logs.logger, "a bad amount", error: OKXError.parameterError("sz"))
        #expect(logs.text.components(separatedBy: "\n").last?.hasPrefix("error a bad amount") == true, "\(logs.text)")

        // A failure that outlasts the grace is an error; a round with no failure ends the streak.
        let lasting = RetriedFailures(grace: .zero)
        lasting.failed(logs.logger, "still failing", error: StoreError.database("PostgreSQL is unreachable"))
        #expect(logs.text.components(separatedBy: "\n").last?.hasPrefix("error still failing") == true, "\(logs.text)")
        let brief = RetriedFailures(grace: .milliseconds(50))
        brief.failed(logs.logger, "first", error: StoreError.database("down"))
        try await Task.sleep(for: .milliseconds(60))
        await brief.round {}
        brief.failed(logs.logger, "again", error: StoreError.database("down"))
        #expect(logs.text.components(separatedBy: "\n").last?.hasPrefix("warning again") == true, "\(logs.text)")
    }
}
