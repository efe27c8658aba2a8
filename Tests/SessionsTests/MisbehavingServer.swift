import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A local HTTP server that answers as a script says: any status, any bytes, pauses,
/// abrupt resets. The model clients are tested against it for every fault a real server
/// or network can produce. It listens on 127.0.0.1 only.
final class MisbehavingServer: Sendable {
    enum Step: Sendable {
        case head(Int, [(String, String)] = [("content-type", "text/event-stream")])
        case bytes([UInt8])
        case pause(milliseconds: Int64)
        /// Ends the body properly and closes the connection.
        case end
        /// Ends the body properly and keeps the connection open for the next request (with a
        /// `connection: keep-alive` head, which the server then does not override).
        case endKeepingConnection
        /// Closes the connection without answering: what a server does to a kept-alive
        /// connection it is closing just as a request arrives on it.
        case closeWithoutAnswer
        /// Closes the connection with a TCP reset, mid-body.
        case reset
        /// Sends `bytes` (an SSE comment by default) every `milliseconds`, `times` times or, with
        /// nil, until the client goes away: a server that keeps the connection alive and says nothing.
        case keepAlive(every: Int64, times: Int? = nil, bytes: [UInt8] = Array(": keepalive\n\n".utf8))
    }

    struct Request: Sendable {
        var path: String
        var headers: [(String, String)]
        var body: String
    }

    /// The steps for a request, given its path and how many requests that path has had before.
    typealias Script = @Sendable (_ path: String, _ previousRequests: Int) -> [Step]

    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private var state: Log { stateRef }
    private let stateRef: Log

    /// What the server saw, shared with the connection handlers.
    final class Log: Sendable {
        let value = Mutex<(requests: [Request], closedConnections: Int)>(([], 0))
        func withLock<T>(_ body: (inout (requests: [Request], closedConnections: Int)) -> T) -> T { value.withLock { body(&$0) } }
    }

    var requests: [Request] { state.withLock { $0.requests } }
    var closedConnections: Int { state.withLock { $0.closedConnections } }
    func baseURL(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)/v1" }

    init(script: @escaping Script) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = Log()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(script: script, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.group = group
        self.channel = channel
        self.stateRef = state
        port = channel.localAddress!.port!
    }

    func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let script: Script
        let state: Log
        var head: HTTPRequestHead?
        var body = ""

        init(script: @escaping Script, state: Log) {
            self.script = script
            self.state = state
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closedConnections += 1 }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h; body = ""
            case .body(var b): body += b.readString(length: b.readableBytes) ?? ""
            case .end:
                guard let head else { return }
                let path = head.uri
                let previous = state.withLock { s -> Int in
                    let n = s.requests.filter { $0.path == path }.count
                    s.requests.append(Request(path: path, headers: head.headers.map { ($0.name, $0.value) }, body: body))
                    return n
                }
                run(script(path, previous)[...], context: context)
            }
        }

        private func run(_ steps: ArraySlice<Step>, context: ChannelHandlerContext) {
            guard let step = steps.first else { return }
            let rest = steps.dropFirst()
            switch step {
            case let .head(status, headers):
                var h = HTTPHeaders(headers)
                if !h.contains(name: "connection") { h.add(name: "connection", value: "close") }
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: h))), promise: nil)
                run(rest, context: context)
            case .bytes(let b):
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: b)))), promise: nil)
                run(rest, context: context)
            case .pause(let ms):
                let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                let me = NIOLoopBound(self, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(ms)) {
                    guard loopContext.value.channel.isActive else { return }
                    me.value.run(rest, context: loopContext.value)
                }
            case let .keepAlive(ms, times, bytes):
                if let times, times <= 0 { run(rest, context: context); return }
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
                let again = [Step.keepAlive(every: ms, times: times.map { $0 - 1 }, bytes: bytes)] + rest
                run([.pause(milliseconds: ms)] + again, context: context)
            case .end:
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
            case .endKeepingConnection:
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case .closeWithoutAnswer:
                context.close(promise: nil)
            case .reset:
                // SO_LINGER 0 makes close send RST instead of FIN: a reset, not a tidy end.
                if let socket = context.channel as? SocketOptionProvider {
                    socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in context.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
            }
        }
    }
}

/// Pieces of OpenAI- and Anthropic-style streams.
enum SSE {
    static func data(_ json: String) -> MisbehavingServer.Step { .bytes(Array("data: \(json)\n\n".utf8)) }
    static func event(_ name: String, _ json: String) -> MisbehavingServer.Step { .bytes(Array("event: \(name)\ndata: \(json)\n\n".utf8)) }
    static func delta(_ text: String, model: String = "misbehaving-1") -> MisbehavingServer.Step {
        let escaped = String(data: try! JSONEncoder().encode(text), encoding: .utf8)!
        return data(#"{"model":"\#(model)","choices":[{"index":0,"delta":{"content":\#(escaped)},"finish_reason":null}]}"#)
    }
    static let finishStop = data(#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#)
    static let usage = data(#"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3}}"#)
    static let done: MisbehavingServer.Step = .bytes(Array("data: [DONE]\n\n".utf8))
    static func okStream(_ pieces: [String]) -> [MisbehavingServer.Step] {
        [.head(200)] + pieces.map { delta($0) } + [finishStop, usage, done, .end]
    }
}
