/// OKX's sub-account name rule: 6–20 ASCII letters and digits, case sensitive, with at least one letter.
public enum SubAccountName {
    public static func validate(_ name: String) throws(OKXError) {
        let utf8 = name.utf8
        let isAlphanumeric = utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        let hasLetter = utf8.contains { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
        guard (6...20).contains(utf8.count), isAlphanumeric, hasLetter else {
            throw OKXError.parameterError("subAcct").with(
                message: "Parameter subAcct error: a sub-account name is 6 to 20 letters and digits with at least one letter")
        }
    }
}
