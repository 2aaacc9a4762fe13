import KeysmithCore
import Testing

struct KeyMaterialTests {
    @Test
    func apiKeysAreUUIDs() {
        let keys = (0..<100).map { _ in KeyMaterial.apiKey() }
        #expect(keys.allSatisfy(KeyMaterial.isAPIKey))
        #expect(Set(keys).count == 100)
        #expect(keys.allSatisfy { $0.count == 36 && $0.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12] })
    }

    @Test
    func secretsAre32UppercaseHexCharacters() {
        let secrets = (0..<100).map { _ in KeyMaterial.secret() }
        #expect(Set(secrets).count == 100)
        for secret in secrets {
            #expect(secret.count == 32)
            #expect(secret.allSatisfy { ("0"..."9").contains($0) || ("A"..."F").contains($0) })
            #expect(KeyMaterial.isSecret(secret))
        }
        #expect(!KeyMaterial.isSecret("22582bd0cff14c41edbf1ab98506286d"))
    }

    @Test
    func generatedPassphrasesComply() throws {
        for _ in 0..<200 { try PassphrasePolicy.validate(KeyMaterial.passphrase()) }
    }

    @Test
    func credentialsNeverPrintTheirSecrets() {
        let c = KeyCredentials(apiKey: "k", secretKey: "22582BD0CFF14C41EDBF1AB98506286D", passphrase: "Abcdef1!")
        for text in ["\(c)", String(describing: c), String(reflecting: c)] {
            #expect(!text.contains(c.secretKey))
            #expect(!text.contains(c.passphrase))
        }
    }
}

struct PassphrasePolicyTests {
    @Test(arguments: ["Abcdef1!", "Zz9#Zz9#Zz9#Zz9#Zz9#Zz9#Zz9#Zz9#", "p@ssW0rd-for-bots", "Ünïcode1!aB"])
    func accepts(_ passphrase: String) throws {
        try PassphrasePolicy.validate(passphrase)
    }

    @Test(arguments: [
        ("Abcde1!", "8 to 32 characters"), ("abcdefg1!", "uppercase"), ("ABCDEFG1!", "lowercase"), ("Abcdefgh!", "digit"),
        ("Abcdefgh1", "special character"), ("Abcd efg1!", "whitespace"),
        (String(repeating: "Ab1!", count: 8) + "x", "8 to 32 characters"),
    ])
    func rejectsNamingWhatIsMissing(_ passphrase: String, _ expected: String) throws {
        let error = try #require(throws: OKXError.self) { try PassphrasePolicy.validate(passphrase) }
        #expect(error.code == "59505")
        #expect(error.message.contains(expected))
        #expect(!error.message.contains(passphrase))
    }

    @Test
    func namesEveryMissingPart() {
        #expect(PassphrasePolicy.problems(with: "abc").count == 4)
    }
}

struct PermissionsTests {
    @Test(arguments: [
        ("read_only", "read_only"), ("", "read_only"), ("trade", "read_only,trade"), ("read_only,trade", "read_only,trade"),
        ("withdraw, trade", "read_only,trade,withdraw"), ("read,trade", "read_only,trade"),
    ])
    func parsesOKXCommaForm(_ text: String, _ expected: String) throws {
        let permissions = try Permissions(okx: text)
        #expect(permissions.okxString == expected)
        #expect(permissions.contains(.readOnly))
    }

    @Test
    func containsIsExact() throws {
        let trade = try Permissions(okx: "read_only,trade")
        #expect(trade.contains(.trade))
        #expect(!trade.contains(.withdraw))
        #expect(!Permissions.readOnly.contains(.trade))
    }

    @Test
    func keysAlwaysRead() {
        let key = APIKey(apiKey: "k", accountUID: "1", label: "l", permissions: [.trade], allowlist: .empty, environment: .live, createdAt: 0)
        #expect(key.permissions.okxString == "read_only,trade")
    }

    @Test(arguments: ["admin", "read_only,transfer", "TRADE"])
    func rejectsUnknownNames(_ text: String) throws {
        let error = try #require(throws: OKXError.self) { try Permissions(okx: text) }
        #expect(error.code == "51000")
    }
}

struct SubAccountNameTests {
    @Test(arguments: ["bot01trader", "abcdef", "ABCDEF12345678901234", "Trader1"])
    func accepts(_ name: String) throws { try SubAccountName.validate(name) }

    @Test(arguments: ["abc12", "abcdefghijklmnopqrstu", "bot 01 trader", "bot-01", "123456", "bötrader"])
    func rejects(_ name: String) {
        #expect(throws: OKXError.self) { try SubAccountName.validate(name) }
    }
}

struct OKXErrorCatalogueTests {
    @Test(arguments: [
        (OKXError.missingAccessKey, "50103", 401), (.missingPassphrase, "50104", 401), (.wrongPassphrase, "50105", 401),
        (.missingSignature, "50106", 401), (.missingTimestamp, "50107", 401), (.invalidAccessKey, "50111", 401),
        (.invalidTimestamp, "50112", 401), (.timestampExpired, "50102", 401), (.invalidSignature, "50113", 401),
        (.ipNotAllowed("1.2.3.4"), "50110", 401), (.keyLacksPermission, "50120", 200), (.environmentMismatch, "50101", 401),
        (.tooManyRequests, "50011", 429), (.masterAccountOnly, "59500", 200), (.keyMustBeBoundToIP, "50035", 403),
    ])
    func codesAndStatuses(_ error: OKXError, _ code: String, _ status: Int) {
        #expect(error.code == code)
        #expect(error.httpStatus == status)
        #expect(!error.message.isEmpty)
    }
}
