import Foundation
import Reporting

extension MachineInfo {
    /// Describes the machine this process runs on.
    public static func current() -> MachineInfo {
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return MachineInfo(cores: ProcessInfo.processInfo.activeProcessorCount, memoryBytes: ProcessInfo.processInfo.physicalMemory,
                           os: operatingSystemName(), kernel: kernel, swiftVersion: compilerVersion)
    }

    static func operatingSystemName() -> String {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
        else { return ProcessInfo.processInfo.operatingSystemVersionString }
        return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// The compiler this binary was built with.
    static var compilerVersion: String {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3.1)
        return "6.3.1"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "6.0 or 6.1"
        #endif
    }
}
