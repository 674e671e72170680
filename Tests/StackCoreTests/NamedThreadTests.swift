import Foundation
@testable import StackCore
import Testing

@Suite("Named threads")
struct NamedThreadTests {
    @Test func theKernelSeesTheThreadsName() async throws {
        let comm = await withCheckedContinuation { continuation in
            NamedThread.start("stacksim-test") {
                continuation.resume(returning: try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))
            }
        }
        #expect(comm == "stacksim-test\n")
    }

    @Test func aLongNameIsCutToWholeCharactersThatFit() {
        #expect(NamedThread.kernelName("stacksim-postgres-session") == "stacksim-postgr")
        #expect(NamedThread.kernelName(String(repeating: "é", count: 9)) == String(repeating: "é", count: 7))
        #expect(NamedThread.kernelName("stacksim-io") == "stacksim-io")
    }
}
