import Foundation
import Testing

@testable import BucketwatchCore

/// Policy documents for the evaluation tests, written as the JSON AWS returns.
enum PolicyFixtures {
    static let saasRole = "arn:aws:iam::725579432336:role/WandbIntegration"

    /// `{"Version": ..., "Statement": [statements...]}`.
    static func json(_ statements: String...) -> String {
        #"{"Version":"2012-10-17","Statement":["# + statements.joined(separator: ",") + "]}"
    }

    /// Parses policy JSON; a fixture that does not parse is a broken test, so it traps loudly.
    static func document(_ text: String) -> PolicyDocument {
        do {
            return try PolicyDocument.parse(Array(text.utf8))
        } catch {
            preconditionFailure("fixture policy does not parse: \(error): \(text)")
        }
    }
}

// MARK: - iamGlobMatch

@Suite struct GlobTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var pattern: String
        var text: String
        var caseInsensitive: Bool
        var matches: Bool
        var testDescription: String { "\(pattern) ~ \(text) (ci \(caseInsensitive)) -> \(matches)" }
    }

    static let cases: [Case] = [
        // `*` matches any run, including the empty one.
        Case(pattern: "*", text: "", caseInsensitive: false, matches: true),
        Case(pattern: "*", text: "arn:aws:s3:::anything/at/all", caseInsensitive: false, matches: true),
        Case(pattern: "s3:*", text: "s3:GetObject", caseInsensitive: true, matches: true),
        Case(pattern: "s3:*", text: "kms:Decrypt", caseInsensitive: true, matches: false),
        Case(pattern: "*a*b", text: "xaxxb", caseInsensitive: false, matches: true),
        Case(pattern: "*a*b", text: "xaxxbc", caseInsensitive: false, matches: false),
        Case(pattern: "a*", text: "", caseInsensitive: false, matches: false),
        Case(pattern: "", text: "", caseInsensitive: false, matches: true),
        Case(pattern: "", text: "a", caseInsensitive: false, matches: false),
        // `?` matches exactly one character.
        Case(pattern: "s3:Get?bject", text: "s3:GetObject", caseInsensitive: true, matches: true),
        Case(pattern: "s3:Get?bject", text: "s3:Getbject", caseInsensitive: true, matches: false),
        Case(pattern: "s3:Get?bject", text: "s3:GetOObject", caseInsensitive: true, matches: false),
        Case(pattern: "?", text: "", caseInsensitive: false, matches: false),
        Case(pattern: "a??d", text: "abcd", caseInsensitive: false, matches: true),
        // Case-insensitivity is a switch: actions ignore case, ARNs do not.
        Case(pattern: "S3:GETOBJECT", text: "s3:GetObject", caseInsensitive: true, matches: true),
        Case(pattern: "S3:GETOBJECT", text: "s3:GetObject", caseInsensitive: false, matches: false),
        Case(pattern: "arn:aws:s3:::Bucket/*", text: "arn:aws:s3:::bucket/key", caseInsensitive: false, matches: false),
        Case(pattern: "arn:aws:s3:::Bucket/*", text: "arn:aws:s3:::bucket/key", caseInsensitive: true, matches: true),
        // Action wildcards.
        Case(pattern: "s3:GetObject*", text: "s3:GetObjectVersion", caseInsensitive: true, matches: true),
        Case(pattern: "s3:GetObject*", text: "s3:GetObject", caseInsensitive: true, matches: true),
        Case(pattern: "s3:GetObject", text: "s3:GetObjectVersion", caseInsensitive: true, matches: false),
        // The text is literal: a `*` in it is just a character.
        Case(pattern: "s3:GetObjectVersion", text: "s3:GetObject*", caseInsensitive: true, matches: false),
        Case(pattern: "s3:GetObject", text: "s3:GetObject*", caseInsensitive: true, matches: false),
        Case(pattern: "s3:Get*", text: "s3:GetObject*", caseInsensitive: true, matches: true),
        // Resource wildcards: `bucket/*` does not cover the bucket itself.
        Case(pattern: "arn:aws:s3:::b/*", text: "arn:aws:s3:::b", caseInsensitive: false, matches: false),
        Case(pattern: "arn:aws:s3:::b/*", text: "arn:aws:s3:::b/", caseInsensitive: false, matches: true),
        Case(pattern: "arn:aws:s3:::b/*", text: "arn:aws:s3:::b/key/deeper", caseInsensitive: false, matches: true),
        Case(pattern: "arn:aws:s3:::b*", text: "arn:aws:s3:::b", caseInsensitive: false, matches: true),
        Case(pattern: "arn:aws:s3:::b*", text: "arn:aws:s3:::bucket-2/*", caseInsensitive: false, matches: true),
        Case(pattern: "arn:aws:s3:::b", text: "arn:aws:s3:::b/*", caseInsensitive: false, matches: false),
        Case(pattern: "arn:aws:s3:::b/*", text: "arn:aws:s3:::bb/x", caseInsensitive: false, matches: false),
    ]

    @Test(arguments: cases)
    func matches(_ c: Case) {
        #expect(iamGlobMatch(c.pattern, c.text, caseInsensitive: c.caseInsensitive) == c.matches)
    }

    /// Hostile patterns: many stars, many backtracking points. Must finish (no timing assertion)
    /// and give the right answer.
    @Test func hostilePatternsComplete() {
        let stars = String(repeating: "*", count: 20_000) + "a"
        #expect(iamGlobMatch(stars, String(repeating: "b", count: 20_000), caseInsensitive: false) == false)
        #expect(iamGlobMatch(stars, String(repeating: "b", count: 20_000) + "a", caseInsensitive: true) == true)

        let manyStarsManyAs = String(repeating: "a*", count: 300) + "b"
        #expect(iamGlobMatch(manyStarsManyAs, String(repeating: "a", count: 3_000), caseInsensitive: false) == false)
        #expect(iamGlobMatch(manyStarsManyAs, String(repeating: "a", count: 3_000) + "b", caseInsensitive: false) == true)

        let questions = String(repeating: "?*", count: 2_000)
        #expect(iamGlobMatch(questions, String(repeating: "x", count: 1_999), caseInsensitive: false) == false)
        #expect(iamGlobMatch(questions, String(repeating: "x", count: 2_000), caseInsensitive: false) == true)
    }
}

// MARK: - PolicyDocument.parse

@Suite struct PolicyDocumentParseTests {
    private func parse(_ text: String) throws -> PolicyDocument {
        try PolicyDocument.parse(Array(text.utf8))
    }

    @Test func statementAsSingleObjectOrList() throws {
        let statement = #"{"Sid":"One","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#
        let single = try parse(#"{"Version":"2012-10-17","Statement":"# + statement + "}")
        let list = try parse(#"{"Version":"2012-10-17","Statement":["# + statement + "]}")
        let expected = PolicyStatement(
            sid: "One", effect: .allow, principal: PrincipalSet(everyone: true),
            actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"])
        #expect(single == PolicyDocument(statements: [expected]))
        #expect(list == single)
        #expect(try parse(#"{"Statement":[]}"#).statements.isEmpty)
    }

    @Test func multipleStatementsKeepOrderAndEffect() throws {
        let document = try parse(PolicyFixtures.json(
            #"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}"#,
            #"{"Sid":"Second","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}"#))
        #expect(document.statements.map(\.effect) == [.deny, .allow])
        #expect(document.statements.map(\.sid) == [nil, "Second"])
        #expect(document.statements[0].label(index: 0) == "statement #1")
        #expect(document.statements[1].label(index: 1) == "Sid Second")
    }

    struct PrincipalCase: Sendable, CustomTestStringConvertible {
        var json: String
        var expected: PrincipalSet
        var testDescription: String { json }
    }

    static let principalCases: [PrincipalCase] = [
        PrincipalCase(json: #""*""#, expected: PrincipalSet(everyone: true)),
        PrincipalCase(json: #"{"AWS":"*"}"#, expected: PrincipalSet(everyone: true)),
        PrincipalCase(json: #"{"AWS":["*"]}"#, expected: PrincipalSet(everyone: true)),
        PrincipalCase(json: #"{"AWS":"arn:aws:iam::725579432336:role/WandbIntegration"}"#,
                      expected: PrincipalSet(aws: ["arn:aws:iam::725579432336:role/WandbIntegration"])),
        PrincipalCase(json: #"{"AWS":["arn:aws:iam::725579432336:role/WandbIntegration","111122223333"]}"#,
                      expected: PrincipalSet(aws: ["arn:aws:iam::725579432336:role/WandbIntegration", "111122223333"])),
        PrincipalCase(json: #"{"Service":"cloudtrail.amazonaws.com"}"#,
                      expected: PrincipalSet(other: ["Service:cloudtrail.amazonaws.com"])),
        PrincipalCase(json: #"{"Service":["logging.s3.amazonaws.com","cloudtrail.amazonaws.com"]}"#,
                      expected: PrincipalSet(other: ["Service:logging.s3.amazonaws.com", "Service:cloudtrail.amazonaws.com"])),
        PrincipalCase(json: #""arn:aws:iam::111122223333:root""#, expected: PrincipalSet(aws: ["arn:aws:iam::111122223333:root"])),
        PrincipalCase(json: #"{"AWS":[]}"#, expected: PrincipalSet()),
    ]

    @Test(arguments: principalCases)
    func principalSpellings(_ c: PrincipalCase) throws {
        let document = try parse(PolicyFixtures.json(
            #"{"Effect":"Allow","Principal":"# + c.json + #","Action":"s3:GetObject","Resource":"*"}"#))
        #expect(document.statements[0].principal == c.expected)
        #expect(document.statements[0].notPrincipal == nil)
    }

    @Test func notPrincipal() throws {
        let document = try parse(PolicyFixtures.json(
            #"{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333"]},"Action":"s3:*","Resource":"*"}"#))
        #expect(document.statements[0].principal == nil)
        #expect(document.statements[0].notPrincipal == PrincipalSet(aws: ["111122223333"]))
    }

    @Test func actionResourceAndTheirNegations() throws {
        let document = try parse(PolicyFixtures.json(
            #"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
            #"{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}"#,
            #"{"Effect":"Allow","Principal":"*","NotAction":"s3:DeleteObject","NotResource":"arn:aws:s3:::other/*"}"#,
            #"{"Effect":"Allow","Principal":"*","NotAction":["s3:DeleteObject","s3:PutObject"],"NotResource":["arn:aws:s3:::x","arn:aws:s3:::y"]}"#))
        let s = document.statements
        #expect(s[0].actions == ["s3:GetObject"] && s[0].notActions == nil)
        #expect(s[0].resources == ["arn:aws:s3:::b/*"] && s[0].notResources == nil)
        #expect(s[1].actions == ["s3:GetObject", "s3:PutObject"])
        #expect(s[1].resources == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"])
        #expect(s[2].actions == nil && s[2].notActions == ["s3:DeleteObject"])
        #expect(s[2].resources == nil && s[2].notResources == ["arn:aws:s3:::other/*"])
        #expect(s[3].notActions == ["s3:DeleteObject", "s3:PutObject"])
        #expect(s[3].notResources == ["arn:aws:s3:::x", "arn:aws:s3:::y"])
    }

    @Test(arguments: [
        (#","Condition":{"Bool":{"aws:SecureTransport":"false"}}"#, true),
        (#","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#, true),
        ("", false),
        // An empty Condition block constrains nothing.
        (#","Condition":{}"#, false),
    ])
    func conditionPresence(_ condition: String, _ hasCondition: Bool) throws {
        let document = try parse(PolicyFixtures.json(
            #"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*""# + condition + "}"))
        #expect(document.statements[0].hasCondition == hasCondition)
    }

    struct MalformedCase: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var reason: String
        var testDescription: String { name }

        init(_ name: String, _ text: String, reason: String) {
            self.init(name, Array(text.utf8), reason: reason)
        }

        init(_ name: String, _ bytes: [UInt8], reason: String) {
            self.name = name
            self.bytes = bytes
            self.reason = reason
        }
    }

    static let malformed: [MalformedCase] = [
        MalformedCase("empty bytes", [], reason: "not JSON"),
        MalformedCase("not JSON", "<Error><Code>AccessDenied</Code></Error>", reason: "not JSON"),
        MalformedCase("invalid UTF-8", [0xFF, 0xFE, 0x7B, 0x7D], reason: "not JSON"),
        MalformedCase("deeply nested arrays", String(repeating: "[", count: 100_000), reason: "not JSON"),
        MalformedCase("deeply nested objects",
                      String(repeating: #"{"a":"#, count: 50_000) + "1" + String(repeating: "}", count: 50_000),
                      reason: "not JSON"),
        MalformedCase("top level array", #"[{"Statement":[]}]"#, reason: "top level is not an object"),
        MalformedCase("top level string", #""policy""#, reason: "not JSON"),
        MalformedCase("Statement missing", #"{"Version":"2012-10-17"}"#, reason: "no Statement"),
        MalformedCase("Statement a string", #"{"Statement":"Allow"}"#, reason: "Statement is neither an object nor a list"),
        MalformedCase("Statement a number", #"{"Statement":7}"#, reason: "Statement is neither an object nor a list"),
        MalformedCase("statement not an object", #"{"Statement":["Allow"]}"#, reason: "statement #1 is not an object"),
        MalformedCase("Effect missing", #"{"Statement":{"Principal":"*","Action":"s3:*","Resource":"*"}}"#,
                      reason: "statement #1 has no Effect Allow or Deny"),
        MalformedCase("Effect Maybe", #"{"Statement":{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
                      reason: "statement #1 has no Effect Allow or Deny"),
        MalformedCase("Effect lower case", #"{"Statement":{"Effect":"allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
                      reason: "statement #1 has no Effect Allow or Deny"),
        MalformedCase("Effect a bool", #"{"Statement":{"Effect":true,"Principal":"*","Action":"s3:*","Resource":"*"}}"#,
                      reason: "statement #1 has no Effect Allow or Deny"),
        MalformedCase("Effect deeply nested junk",
                      #"{"Statement":{"Effect":"# + String(repeating: #"{"x":["#, count: 200) + "null"
                          + String(repeating: "]}", count: 200) + "}}",
                      reason: "statement #1 has no Effect Allow or Deny"),
        MalformedCase("second statement broken",
                      #"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},{"Effect":"Perhaps"}]}"#,
                      reason: "statement #2 has no Effect Allow or Deny"),
        MalformedCase("Action a number", #"{"Statement":{"Effect":"Allow","Principal":"*","Action":5,"Resource":"*"}}"#,
                      reason: "statement #1: Action is neither a string nor a list"),
        MalformedCase("Action a bool", #"{"Statement":{"Effect":"Allow","Principal":"*","Action":true,"Resource":"*"}}"#,
                      reason: "statement #1: Action is neither a string nor a list"),
        MalformedCase("Action list with a number", #"{"Statement":{"Effect":"Allow","Principal":"*","Action":["s3:GetObject",5],"Resource":"*"}}"#,
                      reason: "statement #1: Action holds a non-string"),
        MalformedCase("Resource an object", #"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":{"a":1}}}"#,
                      reason: "statement #1: Resource is neither a string nor a list"),
        MalformedCase("NotAction nested list", #"{"Statement":{"Effect":"Deny","Principal":"*","NotAction":[["s3:*"]],"Resource":"*"}}"#,
                      reason: "statement #1: NotAction holds a non-string"),
        MalformedCase("Principal a number", #"{"Statement":{"Effect":"Allow","Principal":42,"Action":"s3:*","Resource":"*"}}"#,
                      reason: "statement #1: Principal is neither a string nor an object"),
        MalformedCase("Principal.AWS an object", #"{"Statement":{"Effect":"Allow","Principal":{"AWS":{"x":"y"}},"Action":"s3:*","Resource":"*"}}"#,
                      reason: "statement #1: Principal.AWS is neither a string nor a list"),
        MalformedCase("NotPrincipal a list", #"{"Statement":{"Effect":"Deny","NotPrincipal":["*"],"Action":"s3:*","Resource":"*"}}"#,
                      reason: "statement #1: Principal is neither a string nor an object"),
    ]

    @Test(arguments: malformed)
    func malformedInputThrows(_ c: MalformedCase) {
        #expect(throws: PolicyParseError(reason: c.reason)) {
            try PolicyDocument.parse(c.bytes)
        }
    }

    /// Every proper prefix of a valid policy is incomplete JSON: all of them throw, none trap.
    @Test func everyTruncationThrows() throws {
        let full = PolicyFixtures.json(
            #"{"Sid":"Vendor","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::725579432336:role/WandbIntegration"]},"#
                + #""Action":["s3:GetObject*","s3:PutObject"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"#
                + #""Condition":{"Bool":{"aws:SecureTransport":"true"}}}"#)
        let bytes = Array(full.utf8)
        #expect(try PolicyDocument.parse(bytes).statements.count == 1)
        for length in 0..<bytes.count {
            #expect(throws: PolicyParseError(reason: "not JSON"), "prefix of \(length) bytes") {
                try PolicyDocument.parse(Array(bytes[..<length]))
            }
        }
    }

    @Test func errorDescriptionNamesTheReason() {
        #expect(PolicyParseError(reason: "no Statement").description == "unparsable policy document: no Statement")
    }
}

// MARK: - PolicyEvaluator.evaluate

@Suite struct PolicyEvaluatorTests {
    static let vendor = PolicyFixtures.saasRole
    static let bucketARN = "arn:aws:s3:::b"
    static let objectsARN = "arn:aws:s3:::b/*"

    /// An Allow statement for `principal` (JSON), `actionKey` (Action / NotAction) and `resources`.
    static func allow(
        principal: String = #"{"AWS":"arn:aws:iam::725579432336:role/WandbIntegration"}"#,
        _ actions: String, actionKey: String = "Action", resources: String = #""arn:aws:s3:::b/*""#,
        resourceKey: String = "Resource", sid: String? = nil, condition: String? = nil, effect: String = "Allow",
        principalKey: String = "Principal"
    ) -> String {
        var members = [String]()
        if let sid { members.append(#""Sid":"\#(sid)""#) }
        members.append(#""Effect":"\#(effect)""#)
        members.append(#""\#(principalKey)":\#(principal)"#)
        members.append(#""\#(actionKey)":\#(actions)"#)
        members.append(#""\#(resourceKey)":\#(resources)"#)
        if let condition { members.append(#""Condition":\#(condition)"#) }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func deny(
        principal: String = #""*""#, _ actions: String, actionKey: String = "Action",
        resources: String = #""arn:aws:s3:::b/*""#, sid: String? = nil, condition: String? = nil, principalKey: String = "Principal"
    ) -> String {
        allow(principal: principal, actions, actionKey: actionKey, resources: resources, sid: sid, condition: condition,
              effect: "Deny", principalKey: principalKey)
    }

    static let secureTransport = #"{"Bool":{"aws:SecureTransport":"false"}}"#

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var statements: [String]
        var principal: String = PolicyEvaluatorTests.vendor
        var action: String
        var resource: String = PolicyEvaluatorTests.objectsARN
        var verdict: PolicyEvaluator.Verdict
        var conditionalDenies: [String] = []
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Grants
        Case(name: "exact grant", statements: [allow(#""s3:PutObject""#)], action: "s3:PutObject", verdict: .allowed),
        Case(name: "exact grant, action case differs", statements: [allow(#""S3:PUTOBJECT""#)], action: "s3:PutObject", verdict: .allowed),
        Case(name: "grant via s3:*", statements: [allow(#""s3:*""#)], action: "s3:PutObject", verdict: .allowed),
        Case(name: "grant via *", statements: [allow(#""*""#)], action: "s3:GetObject*", verdict: .allowed),
        Case(name: "grant of another action", statements: [allow(#""s3:PutObject""#)], action: "s3:DeleteObject", verdict: .notGranted),
        Case(name: "grant in a list", statements: [allow(#"["s3:ListBucket","s3:PutObject"]"#)], action: "s3:PutObject", verdict: .allowed),
        Case(name: "no statements", statements: [], action: "s3:PutObject", verdict: .notGranted),

        // Principals
        Case(name: "grant to the account ID", statements: [allow(principal: #"{"AWS":"725579432336"}"#, #""s3:PutObject""#)],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "grant to the account root", statements: [allow(principal: #"{"AWS":"arn:aws:iam::725579432336:root"}"#, #""s3:PutObject""#)],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "grant to a list naming the vendor",
             statements: [allow(principal: #"{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::725579432336:role/WandbIntegration"]}"#, #""s3:PutObject""#)],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "grant to principal *", statements: [allow(principal: #""*""#, #""s3:PutObject""#)], action: "s3:PutObject", verdict: .allowed),
        Case(name: "grant to AWS *", statements: [allow(principal: #"{"AWS":"*"}"#, #""s3:PutObject""#)], action: "s3:PutObject", verdict: .allowed),
        Case(name: "grant to another role of the same account",
             statements: [allow(principal: #"{"AWS":"arn:aws:iam::725579432336:role/Other"}"#, #""s3:PutObject""#)],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "grant to another account", statements: [allow(principal: #"{"AWS":"arn:aws:iam::111122223333:root"}"#, #""s3:*""#)],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "grant to another account ID", statements: [allow(principal: #"{"AWS":"111122223333"}"#, #""s3:*""#)],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "grant to a service only", statements: [allow(principal: #"{"Service":"logging.s3.amazonaws.com"}"#, #""s3:*""#)],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "dedicated root via account ID", statements: [allow(principal: #"{"AWS":"830241207209"}"#, #""s3:*""#)],
             principal: VendorPrincipals.awsDedicated, action: "s3:PutObject", verdict: .allowed),

        // Wildcard required actions: the grant must cover all of it.
        Case(name: "s3:GetObject* not covered by s3:GetObject", statements: [allow(#""s3:GetObject""#)], action: "s3:GetObject*", verdict: .notGranted),
        Case(name: "s3:GetObject* not covered by s3:GetObjectVersion", statements: [allow(#"["s3:GetObject","s3:GetObjectVersion"]"#)],
             action: "s3:GetObject*", verdict: .notGranted),
        Case(name: "s3:GetObject* covered by s3:Get*", statements: [allow(#""s3:Get*""#)], action: "s3:GetObject*", verdict: .allowed),
        Case(name: "s3:GetObject* covered by itself", statements: [allow(#""s3:GetObject*""#)], action: "s3:GetObject*", verdict: .allowed),

        // NotAction
        Case(name: "NotAction allow covering", statements: [allow(#""s3:DeleteBucket""#, actionKey: "NotAction")],
             action: "s3:GetObject*", verdict: .allowed),
        Case(name: "NotAction allow excluding the action", statements: [allow(#"["s3:DeleteBucket","s3:PutObject"]"#, actionKey: "NotAction")],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "NotAction allow excluding part of the wildcard", statements: [allow(#""s3:GetObjectAcl""#, actionKey: "NotAction")],
             action: "s3:GetObject*", verdict: .notGranted),
        Case(name: "NotAction allow excluding a wider wildcard", statements: [allow(#""s3:Get*""#, actionKey: "NotAction")],
             action: "s3:GetObject*", verdict: .notGranted),

        // Resources
        Case(name: "resource wildcard b* covers the bucket", statements: [allow(#""s3:ListBucket""#, resources: #""arn:aws:s3:::b*""#)],
             action: "s3:ListBucket", resource: bucketARN, verdict: .allowed),
        Case(name: "resource of another bucket", statements: [allow(#""s3:ListBucket""#, resources: #""arn:aws:s3:::other""#)],
             action: "s3:ListBucket", resource: bucketARN, verdict: .notGranted),
        Case(name: "resource ARNs are case-sensitive", statements: [allow(#""s3:ListBucket""#, resources: #""arn:aws:s3:::B""#)],
             action: "s3:ListBucket", resource: bucketARN, verdict: .notGranted),
        Case(name: "object action granted only on the bucket ARN", statements: [allow(#""s3:PutObject""#, resources: #""arn:aws:s3:::b""#)],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "bucket action granted only on /*", statements: [allow(#""s3:ListBucket""#)],
             action: "s3:ListBucket", resource: bucketARN, verdict: .notGranted),
        Case(name: "object action granted on a prefix only", statements: [allow(#""s3:PutObject""#, resources: #""arn:aws:s3:::b/team/*""#)],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "resource * covers everything", statements: [allow(#""s3:PutObject""#, resources: #""*""#)],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "NotResource not naming the bucket", statements: [allow(#""s3:PutObject""#, resources: #""arn:aws:s3:::other/*""#, resourceKey: "NotResource")],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "NotResource naming the objects", statements: [allow(#""s3:PutObject""#, resources: #""arn:aws:s3:::b/*""#, resourceKey: "NotResource")],
             action: "s3:PutObject", verdict: .notGranted),
        Case(name: "statement without Resource", statements: [#"{"Effect":"Allow","Principal":"*","Action":"s3:*"}"#],
             action: "s3:PutObject", verdict: .notGranted),

        // Deny
        Case(name: "explicit Deny beats Allow", statements: [allow(#""s3:*""#), deny(#""s3:DeleteObject""#, sid: "NoDeletes")],
             action: "s3:DeleteObject", verdict: .denied("Sid NoDeletes")),
        Case(name: "Deny before Allow, unlabelled", statements: [deny(#""s3:DeleteObject""#), allow(#""s3:*""#)],
             action: "s3:DeleteObject", verdict: .denied("statement #1")),
        Case(name: "Deny of another action leaves the grant", statements: [allow(#""s3:*""#), deny(#""s3:DeleteObject""#)],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "Deny of s3:GetObjectVersion takes away s3:GetObject*",
             statements: [allow(#""s3:GetObject*""#), deny(#""s3:GetObjectVersion""#, sid: "NoVersions")],
             action: "s3:GetObject*", verdict: .denied("Sid NoVersions")),
        Case(name: "Deny of a wildcard touching the action", statements: [allow(#""s3:*""#), deny(#""s3:*Object""#, sid: "W")],
             action: "s3:PutObject", verdict: .denied("Sid W")),
        Case(name: "Deny NotAction not excluding all of the wildcard", statements: [allow(#""s3:*""#), deny(#""s3:GetObject""#, actionKey: "NotAction", sid: "Only")],
             action: "s3:GetObject*", verdict: .denied("Sid Only")),
        Case(name: "Deny NotAction excluding the whole wildcard", statements: [allow(#""s3:*""#), deny(#""s3:Get*""#, actionKey: "NotAction")],
             action: "s3:GetObject*", verdict: .allowed),
        Case(name: "Deny on another bucket", statements: [allow(#""s3:*""#), deny(#""s3:*""#, resources: #""arn:aws:s3:::other/*""#)],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "Deny for another principal", statements: [allow(#""s3:*""#), deny(principal: #"{"AWS":"arn:aws:iam::111122223333:root"}"#, #""s3:*""#)],
             action: "s3:PutObject", verdict: .allowed),
        Case(name: "Deny without a grant", statements: [deny(#""s3:PutObject""#, sid: "D")], action: "s3:PutObject", verdict: .denied("Sid D")),

        // Conditions
        Case(name: "conditional Allow", statements: [allow(#""s3:PutObject""#, sid: "OnlyFromVPC", condition: #"{"StringEquals":{"aws:SourceVpce":"vpce-1"}}"#)],
             action: "s3:PutObject", verdict: .conditional(["Sid OnlyFromVPC"])),
        Case(name: "two conditional Allows", statements: [
            allow(#""s3:PutObject""#, sid: "A", condition: #"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
            allow(#""s3:*""#, condition: #"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
        ], action: "s3:PutObject", verdict: .conditional(["Sid A", "statement #2"])),
        Case(name: "conditional and unconditional Allow", statements: [
            allow(#""s3:PutObject""#, sid: "Cond", condition: #"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
            allow(#""s3:PutObject""#),
        ], action: "s3:PutObject", verdict: .allowed),
        Case(name: "conditional Deny", statements: [allow(#""s3:*""#), deny(#""s3:*""#, sid: "TLSOnly", condition: secureTransport)],
             action: "s3:PutObject", verdict: .allowed, conditionalDenies: ["Sid TLSOnly"]),
        Case(name: "conditional Deny then unconditional Deny", statements: [
            allow(#""s3:*""#), deny(#""s3:*""#, sid: "TLSOnly", condition: secureTransport), deny(#""s3:PutObject""#, sid: "NoPut"),
        ], action: "s3:PutObject", verdict: .denied("Sid NoPut"), conditionalDenies: ["Sid TLSOnly"]),

        // NotPrincipal
        Case(name: "NotPrincipal Deny excluding the vendor", statements: [
            allow(#""s3:*""#), deny(principal: #"{"AWS":"arn:aws:iam::725579432336:role/WandbIntegration"}"#, #""s3:*""#, principalKey: "NotPrincipal"),
        ], action: "s3:PutObject", verdict: .allowed),
        Case(name: "NotPrincipal Deny excluding the vendor's account", statements: [
            allow(#""s3:*""#), deny(principal: #"{"AWS":["arn:aws:iam::725579432336:root"]}"#, #""s3:*""#, principalKey: "NotPrincipal"),
        ], action: "s3:PutObject", verdict: .allowed),
        Case(name: "NotPrincipal Deny not excluding the vendor", statements: [
            allow(#""s3:*""#), deny(principal: #"{"AWS":"arn:aws:iam::111122223333:root"}"#, #""s3:*""#, sid: "OnlyOwner", principalKey: "NotPrincipal"),
        ], action: "s3:PutObject", verdict: .denied("Sid OnlyOwner")),
        Case(name: "NotPrincipal Allow not excluding the vendor", statements: [
            allow(principal: #"{"AWS":"arn:aws:iam::111122223333:root"}"#, #""s3:*""#, principalKey: "NotPrincipal"),
        ], action: "s3:PutObject", verdict: .allowed),
        Case(name: "NotPrincipal Allow excluding the vendor", statements: [
            allow(principal: #"{"AWS":"arn:aws:iam::725579432336:role/WandbIntegration"}"#, #""s3:*""#, principalKey: "NotPrincipal"),
        ], action: "s3:PutObject", verdict: .notGranted),

        // KMS key policies use Resource "*".
        Case(name: "key policy kms:* for the account root", statements: [
            allow(principal: #"{"AWS":"arn:aws:iam::111122223333:root"}"#, #""kms:*""#, resources: #""*""#),
        ], principal: "arn:aws:iam::111122223333:root", action: "kms:*", resource: "arn:aws:kms:us-east-1:111122223333:key/k", verdict: .allowed),
        Case(name: "key policy kms:Describe* not covered by kms:DescribeKey", statements: [
            allow(#""kms:DescribeKey""#, resources: #""*""#),
        ], action: "kms:Describe*", resource: "arn:aws:kms:us-east-1:111122223333:key/k", verdict: .notGranted),
    ]

    @Test(arguments: cases)
    func evaluate(_ c: Case) {
        let evaluator = PolicyEvaluator(PolicyFixtures.document(PolicyFixtures.json(c.statements.joined(separator: ","))))
        let outcome = evaluator.evaluate(principal: c.principal, action: c.action, resource: c.resource)
        #expect(outcome.verdict == c.verdict)
        #expect(outcome.conditionalDenies == c.conditionalDenies)
    }

    /// The statements list is given pre-joined in `PolicyFixtures.json`; an empty list must stay valid JSON.
    @Test func emptyStatementListParses() {
        #expect(PolicyFixtures.document(PolicyFixtures.json("")).statements.isEmpty)
    }

    // MARK: publicGrants

    static let publicCases: [(statements: [String], grants: [String])] = [
        ([allow(principal: #""*""#, #""s3:GetObject""#, sid: "PublicRead")], ["Sid PublicRead"]),
        ([allow(principal: #"{"AWS":"*"}"#, #""s3:GetObject""#)], ["statement #1"]),
        ([allow(principal: #""*""#, #""s3:GetObject""#, condition: #"{"StringEquals":{"aws:SourceVpce":"vpce-1"}}"#)], []),
        ([deny(#""s3:*""#, sid: "DenyAll")], []),
        ([allow(#""s3:*""#)], []),
        ([allow(#""s3:*""#), allow(principal: #""*""#, #""s3:ListBucket""#, resources: #""arn:aws:s3:::b""#)], ["statement #2"]),
    ]

    @Test(arguments: publicCases)
    func publicGrants(_ statements: [String], _ expected: [String]) {
        let evaluator = PolicyEvaluator(PolicyFixtures.document(PolicyFixtures.json(statements.joined(separator: ","))))
        #expect(evaluator.publicGrants() == expected)
    }

    // MARK: Regressions: gaps found by review, now fixed

    /// FIXED (was a bug in Sources/BucketwatchCore/Evaluation/PolicyEvaluator.swift, `resourceMatches`): a Deny is
    /// matched against the required resource `arn:aws:s3:::b/*` only when the Deny's pattern covers
    /// it entirely, so a Deny on part of the objects (a prefix) is not seen. Actions are handled the
    /// other way (`overlaps`: "a Deny of any part of it takes it away"); resources should be too.
    /// The vendor then cannot write under `team/`, yet bucket-policy says compliant.
    @Test("regression: a Deny on part of bucket/* is not seen")
    func denyOnAPrefixOfTheObjectsTakesObjectActionsAway() {
        let evaluator = PolicyEvaluator(PolicyFixtures.document(PolicyFixtures.json(
            Self.allow(#""s3:*""#), Self.deny(#""s3:PutObject""#, resources: #""arn:aws:s3:::b/team/*""#, sid: "NoTeamWrites"))))
        #expect(evaluator.evaluate(principal: Self.vendor, action: "s3:PutObject", resource: Self.objectsARN).verdict
            == .denied("Sid NoTeamWrites"))
    }

    /// FIXED (same function): an Allow with NotResource excluding a prefix of the objects is taken as
    /// covering all of `bucket/*`, while an Allow with NotAction excluding part of a wildcard action
    /// is not (see "NotAction allow excluding part of the wildcard").
    @Test("regression: Allow NotResource excluding a prefix counts as a grant on bucket/*")
    func allowNotResourceExcludingAPrefixDoesNotCoverAllObjects() {
        let evaluator = PolicyEvaluator(PolicyFixtures.document(PolicyFixtures.json(
            Self.allow(#""s3:PutObject""#, resources: #""arn:aws:s3:::b/private/*""#, resourceKey: "NotResource"))))
        #expect(evaluator.evaluate(principal: Self.vendor, action: "s3:PutObject", resource: Self.objectsARN).verdict == .notGranted)
    }

    /// FIXED (was: Glob.swift used as "does pattern cover this wildcard action"): `?` in a granted pattern
    /// matches a literal `*` in the required action, so a grant of `s3:GetObject?` (one more character)
    /// counts as covering `s3:GetObject*` (any suffix, e.g. `s3:GetObjectVersion`).
    @Test("regression: ? in a grant covers a required * action")
    func questionMarkGrantDoesNotCoverAStarAction() {
        let evaluator = PolicyEvaluator(PolicyFixtures.document(PolicyFixtures.json(Self.allow(#""s3:GetObject?""#))))
        #expect(evaluator.evaluate(principal: Self.vendor, action: "s3:GetObject*", resource: Self.objectsARN).verdict == .notGranted)
    }

    /// FIXED (was: `publicGrants`): an unconditional Allow with `NotPrincipal` grants everyone except the
    /// named principals, which is public; only `Principal: "*"` is reported.
    @Test("regression: Allow + NotPrincipal is not reported as public")
    func allowWithNotPrincipalIsAPublicGrant() {
        let evaluator = PolicyEvaluator(PolicyFixtures.document(PolicyFixtures.json(
            Self.allow(principal: #"{"AWS":"arn:aws:iam::111122223333:root"}"#, #""s3:GetObject""#, sid: "AllButOwner", principalKey: "NotPrincipal"))))
        // The evaluator itself knows the vendor (anyone but the owner) is allowed...
        #expect(evaluator.evaluate(principal: Self.vendor, action: "s3:GetObject", resource: Self.objectsARN).verdict == .allowed)
        // ...but publicGrants does not report the statement.
        #expect(evaluator.publicGrants() == ["Sid AllButOwner"])
    }
}
