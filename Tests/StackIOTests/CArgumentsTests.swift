@testable import StackIO
import Testing

@Suite("C arguments")
struct CArgumentsTests {
    /// Each pointer reads back its own string, NUL-terminated, with its byte length; nil stays a null pointer.
    @Test func pointersReadBackTheirStrings() {
        let strings: [String?] = ["SET", "", nil, "stacksim:ключ", "v"]
        withCArguments(strings) { pointers, lengths in
            #expect(pointers.count == strings.count)
            #expect(lengths == [3, 0, 0, "stacksim:ключ".utf8.count, 1])
            for (pointer, string) in zip(pointers, strings) {
                #expect(pointer.map { String(cString: $0) } == string)
            }
        }
    }
}
