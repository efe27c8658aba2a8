import AsyncHTTPClient
import Foundation
import NIOCore

enum HTTPClientRequestBuilder {
    static func get(_ url: String, bearer: String?) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.method = .GET
        if let bearer, !bearer.isEmpty { r.headers.add(name: "authorization", value: "Bearer \(bearer)") }
        return r
    }

    /// A JSON request that asks for a server-sent event stream back.
    static func streamingPost(_ url: String, json: Data, headers: [(String, String)]) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.method = .POST
        r.headers.add(name: "content-type", value: "application/json")
        r.headers.add(name: "accept", value: "text/event-stream")
        for (name, value) in headers { r.headers.add(name: name, value: value) }
        r.body = .bytes(ByteBuffer(bytes: json))
        return r
    }
}
