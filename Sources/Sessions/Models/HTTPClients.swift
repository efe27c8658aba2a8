import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// One HTTP client per connect timeout, for the life of the process. AsyncHTTPClient sets the
/// connect timeout per client, not per request; read timeouts are left to `StreamWatch`, which
/// tells first-byte waits and stalls apart.
enum HTTPClients {
    private static let clients = Mutex<[Int64: HTTPClient]>([:])

    static func client(connectTimeout: Double) -> HTTPClient {
        let ms = Int64((connectTimeout * 1000).rounded())
        return clients.withLock { cache in
            if let c = cache[ms] { return c }
            var config = HTTPClient.Configuration()
            config.timeout = .init(connect: .milliseconds(ms), read: nil)
            config.redirectConfiguration = .follow(max: 5, allowCycles: false)
            config.decompression = .disabled
            // Fail at once when nothing listens: one person waits on one server, and "connection
            // refused" now is more useful than the same error after the connect timeout.
            config.connectionPool.retryConnectionEstablishment = false
            let c = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
            cache[ms] = c
            return c
        }
    }
}
