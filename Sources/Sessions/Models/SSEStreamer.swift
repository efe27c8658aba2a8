import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends a streaming HTTP request and turns its server-sent events into chat events, with
/// the guarantees every provider shares: connect, first-byte and idle timeouts; retries with
/// backoff on 429 and 5xx (honouring `Retry-After`), and at once on a connection closed before
/// any answer, before any text arrived; a size cap;
/// and a typed error for every failure, after which the text already delivered stays valid.
struct SSEStreamer: Sendable {
    var url: String
    var options: EndpointOptions
    /// The human part of an error body (`{"error":{"message":…}}` and the like).
    var errorMessage: @Sendable (String) -> String

    enum Outcome: Sendable {
        case done
        case retry(afterSeconds: Double, reason: String)
        case failed(ModelError)
        case cancelled
    }

    typealias RequestBuilder = @Sendable () throws(ModelError) -> HTTPClientRequest

    /// `makeRequest` is called for each attempt, so a retry sends a fresh request.
    func stream<R: StreamReader>(_ makeRequest: @escaping RequestBuilder, reader: R) -> AsyncStream<ChatEvent> {
        AsyncStream { continuation in
            let task = Task {
                await run(makeRequest, reader: reader, continuation: continuation)
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func run<R: StreamReader>(_ makeRequest: @escaping RequestBuilder, reader: R, continuation: AsyncStream<ChatEvent>.Continuation) async {
        var retries = 0
        while true {
            let watch = StreamWatch(options: options)
            let retriesSoFar = retries
            let attempt = Task { await attemptOnce(makeRequest, reader: reader, retriesSoFar: retriesSoFar, watch: watch, continuation: continuation) }
            // The watch runs on a timer of its own, so a stall is caught even when every
            // thread of the cooperative pool is busy.
            watch.start { attempt.cancel() }
            let outcome = await withTaskCancellationHandler { await attempt.value } onCancel: { attempt.cancel() }
            watch.stop()
            switch outcome {
            case .done, .cancelled:
                return
            case .failed(let error):
                continuation.yield(.failed(error))
                return
            case let .retry(delay, reason):
                retries += 1
                continuation.yield(.retrying(attempt: retries, afterSeconds: delay, reason: reason))
                do { try await Task.sleep(for: .milliseconds(EndpointOptions.milliseconds(delay))) } catch { return }
            }
        }
    }

    private func attemptOnce<R: StreamReader>(_ makeRequest: RequestBuilder, reader: R, retriesSoFar: Int, watch: StreamWatch,
                                              continuation: AsyncStream<ChatEvent>.Continuation) async -> Outcome {
        var reader = reader
        var connected = false
        watch.enter(.connecting)
        do {
            let request = try makeRequest()
            let response = try await HTTPClients.client(connectTimeout: options.connectTimeout)
                .execute(request, deadline: .distantFuture)
            connected = true
            watch.enter(.waitingFirstByte)
            if (300...399).contains(Int(response.status.code)) {
                return .failed(.redirected(url: url, location: response.headers.first(name: "location")))
            }
            guard response.status == .ok else {
                let body = try await readErrorBody(response, watch: watch)
                let status = Int(response.status.code)
                let message = errorMessage(body)
                if (status == 429 || status >= 500) && retriesSoFar < options.maxRetries {
                    let delay = retryDelay(response.headers, attempt: retriesSoFar)
                    return .retry(afterSeconds: delay, reason: "HTTP \(status)" + (message.isEmpty ? "" : ": \(message)"))
                }
                return .failed(.http(status: status, message: message))
            }
            var parser = ServerSentEventParser(maxLineBytes: min(options.maxReplyBytes, EndpointOptions.replyBytesRange.upperBound) + 64 * 1024)
            var replyBytes = 0
            var started = false
            func deliver(_ events: [ServerSentEvent]) throws(ModelError) -> Bool {
                for sse in events {
                    let (chatEvents, done) = try reader.read(sse)
                    for event in chatEvents {
                        switch event {
                        case .text(let t), .reasoning(let t):
                            // Only a piece of the reply is progress (see `EndpointOptions`): keep-alive
                            // comments, pings and events without text never restart the timers.
                            if !started { started = true; watch.enter(.streaming) } else { watch.touch() }
                            replyBytes += t.utf8.count
                            if replyBytes > options.maxReplyBytes { throw .replyTooLarge(capBytes: options.maxReplyBytes) }
                        default: break
                        }
                        continuation.yield(event)
                    }
                    if done { return true }
                }
                return false
            }
            for try await buffer in response.body {
                if try deliver(try parser.feed(buffer.readableBytesView)) { return .done }
            }
            if try deliver(try parser.finish()) { return .done }
            if let reason = reader.finishReason {
                continuation.yield(.finished(reason: reason))
                return .done
            }
            return .failed(.incomplete)
        } catch let error as ModelError {
            return .failed(error)
        } catch {
            if let fired = watch.fired { return .failed(fired) }
            if Task.isCancelled { return .cancelled }
            // A kept-alive connection the server closed under the request (llama.cpp's server
            // closes idle ones after 5 s): sent again at once, within the same retries as a 5xx,
            // since the server may have begun on it before the connection went.
            if !connected && HTTPClients.closedBeforeAnswer(error) && retriesSoFar < options.maxRetries {
                return .retry(afterSeconds: 0, reason: "the server closed the connection before answering")
            }
            return .failed(HTTPClients.classify(error, url: url, connectTimeout: options.connectTimeout, connected: connected))
        }
    }

    /// The first 64 KiB of an error body, which must arrive within the first-byte timeout: a
    /// body that trickles on, or never ends, is not waited for.
    private func readErrorBody(_ response: HTTPClientResponse, watch: StreamWatch) async throws -> String {
        var body = ByteBuffer()
        for try await var part in response.body {
            body.writeBuffer(&part)
            if body.readableBytes >= 64 * 1024 { break }
        }
        return String(decoding: body.readableBytesView.prefix(64 * 1024), as: UTF8.self)
    }

    /// `Retry-After` in seconds or as an HTTP date; else exponential backoff. Capped at
    /// `maxRetryDelay`, and never more than `EndpointOptions.retryDelayCap`.
    func retryDelay(_ headers: HTTPHeaders, attempt: Int) -> Double {
        let cap = min(max(0, options.maxRetryDelay), EndpointOptions.retryDelayCap)
        var delay = max(0, options.retryBaseDelay) * pow(2, Double(min(max(attempt, 0), 62)))
        if let value = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Double(value), seconds >= 0 {
                delay = seconds
            } else {
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX")
                f.timeZone = TimeZone(identifier: "GMT")
                f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
                if let date = f.date(from: value) { delay = max(0, date.timeIntervalSinceNow) }
            }
        }
        return delay.isFinite ? min(delay, cap) : cap
    }
}
