import PortContract
import StackCore
import Testing

@Suite("Port contract on the embedded stores")
struct EmbeddedContractTests {
    @Test(arguments: PortContract.checks)
    func contract(_ check: ContractCheck) async throws {
        try await check.run(EmbeddedStack.make())
    }
}
