// seed-keys: fills a Keysmith data folder with N API keys (50 per sub-account, as many sub-accounts as that takes),
// created through the application layer as `keysmith apikey create` creates them (real secrets, sealed with the
// folder's master key, audited). For measuring Keysmith at the key counts a large operator reaches.
//
//   swift run -c release --package-path Benchmarks seed-keys 100000 ./keysmith-data
import Foundation
import KeysmithApp
import KeysmithCore
import Logging

let arguments = CommandLine.arguments.dropFirst()
guard let count = arguments.first.flatMap(Int.init), count > 0, count <= 5_000_000 else {
    FileHandle.standardError.write(Data("usage: seed-keys N [DATA-FOLDER] (N from 1 to 5000000)\n".utf8))
    exit(2)
}
let folder = URL(filePath: arguments.dropFirst().first ?? "./keysmith-data")
let logger = Logger(label: "seed-keys", factory: { _ in SwiftLogNoOpLogHandler() })
let installation = try await Installation.open(dataDirectory: folder, masterKey: nil, role: .command, logger: logger)
_ = try await installation.bootstrap.initializeIfNeeded(allowlist: .loopback, origin: .system("seed-keys"))
let origin = AuditOrigin.system("seed-keys")
let perAccount = 50
let accounts = (count + perAccount - 1) / perAccount
let started = ContinuousClock.now
// Sub-accounts in parallel groups: key generation and sealing overlap the single writer's transactions.
try await withThrowingTaskGroup(of: Void.self) { group in
    var running = 0
    for index in 0..<accounts {
        if running == 4 {
            try await group.next()
            running -= 1
        }
        let keys = min(perAccount, count - index * perAccount)
        group.addTask {
            let name = "seed" + String(index + 1).leftPadded(to: 8)
            let account = try await installation.accounts.createSubAccount(SubAccountRequest(name: name), origin: origin)
            for key in 0..<keys {
                _ = try await installation.keys.create(
                    NewKeyRequest(account: account, label: "key\(key)", permissions: [.readOnly, .trade]), origin: origin)
            }
        }
        running += 1
        if (index + 1) % 200 == 0 {
            print("\(min(count, (index + 1) * perAccount)) keys …")
        }
    }
    try await group.waitForAll()
}
print("\(count) keys in \(accounts) sub-accounts of \(folder.path) in \(ContinuousClock.now - started)")

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
