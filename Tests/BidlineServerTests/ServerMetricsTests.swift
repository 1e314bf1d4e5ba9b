import BidlineCore
import BidlineServer
import BidlineTestSupport
import Testing

/// `METRICS` and the `--metrics-port` endpoint: one Prometheus registry, every series typed as what it is.
@Suite struct ServerMetricsTests {
    /// Every series the server exports, with its `# TYPE`.
    static let expectedTypes: [String: String] = [
        "bidline_requests_total": "counter",
        "bidline_bid_requests_total": "counter",
        "bidline_storage_failures_total": "counter",
        "bidline_requests_by_verb_total": "counter",
        "bidline_rejections_total": "counter",
        "bidline_connections_open": "gauge",
        "bidline_batch_requests": "histogram",
        "bidline_batch_seconds": "histogram",
        "bidline_log_records_written_total": "counter",
        "bidline_log_groups_written_total": "counter",
        "bidline_log_syncs_total": "counter",
        "bidline_log_sync_seconds_total": "counter",
        "bidline_log_failed_attempts_total": "counter",
        "bidline_log_segments_created_total": "counter",
        "bidline_log_segments_preallocated_total": "counter",
        "bidline_log_spare_failures_total": "counter",
        "bidline_log_rounds_committed_on_loop_total": "counter",
        "bidline_log_rounds_to_log_thread_total": "counter",
        "bidline_bids_accepted_total": "counter",
        "bidline_log_sync_micros_mean": "gauge",
        "bidline_log_sync_micros_max": "gauge",
        "bidline_users": "gauge",
        "bidline_listings_open": "gauge",
        "bidline_frozen_cents": "gauge",
        "bidline_bids_per_second": "gauge",
        "bidline_durable_sequence": "gauge",
    ]

    /// `# TYPE name type` lines of a text exposition, by name; a series typed twice fails the test.
    static func types(_ lines: [String]) -> [String: String] {
        var types: [String: String] = [:]
        for line in lines where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            guard parts.count == 4 else {
                Issue.record("malformed TYPE line: \(line)")
                continue
            }
            #expect(types[String(parts[2])] == nil, "\(parts[2]) typed twice")
            types[String(parts[2])] = String(parts[3])
        }
        return types
    }

    /// The value of the sample line `series` (a name with its labels, if any). Gauges are written as
    /// floating-point numbers (`2.0`), counters as integers.
    static func value(_ series: String, in lines: [String]) -> Double? {
        lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    @Test func metricsNamesEverySeriesWithItsType() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        let admin = try await server.connect(admin: true)
        #expect(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5").hasPrefix("OK"))
        #expect(try await admin.call("DEPOSIT inv 12.50").hasPrefix("OK"))
        #expect(try await admin.call("DEPOSIT nobody 1").hasPrefix("ERR NO_SUCH_USER"))
        #expect(try await admin.call("FROB").hasPrefix("ERR UNKNOWN_VERB"))

        let lines = try await admin.rows("METRICS")
        let types = Self.types(lines)
        for (name, type) in Self.expectedTypes {
            #expect(types[name] == type, "\(name): \(types[name] ?? "missing")")
        }
        #expect(!types.keys.contains { $0.hasSuffix("_total") && types[$0] != "counter" }, "\(types)")
        // Values derived from the log and the engine are current when rendered.
        #expect(Self.value("bidline_users", in: lines) == 2)
        #expect(Self.value("bidline_durable_sequence", in: lines) == Double(await server.server.host.lastSequence))
        #expect(Self.value("bidline_log_records_written_total", in: lines) ?? 0 >= 2)
        #expect(Self.value(#"bidline_rejections_total{code="NO_SUCH_USER"}"#, in: lines) == 1)
        #expect(Self.value(#"bidline_rejections_total{code="UNKNOWN_VERB"}"#, in: lines) == 1)
        #expect(Self.value(#"bidline_rejections_total{code="BAD_AMOUNT"}"#, in: lines) == 0)
        #expect(Self.value(#"bidline_requests_by_verb_total{verb="DEPOSIT"}"#, in: lines) == 2)

        // A second rendering advances the derived counters by what happened in between, not by their totals.
        #expect(try await admin.call("DEPOSIT inv 1").hasPrefix("OK"))
        let again = try await admin.rows("METRICS")
        let before = try #require(Self.value("bidline_log_records_written_total", in: lines))
        #expect(Self.value("bidline_log_records_written_total", in: again) == before + 1)
        await server.stop()
    }

    /// One HTTP/1.1 request to `port`; the status line, headers and body lines (without `\r`) until the server
    /// closes the connection.
    static func httpGet(port: Int, _ target: String, method: String = "GET") async throws -> [String] {
        let client = try LineClient(port: port)
        try await client.send("\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n")
        var lines: [String] = []
        do {
            while true {
                var line = try await client.readLine()
                if line.hasSuffix("\r") { line.removeLast() }
                lines.append(line)
            }
        } catch is LineClient.Closed {}
        return lines
    }

    @Test func theMetricsPortAnswersGetMetricsWithTheSameSeries() async throws {
        let server = try await TestServer.start(configure: { $0.metricsPort = 0 })
        defer { server.removeData() }
        let metricsPort = try #require(server.server.metricsPort)
        #expect(metricsPort != server.port)
        let admin = try await server.connect(admin: true)
        #expect(try await admin.call("USER.ADD inv roles=investor verified=1 risk=5").hasPrefix("OK"))

        let response = try await Self.httpGet(port: metricsPort, "/metrics")
        #expect(response.first == "HTTP/1.1 200 OK")
        #expect(response.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"), "\(response)")
        let body = Array(response.drop { !$0.isEmpty }.dropFirst())
        let httpTypes = Self.types(body)
        for (name, type) in Self.expectedTypes {
            #expect(httpTypes[name] == type, "\(name): \(httpTypes[name] ?? "missing")")
        }
        #expect(Self.value("bidline_users", in: body) == 2)
        // The same registry as METRICS: the same series, typed the same way.
        #expect(Self.types(try await admin.rows("METRICS")) == httpTypes)

        let missing = try await Self.httpGet(port: metricsPort, "/nothing")
        #expect(missing.first == "HTTP/1.1 404 Not Found")
        let wrongMethod = try await Self.httpGet(port: metricsPort, "/metrics", method: "POST")
        #expect(wrongMethod.first == "HTTP/1.1 405 Method Not Allowed")
        await server.stop()
        #expect(server.server.metricsPort == nil)
    }

    @Test func noMetricsPortUnlessConfigured() async throws {
        let server = try await TestServer.start()
        defer { server.removeData() }
        #expect(server.server.metricsPort == nil)
        await server.stop()
    }
}
