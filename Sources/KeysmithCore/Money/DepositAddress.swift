import Crypto

/// The stable simulated deposit address of an account for a currency's chain: the same account and chain always
/// get the same address, shaped like the network's own (`T…` on TRC20, `0x…` on ERC20-style chains, `bc1q…` on
/// Bitcoin).
public enum DepositAddress {
    public static func make(account: String, chain: String) -> String {
        let digest = Array(SHA256.hash(data: Array("keysmith-deposit|\(account)|\(chain)".utf8))).lowercaseHex
        if chain.hasSuffix("-TRC20") { return "T" + String(digest.prefix(33)) }
        if chain.hasSuffix("-Bitcoin") { return "bc1q" + String(digest.prefix(38)) }
        return "0x" + String(digest.prefix(40))
    }
}
