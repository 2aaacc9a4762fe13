import KeysmithApp
import ArgumentParser

@main
struct Keysmith: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keysmith",
        abstract: "Self-hosted exchange accounts and API keys, speaking the OKX v5 REST API.",
        subcommands: [
            Serve.self, Init.self, SubaccountCommand.self, ApikeyCommand.self, AppCommand.self, Keygen.self, Scan.self, AuditCommand.self,
            AlertsCommand.self, Deposit.self, Balance.self, CurrencyCommand.self,
            AddressCommand.self, WithdrawalCommand.self, InstrumentCommand.self, LinkCommand.self, VaultCommand.self, AdminCommand.self, MaintenanceCommand.self, FeeCommand.self, MarkCommand.self, FundingCommand.self, Migrate.self, Copy.self, TLSCommand.self,
        ])
}
