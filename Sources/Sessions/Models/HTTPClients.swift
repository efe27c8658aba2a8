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
        let ms = max(1, EndpointOptions.milliseconds(connectTimeout))
        return clients.withLock { cache in
            if let c = cache[ms] { return c }
            var config = HTTPClient.Configuration()
            config.timeout = .init(connect: .milliseconds(ms), read: nil)
            // Redirects are never followed: a request carries an API key (Anthropic's x-api-key
            // survives a redirect to another origin) and the conversation, and both go only to
            // the address the user configured. A redirect is reported as `.redirected`.
            config.redirectConfiguration = .disallow
            config.decompression = .disabled
            // Fail at once when nothing listens: one person waits on one server, and "connection
            // refused" now is more useful than the same error after the connect timeout.
            config.connectionPool.retryConnectionEstablishment = false
            // `auto` and `judge` run up to 256 sessions at once against one endpoint; the
            // client's default of 8 connections per host would queue the rest unseen.
            config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
            let c = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
            cache[ms] = c
            return c
        }
    }

    /// Sends a GET and waits for the head of its reply. When the connection closed before any
    /// answer came, which is what happens to a request sent on a kept-alive connection that the
    /// server was closing (llama.cpp's server closes idle ones after 5 s), it is sent once more:
    /// a GET changes nothing on the server. (A POST is retried only within the user's
    /// `max_retries`, and visibly: see `SSEStreamer`.)
    private static func executeGET(_ request: HTTPClientRequest, connectTimeout: Double) async throws -> HTTPClientResponse {
        let http = client(connectTimeout: connectTimeout)
        do {
            return try await http.execute(request, deadline: .distantFuture)
        } catch where request.method == .GET && closedBeforeAnswer(error) && !Task.isCancelled {
            return try await http.execute(request, deadline: .distantFuture)
        }
    }

    /// The connection went away before the reply's head: closed, reset or broken under the request.
    static func closedBeforeAnswer(_ error: Error) -> Bool {
        if let e = error as? HTTPClientError { return e == .remoteConnectionClosed }
        if let e = error as? ChannelError { return [.ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed].contains(e) }
        if let e = error as? IOError { return e.errnoCode == ECONNRESET || e.errnoCode == EPIPE }
        return false
    }

    /// Sends a short request and reads its whole reply (at most `limit` bytes). The connect
    /// timeout bounds the connection and the first-byte timeout the whole reply, headers and
    /// body: a body that trickles on is not waited for. A redirect is an error.
    static func fetch(_ request: HTTPClientRequest, url: String, options: EndpointOptions,
                      limit: Int = 4 << 20) async throws(ModelError) -> (status: Int, body: String) {
        let watch = StreamWatch(options: options)
        let task = Task { () async -> Result<(status: Int, body: String), ModelError> in
            var connected = false
            watch.enter(.connecting)
            do {
                let response = try await executeGET(request, connectTimeout: options.connectTimeout)
                connected = true
                watch.enter(.waitingFirstByte)
                let status = Int(response.status.code)
                if (300...399).contains(status) {
                    return .failure(.redirected(url: url, location: response.headers.first(name: "location")))
                }
                var body = ByteBuffer()
                for try await var part in response.body {
                    guard body.readableBytes + part.readableBytes <= limit else { return .failure(.replyTooLarge(capBytes: limit)) }
                    body.writeBuffer(&part)
                }
                return .success((status, String(buffer: body)))
            } catch {
                if let fired = watch.fired { return .failure(fired) }
                return .failure(classify(error, url: url, connectTimeout: options.connectTimeout, connected: connected))
            }
        }
        watch.start { task.cancel() }
        let result = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        watch.stop()
        return try result.get()
    }

    /// A transport error as a person can act on it.
    static func classify(_ error: Error, url: String, connectTimeout: Double, connected: Bool) -> ModelError {
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return .connectTimeout(url: url, seconds: connectTimeout)
            case .remoteConnectionClosed: return connected ? .connectionLost("the server closed the connection") : .cannotConnect(url: url, reason: "the server closed the connection")
            default: break
            }
        }
        let text = String(describing: error)
        if !connected {
            if text.lowercased().contains("refused") { return .cannotConnect(url: url, reason: "connection refused") }
            return .cannotConnect(url: url, reason: text)
        }
        return .connectionLost(text)
    }
}
