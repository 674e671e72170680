import StackCore
import Testing

/// Two spellings of one server's address come out as one: the places lock's names depend on it.
@Suite("Server address")
struct ServerAddressTests {
    @Test func numericAddressesStayAsTheyAre() {
        #expect(ServerAddress.canonical(host: "127.0.0.1", port: 6379) == "127.0.0.1:6379")
        #expect(ServerAddress.canonical(host: "::1", port: 27017) == "[::1]:27017")
    }

    /// `localhost` resolves through /etc/hosts, with no name server asked.
    @Test func aHostNameInAnyCaseIsTheAddressItResolvesTo() {
        #expect(ServerAddress.canonical(host: "localhost", port: 5) == "127.0.0.1:5")
        #expect(ServerAddress.canonical(host: "LocalHost", port: 5) == "127.0.0.1:5")
    }
}
