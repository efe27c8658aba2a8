import AsyncHTTPClient

enum HTTPClientRequestBuilder {
    static func get(_ url: String, bearer: String?) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
        r.method = .GET
        if let bearer, !bearer.isEmpty { r.headers.add(name: "authorization", value: "Bearer \(bearer)") }
        return r
    }
}
