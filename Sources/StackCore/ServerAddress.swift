import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One spelling for the many of a server's address (`localhost`, `LOCALHOST`, `127.0.0.1`), so
/// that two stacksims naming one server differently still meet on its places.
public enum ServerAddress {
    /// `host:port` with the host resolved to a numeric address: the lowest IPv4 one it resolves
    /// to, else the lowest IPv6 one (in brackets). A host that does not resolve keeps its name,
    /// lowercased: the connection will say why.
    public static func canonical(host: String, port: Int) -> String {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let list else { return "\(host.lowercased()):\(port)" }
        defer { freeaddrinfo(list) }
        var v4: [String] = [], v6: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            var name = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &name, socklen_t(name.count), nil, 0, NI_NUMERICHOST) == 0 {
                let numeric = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if current.pointee.ai_family == AF_INET { v4.append(numeric) } else { v6.append("[\(numeric)]") }
            }
            entry = current.pointee.ai_next
        }
        guard let chosen = v4.min() ?? v6.min() else { return "\(host.lowercased()):\(port)" }
        return "\(chosen):\(port)"
    }
}
