import KeysmithApp
import KeysmithCore
import KeysmithStore
import Testing

/// Store errors become OKX errors by what they are about; one the store did not expect is the server's fault.
@Suite struct StoreErrorMappingTests {
    @Test
    func aDuplicateWithASubjectAnswersWhatClashed() {
        #expect(StoreError.duplicate(.keyLabel, "label").okxError.code == OKXError.duplicateLabel.code)
        #expect(StoreError.duplicate(.subAccountName, "name").okxError.code == OKXError.alreadyExists("subAcct").code)
        #expect(StoreError.notFound(.activeKey, "key").okxError.code == OKXError.apiKeyDoesNotExist.code)
        #expect(StoreError.limitReached(.keysPerAccount, "cap").okxError.code == OKXError.tooManyKeys.code)
    }

    /// A unique index, missing row or limit a store did not name (a driver's constraint error) says nothing of its
    /// detail and claims no sub-account exists: it is 50026, as any database fault.
    @Test(arguments: [
        StoreError.duplicate("already exists (UNIQUE constraint failed: api_key.api_key)"),
        StoreError.notFound("no row"),
        StoreError.limitReached("some limit"),
    ])
    func aFaultWithoutASubjectIsASystemError(error: StoreError) {
        let answer = error.okxError
        #expect(answer.code == OKXError.systemError.code)
        #expect(!answer.message.contains(error.detail))
    }
}
