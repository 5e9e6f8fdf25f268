import Foundation

public enum PercentEncoding {
    /// RFC 3986 percent-encoding of a URL component or form value: only the unreserved
    /// characters `A-Z a-z 0-9 - . _ ~` stay as they are.
    public static func rfc3986(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// `application/x-www-form-urlencoded` body from ordered pairs.
    public static func form(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { "\(rfc3986($0.0))=\(rfc3986($0.1))" }.joined(separator: "&").utf8)
    }
}
