import CLinux
import Foundation

/// A thread of stacksim's own, under a name that `top -H`, `perf` and `/proc/<pid>/task/*/comm`
/// show. Foundation's `Thread.name` never reaches the kernel on Linux: each thread kept the name
/// of the thread that made it (often a dispatch worker's "…default-qos"), so it names itself.
public enum NamedThread {
    /// How much of a thread's name Linux keeps, in bytes.
    static let maximumNameBytes = 15

    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let kept = kernelName(name)
        let thread = Thread {
            // Cannot fail for the calling thread; a name is a diagnostic, so a failure is not fatal.
            let status = stacksim_set_thread_name(kept)
            assert(status == 0, "prctl(PR_SET_NAME): errno \(errno)")
            body()
        }
        thread.start()
    }

    /// `name` cut to whole characters that fit the kernel's 15 bytes.
    static func kernelName(_ name: String) -> String {
        var kept = Substring(name)
        while kept.utf8.count > maximumNameBytes { kept.removeLast() }
        return String(kept)
    }
}
