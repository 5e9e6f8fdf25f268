import BucketwatchCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves `GET /metrics`, `GET /healthz` and a small index page on SwiftNIO.
///
/// Every response is rendered from `MetricsState`, the cache sweeps write: a scrape never
/// reaches a provider, so scrapes stay fast while a sweep is slow or stuck.
public final class MetricsServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The bound address (useful with port 0 in tests).
    public let port: Int

    /// Binds `host:port`; throws when the address cannot be bound.
    public static func start(host: String, port: Int, metrics: MetricsState) async throws -> MetricsServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(MetricsHTTPHandler(metrics: metrics))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            return MetricsServer(group: group, channel: channel, port: channel.localAddress?.port ?? port)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, port: Int) {
        self.group = group
        self.channel = channel
        self.port = port
    }

    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Splits `host:port` / `[v6]:port` (the config loader has already validated it).
    public static func split(listenAddress: String) -> (host: String, port: Int)? {
        guard let colon = listenAddress.lastIndex(of: ":"), let port = Int(listenAddress[listenAddress.index(after: colon)...]) else { return nil }
        var host = String(listenAddress[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}

private final class MetricsHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: MetricsState
    private var head: HTTPRequestHead?

    init(metrics: MetricsState) {
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break  // requests we serve carry no body; ignore any
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let keepAlive = request.isKeepAlive
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        guard request.method == .GET || request.method == .HEAD else {
            write(status: .methodNotAllowed, type: "text/plain; charset=utf-8", body: "method not allowed\n",
                  headOnly: false, keepAlive: keepAlive, context: context, extraHeaders: [("Allow", "GET, HEAD")])
            return
        }
        let headOnly = request.method == .HEAD
        switch path {
        case "/metrics":
            let metrics = self.metrics
            let promise = context.eventLoop.makePromise(of: String.self)
            promise.completeWithTask { await metrics.render() }
            promise.futureResult.whenSuccess { text in
                let (handler, context) = loopBound.value
                handler.write(status: .ok, type: MetricsExposition.contentType, body: text, headOnly: headOnly, keepAlive: keepAlive, context: context)
            }
        case "/healthz":
            write(status: .ok, type: "text/plain; charset=utf-8", body: "ok\n", headOnly: headOnly, keepAlive: keepAlive, context: context)
        case "/":
            let page = """
                <!doctype html><html><head><title>bucketwatch</title></head><body>
                <h1>bucketwatch</h1><p>W&amp;B bring-your-own-bucket compliance.</p>
                <ul><li><a href="/metrics">/metrics</a> (Prometheus)</li><li><a href="/healthz">/healthz</a></li></ul>
                </body></html>

                """
            write(status: .ok, type: "text/html; charset=utf-8", body: page, headOnly: headOnly, keepAlive: keepAlive, context: context)
        default:
            write(status: .notFound, type: "text/plain; charset=utf-8", body: "not found\n", headOnly: headOnly, keepAlive: keepAlive, context: context)
        }
    }

    private func write(status: HTTPResponseStatus, type: String, body: String, headOnly: Bool, keepAlive: Bool, context: ChannelHandlerContext,
                       extraHeaders: [(String, String)] = []) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !headOnly { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
