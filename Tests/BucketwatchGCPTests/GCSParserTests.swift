import BucketwatchCore
import BucketwatchTransport
import Foundation
import Testing

@testable import BucketwatchGCP

/// `GCSParsers`: real response shapes (Google's documentation, the emulator, the fault
/// server), int64 fields as strings or numbers, absent fields, and hostile bodies.
@Suite("GCS JSON parsers")
struct GCSParserTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The documented real-world shape (docs/provider-apis.md §4.1).
    static let realBucket = #"""
        {"kind":"storage#bucket","id":"b","name":"b","projectNumber":"1092000000000","metageneration":"1",
         "location":"EUROPE-CENTRAL2","storageClass":"STANDARD","etag":"CAE=",
         "softDeletePolicy":{"retentionDurationSeconds":"604800","effectiveTime":"2025-10-27T11:28:06.128Z"},
         "iamConfiguration":{"bucketPolicyOnly":{"enabled":false},"uniformBucketLevelAccess":{"enabled":false},
                             "publicAccessPrevention":"inherited"},
         "locationType":"region"}
        """#

    /// What the reader's `fields=` asks for, fully populated.
    static let fullBucket = #"""
        {"versioning":{"enabled":true},
         "softDeletePolicy":{"retentionDurationSeconds":"1209600","effectiveTime":"2025-10-27T11:28:06.128Z"},
         "encryption":{"defaultKmsKeyName":"projects/p/locations/eu/keyRings/r/cryptoKeys/k"},
         "cors":[{"origin":["https://a.example"],"method":["GET"]},
                 {"origin":["*"],"method":["GET","HEAD","PUT"],"responseHeader":["Content-Type","ETag"],"maxAgeSeconds":3600}],
         "iamConfiguration":{"uniformBucketLevelAccess":{"enabled":true,"lockedTime":"2026-01-25T11:28:06.128Z"},
                             "publicAccessPrevention":"enforced"}}
        """#

    @Test("the documented bucket shape: absent fields stay nil")
    func realShape() throws {
        let bucket = try #require(GCSParsers.bucket(Self.bytes(Self.realBucket)))
        #expect(bucket == GCSBucket(versioningEnabled: nil, softDeleteRetentionSeconds: 604_800, defaultKMSKeyName: nil, cors: nil,
                                    publicAccessPrevention: "inherited", uniformBucketLevelAccess: false))
    }

    @Test("every field the baseline reads")
    func fullShape() throws {
        let bucket = try #require(GCSParsers.bucket(Self.bytes(Self.fullBucket)))
        #expect(bucket.versioningEnabled == true)
        #expect(bucket.softDeleteRetentionSeconds == 1_209_600)
        #expect(bucket.defaultKMSKeyName == "projects/p/locations/eu/keyRings/r/cryptoKeys/k")
        #expect(bucket.publicAccessPrevention == "enforced")
        #expect(bucket.uniformBucketLevelAccess == true)
        #expect(bucket.cors == [
            GCSCORSEntry(origin: ["https://a.example"], method: ["GET"], responseHeader: [], maxAgeSeconds: nil),
            GCSCORSEntry(origin: ["*"], method: ["GET", "HEAD", "PUT"], responseHeader: ["Content-Type", "ETag"], maxAgeSeconds: 3600),
        ])
    }

    @Test("an empty object: nothing configured, nothing invented")
    func emptyObject() throws {
        #expect(try #require(GCSParsers.bucket(Self.bytes("{}"))) == GCSBucket())
        #expect(GCSParsers.bucket(Self.bytes(#"{"cors":[]}"#))?.cors == [])
        #expect(GCSParsers.bucket(Self.bytes(#"{"versioning":{}}"#))?.versioningEnabled == nil)
        #expect(GCSParsers.bucket(Self.bytes(#"{"encryption":{}}"#))?.defaultKMSKeyName == nil)
        #expect(GCSParsers.bucket(Self.bytes(#"{"versioning":{"enabled":false}}"#))?.versioningEnabled == false)
    }

    @Test("int64 fields: a string or a number", arguments: [
        (#""604800""#, Int64?.some(604_800)),
        ("604800", Int64?.some(604_800)),
        ("604800.0", Int64?.some(604_800)),
        (#""0""#, Int64?.some(0)),
        ("0", Int64?.some(0)),
        (#""9223372036854775807""#, Int64?.some(.max)),
    ])
    func int64Forms(json: String, value: Int64?) {
        #expect(GCSParsers.bucket(Self.bytes(#"{"softDeletePolicy":{"retentionDurationSeconds":\#(json)}}"#))?.softDeleteRetentionSeconds == value)
        let any = try? JSONSerialization.jsonObject(with: Data("[\(json)]".utf8)) as? [Any]
        #expect(GCSParsers.int64(any?.first) == value)
    }

    @Test("int64: what is not an integer is nil")
    func int64NotIntegers() {
        for json in [#""abc""#, #""""#, "1.5", #""1.5""#, "null", "[]", "{}", #""99999999999999999999""#, "1e30"] {
            let any = try? JSONSerialization.jsonObject(with: Data("[\(json)]".utf8)) as? [Any]
            #expect(GCSParsers.int64(any?.first) == nil, "\(json)")
        }
        #expect(GCSParsers.int64(nil) == nil)
    }

    @Test("maxAgeSeconds as a string or a number")
    func maxAgeForms() {
        for json in ["3600", #""3600""#] {
            let body = #"{"cors":[{"origin":["*"],"method":["GET"],"responseHeader":[],"maxAgeSeconds":\#(json)}]}"#
            #expect(GCSParsers.bucket(Self.bytes(body))?.cors?.first?.maxAgeSeconds == 3600, "\(json)")
        }
    }

    // MARK: IAM policy

    @Test("IAM policy: wrong-typed members or condition make it unparsable")
    func iamPolicyWrongTypesAreUnparsable() {
        // Read as "no members" / "no condition" these would become a false compliant.
        #expect(GCSParsers.iamPolicy(Self.bytes(#"{"bindings":[{"role":"roles/storage.objectViewer","members":"allUsers"}]}"#)) == nil)
        #expect(GCSParsers.iamPolicy(Self.bytes(#"{"bindings":[{"role":"roles/storage.admin","members":["serviceAccount:a@b"],"condition":"x"}]}"#)) == nil)
        #expect(GCSParsers.iamPolicy(Self.bytes(#"{"bindings":[{"role":"roles/storage.admin","members":["serviceAccount:a@b",7]}]}"#)) == nil)
    }

    @Test("IAM policy: bindings, members, conditions (title, else expression)")
    func iamPolicy() throws {
        let body = #"""
            {"kind":"storage#policy","resourceId":"projects/_/buckets/b","version":3,"etag":"CAE=","bindings":[
              {"role":"roles/storage.admin","members":["serviceAccount:wandb-integration@wandb-production.iam.gserviceaccount.com"]},
              {"role":"roles/storage.objectViewer","members":["allUsers","user:a@b.c"],
               "condition":{"title":"until 2030","description":"d","expression":"request.time < timestamp(\"2030-01-01T00:00:00Z\")"}},
              {"role":"roles/storage.legacyBucketReader","members":["projectViewer:p"],"condition":{"expression":"resource.name.startsWith(\"x\")"}},
              {"role":"roles/storage.legacyBucketOwner"}
            ]}
            """#
        let policy = try #require(GCSParsers.iamPolicy(Self.bytes(body)))
        #expect(policy.bindings == [
            .init(role: "roles/storage.admin", members: ["serviceAccount:wandb-integration@wandb-production.iam.gserviceaccount.com"]),
            .init(role: "roles/storage.objectViewer", members: ["allUsers", "user:a@b.c"], condition: "until 2030"),
            .init(role: "roles/storage.legacyBucketReader", members: ["projectViewer:p"], condition: #"resource.name.startsWith("x")"#),
            .init(role: "roles/storage.legacyBucketOwner", members: []),
        ])
    }

    @Test("IAM policy without bindings is an empty policy")
    func iamNoBindings() {
        #expect(GCSParsers.iamPolicy(Self.bytes(#"{"kind":"storage#policy","version":1,"etag":"CAE="}"#)) == GCSIAMPolicy(bindings: []))
        #expect(GCSParsers.iamPolicy(Self.bytes(#"{"bindings":[]}"#)) == GCSIAMPolicy(bindings: []))
    }

    @Test("IAM policy of the wrong shape is nil", arguments: [
        #"{"bindings":42}"#, #"{"bindings":{"role":"x"}}"#, #"{"bindings":["roles/storage.admin"]}"#,
        #"{"bindings":[{"members":["allUsers"]}]}"#, #"{"bindings":[{"role":7,"members":[]}]}"#, "[]", "42", #""policy""#, "null",
    ])
    func iamWrongShape(body: String) {
        #expect(GCSParsers.iamPolicy(Self.bytes(body)) == nil)
    }

    // MARK: hostile bodies

    static let hostile: [(name: String, body: [UInt8])] = [
        ("empty", []),
        ("whitespace", bytes(" \n\t ")),
        ("html", bytes("<html><body>Sign in to continue</body></html>")),
        ("truncated", bytes(#"{"versioning":{"enabled":tr"#)),
        ("array", bytes("[1,2,3]")),
        ("string", bytes(#""storage#bucket""#)),
        ("number", bytes("42")),
        ("null", bytes("null")),
        ("nul bytes", [0x7B, 0x00, 0x22, 0x00, 0x7D]),
        ("invalid UTF-8", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]),
        ("deep objects", bytes(String(repeating: #"{"a":"#, count: 10_000) + "{}" + String(repeating: "}", count: 10_000))),
        ("deep arrays in cors", bytes(#"{"cors":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}")),
        ("deep arrays", bytes(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))),
        ("cors object", bytes(#"{"cors":{"origin":["*"]}}"#)),
        ("cors string", bytes(#"{"cors":"*"}"#)),
    ]

    @Test("hostile bodies never crash and never parse into a value", arguments: hostile.indices)
    func hostileBodies(index: Int) {
        let (name, body) = Self.hostile[index]
        #expect(GCSParsers.bucket(body) == nil, "\(name)")
        #expect(GCSParsers.iamPolicy(body) == nil || name.hasPrefix("cors"), "\(name)")
    }

    @Test("a 5 MB body parses (size is the transport's business) and does not crash")
    func hugeBody() throws {
        let padding = String(repeating: "x", count: 5 * 1024 * 1024)
        let body = Self.bytes(#"{"versioning":{"enabled":true},"labels":{"padding":"\#(padding)"}}"#)
        #expect(GCSParsers.bucket(body)?.versioningEnabled == true)
    }

    @Test("truncations and byte flips of a real body never crash")
    func mutations() {
        let original = Self.bytes(Self.fullBucket)
        for length in 0..<original.count {
            _ = GCSParsers.bucket(Array(original.prefix(length)))
            _ = GCSParsers.iamPolicy(Array(original.prefix(length)))
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for _ in 0..<2_000 {
            var mutated = original
            for _ in 0..<(1 + Int(next() % 4)) {
                mutated[Int(next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: next())
            }
            _ = GCSParsers.bucket(mutated)
            _ = GCSParsers.iamPolicy(mutated)
        }
    }

    /// The parser's own contract: "strict about shape: anything else is nil". A field of the
    /// wrong type must not read as "absent" or "off": the evaluator would then report drift
    /// ("versioning is off", "soft delete is disabled") for a setting it never read.
    static let wrongTypes: [(name: String, body: String)] = [
        ("versioning is a string", #"{"versioning":"enabled"}"#),
        ("versioning.enabled is a string", #"{"versioning":{"enabled":"true"}}"#),
        ("retentionDurationSeconds is not a number", #"{"softDeletePolicy":{"retentionDurationSeconds":"seven days"}}"#),
        ("retentionDurationSeconds is a boolean", #"{"softDeletePolicy":{"retentionDurationSeconds":true}}"#),
        ("cors entries are not objects", #"{"cors":[["*"],"GET"]}"#),
        ("cors origin is a string", #"{"cors":[{"origin":"*","method":["GET","HEAD","PUT"],"responseHeader":["Content-Type"],"maxAgeSeconds":3600}]}"#),
    ]

    @Test("a wrong-typed field makes the body unparsable", arguments: wrongTypes.indices)
    func wrongTypedFields(index: Int) {
        let (name, body) = Self.wrongTypes[index]
        #expect(GCSParsers.bucket(Self.bytes(body)) == nil, "\(name): parsed as \(String(describing: GCSParsers.bucket(Self.bytes(body))))")
    }

    @Test("errors always differ from absent: wrong types never turn into drift or compliance")
    func wrongTypesNeverDrift() {
        // The current shapes the fault server's auth-hostile-wrongtypes serves: cors as an
        // object makes the whole body unparsable, so every check is unknown.
        let body = #"{"versioning":"enabled","cors":{"origin":"*"},"softDeletePolicy":{"retentionDurationSeconds":true},"encryption":["x"],"iamConfiguration":7}"#
        #expect(GCSParsers.bucket(Self.bytes(body)) == nil)
        #expect(GCSParsers.iamPolicy(Self.bytes(#"{"version":"three","bindings":42}"#)) == nil)
    }

    // MARK: error bodies

    @Test("error summaries: status, reason and Google's message")
    func errorSummary() {
        let forbidden = HTTPResponse(status: 403, body: Self.bytes(#"""
            {"error":{"code":403,"message":"x@p.iam.gserviceaccount.com does not have storage.buckets.getIamPolicy access to the Google Cloud Storage bucket.",
             "errors":[{"message":"...","domain":"global","reason":"forbidden"}]}}
            """#))
        #expect(GCSParsers.errorSummary(forbidden)
            == "HTTP 403 forbidden: x@p.iam.gserviceaccount.com does not have storage.buckets.getIamPolicy access to the Google Cloud Storage bucket.")
        let throttled = HTTPResponse(status: 429, body: Self.bytes(#"{"error":{"code":429,"message":"slow down","errors":[{"reason":"rateLimitExceeded"}]}}"#))
        #expect(GCSParsers.errorSummary(throttled) == "HTTP 429 rateLimitExceeded: slow down")
        #expect(GCSParsers.errorSummary(HTTPResponse(status: 404)) == "HTTP 404")
        #expect(GCSParsers.errorSummary(HTTPResponse(status: 502, body: Self.bytes("<html>Bad Gateway</html>"))) == "HTTP 502")
        #expect(GCSParsers.errorSummary(HTTPResponse(status: 500, body: Self.bytes(#"{"error":"backendError"}"#))) == "HTTP 500")
    }
}
