#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system types and constants that Glibc and Darwin spell differently, kept in one
/// place so the model code builds on Linux and macOS alike.
enum Platform {
    #if canImport(Glibc)
    /// `SOCK_STREAM` is an enum case on Glibc and an Int32 on Darwin.
    static let streamSocket = Int32(SOCK_STREAM.rawValue)
    /// posix_spawn's file actions and attributes are structs on Glibc, pointers on Darwin.
    static func spawnFileActions() -> posix_spawn_file_actions_t { posix_spawn_file_actions_t() }
    static func spawnAttributes() -> posix_spawnattr_t { posix_spawnattr_t() }
    #else
    static let streamSocket = SOCK_STREAM
    static func spawnFileActions() -> posix_spawn_file_actions_t { nil }
    static func spawnAttributes() -> posix_spawnattr_t { nil }
    #endif

    /// A loopback IPv4 address with port 0 (the kernel picks one when it is bound).
    static func loopbackAddress() -> sockaddr_in {
        var addr = sockaddr_in()
        #if canImport(Darwin)
        addr.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }
}
