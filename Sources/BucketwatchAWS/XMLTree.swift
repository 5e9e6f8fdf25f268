import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A minimal element tree for the small XML documents S3, STS and friends return.
///
/// Element names are matched case-insensitively and without namespace prefixes: the
/// same field arrives as `MfaDelete` or `MFADelete`, and moto names the versioning
/// root differently from AWS, so parsing goes by child names, never by exact roots.
struct XMLElement: Sendable, Equatable {
    var name: String
    var text: String
    var children: [XMLElement]

    func child(_ name: String) -> XMLElement? {
        children.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    func all(_ name: String) -> [XMLElement] {
        children.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    func childText(_ name: String) -> String? {
        child(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Depth-first search for the first element with this name (the root included).
    func find(_ name: String) -> XMLElement? {
        if self.name.caseInsensitiveCompare(name) == .orderedSame { return self }
        for child in children { if let hit = child.find(name) { return hit } }
        return nil
    }

    /// Parses a document; `nil` for anything that is not well-formed XML.
    static func parse(_ bytes: [UInt8]) -> XMLElement? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), !builder.failed, let root = builder.root else { return nil }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLElement] = []
    var root: XMLElement?
    var failed = false
    /// Deeply nested hostile documents are refused rather than recursed into.
    let maxDepth = 64

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        guard stack.count < maxDepth else {
            failed = true
            parser.abortParsing()
            return
        }
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLElement(name: local, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let done = stack.popLast() else { return }
        if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        failed = true
    }
}
