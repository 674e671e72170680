@testable import StackIO
import Testing

@Suite("C arguments")
struct CArgumentsTests {
    /// Each pointer reads back its own string, NUL-terminated, with its byte length; nil stays a null pointer.
    @Test func pointersReadBackTheirStrings() {
        let strings: [String?] = ["SET", "", nil, "stacksim:ключ", "v"]
        withCArguments(strings) { pointers, lengths in
            #expect(pointers.count == strings.count)
            #expect(Array(lengths) == [3, 0, 0, "stacksim:ключ".utf8.count, 1])
            for (pointer, string) in zip(pointers, strings) {
                #expect(pointer.map { String(cString: $0) } == string)
            }
        }
    }

    /// A command's arguments (no nil among them) give the same pointers and lengths.
    @Test func argumentsWithoutNilReadBackTheirStrings() {
        let arguments = ["GET", "stacksim:ключ", ""]
        withCArguments(arguments) { pointers, lengths in
            #expect(pointers.map { $0.map { String(cString: $0) } } == arguments)
            #expect(Array(lengths) == arguments.map(\.utf8.count))
        }
    }

    /// Arguments too long for the stack's temporary buffers (a cached dashboard's JSON) are
    /// copied whole into the heap's, each at its own offset.
    @Test func longArgumentsReadBackWhole() {
        let value = String(repeating: "0123456789", count: 1_000)
        let arguments = ["SET", "stacksim:dashboard", value, "PX", "60000"]
        withCArguments(arguments) { pointers, lengths in
            #expect(pointers.map { $0.map { String(cString: $0) } } == arguments)
            #expect(Array(lengths) == arguments.map(\.utf8.count))
        }
    }
}
